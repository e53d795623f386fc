package editor_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/static/editor"
)

// TestBundleMatchesSource rebuilds the editor from web/editor into a temp folder and compares
// it byte for byte with the committed bundle, so a source change without a rebuild (or a
// hand-edited bundle) fails CI.
func TestBundleMatchesSource(t *testing.T) {
	root := needNode(t)
	out := t.TempDir()
	cmd := exec.Command("node", filepath.Join(root, "web", "editor", "build.mjs"), out)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build editor: %v\n%s", err, b)
	}
	for _, name := range []string{"editor.js", "editor.css"} {
		built, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatalf("built bundle: %v", err)
		}
		committed, err := fs.ReadFile(editor.FS, name)
		if err != nil {
			t.Fatalf("embedded bundle: %v", err)
		}
		if !bytes.Equal(built, committed) {
			t.Errorf("static/editor/%s is stale (%d bytes committed, %d built from web/editor): run `npm run build:editor` and commit it",
				name, len(committed), len(built))
		}
	}
}

// TestEmbeddedBundle checks that the binary carries a non-trivial editor without node.
func TestEmbeddedBundle(t *testing.T) {
	for name, want := range map[string]string{"editor.js": "workflow-editor", "editor.css": ".react-flow"} {
		b, err := fs.ReadFile(editor.FS, name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("%s does not contain %q", name, want)
		}
	}
}

// TestEditorUnits runs the editor's own unit tests (web/editor/test, node's test runner): the
// document edits that must keep unknown fields, the mapping of server errors onto nodes, the
// layout, undo history and version diff.
func TestEditorUnits(t *testing.T) {
	root := needNode(t)
	cmd := exec.Command("node", filepath.Join(root, "web", "editor", "test", "run.mjs"), t.TempDir())
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("editor unit tests failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("# fail 0")) || bytes.Contains(out, []byte("# pass 0\n")) {
		t.Fatalf("editor unit tests ran nothing or failed:\n%s", out)
	}
}

// needNode returns the repository root once node and the npm packages are there (installing
// them when missing), skipping the test (failing it under INKFLOW_REQUIRE_ALL=1) without node.
func needNode(t *testing.T) string {
	t.Helper()
	return browser.NeedNode(t)
}
