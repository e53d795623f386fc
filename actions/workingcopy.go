package actions

import (
	"encoding/json"

	"github.com/inkflow/inkflow/engine/workflow"
)

// workingCopy is the AI's text of a post within one run, passed on in the output of the
// revising kinds.
type workingCopy struct {
	Markdown string `json:"markdown"`
	// Base is the digest of the post markdown the run's first revision started from.
	Base string `json:"base"`
	// Generation counts the revisions in the chain that made this copy (1 for the first).
	Generation int `json:"generation"`
}

// next is the copy after one more revision: markdown, on the same base.
func (w workingCopy) next(markdown string) workingCopy {
	return workingCopy{Markdown: markdown, Base: w.Base, Generation: w.Generation + 1}
}

// revises reports the kinds whose output carries a working copy.
func revises(kind string) bool {
	return kind == KindAddTOC || kind == KindGrammarReview || kind == KindApplyChanges
}

// upstreamCopy returns the newest working copy among the finished actions upstream of in's
// action (highest generation; on a tie, the action listed later), or nil.
func upstreamCopy(in workflow.ActionInput) *workingCopy {
	var best *workingCopy
	for _, a := range upstream(in) {
		if !revises(a.Kind) {
			continue
		}
		var wc workingCopy
		if !decodeState(in.State[a.ID], &wc) || wc.Generation == 0 {
			continue // apply_changes that applied nothing carries no copy
		}
		if best == nil || wc.Generation >= best.Generation {
			best = &wc
		}
	}
	return best
}

// upstreamApproval returns the output of the nearest finished wait_for_approval upstream,
// and whether there is one.
func upstreamApproval(in workflow.ActionInput) (approvalOutput, bool) {
	var found approvalOutput
	ok := false
	for _, a := range upstream(in) {
		var out approvalOutput
		if a.Kind == KindWaitForApproval && decodeState(in.State[a.ID], &out) {
			found, ok = out, true
		}
	}
	return found, ok
}

// upstream returns the finished actions from which in's action is reachable, in the
// workflow's action order.
func upstream(in workflow.ActionInput) []workflow.Action {
	if in.Workflow == nil {
		return nil
	}
	parents := map[string][]string{}
	for _, e := range in.Workflow.Edges {
		parents[e.To] = append(parents[e.To], e.From)
	}
	seen := map[string]bool{}
	queue := []string{in.Action.ID}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, p := range parents[id] {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	var out []workflow.Action
	for _, a := range in.Workflow.Actions {
		if _, finished := in.State[a.ID]; seen[a.ID] && finished {
			out = append(out, a)
		}
	}
	return out
}

// decodeState reads an action's output (JSON values) into v.
func decodeState(state any, v any) bool {
	if state == nil {
		return false
	}
	b, err := json.Marshal(state)
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}
