package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/internal/testwait"
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
		got, _, _, err := b.claim(context.Background(), 10)
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

// Waits whose `if` mentions the event cost the sender nothing: a batch of events sent while
// many such waits are open evaluates no condition in the sender's transaction, and the wait
// checker still resumes exactly the runs whose condition holds.
func TestIfWaitsAreCheckedOutsideTheSend(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Register(&Function{ID: "if-wait", Triggers: []Trigger{{Event: "iw/start"}},
			Handler: func(ctx context.Context, in *Input) (any, error) {
				ev, err := in.Step.WaitForEvent(ctx, "go", Wait{Event: "iw/go", If: "async.data.n == event.data.n", Timeout: time.Hour})
				if err != nil || ev == nil {
					return "missed", err
				}
				return ev.Data["n"], nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		startWorkers(t, e)
		const runs, answers = 300, 100
		starts := make([]Event, runs)
		for i := range starts {
			starts[i] = Event{Name: "iw/start", Data: map[string]any{"n": i}}
		}
		res, err := e.Send(context.Background(), starts...)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		testwait.For(t, "every run to wait", func() bool {
			if err := db.DB.Raw(`SELECT COUNT(*) FROM waits WHERE event_name = 'iw/go'`).Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n == runs
		}, func() string { return fmt.Sprintf("%d of %d runs are waiting", n, runs) })
		gos := make([]Event, answers)
		for i := range gos {
			gos[i] = Event{Name: "iw/go", Data: map[string]any{"n": i}}
		}
		// Another instance sends the answers: whatever conditions it evaluates, it evaluates
		// in the send (it runs no workers and no checker).
		sender, err := New(Options{DB: db.DB, URL: db.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sender.Send(context.Background(), gos...); err != nil {
			t.Fatal(err)
		}
		if n := sender.exprs.evals.Load(); n != 0 {
			t.Fatalf("the send evaluated %d conditions itself (%d waits, %d events)", n, runs, answers)
		}
		for i, id := range res.Runs {
			if i >= answers {
				break
			}
			run := awaitRun(t, e, id, func(r *Run) bool { return r.Status.Finished() })
			if run.Status != StatusCompleted || string(run.Output) != fmt.Sprint(i) {
				t.Fatalf("run %d is %s (%s)", i, run.Status, run.Output)
			}
		}
		for _, id := range res.Runs[answers:] {
			if run, _ := e.GetRun(context.Background(), id); run.Status != StatusWaiting {
				t.Fatalf("run %s, whose condition never held, is %s", id, run.Status)
			}
		}
	})
}

// The wait checker keeps the look-back guarantees: an event sent while an `if` wait is being
// stored resumes it once, and an event sent before the run began never does.
func TestIfWaitRaceAndOldEvents(t *testing.T) {
	t.Parallel() // the wait window hook is per engine
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Register(&Function{ID: "if-racer", Triggers: []Trigger{{Event: "ir/start"}},
			Handler: func(ctx context.Context, in *Input) (any, error) {
				ev, err := in.Step.WaitForEvent(ctx, "go", Wait{Event: "ir/go", If: "async.data.k == event.data.k", Timeout: time.Hour})
				if err != nil || ev == nil {
					return "missed", err
				}
				return ev.Data["n"], nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		// Sent a minute before any run: too old for every wait.
		old, err := e.Send(context.Background(), Event{Name: "ir/go", Data: map[string]any{"k": "x", "n": "old"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.DB.Exec(`UPDATE events SET received_at = received_at - 60000 WHERE id = ?`, old.IDs[0]).Error; err != nil {
			t.Fatal(err)
		}
		fired := false
		e.beforeWaitStored = func() {
			if fired {
				return
			}
			fired = true
			if _, err := e.Send(context.Background(), Event{Name: "ir/go", Data: map[string]any{"k": "x", "n": "raced"}}); err != nil {
				t.Error(err)
			}
		}
		startWorkers(t, e)
		res, err := e.Send(context.Background(), Event{Name: "ir/start", Data: map[string]any{"k": "x"}})
		if err != nil {
			t.Fatal(err)
		}
		run := awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status.Finished() || r.Status == StatusWaiting })
		if run.Status != StatusCompleted || string(run.Output) != `"raced"` {
			t.Fatalf("run is %s (%s): want the event sent while the wait was stored", run.Status, run.Output)
		}
		// A second run starts after both events (a minute after, say): neither may resume it.
		if err := db.DB.Exec(`UPDATE events SET received_at = received_at - 60000 WHERE name = 'ir/go'`).Error; err != nil {
			t.Fatal(err)
		}
		res, err = e.Send(context.Background(), Event{Name: "ir/start", Data: map[string]any{"k": "x"}})
		if err != nil {
			t.Fatal(err)
		}
		awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status == StatusWaiting || r.Status.Finished() })
		// Let the checker go through whatever is queued, then look again.
		for n, err := e.checkWaits(context.Background()); n > 0 || err != nil; n, err = e.checkWaits(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
		}
		if run, _ := e.GetRun(context.Background(), res.Runs[0]); run.Status != StatusWaiting {
			t.Fatalf("a run started after the events is %s (%s)", run.Status, run.Output)
		}
		if _, err := e.Send(context.Background(), Event{Name: "ir/go", Data: map[string]any{"k": "x", "n": "new"}}); err != nil {
			t.Fatal(err)
		}
		run = awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status.Finished() })
		if string(run.Output) != `"new"` {
			t.Fatalf("run is %s (%s)", run.Status, run.Output)
		}
	})
}

// quadratic is the expression, and data that makes it cost 18 million comparisons.
const quadratic = "event.data.tags.all(t, event.data.allowed.exists(a, a == t))"

func quadraticData() map[string]any {
	var tags, allowed []any
	for i := range 6000 {
		tags = append(tags, fmt.Sprintf("t%05d", i))
		allowed = append(allowed, fmt.Sprintf("t%05d", 5999-i))
	}
	return map[string]any{"tags": tags, "allowed": allowed}
}

// A trigger condition over its cost limit (or deadline) starts no run, and the event says why, naming it.
func TestTriggerOverCostLimitStartsNoRunAndSaysWhy(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Register(&Function{ID: "picky", Triggers: []Trigger{{Event: "cost/in", If: quadratic}},
			Handler: func(ctx context.Context, in *Input) (any, error) { return nil, nil }})
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Send(context.Background(), Event{Name: "cost/in", Data: quadraticData()})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Runs) != 0 {
			t.Fatalf("started %v", res.Runs)
		}
		ev, err := e.GetEvent(context.Background(), res.IDs[0])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ev.Notes, "picky") || !strings.Contains(ev.Notes, "stopped") || !strings.Contains(ev.Notes, "event.data.tags.all") {
			t.Fatalf("event notes %q do not say why function picky started no run", ev.Notes)
		}
	})
}

