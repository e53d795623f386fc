package actions_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
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

// TestWorkflowKitBlogSeedsValidate imports the blog workflows of the real workflow-kit
// examples kept beside the checkout (../shared/compat) with the real blog kinds.
func TestWorkflowKitBlogSeedsValidate(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "compat", "workflow-kit-examples.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		testdb.Need(t, "workflow-kit examples at "+path)
	}
	var entries []struct {
		Source   string          `json:"source"`
		Note     string          `json:"note"`
		Workflow json.RawMessage `json:"workflow"`
	}
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatal(err)
	}
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
	if blog < 10 {
		t.Errorf("only %d blog workflows found in %s", blog, path)
	}
}
