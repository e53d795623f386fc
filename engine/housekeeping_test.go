package engine_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Retry and retention touch the same failed runs at once: retention deletes a finished run
// with its steps, Retry brings it back at its failed step. Both lock the run row before its
// steps, so each run ends one way or the other, whole: deleted with all its rows, or retried
// with its completed step kept (that step's fn never runs twice), and neither call fails for
// a deadlock.
func TestRetryRacesRetention(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		const n = 40
		var failing atomic.Bool
		failing.Store(true)
		var mu sync.Mutex
		calls := map[string]int{}
		fn := &engine.Function{ID: "flaky", Triggers: []engine.Trigger{{Event: "t/flaky"}}, Flow: engine.Flow{Retries: engine.Retries(0)},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				if _, err := in.Step.Run(ctx, "once", func(ctx context.Context) (any, error) {
					mu.Lock()
					calls[in.Run.ID]++
					mu.Unlock()
					return "done", nil
				}); err != nil {
					return nil, err
				}
				return in.Step.Run(ctx, "flaky", func(ctx context.Context) (any, error) {
					if failing.Load() {
						return nil, errors.New("not yet")
					}
					return "ok", nil
				})
			}}
		h := start(t, db, []*engine.Function{fn})
		var ids []string
		for i := 0; i < n; i++ {
			ids = append(ids, oneRun(t, h.send("t/flaky", map[string]any{"i": i})))
		}
		for _, id := range ids {
			h.await(id, engine.StatusFailed)
		}
		failing.Store(false)

		// Runs that end after the cutoff (retried ones that complete) are not retention's.
		cutoff := time.Now()
		var wg sync.WaitGroup
		retryErrs := make([]error, n)
		var deleted []string
		var deleteErr error
		wg.Add(n + 1)
		go func() {
			defer wg.Done()
			deleted, deleteErr = h.e.DeleteFinished(h.ctx, cutoff, nil, nil)
		}()
		for i, id := range ids {
			go func() { defer wg.Done(); retryErrs[i] = h.e.Retry(h.ctx, id) }()
		}
		wg.Wait()
		if deleteErr != nil {
			t.Fatalf("DeleteFinished: %v", deleteErr)
		}
		gone := map[string]bool{}
		for _, id := range deleted {
			gone[id] = true
		}
		for i, id := range ids {
			switch err := retryErrs[i]; {
			case err == nil:
				if gone[id] {
					t.Errorf("run %s was retried and deleted", id)
				}
				h.await(id, engine.StatusCompleted)
			case gone[id] && engine.ErrorCode(err) == engine.ENotFound:
			default:
				t.Errorf("Retry(%s): %v (deleted: %v)", id, err, gone[id])
			}
			if _, err := h.e.GetRun(h.ctx, id); gone[id] && engine.ErrorCode(err) != engine.ENotFound {
				t.Errorf("deleted run %s is still there: %v", id, err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for id, c := range calls {
			if c != 1 {
				t.Errorf("run %s: the completed step ran %d times", id, c)
			}
		}
		var orphans int64
		db.DB.Raw(`SELECT COUNT(*) FROM steps WHERE run_id NOT IN (SELECT id FROM runs)`).Scan(&orphans)
		if orphans != 0 {
			t.Errorf("%d steps of deleted runs are left", orphans)
		}
		t.Logf("%d of %d runs deleted, the rest retried", len(deleted), n)
	})
}
