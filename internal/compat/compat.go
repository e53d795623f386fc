// Package compat reads workflow-kit fixtures for tests: the project's own, written by us in
// the shapes @inngest/workflow-kit uses and kept under a package's testdata/, and the real
// public examples, which are not part of this repository and are read from the folder that
// INKFLOW_COMPAT_DIR names (CI sets it). Without that variable the tests over the real examples
// are skipped as opt-in, so a fresh clone's test command passes on its own.
package compat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/inkflow/inkflow/internal/repo"
)

// DirEnv names the folder holding workflow-kit-examples.json. A relative path is taken from
// the repository root, so `INKFLOW_COMPAT_DIR=../somewhere go test ./...` works from any
// package.
const DirEnv = "INKFLOW_COMPAT_DIR"

// ExamplesFile is the file of real examples inside that folder.
const ExamplesFile = "workflow-kit-examples.json"

// Entry is one fixture: where its workflow comes from, what it shows (for an invalid one, the
// error workflow-kit raises), and the workflow JSON exactly as written.
type Entry struct {
	Source   string          `json:"source"`
	Note     string          `json:"note"`
	Workflow json.RawMessage `json:"workflow"`
}

// Load reads a fixture file (a JSON array of entries), failing the test when it cannot.
func Load(t testing.TB, path string) []Entry {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("workflow-kit fixtures: %v", err)
	}
	var entries []Entry
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatalf("workflow-kit fixtures %s: %v", path, err)
	}
	if len(entries) == 0 {
		t.Fatalf("workflow-kit fixtures %s: no entries", path)
	}
	return entries
}

// Examples returns the real workflow-kit examples, or nil when INKFLOW_COMPAT_DIR is unset.
// It fails the test when the variable is set but the file cannot be read: a CI that means to
// check them must not pass by checking nothing.
func Examples(t testing.TB) []Entry {
	t.Helper()
	dir := os.Getenv(DirEnv)
	if dir == "" {
		return nil
	}
	if !filepath.IsAbs(dir) {
		root, err := repo.Root()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, dir)
	}
	return Load(t, filepath.Join(dir, ExamplesFile))
}

// NeedExamples is Examples for a test that checks nothing else: it skips the test when
// INKFLOW_COMPAT_DIR is unset. The skip is opt-in and stays a skip under INKFLOW_REQUIRE_ALL=1,
// since the examples are not part of the repository.
func NeedExamples(t testing.TB) []Entry {
	t.Helper()
	entries := Examples(t)
	if entries == nil {
		t.Skipf("opt-in: set %s to the folder holding %s (CI does)", DirEnv, ExamplesFile)
	}
	return entries
}
