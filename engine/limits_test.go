package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/internal/testdb"
)

// A match value of any size works: waits are found by a hash of the value, so a 20 KB id
// neither overflows PostgreSQL's index nor leaves the run replaying for ever.
func TestLargeMatchValueResumesTheWait(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Register(&Function{ID: "big-match", Triggers: []Trigger{{Event: "big/start"}},
			Handler: func(ctx context.Context, in *Input) (any, error) {
				ev, err := in.Step.WaitForEvent(ctx, "answer", Wait{Event: "big/answer", Match: "data.k", Timeout: time.Hour})
				if err != nil || ev == nil {
					return "missed", err
				}
				return "caught", nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		startWorkers(t, e)
		big := randomHex(10 << 10) // 20 KB that does not compress
		res, err := e.Send(context.Background(), Event{Name: "big/start", Data: map[string]any{"k": big}})
		if err != nil {
			t.Fatal(err)
		}
		awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status == StatusWaiting || r.Status.Finished() })
		// A value that differs only at its end must not match.
		if _, err := e.Send(context.Background(), Event{Name: "big/answer", Data: map[string]any{"k": big[:len(big)-1] + "x"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Send(context.Background(), Event{Name: "big/answer", Data: map[string]any{"k": big}}); err != nil {
			t.Fatal(err)
		}
		run := awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status.Finished() })
		if run.Status != StatusCompleted || string(run.Output) != `"caught"` {
			t.Fatalf("run is %s (%s, error %q)", run.Status, run.Output, run.Error)
		}
	})
}

// A step id the database cannot store (NUL, invalid UTF-8) fails the run with an error that
// names the step, instead of leaving it replaying.
func TestUnstorableStepIDFailsTheRun(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Register(&Function{ID: "bad-step", Triggers: []Trigger{{Event: "bad/start"}},
			Handler: func(ctx context.Context, in *Input) (any, error) {
				return in.Step.Run(ctx, "a\x00b", func(ctx context.Context) (any, error) { return 1, nil })
			}})
		if err != nil {
			t.Fatal(err)
		}
		startWorkers(t, e)
		res, err := e.Send(context.Background(), Event{Name: "bad/start"})
		if err != nil {
			t.Fatal(err)
		}
		run := awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status.Finished() })
		if run.Status != StatusFailed || !strings.Contains(run.Error, `"a\x00b"`) {
			t.Fatalf("run is %s with error %q; want failed naming the step", run.Status, run.Error)
		}
	})
}

// Event names that are not text are refused with a field error, on both databases.
func TestEventNameMustBeText(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a\x00b", "a\xffb"} {
			_, err := e.Send(context.Background(), Event{Name: name})
			if ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), "name") {
				t.Errorf("send %q: %v; want an invalid-name error", name, err)
			}
		}
	})
}

// An instance whose clock runs an hour fast does not take a run whose lease another instance
// keeps: leases are in the database's time.
func TestFastClockCannotStealALiveRun(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		release := make(chan struct{})
		started := make(chan struct{}, 1)
		fn := &Function{ID: "long", Triggers: []Trigger{{Event: "long/start"}},
			Handler: func(ctx context.Context, in *Input) (any, error) {
				select {
				case started <- struct{}{}:
				default:
				}
				<-release
				return "done", nil
			}}
		a, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond, Lease: 3 * time.Second, WorkerID: "a"})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Register(fn); err != nil {
			t.Fatal(err)
		}
		startWorkers(t, a)
		defer close(release)
		res, err := a.Send(context.Background(), Event{Name: "long/start"})
		if err != nil {
			t.Fatal(err)
		}
		<-started
		b, err := New(Options{DB: db.DB, URL: db.URL, Lease: 3 * time.Second, WorkerID: "b", skew: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Register(fn); err != nil {
			t.Fatal(err)
		}
		got, err := b.claim(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("the fast instance took run %s from the live one (lease owner now %q)", res.Runs[0], got[0].LeaseOwner)
		}
	})
}

// An approval sent by an instance whose clock runs a minute slow, while the run's step
// before its wait is running, still resumes the wait: look-back compares database times.
func TestSlowSenderClockDoesNotDropAnApproval(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		slow, err := New(Options{DB: db.DB, URL: db.URL, skew: -time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Register(&Function{ID: "ask", Triggers: []Trigger{{Event: "skew/ask"}},
			Handler: func(ctx context.Context, in *Input) (any, error) {
				_, err := in.Step.Run(ctx, "announce", func(ctx context.Context) (any, error) {
					_, err := slow.Send(ctx, Event{Name: "skew/answer", Data: map[string]any{"k": "a"}})
					return nil, err
				})
				if err != nil {
					return nil, err
				}
				ev, err := in.Step.WaitForEvent(ctx, "answer", Wait{Event: "skew/answer", Match: "data.k", Timeout: time.Hour})
				if err != nil || ev == nil {
					return "missed", err
				}
				return "caught", nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		startWorkers(t, e)
		res, err := e.Send(context.Background(), Event{Name: "skew/ask", Data: map[string]any{"k": "a"}})
		if err != nil {
			t.Fatal(err)
		}
		run := awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status.Finished() || r.Status == StatusWaiting })
		if run.Status != StatusCompleted || string(run.Output) != `"caught"` {
			t.Fatalf("run is %s (%s): the approval from the slow instance was dropped", run.Status, run.Output)
		}
	})
}
