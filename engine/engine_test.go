package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// harness is an engine over a test database with its workers running.
type harness struct {
	t   *testing.T
	e   *engine.Engine
	db  *testdb.DB
	ctx context.Context
}

type harnessOpt func(*engine.Options)

// start registers fns and runs the engine's workers until the test ends.
func start(t *testing.T, db *testdb.DB, fns []*engine.Function, opts ...harnessOpt) *harness {
	t.Helper()
	o := engine.Options{BackoffBase: time.Millisecond, BackoffMax: 20 * time.Millisecond,
		Poll: 200 * time.Millisecond, Lease: 3 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	e := enginetest.Start(t, db, o, fns...)
	return &harness{t: t, e: e, db: db, ctx: context.Background()}
}

func (h *harness) send(name string, data map[string]any) engine.SendResult {
	h.t.Helper()
	res, err := h.e.Send(h.ctx, engine.Event{Name: name, Data: data})
	if err != nil {
		h.t.Fatalf("send %s: %v", name, err)
	}
	return res
}

// await waits until the run reaches status, failing with its steps when it finishes otherwise.
func (h *harness) await(runID string, status engine.Status) *engine.Run {
	h.t.Helper()
	return enginetest.AwaitRun(h.t, h.e, runID, "be "+string(status), func(run *engine.Run) bool {
		if run.Status != status && run.Status.Finished() {
			h.t.Fatalf("run %s is %s (error %q), want %s; steps %+v", runID, run.Status, run.Error, status, run.Steps)
		}
		return run.Status == status
	})
}

func oneRun(t *testing.T, res engine.SendResult) string {
	t.Helper()
	if len(res.Runs) != 1 {
		t.Fatalf("want 1 run, got %v", res.Runs)
	}
	return res.Runs[0]
}

func TestSendRefusesBadEvents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e := enginetest.New(t, db, engine.Options{})
		cases := []struct {
			name string
			ev   engine.Event
			code engine.Code
			want string
		}{
			{"no name", engine.Event{Data: map[string]any{"a": 1}}, engine.EInvalid, "name"},
			{"blank name", engine.Event{Name: "  "}, engine.EInvalid, "name"},
			{"too large", engine.Event{Name: "big", Data: map[string]any{"x": strings.Repeat("a", engine.MaxEventBytes)}}, engine.ETooLarge, "limit"},
		}
		for _, c := range cases {
			_, err := e.Send(context.Background(), c.ev)
			if engine.ErrorCode(err) != c.code || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: got %v, want code %s mentioning %q", c.name, err, c.code, c.want)
			}
		}
		events, _, err := e.ListEvents(context.Background(), engine.EventFilter{})
		if err != nil || len(events) != 0 {
			t.Fatalf("refused events were stored: %v %v", events, err)
		}
	})
}

func TestStepsAreMemoizedAcrossSuspensions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var first, second atomic.Int32
		fn := &engine.Function{ID: "memo", Triggers: []engine.Trigger{{Event: "test/memo"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				a, err := engine.RunT(ctx, in.Step, "first", func(ctx context.Context) (int, error) {
					first.Add(1)
					return 41, nil
				})
				if err != nil {
					return nil, err
				}
				if err := in.Step.Sleep(ctx, "nap", 30*time.Millisecond); err != nil {
					return nil, err
				}
				b, err := engine.RunT(ctx, in.Step, "second", func(ctx context.Context) (int, error) {
					second.Add(1)
					return a + 1, nil
				})
				return map[string]int{"answer": b}, err
			}}
		h := start(t, db, []*engine.Function{fn})
		run := h.await(oneRun(t, h.send("test/memo", nil)), engine.StatusCompleted)
		if string(run.Output) != `{"answer":42}` {
			t.Errorf("output %s", run.Output)
		}
		if first.Load() != 1 || second.Load() != 1 {
			t.Errorf("step fns ran %d and %d times, want once each", first.Load(), second.Load())
		}
		var kinds []string
		for _, s := range run.Steps {
			kinds = append(kinds, s.ID+":"+s.Kind+":"+s.Status)
		}
		if got := strings.Join(kinds, ","); got != "first:run:completed,nap:sleep:completed,second:run:completed" {
			t.Errorf("steps %s", got)
		}
	})
}

