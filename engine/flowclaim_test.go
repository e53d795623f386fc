package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Two concurrency limits hold together: at most one run per user and two in all execute at
// once, and a sleeping run holds no slot (a run sleeping for an hour lets the others through).
func TestTwoConcurrencyLimits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var mu sync.Mutex
		active, peak := map[string]int{}, map[string]int{}
		fn := &engine.Function{ID: "two-limits", Triggers: []engine.Trigger{{Event: "work/two"}},
			Flow: engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1, Key: "event.data.user"}, {Limit: 2}}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				if in.Event.Data["sleep"] == true {
					return nil, in.Step.Sleep(ctx, "nap", time.Hour)
				}
				user := in.Event.Data["user"].(string)
				_, err := in.Step.Run(ctx, "work", func(ctx context.Context) (any, error) {
					mu.Lock()
					active[user]++
					active["*"]++
					peak[user] = max(peak[user], active[user])
					peak["*"] = max(peak["*"], active["*"])
					mu.Unlock()
					time.Sleep(10 * time.Millisecond) // hold the slot so overlap would show
					mu.Lock()
					active[user]--
					active["*"]--
					mu.Unlock()
					return nil, nil
				})
				return nil, err
			}}
		h := start(t, db, []*engine.Function{fn})
		// Two sleepers, one of them of user u0: neither holds a slot of either limit.
		for _, u := range []string{"u0", "z"} {
			h.await(oneRun(t, h.send("work/two", map[string]any{"user": u, "sleep": true})), engine.StatusSleeping)
		}
		var ids []string
		for i := range 16 {
			ids = append(ids, oneRun(t, h.send("work/two", map[string]any{"user": fmt.Sprint("u", i%4)})))
		}
		for _, id := range ids {
			h.await(id, engine.StatusCompleted)
		}
		mu.Lock()
		defer mu.Unlock()
		for u, p := range peak {
			if u == "*" && p > 2 {
				t.Errorf("%d runs at once, limit 2", p)
			} else if u != "*" && p != 1 {
				t.Errorf("user %s had %d runs at once, limit 1", u, p)
			}
		}
	})
}

// A throttle lets limit+burst runs start per period and delays the rest, in order, none
// dropped: with the clock held, the first three start; each second on, the next three.
func TestThrottleDelaysStartsInOrder(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clock := enginetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		fn := &engine.Function{ID: "throttled", Triggers: []engine.Trigger{{Event: "work/throttled"}},
			Flow:    engine.Flow{Throttle: &engine.Throttle{Limit: 2, Burst: 1, Period: time.Second, Key: "event.data.k"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) { return nil, nil }}
		h := start(t, db, []*engine.Function{fn}, func(o *engine.Options) { o.Now = clock.Now; o.Poll = 50 * time.Millisecond })
		var ids, events []string
		for i := range 8 {
			res := h.send("work/throttled", map[string]any{"k": "a", "n": i})
			ids, events = append(ids, oneRun(t, res)), append(events, res.IDs[0])
		}
		other := oneRun(t, h.send("work/throttled", map[string]any{"k": "b", "n": 0}))
		h.await(other, engine.StatusCompleted) // another key is not held back by a's
		completed := func() int {
			n := 0
			for _, id := range ids {
				if r, _ := h.e.GetRun(h.ctx, id); r.Status == engine.StatusCompleted {
					n++
				}
			}
			return n
		}
		for _, want := range []int{3, 6, 8} {
			enginetest.Eventually(t, fmt.Sprintf("%d throttled runs to complete", want), func() bool { return completed() >= want })
			if got := completed(); got != want {
				t.Fatalf("%d runs of key a completed at %s, want %d (limit 2 + burst 1 per second)", got, clock.Now().Format(time.TimeOnly), want)
			}
			// The first ones started (in order); the rest wait, queued, not dropped.
			for _, id := range ids[want:] {
				if r, _ := h.e.GetRun(h.ctx, id); r.Status != engine.StatusQueued {
					t.Fatalf("run %s is %s, want queued behind the throttle", id, r.Status)
				}
			}
			clock.Add(time.Second)
		}
		// Each event says what happened to its start: the first three started, the others
		// were delayed by the throttle (once each, however many claim passes held them).
		for i, ev := range events {
			ds, err := h.e.Decisions(h.ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			want := engine.Decision{Function: "throttled", Action: engine.ActionStarted, RunID: ids[i]}
			if i >= 3 {
				want.Action, want.Reason, want.Key = engine.ActionDelayed, engine.ReasonThrottle, "a"
			}
			if len(ds) != 1 || ds[0] != want {
				t.Errorf("decisions on event %d: %+v, want [%+v]", i, ds, want)
			}
		}
	})
}

