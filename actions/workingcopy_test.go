package actions

import (
	"testing"

	"github.com/inkflow/inkflow/engine/workflow"
)

func TestUpstreamCopy(t *testing.T) {
	copyOut := func(md string, gen int) map[string]any {
		return map[string]any{"markdown": md, "base": "b", "generation": float64(gen)}
	}
	// $source -> toc -> grammar -> {social, apply};  $source -> side (a parallel branch)
	wf := &workflow.Workflow{
		Actions: []workflow.Action{
			{ID: "toc", Kind: KindAddTOC}, {ID: "grammar", Kind: KindGrammarReview},
			{ID: "side", Kind: KindGrammarReview}, {ID: "social", Kind: KindTweetPosts}, {ID: "apply", Kind: KindApplyChanges},
		},
		Edges: []workflow.Edge{
			{From: workflow.Source, To: "toc"}, {From: "toc", To: "grammar"}, {From: "grammar", To: "social"},
			{From: "grammar", To: "apply"}, {From: workflow.Source, To: "side"},
		},
	}
	tests := []struct {
		name   string
		action string
		state  map[string]any
		want   string // markdown of the copy, "" for none
	}{
		{"first action starts from the post", "toc", map[string]any{}, ""},
		{"builds on the upstream action", "grammar", map[string]any{"toc": copyOut("after toc", 1)}, "after toc"},
		{"newest of the chain wins", "apply", map[string]any{"toc": copyOut("after toc", 1), "grammar": copyOut("after grammar", 2)}, "after grammar"},
		{"a parallel branch is not upstream", "apply", map[string]any{"toc": copyOut("after toc", 1), "grammar": copyOut("after grammar", 2), "side": copyOut("side", 5)}, "after grammar"},
		{"non-revising outputs are ignored", "apply", map[string]any{"social": map[string]any{"posts": []any{"x"}}}, ""},
		{"an unfinished upstream action is ignored", "apply", map[string]any{"toc": copyOut("after toc", 1)}, "after toc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := workflow.ActionInput{Workflow: wf, Action: *wf.Action(tt.action), State: tt.state}
			got := upstreamCopy(in)
			switch {
			case tt.want == "" && got != nil:
				t.Errorf("got copy %q, want none", got.Markdown)
			case tt.want != "" && (got == nil || got.Markdown != tt.want):
				t.Errorf("got %+v, want %q", got, tt.want)
			}
		})
	}
}

func TestUpstreamApproval(t *testing.T) {
	wf := &workflow.Workflow{
		Actions: []workflow.Action{{ID: "w", Kind: KindWaitForApproval}, {ID: "a", Kind: KindApplyChanges}},
		Edges:   []workflow.Edge{{From: workflow.Source, To: "w"}, {From: "w", To: "a"}},
	}
	in := workflow.ActionInput{Workflow: wf, Action: *wf.Action("a"), State: map[string]any{"w": map[string]any{"status": "rejected"}}}
	if got, ok := upstreamApproval(in); !ok || got.Status != "rejected" {
		t.Errorf("upstreamApproval = %+v, %v", got, ok)
	}
	in.State = map[string]any{}
	if got, ok := upstreamApproval(in); ok {
		t.Errorf("without a wait: %+v", got)
	}
}
