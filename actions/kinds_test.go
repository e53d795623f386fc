package actions_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/compat"
)

func registry(t *testing.T) *workflow.Registry {
	t.Helper()
	reg := workflow.NewRegistry()
	if err := workflow.RegisterBuiltins(reg, workflow.BuiltinConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := actions.Register(reg, actions.Deps{}); err != nil {
		t.Fatalf("blog kinds clash with the builtins or are malformed: %v", err)
	}
	return reg
}

// TestKindsAreWorkflowKitBlogKinds checks the ids and names of @inngest/workflow-kit's blog
// example, so its workflows import unchanged and look the same in the editor.
func TestKindsAreWorkflowKitBlogKinds(t *testing.T) {
	reg := registry(t)
	want := map[string]string{
		"add_ToC":                 "Add a Table of Contents",
		"grammar_review":          "Perform a grammar review",
		"wait_for_approval":       "Wait for approval",
		"apply_changes":           "Apply changes",
		"generate_linkedin_posts": "Generate LinkedIn posts",
		"generate_tweet_posts":    "Generate Twitter posts",
	}
	for name, title := range want {
		k, ok := reg.Kind(name)
		if !ok {
			t.Errorf("kind %s is not registered", name)
			continue
		}
		if k.Title != title || k.Description == "" || k.Output == nil {
			t.Errorf("kind %s: title %q (want %q), description %q, output %v", name, k.Title, title, k.Description, k.Output)
		}
	}
}

func TestInputsAreValidatedOnSave(t *testing.T) {
	reg := registry(t)
	tests := []struct {
		name, inputs, field string
	}{
		{"too many posts", `{"count":50}`, "actions.a.inputs.count"},
		{"fractional count", `{"count":2.5}`, "actions.a.inputs.count"},
		{"unknown tone", `{"tone":"sarcastic"}`, "actions.a.inputs.tone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := `{"actions":[{"id":"a","kind":"generate_tweet_posts","inputs":` + tt.inputs + `}],"edges":[{"from":"$source","to":"a"}]}`
			_, err := workflow.DecodeValidate([]byte(wf), reg)
			var e *engine.Error
			if err == nil || engine.ErrorCode(err) != engine.EInvalid {
				t.Fatalf("want EInvalid, got %v", err)
			}
			if !errors.As(err, &e) || e.Fields[tt.field] == "" {
				t.Errorf("error %v does not name field %s (fields %v)", err, tt.field, e.Fields)
			}
		})
	}
	// An undeclared input is kept (workflow-kit keeps it), not refused.
	kept := `{"actions":[{"id":"a","kind":"generate_tweet_posts","inputs":{"colour":"blue"}}],"edges":[{"from":"$source","to":"a"}]}`
	if _, err := workflow.DecodeValidate([]byte(kept), reg); err != nil {
		t.Errorf("an undeclared input was refused: %v", err)
	}
	bad := `{"actions":[{"id":"w","kind":"wait_for_approval","inputs":{"timeout":"soon"}}],"edges":[{"from":"$source","to":"w"}]}`
	if _, err := workflow.DecodeValidate([]byte(bad), reg); err == nil || !strings.Contains(err.Error(), "timeout") {
		t.Errorf("a bad timeout was accepted: %v", err)
	}
}

// TestBlogWorkflowsValidate imports our own blog workflows, written in the shapes
// workflow-kit's blog example and a fork of it store, with the real blog kinds.
func TestBlogWorkflowsValidate(t *testing.T) {
	if n := checkBlogWorkflows(t, compat.Load(t, filepath.Join("testdata", "blog_workflows.json"))); n < 10 {
		t.Errorf("only %d blog workflows in testdata/blog_workflows.json", n)
	}
}

// TestWorkflowKitBlogSeedsValidate imports the blog workflows of the real workflow-kit
// examples with the real blog kinds: opt-in, run when INKFLOW_COMPAT_DIR names their folder.
func TestWorkflowKitBlogSeedsValidate(t *testing.T) {
	if n := checkBlogWorkflows(t, compat.NeedExamples(t)); n < 10 {
		t.Errorf("only %d blog workflows among the workflow-kit examples", n)
	}
}

// checkBlogWorkflows validates every valid entry made only of blog kinds and returns how many
// it checked.
func checkBlogWorkflows(t *testing.T, entries []compat.Entry) int {
	t.Helper()
	reg := registry(t)
	blog := 0
	for _, e := range entries {
		var w struct{ Actions []struct{ Kind string } }
		if err := json.Unmarshal(e.Workflow, &w); err != nil || len(w.Actions) == 0 || strings.Contains(e.Note, "throws") {
			continue
		}
		allBlog := true
		for _, a := range w.Actions {
			allBlog = allBlog && strings.Contains(" add_ToC grammar_review wait_for_approval apply_changes generate_linkedin_posts generate_tweet_posts ", " "+a.Kind+" ")
		}
		if !allBlog {
			continue
		}
		blog++
		if _, err := workflow.DecodeValidate(e.Workflow, reg); err != nil {
			t.Errorf("%s (%s): refused: %v", e.Source, e.Note, err)
		}
	}
	return blog
}

// The blog's templates (the "New workflow" gallery) are valid workflows of these kinds, each
// with a trigger, and every blog kind has a palette category.
func TestTemplatesValidate(t *testing.T) {
	reg := registry(t)
	tpls := actions.Templates()
	if len(tpls) != 2 {
		t.Fatalf("templates = %d, want the review flow and social posts", len(tpls))
	}
	for _, tpl := range tpls {
		var body struct {
			Trigger  string
			Workflow json.RawMessage
			Config   json.RawMessage
		}
		if err := json.Unmarshal(tpl.JSON, &body); err != nil {
			t.Fatal(err)
		}
		if tpl.Name == "" || tpl.Description == "" || body.Trigger == "" || tpl.Trigger != body.Trigger {
			t.Errorf("template %s: name %q, description %q, trigger %q", tpl.ID, tpl.Name, tpl.Description, body.Trigger)
		}
		if _, err := workflow.DecodeValidate(body.Workflow, reg); err != nil {
			t.Errorf("template %s: %v", tpl.ID, err)
		}
		if _, err := workflow.ParseConfig(body.Config); err != nil {
			t.Errorf("template %s config: %v", tpl.ID, err)
		}
		// One live review per post: a new send to review cancels the run of the earlier one
		// (the CMS also supersedes the earlier review and cancels its runs itself).
		if tpl.ID == "review-flow" && string(body.Config) != `{"singleton": {"key": "event.data.id", "mode": "cancel"}}` {
			t.Errorf("review flow config %s, want a singleton per post that cancels", body.Config)
		}
	}
	for _, k := range reg.Kinds() {
		if k.Category == "" {
			t.Errorf("kind %s has no palette category", k.Name)
		}
	}
}
