package workflow

import (
	"encoding/json"
	"testing"

	"github.com/inkflow/inkflow/engine"
)

func graphWorkflow(t *testing.T, raw string) *Workflow {
	t.Helper()
	var wf Workflow
	if err := json.Unmarshal([]byte(raw), &wf); err != nil {
		t.Fatal(err)
	}
	return &wf
}

func TestStepAction(t *testing.T) {
	wf := graphWorkflow(t, `{"actions":[{"id":"a","kind":"log"},{"id":"a/b","kind":"log"},{"id":"approve","kind":"x"}],"edges":[]}`)
	cases := []struct {
		step, action string
		own          bool
	}{
		{"a", "a", true},
		{"a:2", "a", true},         // a repeat within the run
		{"a/save", "a", false},     // an extra step of a multi-step kind
		{"a/b", "a/b", true},       // the longer action id wins
		{"a/b/mark", "a/b", false}, //
		{"approve/mark", "approve", false},
		{"approved", "", false}, // a prefix of a longer word is not the action
		{"a:x", "", false},
		{"zzz", "", false},
	}
	for _, c := range cases {
		if got, own := StepAction(wf, c.step); got != c.action || own != c.own {
			t.Errorf("StepAction(%q) = %q, %v; want %q, %v", c.step, got, own, c.action, c.own)
		}
	}
}

func TestActionStates(t *testing.T) {
	wf := graphWorkflow(t, `{"actions":[{"id":"one","kind":"log"},{"id":"wait","kind":"w"},{"id":"yes","kind":"log"},{"id":"no","kind":"log"}],
		"edges":[{"from":"$source","to":"one"},{"from":"one","to":"wait"},{"from":"wait","to":"yes"},{"from":"wait","to":"no"}]}`)
	step := func(id, status string) engine.StepInfo { return engine.StepInfo{ID: id, Status: status} }
	cases := []struct {
		name string
		run  engine.Run
		want map[string]string
	}{
		{"queued", engine.Run{Status: engine.StatusQueued},
			map[string]string{"one": "pending", "wait": "pending", "yes": "pending", "no": "pending"}},
		{"running the first action", engine.Run{Status: engine.StatusRunning},
			map[string]string{"one": "running", "wait": "pending", "yes": "pending", "no": "pending"}},
		{"waiting, its extra step done", engine.Run{Status: engine.StatusWaiting, Steps: []engine.StepInfo{step("one", "completed"), step("wait/mark", "completed"), step("wait", "waiting")}},
			map[string]string{"one": "completed", "wait": "waiting", "yes": "pending", "no": "pending"}},
		{"a multi-step action half way", engine.Run{Status: engine.StatusRunning, Steps: []engine.StepInfo{step("one", "completed"), step("wait/mark", "completed")}},
			map[string]string{"one": "completed", "wait": "running", "yes": "pending", "no": "pending"}},
		{"retrying", engine.Run{Status: engine.StatusQueued, Steps: []engine.StepInfo{step("one", "retrying")}},
			map[string]string{"one": "retrying", "wait": "pending", "yes": "pending", "no": "pending"}},
		{"failed in an extra step", engine.Run{Status: engine.StatusFailed, Steps: []engine.StepInfo{step("one", "completed"), step("wait/mark", "failed")}},
			map[string]string{"one": "completed", "wait": "failed", "yes": "not-run", "no": "not-run"}},
		{"completed with a branch skipped", engine.Run{Status: engine.StatusCompleted,
			Steps:  []engine.StepInfo{step("one", "completed"), step("wait", "completed"), step("yes", "completed")},
			Output: json.RawMessage(`{"state":{"one":null,"wait":{},"yes":null},"skipped":["no"]}`)},
			map[string]string{"one": "completed", "wait": "completed", "yes": "completed", "no": "skipped"}},
	}
	for _, c := range cases {
		got := ActionStates(wf, &c.run)
		for id, want := range c.want {
			if got[id] != want {
				t.Errorf("%s: %s is %q, want %q", c.name, id, got[id], want)
			}
		}
	}
}
