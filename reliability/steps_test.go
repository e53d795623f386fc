package reliability

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// startEngine runs a worker engine in this process until the test ends.
func startEngine(t *testing.T, db *testdb.DB, fns ...*engine.Function) *engine.Engine {
	t.Helper()
	return enginetest.Start(t, db, engine.Options{BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond, Lease: 2 * time.Second}, fns...)
}

// awaitRun waits until the run reaches an end state and returns it.
func awaitRun(t *testing.T, eng *engine.Engine, id string) *engine.Run {
	t.Helper()
	return enginetest.AwaitRun(t, eng, id, "end", func(r *engine.Run) bool { return r.Status.Finished() })
}

func sendOne(t *testing.T, eng *engine.Engine, name string) string {
	t.Helper()
	res, err := eng.Send(context.Background(), engine.Event{Name: name, Data: map[string]any{}})
	if err != nil || len(res.Runs) != 1 {
		t.Fatalf("send %s: %v %v", name, res, err)
	}
	return res.Runs[0]
}

func stepOf(run *engine.Run, id string) *engine.StepInfo {
	for i := range run.Steps {
		if run.Steps[i].ID == id {
			return &run.Steps[i]
		}
	}
	return nil
}

// TestHungStepIsAbandonedAndRetried: a step whose call hangs (an HTTP server that never
// answers) is cut off at its WithTimeout, recorded as a failed attempt and retried; the
// second attempt succeeds and the run completes.
func TestHungStepIsAbandonedAndRetried(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var calls atomic.Int32
		release := make(chan struct{})
		defer close(release)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				select { // the first call hangs until the client gives up
				case <-r.Context().Done():
				case <-release:
				}
				return
			}
			w.Write([]byte("ok"))
		}))
		defer srv.Close()
		hang := &engine.Function{ID: "hang", Triggers: []engine.Trigger{{Event: "test/hang"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.Run(ctx, "call", func(ctx context.Context) (any, error) {
					req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						return nil, err
					}
					res.Body.Close()
					return res.StatusCode, nil
				}, engine.WithTimeout(300*time.Millisecond), engine.WithRetries(2))
			}}
		eng := startEngine(t, db, hang)
		run := awaitRun(t, eng, sendOne(t, eng, "test/hang"))
		st := stepOf(run, "call")
		if run.Status != engine.StatusCompleted || st == nil || st.Attempts != 2 || string(st.Output) != "200" {
			t.Fatalf("run %s, step %+v: want completed on the second attempt", run.Status, st)
		}
		if calls.Load() != 2 {
			t.Errorf("the server saw %d calls, want 2", calls.Load())
		}
	})
}

// TestPanicsNeverTakeAWorkerDown: a step that panics is retried like a failing one; a
// handler that panics outside any step has its run retried and finally failed with the panic
// as its error; meanwhile and afterwards the same worker keeps completing other runs.
func TestPanicsNeverTakeAWorkerDown(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var stepCalls atomic.Int32
		fns := []*engine.Function{
			{ID: "step-panics-once", Triggers: []engine.Trigger{{Event: "test/step-panic"}},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					return in.Step.Run(ctx, "boom", func(ctx context.Context) (any, error) {
						if stepCalls.Add(1) == 1 {
							panic("step exploded")
						}
						return "recovered", nil
					})
				}},
			{ID: "handler-panics", Flow: engine.Flow{Retries: engine.Retries(1)}, Triggers: []engine.Trigger{{Event: "test/handler-panic"}},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					var m map[string]int
					//lint:ignore SA5000 the runtime panic is the point of this function
					m["nil map"] = 1 // a runtime panic, not a deliberate one
					return nil, nil
				}},
			{ID: "fine", Triggers: []engine.Trigger{{Event: "test/fine"}},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					return in.Step.Run(ctx, "only", func(ctx context.Context) (any, error) { return 1, nil })
				}},
		}
		eng := startEngine(t, db, fns...)
		stepRun := sendOne(t, eng, "test/step-panic")
		var bad []string
		for range 5 {
			bad = append(bad, sendOne(t, eng, "test/handler-panic"))
		}
		fine := sendOne(t, eng, "test/fine")

		if run := awaitRun(t, eng, stepRun); run.Status != engine.StatusCompleted || stepOf(run, "boom").Attempts != 2 {
			t.Errorf("panicking step: run %s, step %+v; want completed on attempt 2", run.Status, stepOf(run, "boom"))
		}
		for _, id := range bad {
			run := awaitRun(t, eng, id)
			if run.Status != engine.StatusFailed || !strings.Contains(run.Error, "panic") || !strings.Contains(run.Error, "nil map") {
				t.Errorf("panicking handler: run %s error %q; want failed naming the panic", run.Status, run.Error)
			}
		}
		if run := awaitRun(t, eng, fine); run.Status != engine.StatusCompleted {
			t.Errorf("a run beside the panics: %s", run.Status)
		}
		// The worker still claims and finishes new work after all of that.
		if run := awaitRun(t, eng, sendOne(t, eng, "test/fine")); run.Status != engine.StatusCompleted {
			t.Errorf("a run after the panics: %s", run.Status)
		}
	})
}

var _ = errors.New