// Priority: a run is claimed as if queued its priority's seconds earlier (clamped to 600),
// and a negative priority waits that long.
func TestPriorityOrdersTheQueue(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var mu sync.Mutex
		var order []string
		fn := &engine.Function{ID: "prio", Triggers: []engine.Trigger{{Event: "work/prio"}},
			Flow: engine.Flow{Priority: &engine.Priority{Run: "event.data.p"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				mu.Lock()
				order = append(order, in.Event.Data["name"].(string))
				mu.Unlock()
				return nil, nil
			}}
		e := enginetest.New(t, db, engine.Options{Concurrency: 1, Poll: 50 * time.Millisecond}, fn)
		send := func(name string, p any) string {
			res, err := e.Send(context.Background(), engine.Event{Name: "work/prio", Data: map[string]any{"name": name, "p": p}})
			if err != nil {
				t.Fatal(err)
			}
			return oneRun(t, res)
		}
		first, second := send("first", 0), send("second", "not a number")
		urgent := send("urgent", 120)
		huge := send("huge", 5000)
		later := send("later", -600)
		for id, ahead := range map[string]time.Duration{first: 0, second: 0, urgent: 120 * time.Second, huge: 600 * time.Second, later: -600 * time.Second} {
			r, err := e.GetRun(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.CreatedAt.Sub(*r.DueAt); got != ahead {
				t.Errorf("run %s is due %s before it was queued, want %s", id, got, ahead)
			}
		}
		enginetest.StartWorkers(t, e)
		for _, id := range []string{first, second, urgent, huge} {
			enginetest.Await(t, e, id, engine.StatusCompleted)
		}
		mu.Lock()
		defer mu.Unlock()
		if want := []string{"huge", "urgent", "first", "second"}; !slices.Equal(order, want) {
			t.Errorf("ran in order %v, want %v", order, want)
		}
		if r, _ := e.GetRun(context.Background(), later); r.Status != engine.StatusQueued {
			t.Errorf("a run with priority -600 is %s, want queued for 10 minutes", r.Status)
		}
	})
}

// timeouts.start cancels a run that could not start in time (held behind a concurrency
// limit); timeouts.finish cancels a run still in progress, even one asleep. Each says which.
func TestTimeouts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clock := enginetest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		release := make(chan struct{})
		defer close(release)
		blocker := &engine.Function{ID: "slow-start", Triggers: []engine.Trigger{{Event: "work/slow"}},
			Flow: engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1}}, Timeouts: &engine.Timeouts{Start: time.Minute}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.Run(ctx, "hold", func(ctx context.Context) (any, error) {
					select {
					case <-release:
					case <-ctx.Done():
					}
					return nil, nil
				})
			}}
		sleeper := &engine.Function{ID: "slow-finish", Triggers: []engine.Trigger{{Event: "work/nap"}},
			Flow: engine.Flow{Timeouts: &engine.Timeouts{Finish: 10 * time.Minute}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return nil, in.Step.Sleep(ctx, "nap", time.Hour)
			}}
		h := start(t, db, []*engine.Function{blocker, sleeper}, func(o *engine.Options) { o.Now = clock.Now; o.Poll = 50 * time.Millisecond })
		held := oneRun(t, h.send("work/slow", nil))
		enginetest.AwaitRun(t, h.e, held, "be running", func(r *engine.Run) bool { return r.Status == engine.StatusRunning })
		behind := oneRun(t, h.send("work/slow", nil))
		nap := oneRun(t, h.send("work/nap", nil))
		h.await(nap, engine.StatusSleeping)
		clock.Add(2 * time.Minute)
		r := h.await(behind, engine.StatusCancelled)
		if !strings.Contains(r.Error, "timeouts.start") || !strings.Contains(r.Error, "1m0s") || r.StartedAt != nil {
			t.Errorf("run behind the limit: error %q, started %v; want cancelled by timeouts.start before it started", r.Error, r.StartedAt)
		}
		if r, _ := h.e.GetRun(h.ctx, held); r.Status != engine.StatusRunning {
			t.Errorf("the run that started in time is %s, want running (the start timeout is over for it)", r.Status)
		}
		if r, _ := h.e.GetRun(h.ctx, nap); r.Status != engine.StatusSleeping {
			t.Errorf("the sleeper is %s after 2 of its 10 minutes, want sleeping", r.Status)
		}
		clock.Add(10 * time.Minute)
		r = h.await(nap, engine.StatusCancelled)
		if !strings.Contains(r.Error, "timeouts.finish") || !strings.Contains(r.Error, "10m0s") {
			t.Errorf("sleeper: error %q, want cancelled by timeouts.finish", r.Error)
		}
	})
}