func TestRetriesAndFailures(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var flaky atomic.Int32
		var failures sync.Map
		fns := []*engine.Function{
			{ID: "flaky", Triggers: []engine.Trigger{{Event: "test/flaky"}}, Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.Run(ctx, "call", func(ctx context.Context) (any, error) {
					if flaky.Add(1) < 3 {
						return nil, errors.New("temporary")
					}
					return "ok", nil
				})
			}},
			{ID: "fatal", Triggers: []engine.Trigger{{Event: "test/fatal"}}, Flow: engine.Flow{Retries: engine.Retries(5)},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					return in.Step.Run(ctx, "call", func(ctx context.Context) (any, error) {
						return nil, engine.NonRetriable(errors.New("bad key"))
					})
				},
				OnFailure: func(ctx context.Context, in *engine.Input) (any, error) {
					failures.Store(in.Event.Data["run_id"], in.Error)
					return nil, nil
				}},
			{ID: "exhausted", Triggers: []engine.Trigger{{Event: "test/exhausted"}}, Flow: engine.Flow{Retries: engine.Retries(2)},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					return in.Step.Run(ctx, "call", func(ctx context.Context) (any, error) {
						return nil, errors.New("always down")
					})
				}},
			{ID: "panics", Triggers: []engine.Trigger{{Event: "test/panic"}}, Flow: engine.Flow{Retries: engine.Retries(0)},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					return in.Step.Run(ctx, "boom", func(ctx context.Context) (any, error) {
						var m map[string]int
						//lint:ignore SA5000 the runtime panic is the point of this function
						m["x"] = 1 // nil map write
						return nil, nil
					})
				}},
		}
		h := start(t, db, fns)

		run := h.await(oneRun(t, h.send("test/flaky", nil)), engine.StatusCompleted)
		if run.Steps[0].Attempts != 3 {
			t.Errorf("flaky step attempts = %d, want 3", run.Steps[0].Attempts)
		}

		fatalID := oneRun(t, h.send("test/fatal", nil))
		run = h.await(fatalID, engine.StatusFailed)
		if run.Steps[0].Attempts != 1 || !strings.Contains(run.Error, "bad key") {
			t.Errorf("non-retriable: attempts %d, error %q", run.Steps[0].Attempts, run.Error)
		}
		enginetest.Eventually(t, "the on-failure handler to run", func() bool {
			_, ok := failures.Load(fatalID)
			return ok
		})
		if v, _ := failures.Load(fatalID); !strings.Contains(v.(string), "bad key") {
			t.Errorf("on-failure handler got error %q", v)
		}

		run = h.await(oneRun(t, h.send("test/exhausted", nil)), engine.StatusFailed)
		if run.Steps[0].Attempts != 3 || !strings.Contains(run.Error, "always down") {
			t.Errorf("exhausted: attempts %d (want 3), error %q", run.Steps[0].Attempts, run.Error)
		}

		run = h.await(oneRun(t, h.send("test/panic", nil)), engine.StatusFailed)
		if !strings.Contains(run.Error, "assignment to entry in nil map") || !strings.Contains(run.Steps[0].Error, "goroutine") {
			t.Errorf("panic not recorded with its stack: %q / %q", run.Error, run.Steps[0].Error)
		}

		failed, _, err := h.e.ListEvents(h.ctx, engine.EventFilter{Name: engine.EventRunFailed})
		if err != nil || len(failed) != 3 {
			t.Errorf("want 3 %s events, got %d (%v)", engine.EventRunFailed, len(failed), err)
		}
	})
}

