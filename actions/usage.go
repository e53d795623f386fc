package actions

import (
	"encoding/json"
	"sort"

	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/engine"
)

// RunUsage sums what a run's model calls cost: the "usage" objects that AI steps record in
// their output, one total per provider and model, sorted. Steps without usage count nothing;
// offline steps appear with zero tokens, so a dashboard can say the run used no model.
func RunUsage(steps []engine.StepInfo) []ai.Usage {
	totals := map[[2]string]*ai.Usage{}
	for _, st := range steps {
		var out struct {
			Usage *ai.Usage `json:"usage"`
		}
		if len(st.Output) == 0 || json.Unmarshal(st.Output, &out) != nil || out.Usage == nil || out.Usage.Provider == "" {
			continue
		}
		u := out.Usage
		key := [2]string{u.Provider, u.Model}
		t := totals[key]
		if t == nil {
			t = &ai.Usage{Provider: u.Provider, Model: u.Model}
			totals[key] = t
		}
		t.PromptTokens += u.PromptTokens
		t.CompletionTokens += u.CompletionTokens
		t.TotalTokens += u.TotalTokens
	}
	out := make([]ai.Usage, 0, len(totals))
	for _, t := range totals {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		return out[i].Model < out[j].Model
	})
	return out
}