// Invalid claim-time options are refused at registration, naming the field.
func TestClaimFlowValidation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e := enginetest.New(t, db, engine.Options{})
		noop := func(context.Context, *engine.Input) (any, error) { return nil, nil }
		cases := []struct {
			flow  engine.Flow
			field string
		}{
			{engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1}, {Limit: 2}, {Limit: 3}}}, "concurrency"},
			{engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1}, {Limit: 0}}}, "concurrency[1].limit"},
			{engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1}, {Limit: 2, Key: "event.data.("}}}, "concurrency[1].key"},
			{engine.Flow{Throttle: &engine.Throttle{Limit: 0, Period: time.Minute}}, "throttle.limit"},
			{engine.Flow{Throttle: &engine.Throttle{Limit: 1, Period: time.Millisecond}}, "throttle.period"},
			{engine.Flow{Throttle: &engine.Throttle{Limit: 1, Period: 8 * 24 * time.Hour}}, "throttle.period"},
			{engine.Flow{Throttle: &engine.Throttle{Limit: 1, Period: time.Minute, Burst: -1}}, "throttle.burst"},
			{engine.Flow{Throttle: &engine.Throttle{Limit: 1, Period: time.Minute, Key: "1 +"}}, "throttle.key"},
			{engine.Flow{Priority: &engine.Priority{}}, "priority.run"},
			{engine.Flow{Priority: &engine.Priority{Run: "event.data.p +"}}, "priority.run"},
			{engine.Flow{Timeouts: &engine.Timeouts{Start: -time.Second}}, "timeouts.start"},
			{engine.Flow{Timeouts: &engine.Timeouts{Finish: -time.Second}}, "timeouts.finish"},
		}
		for i, c := range cases {
			err := e.Register(&engine.Function{ID: fmt.Sprint("bad-", i), Triggers: []engine.Trigger{{Event: "x"}}, Flow: c.flow, Handler: noop})
			if fieldOf(err) != c.field || engine.ErrorCode(err) != engine.EInvalid {
				t.Errorf("case %d: %v (field %q), want EInvalid naming %s", i, err, fieldOf(err), c.field)
			}
		}
		ok := engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1, Key: "event.data.a"}, {Limit: 5}},
			Throttle: &engine.Throttle{Limit: 1, Period: time.Second}, Priority: &engine.Priority{Run: "0"},
			Timeouts: &engine.Timeouts{Start: time.Second, Finish: time.Hour}}
		if err := e.Register(&engine.Function{ID: "good", Triggers: []engine.Trigger{{Event: "x"}}, Flow: ok, Handler: noop}); err != nil {
			t.Errorf("valid flow refused: %v", err)
		}
	})
}

func fieldOf(err error) string {
	var ee *engine.Error
	if errors.As(err, &ee) {
		for f := range ee.Fields {
			return f
		}
	}
	return ""
}