func TestWaitForEvent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		fn := &engine.Function{ID: "approval", Triggers: []engine.Trigger{{Event: "post/updated"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				timeout := time.Hour
				if in.Event.Data["short"] == true {
					timeout = 50 * time.Millisecond
				}
				ev, err := in.Step.WaitForEvent(ctx, "decision", engine.Wait{Event: "post/approved", OrEvents: []string{"post/rejected"},
					Match: "data.id", Timeout: timeout})
				if err != nil || ev == nil {
					return "timed out", err
				}
				return ev.Name, nil
			}}
		h := start(t, db, []*engine.Function{fn})
		r1 := oneRun(t, h.send("post/updated", map[string]any{"id": 1}))
		r2 := oneRun(t, h.send("post/updated", map[string]any{"id": 2}))
		r3 := oneRun(t, h.send("post/updated", map[string]any{"id": 3, "short": true}))
		w := h.await(r1, engine.StatusWaiting)
		if w.WaitingFor == nil || w.WaitingFor.Match != "data.id" || !strings.Contains(w.WaitingFor.Event, "post/approved") {
			t.Errorf("waiting_for = %+v", w.WaitingFor)
		}
		h.await(r2, engine.StatusWaiting)

		res := h.send("post/approved", map[string]any{"id": 2})
		if len(res.Runs) != 0 {
			t.Errorf("the approval started runs: %v", res.Runs)
		}
		if run := h.await(r2, engine.StatusCompleted); string(run.Output) != `"post/approved"` {
			t.Errorf("r2 output %s", run.Output)
		}
		h.send("post/rejected", map[string]any{"id": 1})
		if run := h.await(r1, engine.StatusCompleted); string(run.Output) != `"post/rejected"` {
			t.Errorf("r1 output %s", run.Output)
		}
		if run := h.await(r3, engine.StatusCompleted); string(run.Output) != `"timed out"` {
			t.Errorf("r3 output %s", run.Output)
		}
		// A late event for a finished wait changes nothing.
		late := h.send("post/approved", map[string]any{"id": 3})
		if run, _ := h.e.GetRun(h.ctx, r3); string(run.Output) != `"timed out"` {
			t.Errorf("late event changed r3: %s", run.Output)
		}
		// Each event knows the run it resumed (the events page says "resumed run X").
		for _, c := range []struct {
			event string
			want  []string
		}{{res.IDs[0], []string{r2}}, {late.IDs[0], []string{}}} {
			ev, err := h.e.GetEvent(h.ctx, c.event)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ev.Resumed, c.want) {
				t.Errorf("event %s resumed %v, want %v", ev.Name, ev.Resumed, c.want)
			}
		}
		list, _, err := h.e.ListEvents(h.ctx, engine.EventFilter{Name: "post/rejected"})
		if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0].Resumed, []string{r1}) {
			t.Errorf("listed post/rejected = %+v (%v), want it to have resumed %s", list, err, r1)
		}
	})
}

func TestWaitWithCELCondition(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		fn := &engine.Function{ID: "cel-wait", Triggers: []engine.Trigger{{Event: "order/created"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				ev, err := in.Step.WaitForEvent(ctx, "paid", engine.Wait{Event: "order/paid",
					If: "async.data.order == event.data.order && async.data.amount >= 10.0", Timeout: time.Hour})
				if err != nil || ev == nil {
					return nil, err
				}
				return ev.Data["amount"], nil
			}}
		h := start(t, db, []*engine.Function{fn})
		r := oneRun(t, h.send("order/created", map[string]any{"order": "A"}))
		h.await(r, engine.StatusWaiting)
		low := h.send("order/paid", map[string]any{"order": "A", "amount": 5})
		h.send("order/paid", map[string]any{"order": "B", "amount": 50})
		paid := h.send("order/paid", map[string]any{"order": "A", "amount": 12})
		if run := h.await(r, engine.StatusCompleted); string(run.Output) != "12" {
			t.Errorf("output %s, want 12", run.Output)
		}
		// The event that met the condition is the one that resumed the run.
		for _, c := range []struct {
			event string
			want  []string
		}{{paid.IDs[0], []string{r}}, {low.IDs[0], []string{}}} {
			ev, err := h.e.GetEvent(h.ctx, c.event)
			if err != nil || !reflect.DeepEqual(ev.Resumed, c.want) {
				t.Errorf("event %s resumed %v (%v), want %v", c.event, ev.Resumed, err, c.want)
			}
		}
	})
}

