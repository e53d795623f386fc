package workflow

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/compat"
)

// compatEntry is one workflow from a fixture file: its JSON, where it comes from, and
// whether workflow-kit accepts it (the note of a refused one says what workflow-kit throws).
type compatEntry struct {
	compat.Entry
	Invalid bool `json:"invalid"`
}

func (e compatEntry) valid() bool {
	return !e.Invalid && !strings.Contains(e.Note, "throws")
}

// actionIDs lists the ids and edge endpoints a workflow names, one of which a refusal must name.
func (e compatEntry) names(t *testing.T) []string {
	var w struct {
		Actions []struct{ ID string }
		Edges   []struct{ From, To string }
	}
	if err := json.Unmarshal(e.Workflow, &w); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range w.Actions {
		out = append(out, a.ID)
	}
	for _, ed := range w.Edges {
		out = append(out, ed.From, ed.To)
	}
	return out
}

func loadEntries(t *testing.T, path string) []compatEntry {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var entries []compatEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return entries
}

// checkEntries imports every valid workflow unchanged and refuses every invalid one with an
// EInvalid error whose message names one of its actions.
func checkEntries(t *testing.T, entries []compatEntry) {
	reg := testRegistry(t)
	for i, e := range entries {
		w, err := DecodeValidate(e.Workflow, reg)
		if e.valid() {
			if err != nil {
				t.Errorf("#%d %s (%s): refused: %v", i, e.Source, e.Note, err)
				continue
			}
			out, err := json.Marshal(w)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, out, e.Workflow) {
				t.Errorf("#%d %s: round trip changed the workflow:\n in: %s\nout: %s", i, e.Source, e.Workflow, out)
			}
			continue
		}
		if err == nil {
			t.Errorf("#%d %s (%s): accepted, want refused", i, e.Source, e.Note)
			continue
		}
		if engine.ErrorCode(err) != engine.EInvalid {
			t.Errorf("#%d: code %s, want invalid: %v", i, engine.ErrorCode(err), err)
		}
		names := e.names(t)
		named := len(names) == 0 // a workflow with no actions has none to name
		for _, id := range names {
			if id != Source && strings.Contains(err.Error(), `"`+id+`"`) {
				named = true
			}
		}
		if !named {
			t.Errorf("#%d %s (%s): message %q names no action", i, e.Source, e.Note, err)
		}
	}
}

func TestCompatFixtures(t *testing.T) {
	entries := loadEntries(t, filepath.Join("testdata", "compat.json"))
	if len(entries) < 10 {
		t.Fatalf("only %d fixtures", len(entries))
	}
	checkEntries(t, entries)
}

// TestCompatWorkflowKitExamples checks the real @inngest/workflow-kit examples, which are not
// part of the repository: opt-in, run when INKFLOW_COMPAT_DIR names their folder (CI sets it).
func TestCompatWorkflowKitExamples(t *testing.T) {
	var entries []compatEntry
	for _, e := range compat.NeedExamples(t) {
		entries = append(entries, compatEntry{Entry: e})
	}
	checkEntries(t, entries)
	// The execution example runs as workflow-kit's test expects: builtin:if and match edges.
	for _, e := range entries {
		if !strings.Contains(e.Note, "builtin:if") {
			continue
		}
		reg := testRegistry(t)
		w, err := DecodeValidate(e.Workflow, reg)
		if err != nil {
			t.Fatal(err)
		}
		res, _, err := memWalk(t, reg, w, engine.Event{Name: "auth/user.created", Data: map[string]any{"name": "test user", "age": 99.0}})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"stepA": 42.0, "if-a": map[string]any{"result": true}, "stepB-true": 4158.0, "stepC-true": 18.0}
		if !reflect.DeepEqual(res.State, want) {
			t.Errorf("state = %s, want %s", dump(res.State), dump(want))
		}
	}
}