// A wait whose condition is over its cost limit for an event ignores that event, and the
// waiting step says so; a later event that is cheap to check resumes it.
func TestWaitOverCostLimitIgnoresTheEventAndSaysSo(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Register(&Function{ID: "costly-wait", Triggers: []Trigger{{Event: "cw/start"}},
			Handler: func(ctx context.Context, in *Input) (any, error) {
				ev, err := in.Step.WaitForEvent(ctx, "go", Wait{Event: "cw/go", If: "async.data.tags.all(t, async.data.allowed.exists(a, a == t))", Timeout: time.Hour})
				if err != nil || ev == nil {
					return "missed", err
				}
				return "resumed", nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		startWorkers(t, e)
		res, err := e.Send(context.Background(), Event{Name: "cw/start"})
		if err != nil {
			t.Fatal(err)
		}
		awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status == StatusWaiting || r.Status.Finished() })
		if _, err := e.Send(context.Background(), Event{Name: "cw/go", Data: quadraticData()}); err != nil {
			t.Fatal(err)
		}
		run := awaitRun(t, e, res.Runs[0], func(r *Run) bool {
			return len(r.Steps) > 0 && strings.Contains(r.Steps[0].Error, "ignored event cw/go")
		})
		if run.Status != StatusWaiting || !strings.Contains(run.Steps[0].Error, "stopped") {
			t.Fatalf("run is %s, step error %q", run.Status, run.Steps[0].Error)
		}
		if _, err := e.Send(context.Background(), Event{Name: "cw/go", Data: map[string]any{"tags": []any{"a"}, "allowed": []any{"a"}}}); err != nil {
			t.Fatal(err)
		}
		run = awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status.Finished() })
		if string(run.Output) != `"resumed"` {
			t.Fatalf("run is %s (%s)", run.Status, run.Output)
		}
	})
}

// Sleeping until 9999-12-31 is refused like a duration over 10 years: the run fails naming it.
func TestSleepUntilFarFutureIsRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		err = e.Register(&Function{ID: "sleepy", Triggers: []Trigger{{Event: "sl/start"}},
			Handler: func(ctx context.Context, in *Input) (any, error) {
				return nil, in.Step.SleepUntil(ctx, "nap", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC))
			}})
		if err != nil {
			t.Fatal(err)
		}
		startWorkers(t, e)
		res, err := e.Send(context.Background(), Event{Name: "sl/start"})
		if err != nil {
			t.Fatal(err)
		}
		run := awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status.Finished() || r.Status == StatusSleeping })
		if run.Status != StatusFailed || !strings.Contains(run.Error, "10 years") {
			t.Fatalf("run is %s (error %q)", run.Status, run.Error)
		}
	})
}