func TestCancellation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var after atomic.Int32
		fn := &engine.Function{ID: "slow", Triggers: []engine.Trigger{{Event: "job/start"}},
			Flow: engine.Flow{CancelOn: []engine.CancelOn{{Event: "job/stop", Match: "data.job"}}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				if err := in.Step.Sleep(ctx, "long", time.Hour); err != nil {
					return nil, err
				}
				after.Add(1)
				return nil, nil
			}}
		h := start(t, db, []*engine.Function{fn})
		byAPI := oneRun(t, h.send("job/start", map[string]any{"job": "a"}))
		byEvent := oneRun(t, h.send("job/start", map[string]any{"job": "b"}))
		other := oneRun(t, h.send("job/start", map[string]any{"job": "c"}))
		for _, id := range []string{byAPI, byEvent, other} {
			h.await(id, engine.StatusSleeping)
		}
		if err := h.e.Cancel(h.ctx, byAPI); err != nil {
			t.Fatal(err)
		}
		h.send("job/stop", map[string]any{"job": "b"})
		h.await(byAPI, engine.StatusCancelled)
		h.await(byEvent, engine.StatusCancelled)
		if run, _ := h.e.GetRun(h.ctx, other); run.Status != engine.StatusSleeping {
			t.Errorf("unrelated run is %s", run.Status)
		}
		if err := h.e.Cancel(h.ctx, byAPI); engine.ErrorCode(err) != engine.EConflict {
			t.Errorf("second cancel: %v, want conflict", err)
		}
		if err := h.e.Cancel(h.ctx, "nope"); engine.ErrorCode(err) != engine.ENotFound {
			t.Errorf("cancel unknown: %v, want not found", err)
		}
		if after.Load() != 0 {
			t.Error("a cancelled run went on")
		}
	})
}

func TestDedupFanOutAndSendTxRollback(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var a, b atomic.Int32
		count := func(c *atomic.Int32) engine.Handler {
			return func(ctx context.Context, in *engine.Input) (any, error) { c.Add(1); return nil, nil }
		}
		h := start(t, db, []*engine.Function{
			{ID: "a", Triggers: []engine.Trigger{{Event: "thing/done"}}, Handler: count(&a)},
			{ID: "b", Triggers: []engine.Trigger{{Event: "thing/done", If: "event.data.n > 1"}}, Handler: count(&b)},
		})
		res, err := h.e.Send(h.ctx, engine.Event{ID: "client-1", Name: "thing/done", Data: map[string]any{"n": 2}})
		if err != nil || len(res.Runs) != 2 {
			t.Fatalf("fan-out: %v %v", res, err)
		}
		again, err := h.e.Send(h.ctx, engine.Event{ID: "client-1", Name: "thing/done", Data: map[string]any{"n": 2}})
		if err != nil || len(again.Runs) != 0 || again.IDs[0] != res.IDs[0] {
			t.Fatalf("duplicate id: %+v %v (first %+v)", again, err, res)
		}
		one, _ := h.e.Send(h.ctx, engine.Event{Name: "thing/done", Data: map[string]any{"n": 1}})
		if len(one.Runs) != 1 {
			t.Errorf("If filter: %d runs, want 1", len(one.Runs))
		}
		// A rolled-back transaction leaves neither event nor run.
		tx := db.DB.Begin()
		if _, err := h.e.SendTx(h.ctx, tx.Statement.ConnPool, engine.Event{Name: "thing/done", Data: map[string]any{"n": 5}}); err != nil {
			t.Fatal(err)
		}
		tx.Rollback()
		for _, id := range append(res.Runs, one.Runs...) {
			h.await(id, engine.StatusCompleted)
		}
		events, _, _ := h.e.ListEvents(h.ctx, engine.EventFilter{Name: "thing/done"})
		if len(events) != 2 {
			t.Errorf("stored %d events, want 2", len(events))
		}
		if a.Load() != 2 || b.Load() != 1 {
			t.Errorf("a ran %d, b ran %d; want 2 and 1", a.Load(), b.Load())
		}
	})
}