// Rolling deploys: a process claims only the runs of functions it has. An event sent through
// a process without the function still starts its run (from the registry of live processes),
// which the process that has it executes; while no live process has it, the run waits,
// labelled, and does not fail, until one comes.
func TestRunsWaitForAWorkerThatHasTheirFunction(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		noop := func(context.Context, *engine.Input) (any, error) { return "ok", nil }
		common := &engine.Function{ID: "common", Triggers: []engine.Trigger{{Event: "roll/common"}}, Handler: noop}
		hold := make(chan struct{})
		newer := &engine.Function{ID: "newer", Triggers: []engine.Trigger{{Event: "roll/newer", If: "event.data.go == true"}},
			Flow: engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1}}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				if in.Event.Data["hold"] == true {
					<-hold
				}
				return "newer ran", nil
			}}
		opts := engine.Options{Poll: 50 * time.Millisecond, Lease: 3 * time.Second}
		oldOpts, newOpts := opts, opts
		oldOpts.WorkerID, newOpts.WorkerID = "old", "new"
		old := enginetest.Start(t, db, oldOpts, common)
		b := enginetest.New(t, db, newOpts, common, &engine.Function{ID: newer.ID, Triggers: newer.Triggers, Flow: newer.Flow, Handler: newer.Handler})
		ctx, stopB := context.WithCancel(context.Background())
		doneB := make(chan error, 1)
		go func() { doneB <- b.Start(ctx) }()
		defer func() { stopB(); <-doneB }()
		enginetest.Eventually(t, "the new process to register", func() bool {
			ws, err := old.Workers(context.Background())
			return err == nil && len(ws) == 2
		})
		send := func(data map[string]any) engine.SendResult {
			res, err := old.Send(context.Background(), engine.Event{Name: "roll/newer", Data: data})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		if res := send(map[string]any{"go": false}); len(res.Runs) != 0 {
			t.Errorf("the registry's if was not applied: runs %v", res.Runs)
		}
		first := oneRun(t, send(map[string]any{"go": true}))
		if r := enginetest.Await(t, old, first, engine.StatusCompleted); string(r.Output) != `"newer ran"` {
			t.Errorf("run of the newer function: output %s", r.Output)
		}
		// Hold the new process's one slot, queue another, and stop it before it claims that.
		held := oneRun(t, send(map[string]any{"go": true, "hold": true}))
		enginetest.AwaitRun(t, old, held, "be running", func(r *engine.Run) bool { return r.Status == engine.StatusRunning })
		waiting := oneRun(t, send(map[string]any{"go": true}))
		stopB()
		close(hold)
		if err := <-doneB; err != nil {
			t.Fatal(err)
		}
		doneB <- nil // for the deferred stop
		enginetest.Await(t, old, held, engine.StatusCompleted)
		// The old process goes on claiming (a run of its own completes) and leaves it be.
		enginetest.Await(t, old, oneRun(t, mustSend(t, old, "roll/common")), engine.StatusCompleted)
		r, err := old.GetRun(context.Background(), waiting)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != engine.StatusQueued || r.WaitingForWorker != "waiting for a worker that has function newer" {
			t.Fatalf("run without a live worker: %s %q, waiting %q", r.Status, r.Error, r.WaitingForWorker)
		}
		// A process that has the function comes: the run goes on.
		cOpts := opts
		cOpts.WorkerID = "newest"
		c := enginetest.Start(t, db, cOpts, common, newer)
		if r := enginetest.Await(t, c, waiting, engine.StatusCompleted); r.WaitingForWorker != "" {
			t.Errorf("completed run still labelled %q", r.WaitingForWorker)
		}
	})
}

func mustSend(t *testing.T, e *engine.Engine, name string) engine.SendResult {
	t.Helper()
	res, err := e.Send(context.Background(), engine.Event{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// A rerun is held to the claim-time flow of the run it repeats: its concurrency keys and
// limits, throttle, finish timeout and needs, which a Fanout gave the first run.
func TestRerunKeepsTheRunsFlow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		fn := &engine.Function{ID: "fanned", Triggers: []engine.Trigger{{Event: "work/fanned"}},
			Fanout: func(ctx context.Context, tx engine.Tx, ev engine.Event) ([]engine.RunMeta, error) {
				return []engine.RunMeta{{WorkflowID: 7, WorkflowVersion: 1, Flow: &engine.Flow{
					Concurrency: []engine.Concurrency{{Limit: 3, Key: "event.data.k"}},
					Throttle:    &engine.Throttle{Limit: 5, Period: time.Minute}, Timeouts: &engine.Timeouts{Finish: time.Hour}}}}, nil
			},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) { return nil, nil }}
		h := start(t, db, []*engine.Function{fn})
		first := oneRun(t, h.send("work/fanned", map[string]any{"k": "a"}))
		h.await(first, engine.StatusCompleted)
		again, err := h.e.Rerun(h.ctx, first)
		if err != nil {
			t.Fatal(err)
		}
		h.await(again, engine.StatusCompleted)
		type flowCols struct {
			ConcurrencyKey                  string
			ConcurrencyLimit, ThrottleLimit int
			ThrottleKey                     string
			TimeoutFinish                   int64
		}
		var rows []flowCols
		if err := db.DB.Raw(`SELECT concurrency_key, concurrency_limit, throttle_limit, throttle_key, timeout_finish FROM runs WHERE id IN (?, ?)`,
			first, again).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		want := flowCols{ConcurrencyKey: "wf7:a", ConcurrencyLimit: 3, ThrottleLimit: 5, ThrottleKey: "wf7:", TimeoutFinish: time.Hour.Milliseconds()}
		if len(rows) != 2 || rows[0] != want || rows[1] != want {
			t.Errorf("flow of the run and its rerun: %+v, want both %+v", rows, want)
		}
	})
}
