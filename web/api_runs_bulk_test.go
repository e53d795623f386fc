package web

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// TestBulkRecoveryAPI drives POST /api/runs/cancel, /api/runs/replay and /api/runs/{id}/retry
// through the real server on both databases: filters, dry runs, the per-request maximum and
// bad filters (422 naming the field, nothing done).
func TestBulkRecoveryAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var healed atomic.Bool
		zero := 0
		eng := enginetest.New(t, db, engine.Options{},
			&engine.Function{ID: "nap", Triggers: []engine.Trigger{{Event: "test/nap"}},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					return nil, in.Step.Sleep(ctx, "nap", time.Hour)
				}},
			&engine.Function{ID: "flaky", Flow: engine.Flow{Retries: &zero}, Triggers: []engine.Trigger{{Event: "test/flaky"}},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					return in.Step.Run(ctx, "work", func(ctx context.Context) (any, error) {
						if !healed.Load() {
							return nil, errors.New("not yet")
						}
						return "done", nil
					})
				}})
		ts := newTestServer(t, db, eng)
		enginetest.StartWorkers(t, eng)
		admin := ts.token(t, ts.mustUser(t, "ad@example.com", cms.RoleAdmin))
		ctx := context.Background()

		var naps []string
		for range 3 {
			res, err := eng.Send(ctx, engine.Event{Name: "test/nap"})
			if err != nil {
				t.Fatal(err)
			}
			naps = append(naps, res.Runs...)
		}
		flaky, err := eng.Send(ctx, engine.Event{Name: "test/flaky"})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range naps {
			enginetest.Await(t, eng, id, engine.StatusSleeping)
		}
		enginetest.Await(t, eng, flaky.Runs[0], engine.StatusFailed)

		bulk := func(path string, body any, want int) engine.BulkResult {
			t.Helper()
			res := ts.api(t, admin, "POST", path, body)
			if res.Status != want {
				t.Fatalf("%s %v: %d %s, want %d", path, body, res.Status, res.Body, want)
			}
			var out engine.BulkResult
			if want == 200 {
				if err := json.Unmarshal([]byte(res.Body), &out); err != nil {
					t.Fatalf("%s: %v in %s", path, err, res.Body)
				}
			}
			return out
		}
		sleeping := func() int {
			n := 0
			for _, id := range naps {
				r, err := eng.GetRun(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if r.Status == engine.StatusSleeping {
					n++
				}
			}
			return n
		}

		// A dry run reports and changes nothing; the failed run of another function is not matched.
		got := bulk("/api/runs/cancel", map[string]any{"function": "nap", "dry_run": true}, 200)
		if got.Matched != 3 || len(got.IDs) != 3 || len(got.Runs) != 0 || sleeping() != 3 {
			t.Fatalf("dry run: %+v, %d sleeping", got, sleeping())
		}
		// Finished runs are not cancelled: the failed flaky run does not match.
		if got := bulk("/api/runs/cancel", map[string]any{"function": "flaky", "dry_run": true}, 200); got.Matched != 0 {
			t.Errorf("a failed run matched a cancel: %+v", got)
		}

		// Refusals name their field and do nothing.
		for _, c := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"function": "nap", "limit": 2}, "limit"}, // matches 3, more than allowed
			{map[string]any{"limit": 1001}, "limit"},
			{map[string]any{"since": "yesterday"}, "since"},
			{map[string]any{"until": "soon"}, "until"},
			{map[string]any{"status": "asleep"}, "status"},
			{map[string]any{"workflow": "seven"}, "workflow"}, // a type mismatch: the house's 400
		} {
			for _, path := range []string{"/api/runs/cancel", "/api/runs/replay"} {
				res := ts.api(t, admin, "POST", path, c.body)
				want := 422
				if c.field == "workflow" {
					want = 400
				}
				if res.Status != want || !strings.Contains(res.Body, `"`+c.field+`"`) {
					t.Errorf("%s %v: %d %s, want %d naming %s", path, c.body, res.Status, res.Body, want, c.field)
				}
			}
		}
		if n := sleeping(); n != 3 {
			t.Fatalf("a refused request changed runs: %d of 3 still sleeping", n)
		}

		got = bulk("/api/runs/cancel", map[string]any{"function": "nap"}, 200)
		if got.Matched != 3 || strings.Join(got.IDs, ",") != strings.Join([]string{naps[2], naps[1], naps[0]}, ",") {
			t.Fatalf("cancel: %+v, want the three naps newest first", got)
		}
		for _, id := range naps {
			if r, _ := eng.GetRun(ctx, id); r.Status != engine.StatusCancelled {
				t.Errorf("run %s is %s after the bulk cancel", id, r.Status)
			}
		}
		if got := bulk("/api/runs/cancel", map[string]any{"function": "nap"}, 200); got.Matched != 0 || got.IDs == nil {
			t.Errorf("second cancel: %+v, want nothing matched (and ids [])", got)
		}

		// Replay starts one new run per matched run.
		got = bulk("/api/runs/replay", map[string]any{"function": "nap", "status": "cancelled", "dry_run": true}, 200)
		if got.Matched != 3 || len(got.Runs) != 0 {
			t.Fatalf("replay dry run: %+v", got)
		}
		got = bulk("/api/runs/replay", map[string]any{"function": "nap", "status": "cancelled"}, 200)
		if got.Matched != 3 || len(got.Runs) != 3 {
			t.Fatalf("replay: %+v", got)
		}
		seen := map[string]bool{}
		for _, id := range got.Runs {
			if seen[id] || strings.Contains(strings.Join(naps, ","), id) {
				t.Fatalf("replay returned a repeated or old id: %v", got.Runs)
			}
			seen[id] = true
			r := enginetest.Await(t, eng, id, engine.StatusSleeping)
			if r.FunctionID != "nap" {
				t.Errorf("replayed run %s is of %s", id, r.FunctionID)
			}
		}

		// Retry resumes the same failed run.
		id := flaky.Runs[0]
		healed.Store(true)
		res := ts.api(t, admin, "POST", "/api/runs/"+id+"/retry", nil)
		var rr struct{ ID, Status string }
		if res.Status != 200 || json.Unmarshal([]byte(res.Body), &rr) != nil || rr.ID != id || rr.Status == "failed" || rr.Status == "" {
			t.Fatalf("retry: %d %s", res.Status, res.Body)
		}
		enginetest.Await(t, eng, id, engine.StatusCompleted)
		if res := ts.api(t, admin, "POST", "/api/runs/"+id+"/retry", nil); res.Status != 409 {
			t.Errorf("retry of a completed run: %d %s, want 409", res.Status, res.Body)
		}
		if res := ts.api(t, admin, "POST", "/api/runs/00000000-0000-0000-0000-000000000000/retry", nil); res.Status != 404 {
			t.Errorf("retry of an unknown run: %d %s, want 404", res.Status, res.Body)
		}
	})
}