func TestInvokeSendEventAndParallel(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var notified atomic.Int32
		fns := []*engine.Function{
			{ID: "square", Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				n := in.Event.Data["n"].(float64)
				return n * n, nil
			}},
			{ID: "notified", Triggers: []engine.Trigger{{Event: "math/done"}}, Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				notified.Add(1)
				return nil, nil
			}},
			{ID: "parent", Triggers: []engine.Trigger{{Event: "math/start"}}, Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				results := make([]string, 3)
				err := in.Step.Parallel(ctx,
					func(ctx context.Context) error {
						out, err := in.Step.Invoke(ctx, "sq", "square", map[string]any{"n": 7}, time.Minute)
						results[0] = string(out)
						return err
					},
					func(ctx context.Context) error {
						out, err := in.Step.Run(ctx, "left", func(ctx context.Context) (any, error) { return "L", nil })
						results[1] = string(out)
						return err
					},
					func(ctx context.Context) error {
						out, err := in.Step.Run(ctx, "right", func(ctx context.Context) (any, error) { return "R", nil })
						results[2] = string(out)
						return err
					})
				if err != nil {
					return nil, err
				}
				if _, err := in.Step.SendEvent(ctx, "announce", engine.Event{Name: "math/done"}, engine.Event{Name: "math/done"}); err != nil {
					return nil, err
				}
				return strings.Join(results, " "), nil
			}},
		}
		h := start(t, db, fns)
		run := h.await(oneRun(t, h.send("math/start", nil)), engine.StatusCompleted)
		if string(run.Output) != `"49 \"L\" \"R\""` {
			t.Errorf("output %s", run.Output)
		}
		for _, s := range run.Steps {
			var sent struct{ IDs []string }
			if s.ID == "announce" && (s.Kind != "send" || json.Unmarshal(s.Output, &sent) != nil || len(sent.IDs) != 2) {
				t.Errorf("send step stored %s (kind %s), want {\"ids\": the two event ids}", s.Output, s.Kind)
			}
		}
		enginetest.Eventually(t, "the send_event fan-out to run both runs", func() bool { return notified.Load() >= 2 })
		if notified.Load() != 2 {
			t.Errorf("send_event fan-out ran %d runs, want 2", notified.Load())
		}
	})
}

func TestConcurrencyLimitPerKey(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var mu sync.Mutex
		active, peak := map[string]int{}, map[string]int{}
		fn := &engine.Function{ID: "limited", Triggers: []engine.Trigger{{Event: "work/item"}},
			Flow: engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1, Key: "event.data.user"}}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				user := in.Event.Data["user"].(string)
				_, err := in.Step.Run(ctx, "work", func(ctx context.Context) (any, error) {
					mu.Lock()
					active[user]++
					peak[user] = max(peak[user], active[user])
					mu.Unlock()
					time.Sleep(10 * time.Millisecond) // hold the slot so overlap would show
					mu.Lock()
					active[user]--
					mu.Unlock()
					return nil, nil
				})
				return nil, err
			}}
		h := start(t, db, []*engine.Function{fn})
		var ids []string
		for i := range 12 {
			ids = append(ids, oneRun(t, h.send("work/item", map[string]any{"user": fmt.Sprint("u", i%3)})))
		}
		for _, id := range ids {
			h.await(id, engine.StatusCompleted)
		}
		for u, p := range peak {
			if p != 1 {
				t.Errorf("user %s had %d runs at once, limit 1", u, p)
			}
		}
	})
}

func TestStepLimitsAndRepeatedIDs(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		h := start(t, db, []*engine.Function{
			{ID: "loop", Triggers: []engine.Trigger{{Event: "t/loop"}}, Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				for i := range 3 {
					if _, err := in.Step.Run(ctx, "item", func(ctx context.Context) (any, error) { return i, nil }); err != nil {
						return nil, err
					}
				}
				return nil, nil
			}},
			{ID: "huge", Triggers: []engine.Trigger{{Event: "t/huge"}}, Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.Run(ctx, "big", func(ctx context.Context) (any, error) {
					return strings.Repeat("x", engine.MaxStepOutputBytes+1), nil
				})
			}},
			{ID: "many", Triggers: []engine.Trigger{{Event: "t/many"}}, Flow: engine.Flow{Retries: engine.Retries(0)}, Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				for i := 0; ; i++ {
					if _, err := in.Step.Run(ctx, fmt.Sprint("s", i), func(ctx context.Context) (any, error) { return nil, nil }); err != nil {
						return nil, err
					}
				}
			}},
		})
		run := h.await(oneRun(t, h.send("t/loop", nil)), engine.StatusCompleted)
		var ids []string
		for _, s := range run.Steps {
			ids = append(ids, s.ID)
		}
		if strings.Join(ids, ",") != "item,item:1,item:2" {
			t.Errorf("repeated ids: %v", ids)
		}
		run = h.await(oneRun(t, h.send("t/huge", nil)), engine.StatusFailed)
		if !strings.Contains(run.Error, "limit") || run.Steps[0].Attempts != 1 {
			t.Errorf("oversized output: %q after %d attempts", run.Error, run.Steps[0].Attempts)
		}
		run = h.await(oneRun(t, h.send("t/many", nil)), engine.StatusFailed)
		if !strings.Contains(run.Error, "more than 1000 steps") || len(run.Steps) != engine.MaxStepsPerRun {
			t.Errorf("step limit: %q with %d steps", run.Error, len(run.Steps))
		}
	})
}

