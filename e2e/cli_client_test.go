package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// The client commands against a real `inkflow serve`: list, show and cancel runs, export a
// workflow and import it back, and the exit codes of the contract (2 for usage, 1 for a
// refusal, with the reason on stderr).
func TestClientCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := buildBinary(t)
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		s := startServer(t, bin, db.URL)
		conn := []string{"--server", s.url, "--token", s.token}
		// Two workflows the server runs: one waits for an event that never comes, one logs.
		dir := t.TempDir()
		for name, wf := range map[string]string{
			"cli.wait":  `{"name":"Wait","actions":[{"id":"w","kind":"wait_for_event","inputs":{"event":"cli.never","timeout":"1h"}}],"edges":[{"from":"$source","to":"w"}]}`,
			"cli.quick": `{"name":"Quick","actions":[{"id":"a","kind":"log","inputs":{"message":"quick"}}],"edges":[{"from":"$source","to":"a"}]}`,
		} {
			file := filepath.Join(dir, name+".json")
			if err := os.WriteFile(file, []byte(wf), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, out, errOut := cli(t, append([]string{"workflows", "import", file, "--trigger", name, "--enabled"}, conn...)...); code != 0 {
				t.Fatalf("workflows import %s: %d %s%s", name, code, out, errOut)
			}
		}
		// The runs are read through the engine's API, as the server's pages do.
		eng := enginetest.New(t, db, engine.Options{})
		runOf := func(event string, status engine.Status) string {
			code, out, errOut := cli(t, append([]string{"send", event, "--data", `{"x": 1}`}, conn...)...)
			if code != 0 {
				t.Fatalf("send %s: %d %s%s", event, code, out, errOut)
			}
			var id string
			enginetest.Eventually(t, "a "+string(status)+" run of "+event, func() bool {
				runs, _, err := eng.ListRuns(context.Background(), engine.RunFilter{EventName: event, Status: status})
				if err != nil {
					t.Fatal(err)
				}
				if len(runs) == 1 {
					id = runs[0].ID
				}
				return id != ""
			})
			return id
		}
		waiting, quick := runOf("cli.wait", engine.StatusWaiting), runOf("cli.quick", engine.StatusCompleted)

		code, out, errOut := cli(t, append([]string{"runs", "list", "--status", "waiting"}, conn...)...)
		if code != 0 || !strings.Contains(out, waiting) || strings.Contains(out, quick) || !strings.HasPrefix(out, "ID") {
			t.Fatalf("runs list: %d\n%s%s", code, out, errOut)
		}
		code, out, errOut = cli(t, append([]string{"runs", "show", quick}, conn...)...)
		var shown struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Steps  []any  `json:"steps"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &shown) != nil || shown.ID != quick || shown.Status != "completed" || len(shown.Steps) != 1 {
			t.Fatalf("runs show: %d %s%s", code, out, errOut)
		}
		if code, out, errOut = cli(t, append([]string{"runs", "cancel", waiting}, conn...)...); code != 0 {
			t.Fatalf("runs cancel: %d %s%s", code, out, errOut)
		}
		enginetest.Eventually(t, "the cancel", func() bool {
			r, err := eng.GetRun(context.Background(), waiting)
			return err == nil && r.Status == engine.StatusCancelled
		})

		wf := `{"name":"Echo","actions":[{"id":"a","kind":"log","inputs":{"message":"hi"}}],"edges":[{"from":"$source","to":"a"}]}`
		file := filepath.Join(t.TempDir(), "wf.json")
		if err := os.WriteFile(file, []byte(wf), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut = cli(t, append([]string{"workflows", "import", file, "--trigger", "cli.test"}, conn...)...)
		if code != 0 {
			t.Fatalf("workflows import: %d %s%s", code, out, errOut)
		}
		id := lastLine(out)
		bad := filepath.Join(t.TempDir(), "bad.json")
		if err := os.WriteFile(bad, []byte(`{"actions":[{"id":"a","kind":"no_such_kind"}],"edges":[{"from":"$source","to":"a"}]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errOut = cli(t, append([]string{"workflows", "export", id}, conn...)...)
		var exported struct {
			Name    string           `json:"name"`
			Actions []map[string]any `json:"actions"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &exported) != nil || exported.Name != "Echo" || len(exported.Actions) != 1 {
			t.Fatalf("workflows export %s: %d %s%s", id, code, out, errOut)
		}

		// inkflow send --server: the event goes through the API and starts a run.
		code, out, errOut = cli(t, "send", "cli.via-cli", "--server", s.url, "--token", s.token, "--data", `{"x": 2}`)
		if ev, err := eng.GetEvent(context.Background(), strings.TrimSpace(out)); code != 0 || err != nil || ev.Name != "cli.via-cli" {
			t.Errorf("inkflow send --server: %d %q %q", code, out, errOut)
		}
		if code, out, errOut := cli(t, "send", "cli.sent", "--server", s.url, "--token", "wrong"); code != 1 || !strings.Contains(errOut, "401") {
			t.Errorf("inkflow send --server with a bad token: %d %q %q, want exit 1 with the server's 401", code, out, errOut)
		}

		// inkflow ready: the container health check.
		if code, out, errOut := cli(t, "ready", "--addr", s.url); code != 0 || strings.TrimSpace(out) != "ready" {
			t.Errorf("ready against a running server: %d %q %q", code, out, errOut)
		}
		if code, _, errOut := cli(t, "ready", "--addr", freePort(t)); code != 1 || !strings.Contains(errOut, "not ready") {
			t.Errorf("ready with nothing listening: %d %q", code, errOut)
		}

		for _, tc := range []struct {
			name   string
			args   []string
			code   int
			errHas string
		}{
			{"no token", []string{"runs", "list", "--server", s.url, "--token", ""}, 2, "API token is required"},
			{"bad token", []string{"runs", "list", "--server", s.url, "--token", "nope"}, 1, "401"},
			{"unknown run", append([]string{"runs", "show", "no-such-run"}, conn...), 1, "404"},
			{"no run id", append([]string{"runs", "cancel"}, conn...), 2, "run id is required"},
			{"invalid workflow", append([]string{"workflows", "import", bad}, conn...), 1, "no_such_kind"},
			{"missing file", append([]string{"workflows", "import", "/nonexistent.json"}, conn...), 2, "does not exist"},
			{"no subcommand", []string{"workflows"}, 2, "usage"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, _, errOut := cli(t, tc.args...)
				if code != tc.code || !strings.Contains(errOut, tc.errHas) {
					t.Errorf("exit %d (want %d), stderr %q (want it to mention %q)", code, tc.code, errOut, tc.errHas)
				}
			})
		}
	})
}
