package workflow

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/inkflow/inkflow/engine"
)

// How a run's steps show on the workflow graph: each action's state, from the steps the
// walk (walk.go) stored under ids derived from the action ids.

// ActionStates maps each action to its state in run. Step ids derive from action ids (see
// walk.go): an action's own step has its id, the extra steps of a
// multi-step kind are "<id>/<suffix>", and a repeat within the run gets ":<n>". The run's
// output (Result), once it completed, names the skipped and finished actions.
func ActionStates(wf *Workflow, run *engine.Run) map[string]string {
	own := map[string]string{}     // the action's own step status
	extra := map[string][]string{} // statuses of its extra steps
	for _, s := range run.Steps {
		id, main := StepAction(wf, s.ID)
		if id == "" {
			continue
		}
		if main {
			own[id] = s.Status
		} else {
			extra[id] = append(extra[id], s.Status)
		}
	}
	var res Result
	if run.Status == engine.StatusCompleted && len(run.Output) > 0 {
		_ = json.Unmarshal(run.Output, &res) // a run of an older shape just shows less
	}
	skipped := map[string]bool{}
	for _, id := range res.Skipped {
		skipped[id] = true
	}
	out := make(map[string]string, len(wf.Actions))
	for _, a := range wf.Actions {
		_, finished := res.State[a.ID]
		switch {
		case slices.Contains(extra[a.ID], engine.StepFailed) || own[a.ID] == engine.StepFailed:
			out[a.ID] = "failed"
		case skipped[a.ID]:
			out[a.ID] = "skipped"
		case finished:
			out[a.ID] = "completed"
		case own[a.ID] != "":
			out[a.ID] = own[a.ID]
		case len(extra[a.ID]) > 0 && !run.Status.Finished():
			out[a.ID] = "running" // part of a multi-step action has run; its own step has not
		case run.Status.Finished():
			out[a.ID] = "not-run"
		default:
			out[a.ID] = "pending"
		}
	}
	inferRunning(wf, run, out)
	return out
}

// inferRunning marks as running the pending actions a running run is executing right now:
// those whose every predecessor has finished. Steps are stored when they end, so without this
// the action in flight would look pending. (A conditional edge that will not hold makes this
// briefly wrong until the walk skips the action.)
func inferRunning(wf *Workflow, run *engine.Run, states map[string]string) {
	if run.Status != engine.StatusRunning {
		return
	}
	for _, a := range wf.Actions {
		if states[a.ID] != "pending" {
			continue
		}
		ready := true
		for _, e := range wf.Edges {
			if e.To == a.ID && e.From != Source && states[e.From] != "completed" && states[e.From] != "skipped" {
				ready = false
			}
		}
		if ready {
			states[a.ID] = "running"
		}
	}
}

// StepAction finds the action a step belongs to and whether it is the action's own step.
// The longest matching action id wins, so "a/b" belongs to action "a/b" rather than "a".
func StepAction(wf *Workflow, stepID string) (string, bool) {
	best, main := "", false
	for _, a := range wf.Actions {
		id := a.ID
		switch {
		case stepID == id || strings.HasPrefix(stepID, id+":") && isDigits(stepID[len(id)+1:]):
			if len(id) >= len(best) {
				best, main = id, true
			}
		case strings.HasPrefix(stepID, id+"/"):
			if len(id) > len(best) {
				best, main = id, false
			}
		}
	}
	return best, main
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