func TestRunsListingAndRerun(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		h := start(t, db, []*engine.Function{
			{ID: "echo", Triggers: []engine.Trigger{{Event: "t/echo"}}, Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Event.Data["v"], nil
			}},
		})
		var ids []string
		for i := range 5 {
			ids = append(ids, oneRun(t, h.send("t/echo", map[string]any{"v": i})))
		}
		for _, id := range ids {
			h.await(id, engine.StatusCompleted)
		}
		page, next, err := h.e.ListRuns(h.ctx, engine.RunFilter{FunctionID: "echo", Limit: 3})
		if err != nil || len(page) != 3 || next == "" || page[0].ID != ids[4] {
			t.Fatalf("first page: %d runs, next %q, err %v", len(page), next, err)
		}
		rest, next2, err := h.e.ListRuns(h.ctx, engine.RunFilter{FunctionID: "echo", Limit: 3, Cursor: next})
		if err != nil || len(rest) != 2 || next2 != "" || rest[1].ID != ids[0] {
			t.Fatalf("second page: %d runs, next %q, err %v", len(rest), next2, err)
		}
		if _, _, err := h.e.ListRuns(h.ctx, engine.RunFilter{Limit: 5000}); engine.ErrorCode(err) != engine.EInvalid {
			t.Errorf("limit 5000: %v", err)
		}
		if _, _, err := h.e.ListRuns(h.ctx, engine.RunFilter{Status: "nope"}); engine.ErrorCode(err) != engine.EInvalid {
			t.Errorf("bad status: %v", err)
		}
		counts, err := h.e.CountRuns(h.ctx, engine.RunFilter{FunctionID: "echo"})
		if err != nil || counts[engine.StatusCompleted] != 5 {
			t.Errorf("counts %v %v", counts, err)
		}
		again, err := h.e.Rerun(h.ctx, ids[2])
		if err != nil {
			t.Fatal(err)
		}
		if run := h.await(again, engine.StatusCompleted); string(run.Output) != "2" {
			t.Errorf("rerun output %s", run.Output)
		}
	})
}

func TestRetryResumesAtTheFailedStep(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var first, second atomic.Int32
		fn := &engine.Function{ID: "resumable", Triggers: []engine.Trigger{{Event: "t/resume"}}, Flow: engine.Flow{Retries: engine.Retries(0)},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				if _, err := in.Step.Run(ctx, "first", func(ctx context.Context) (any, error) { return first.Add(1), nil }); err != nil {
					return nil, err
				}
				return in.Step.Run(ctx, "second", func(ctx context.Context) (any, error) {
					if second.Add(1) == 1 {
						return nil, errors.New("downstream was down")
					}
					return "done", nil
				})
			}}
		h := start(t, db, []*engine.Function{fn})
		id := oneRun(t, h.send("t/resume", nil))
		h.await(id, engine.StatusFailed)
		if err := h.e.Retry(h.ctx, "nope"); engine.ErrorCode(err) != engine.ENotFound {
			t.Errorf("retry unknown run: %v", err)
		}
		if err := h.e.Retry(h.ctx, id); err != nil {
			t.Fatal(err)
		}
		run := h.await(id, engine.StatusCompleted)
		if string(run.Output) != `"done"` || run.Error != "" || first.Load() != 1 || second.Load() != 2 {
			t.Errorf("after retry: output %s error %q, first ran %d times (want 1), second %d (want 2)", run.Output, run.Error, first.Load(), second.Load())
		}
		if err := h.e.Retry(h.ctx, id); engine.ErrorCode(err) != engine.EConflict {
			t.Errorf("retry of a completed run: %v", err)
		}
	})
}
