package workflow

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeValidate feeds arbitrary bytes to the decoder and validator: they may refuse, but
// never panic, and whatever they accept must encode and decode again to an accepted workflow.
// Seeds: testdata/fuzz/FuzzDecodeValidate (committed corpus) plus every fixture.
func FuzzDecodeValidate(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("testdata", "compat.json"))
	if err != nil {
		f.Fatal(err)
	}
	var entries []compatEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		f.Add([]byte(e.Workflow))
	}
	for _, c := range walkCases {
		f.Add([]byte(c.json))
	}
	reg := testRegistry(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := DecodeValidate(data, reg)
		if err != nil {
			if fieldsOf(err) == nil && w != nil {
				t.Fatalf("error with a workflow: %v", err)
			}
			return
		}
		out, err := json.Marshal(w)
		if err != nil {
			t.Fatalf("accepted workflow does not encode: %v", err)
		}
		if _, err := DecodeValidate(out, reg); err != nil {
			t.Fatalf("re-encoded workflow refused: %v\n%s", err, out)
		}
		// Walking plans must not panic either (handlers here are pure).
		for _, a := range w.Actions {
			if k, ok := reg.Kind(a.Kind); ok && k.Steps {
				return
			}
		}
		_, _, _ = memWalk(t, reg, w, eventForFuzz)
	})
}
