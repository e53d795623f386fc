package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// TestClientBulkRuns: inkflow runs cancel|replay|retry with the filters of GET /api/runs
// against a real server: --dry-run counts and changes nothing, a filter matching more than
// --limit is refused with nothing done, and each acts on exactly the runs the filter matches.
func TestClientBulkRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := buildBinary(t)
	// The hook refuses (400: the run fails at once) until the test lets it through, so a
	// retried run can complete.
	var open atomic.Bool
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !open.Load() {
			http.Error(w, `{"error":"not yet"}`, http.StatusBadRequest)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer hook.Close()
	t.Setenv("INKFLOW_WEBHOOK_ALLOW_PRIVATE", "1") // the server (a child process) inherits it
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		open.Store(false)
		s := startServer(t, bin, db.URL)
		conn := []string{"--server", s.url, "--token", s.token}
		run := func(want int, args ...string) string {
			t.Helper()
			code, out, errOut := cli(t, append(args, conn...)...)
			if code != want {
				t.Fatalf("inkflow %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
			}
			return out + errOut
		}
		dir := t.TempDir()
		for name, wf := range map[string]string{
			"bulk.wait": `{"name":"Wait","actions":[{"id":"w","kind":"wait_for_event","inputs":{"event":"bulk.never","timeout":"1h"}}],"edges":[{"from":"$source","to":"w"}]}`,
			"bulk.hook": `{"name":"Hook","actions":[{"id":"h","kind":"webhook","inputs":{"url":"` + hook.URL + `"}}],"edges":[{"from":"$source","to":"h"}]}`,
		} {
			file := filepath.Join(dir, name+".json")
			if err := os.WriteFile(file, []byte(wf), 0o644); err != nil {
				t.Fatal(err)
			}
			run(0, "workflows", "import", file, "--trigger", name, "--enabled")
		}
		audit := auditor(t, db)
		// count counts the runs of event (every event when empty) in status (any when empty).
		count := func(event string, status engine.Status) int64 {
			return int64(runsIn(t, audit, engine.RunFilter{EventName: event}, status))
		}
		for range 3 {
			run(0, "send", "bulk.wait", "--data", `{}`)
		}
		run(0, "send", "bulk.hook", "--data", `{}`)
		enginetest.Eventually(t, "three waiting runs and a failed one", func() bool {
			return count("bulk.wait", engine.StatusWaiting) == 3 && count("bulk.hook", engine.StatusFailed) == 1
		})

		// Cancel: a dry run changes nothing; then the three waiting runs, and only those.
		if out := run(0, "runs", "cancel", "--event", "bulk.wait", "--dry-run"); !strings.HasPrefix(out, "would cancel 3 runs\n") || strings.Count(out, "\n") != 4 {
			t.Errorf("cancel --dry-run:\n%s", out)
		}
		if n := count("bulk.wait", engine.StatusWaiting); n != 3 {
			t.Fatalf("the dry run cancelled runs: %d still waiting", n)
		}
		if out := run(0, "runs", "cancel", "--event", "bulk.wait"); !strings.HasPrefix(out, "cancelled 3 runs\n") {
			t.Errorf("cancel:\n%s", out)
		}
		enginetest.Eventually(t, "three cancelled runs", func() bool {
			return count("bulk.wait", engine.StatusCancelled) == 3
		})
		if n := count("bulk.hook", engine.StatusFailed); n != 1 {
			t.Errorf("the cancel reached a run outside its filter: %d failed runs of bulk.hook", n)
		}

		// Replay: more matches than --limit is refused and nothing is replayed.
		if out := run(1, "runs", "replay", "--event", "bulk.wait", "--status", "cancelled", "--limit", "2"); !strings.Contains(out, "limit") {
			t.Errorf("replay over the limit:\n%s", out)
		}
		if n := count("bulk.wait", ""); n != 3 {
			t.Fatalf("a refused replay made runs: %d", n)
		}
		out := run(0, "runs", "replay", "--event", "bulk.wait", "--status", "cancelled")
		if !strings.HasPrefix(out, "replayed 3 runs\n") || strings.Count(out, "\t") != 3 {
			t.Errorf("replay:\n%s", out)
		}
		enginetest.Eventually(t, "three new waiting runs", func() bool {
			return count("bulk.wait", engine.StatusWaiting) == 3
		})

		// Retry: the failed run resumes (the same run) and, the hook now open, completes.
		failed := run(0, "runs", "retry", "--function", "workflow-runner", "--event", "bulk.hook", "--dry-run")
		lines := strings.Split(strings.TrimSpace(failed), "\n")
		if len(lines) != 2 || lines[0] != "would retry 1 runs" {
			t.Fatalf("retry --dry-run:\n%s", failed)
		}
		open.Store(true)
		if out := run(0, "runs", "retry", "--event", "bulk.hook"); !strings.Contains(out, "retried 1 runs\n"+lines[1]) {
			t.Errorf("retry:\n%s", out)
		}
		enginetest.Eventually(t, "the retried run to complete", func() bool {
			r, err := audit.GetRun(context.Background(), lines[1])
			return err == nil && r.Status == engine.StatusCompleted
		})
		if n := count("bulk.hook", ""); n != 1 {
			t.Errorf("retry made new runs: %d runs of bulk.hook", n)
		}

		// Usage errors: exit 2, nothing done.
		for _, args := range [][]string{
			{"runs", "cancel"},
			{"runs", "replay"},
			{"runs", "cancel", lines[1], "--event", "bulk.hook"},
			{"runs", "retry", "--status", "waiting"},
		} {
			if code, out, errOut := cli(t, append(args, conn...)...); code != 2 {
				t.Errorf("inkflow %s: exit %d, want 2\n%s%s", strings.Join(args, " "), code, out, errOut)
			}
		}
		if n := count("", engine.StatusCancelled); n != 3 {
			t.Errorf("%d cancelled runs after the usage errors, want the 3 replayed ones", n)
		}
	})
}
