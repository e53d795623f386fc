package engine

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/internal/testwait"
)

// An event committed after a wait is reached but before the wait is stored resumes the run:
// the wait looks back for it under the event-name lock.
func TestEventBetweenWaitReachedAndStoredIsNotMissed(t *testing.T) {
	t.Parallel() // the wait window hook is per engine
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Register(&Function{ID: "racer", Triggers: []Trigger{{Event: "race/start"}},
			Handler: func(ctx context.Context, in *Input) (any, error) {
				ev, err := in.Step.WaitForEvent(ctx, "go", Wait{Event: "race/go", Match: "data.k", Timeout: time.Hour})
				if err != nil || ev == nil {
					return "missed", err
				}
				return "caught", nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		fired := false
		e.beforeWaitStored = func() {
			if fired {
				return
			}
			fired = true
			// The event commits completely inside the window: it finds no stored wait.
			if _, err := e.Send(context.Background(), Event{Name: "race/go", Data: map[string]any{"k": "x"}}); err != nil {
				t.Error(err)
			}
		}
		startWorkers(t, e)
		res, err := e.Send(context.Background(), Event{Name: "race/start", Data: map[string]any{"k": "x"}})
		if err != nil {
			t.Fatal(err)
		}
		// A missed event leaves the run waiting (for an hour): stop at the first sign of it.
		run := awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status == StatusCompleted || r.Status == StatusWaiting })
		if run.Status != StatusCompleted || string(run.Output) != `"caught"` {
			t.Fatalf("run is %s (%s): the event sent while the wait was being stored was missed", run.Status, run.Output)
		}
		if !fired {
			t.Fatal("the window was never reached")
		}
	})
}

// The step before a wait announces it (a post marked "needs approval"); an answer sent during
// that step, before the wait is reached, resumes the run. The trigger itself and an event an
// earlier wait consumed do not.
func TestAnswerToThePreviousStepIsNotMissed(t *testing.T) {
	t.Parallel() // its own engine and databases, no shared state
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Register(&Function{ID: "ask", Triggers: []Trigger{{Event: "q/ask"}},
			Handler: func(ctx context.Context, in *Input) (any, error) {
				_, err := in.Step.Run(ctx, "announce", func(ctx context.Context) (any, error) {
					// Someone answers at once, before this step has even committed.
					_, err := e.Send(ctx, Event{Name: "q/answer", Data: map[string]any{"k": in.Event.Data["k"], "n": 1}})
					return nil, err
				})
				if err != nil {
					return nil, err
				}
				first, err := in.Step.WaitForEvent(ctx, "first", Wait{Event: "q/answer", Match: "data.k", Timeout: time.Hour})
				if err != nil || first == nil {
					return "first missed", err
				}
				second, err := in.Step.WaitForEvent(ctx, "second", Wait{Event: "q/answer", Match: "data.k", Timeout: 200 * time.Millisecond})
				if err != nil {
					return nil, err
				}
				if second != nil {
					return "the first answer was taken twice", nil
				}
				return "ok", nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		startWorkers(t, e)
		res, err := e.Send(context.Background(), Event{Name: "q/ask", Data: map[string]any{"k": "a"}})
		if err != nil {
			t.Fatal(err)
		}
		run := awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status.Finished() })
		if string(run.Output) != `"ok"` {
			t.Fatalf("run %s: %s %s", run.Status, run.Output, run.Error)
		}
	})
}

// startWorkers runs e's workers until the test ends.
func startWorkers(t *testing.T, e *Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// awaitRun polls the run until stop holds, within the test's deadline (this package's tests
// cannot use engine/enginetest, which imports the engine).
func awaitRun(t *testing.T, e *Engine, id string, stop func(*Run) bool) *Run {
	t.Helper()
	var run *Run
	testwait.For(t, "run "+id+" to stop", func() bool {
		var err error
		if run, err = e.GetRun(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		return stop(run)
	}, func() string { return fmt.Sprintf("still %s: %+v", run.Status, run.Steps) })
	return run
}
