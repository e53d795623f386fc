package engine_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Start-time flow control (flow_send.go): each option on both databases, with the engine's
// clock injected so periods pass without sleeping.

var flowEpoch = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func noopHandler(context.Context, *engine.Input) (any, error) { return "ok", nil }

// flowHarness starts fns on db with the clock clk.
func flowHarness(t *testing.T, db *testdb.DB, clk *enginetest.Clock, fns ...*engine.Function) *harness {
	return start(t, db, fns, func(o *engine.Options) { o.Now = clk.Now })
}

func (h *harness) sendEvent(ev engine.Event) engine.SendResult {
	h.t.Helper()
	res, err := h.e.Send(h.ctx, ev)
	if err != nil {
		h.t.Fatalf("send %s: %v", ev.Name, err)
	}
	return res
}

// decisions returns what functions did with the event id, as GET /api/events/{id} answers.
func (h *harness) decisions(eventID string) []engine.Decision {
	h.t.Helper()
	ds, err := h.e.Decisions(h.ctx, eventID)
	if err != nil {
		h.t.Fatalf("decisions of %s: %v", eventID, err)
	}
	return ds
}

// oneDecision asserts that the event has exactly one decision, with action and reason.
func (h *harness) oneDecision(eventID, action, reason string) engine.Decision {
	h.t.Helper()
	ds := h.decisions(eventID)
	if len(ds) != 1 || ds[0].Action != action || ds[0].Reason != reason {
		h.t.Fatalf("decisions of event %s: %+v, want one %s/%s", eventID, ds, action, reason)
	}
	return ds[0]
}

func (h *harness) runsOf(fn string) []engine.Run {
	h.t.Helper()
	runs, _, err := h.e.ListRuns(h.ctx, engine.RunFilter{FunctionID: fn, Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return runs
}

// settle waits until a plain run of the "probe" function sent now has completed: every run
// due before it has been claimed by then (claims are in due order), so a run still queued
// is not due.
func (h *harness) settle() {
	h.t.Helper()
	res := h.send("probe/ping", nil)
	h.await(res.Runs[0], engine.StatusCompleted)
}

var probe = &engine.Function{ID: "probe", Triggers: []engine.Trigger{{Event: "probe/ping"}}, Handler: noopHandler}

func TestDelayedEventStartsAtItsTS(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clk := enginetest.NewClock(flowEpoch)
		h := flowHarness(t, db, clk, probe,
			&engine.Function{ID: "later", Triggers: []engine.Trigger{{Event: "t/later"}}, Handler: noopHandler})
		ts := flowEpoch.Add(time.Hour)
		res := h.sendEvent(engine.Event{Name: "t/later", TS: ts.UnixMilli()})
		if len(res.Runs) != 1 {
			t.Fatalf("runs %v, want the delayed one", res.Runs)
		}
		d := h.oneDecision(res.IDs[0], engine.ActionDelayed, engine.ReasonTS)
		if d.RunID != res.Runs[0] || d.Function != "later" {
			t.Fatalf("decision %+v", d)
		}
		h.settle()
		run, _ := h.e.GetRun(h.ctx, res.Runs[0])
		if run.Status != engine.StatusQueued || run.DueAt == nil || !run.DueAt.Equal(ts) {
			t.Fatalf("before its ts the run is %s due %v, want queued due %s", run.Status, run.DueAt, ts)
		}
		clk.Add(time.Hour)
		h.await(res.Runs[0], engine.StatusCompleted)

		// A ts in the past (or now) is a plain start.
		res = h.sendEvent(engine.Event{Name: "t/later", TS: flowEpoch.UnixMilli()})
		if d := h.oneDecision(res.IDs[0], engine.ActionStarted, ""); d.RunID != res.Runs[0] {
			t.Fatalf("decision %+v", d)
		}
		if _, err := h.e.Send(h.ctx, engine.Event{Name: "t/later", TS: flowEpoch.AddDate(11, 0, 0).UnixMilli()}); engine.ErrorCode(err) != engine.EInvalid {
			t.Fatalf("a ts 11 years ahead: %v, want refused", err)
		}
	})
}

func TestIdempotencyStartsOneRunPerKeyPerDay(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clk := enginetest.NewClock(flowEpoch)
		h := flowHarness(t, db, clk, &engine.Function{ID: "once", Triggers: []engine.Trigger{{Event: "t/pay"}},
			Flow: engine.Flow{Idempotency: "event.data.order"}, Handler: noopHandler})
		first := h.send("t/pay", map[string]any{"order": 7})
		again := h.send("t/pay", map[string]any{"order": 7})
		other := h.send("t/pay", map[string]any{"order": 8})
		if len(first.Runs) != 1 || len(again.Runs) != 0 || len(other.Runs) != 1 {
			t.Fatalf("runs %v %v %v, want 1 0 1", first.Runs, again.Runs, other.Runs)
		}
		if d := h.oneDecision(again.IDs[0], engine.ActionSkipped, engine.ReasonIdempotency); d.Key != "7" {
			t.Fatalf("key %q, want 7", d.Key)
		}
		clk.Add(engine.IdempotencyWindow + time.Minute)
		if res := h.send("t/pay", map[string]any{"order": 7}); len(res.Runs) != 1 {
			t.Fatalf("a day later the key started %v, want a run", res.Runs)
		}
	})
}

func TestRateLimitDropsStartsOverTheLimit(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clk := enginetest.NewClock(flowEpoch)
		h := flowHarness(t, db, clk, &engine.Function{ID: "sync", Triggers: []engine.Trigger{{Event: "t/sync"}},
			Flow: engine.Flow{RateLimit: &engine.RateLimit{Limit: 2, Period: time.Hour, Key: "event.data.company"}}, Handler: noopHandler})
		started := 0
		for i := range 5 {
			res := h.send("t/sync", map[string]any{"company": "acme"})
			started += len(res.Runs)
			if i >= 2 {
				h.oneDecision(res.IDs[0], engine.ActionDropped, engine.ReasonRateLimit)
			}
		}
		if started != 2 {
			t.Fatalf("%d runs started within the hour, want 2", started)
		}
		if res := h.send("t/sync", map[string]any{"company": "globex"}); len(res.Runs) != 1 {
			t.Fatal("another key shares the limit")
		}
		clk.Add(30 * time.Minute) // GCRA: one start's worth of the period has come back
		if res := h.send("t/sync", map[string]any{"company": "acme"}); len(res.Runs) != 1 {
			t.Fatal("half a period later no start was allowed")
		}
		if res := h.send("t/sync", map[string]any{"company": "acme"}); len(res.Runs) != 0 {
			t.Fatal("a second start half a period later was allowed")
		}
	})
}

// waiter is a function whose runs stay in progress (waiting) until a "t/release" event with
// their data.id arrives.
func waiter(id string, flow engine.Flow) *engine.Function {
	return &engine.Function{ID: id, Triggers: []engine.Trigger{{Event: "t/" + id}}, Flow: flow,
		Handler: func(ctx context.Context, in *engine.Input) (any, error) {
			_, err := in.Step.WaitForEvent(ctx, "release", engine.Wait{Event: "t/release", Match: "data.id", Timeout: 24 * time.Hour})
			return "released", err
		}}
}

func TestSingletonSkipAndCancel(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		h := start(t, db, []*engine.Function{
			waiter("skip", engine.Flow{Singleton: &engine.Singleton{Key: "event.data.id", Mode: engine.SingletonSkip}}),
			waiter("cancel", engine.Flow{Singleton: &engine.Singleton{Key: "event.data.id", Mode: engine.SingletonCancel}}),
		})
		// skip: a second start of the key is skipped while the first is in progress (waiting).
		first := h.send("t/skip", map[string]any{"id": 1})
		h.await(first.Runs[0], engine.StatusWaiting)
		second := h.send("t/skip", map[string]any{"id": 1})
		if len(second.Runs) != 0 {
			t.Fatalf("second start of the key started %v", second.Runs)
		}
		if d := h.oneDecision(second.IDs[0], engine.ActionSkipped, engine.ReasonSingleton); d.RunID != first.Runs[0] {
			t.Fatalf("skipped decision names run %q, want the one in progress %s", d.RunID, first.Runs[0])
		}
		if res := h.send("t/skip", map[string]any{"id": 2}); len(res.Runs) != 1 {
			t.Fatal("another key was skipped")
		}
		h.send("t/release", map[string]any{"id": 1})
		h.await(first.Runs[0], engine.StatusCompleted)
		if res := h.send("t/skip", map[string]any{"id": 1}); len(res.Runs) != 1 {
			t.Fatal("after the run finished the key was still held")
		}

		// cancel: the run in progress is cancelled and the new one starts.
		old := h.send("t/cancel", map[string]any{"id": 1})
		h.await(old.Runs[0], engine.StatusWaiting)
		newer := h.send("t/cancel", map[string]any{"id": 1})
		if len(newer.Runs) != 1 {
			t.Fatalf("cancel mode started %v", newer.Runs)
		}
		h.await(old.Runs[0], engine.StatusCancelled)
		if d := h.oneDecision(newer.IDs[0], engine.ActionStarted, engine.ReasonSingleton); d.RunID != newer.Runs[0] {
			t.Fatalf("decision %+v", d)
		}
		h.await(newer.Runs[0], engine.StatusWaiting)
		h.send("t/release", map[string]any{"id": 1})
		h.await(newer.Runs[0], engine.StatusCompleted)
	})
}

// recorder is a function that records the events each run saw.
type recorder struct {
	mu   sync.Mutex
	seen map[string][]string // run id -> data.n of Input.Events; "first" is Input.Event's
}

func (r *recorder) handler(ctx context.Context, in *engine.Input) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string][]string{}
	}
	var got []string
	got = append(got, fmt.Sprint(in.Event.Data["n"]))
	for _, ev := range in.Events {
		got = append(got, fmt.Sprint(ev.Data["n"]))
	}
	r.seen[in.Run.ID] = got
	return len(in.Events), nil
}

func (r *recorder) of(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id]
}

func TestDebounceRunsOnceWithTheLastEvent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clk := enginetest.NewClock(flowEpoch)
		rec := &recorder{}
		h := flowHarness(t, db, clk, probe, &engine.Function{ID: "deb", Triggers: []engine.Trigger{{Event: "t/save"}},
			Flow:    engine.Flow{Debounce: &engine.Debounce{Period: time.Minute, Key: "event.data.post", Timeout: 3 * time.Minute}},
			Handler: rec.handler})
		var runID string
		for n := 1; n <= 3; n++ {
			res := h.send("t/save", map[string]any{"post": 1, "n": n})
			if len(res.Runs) != 0 {
				t.Fatalf("a debounced event started %v itself", res.Runs)
			}
			d := h.oneDecision(res.IDs[0], engine.ActionDebounced, engine.ReasonDebounce)
			if runID == "" {
				runID = d.RunID
			} else if d.RunID != runID {
				t.Fatalf("event %d folded into run %s, want %s", n, d.RunID, runID)
			}
			clk.Add(40 * time.Second) // within the period: each event postpones the run
		}
		other := h.send("t/save", map[string]any{"post": 2, "n": 9})
		if d := h.oneDecision(other.IDs[0], engine.ActionDebounced, engine.ReasonDebounce); d.RunID == runID {
			t.Fatal("another key joined the debounce")
		}
		h.settle()
		if run, _ := h.e.GetRun(h.ctx, runID); run.Status != engine.StatusQueued {
			t.Fatalf("run is %s within the period, want queued", run.Status)
		}
		clk.Add(time.Minute)
		h.await(runID, engine.StatusCompleted)
		if got := rec.of(runID); fmt.Sprint(got) != "[3 3]" {
			t.Fatalf("debounced run saw events %v, want the last one (n=3)", got)
		}
		if n := len(h.runsOf("deb")); n != 2 {
			t.Fatalf("%d runs for two keys", n)
		}

		// timeout bounds how long a stream of events postpones the run: 3 minutes after the first.
		// Read before the timeout comes: once due, a worker may start the run (its due time
		// is then gone from GetRun), which a slow machine or -race made a flake.
		var streamRun string
		first := clk.Now()
		for i := range 6 {
			if i > 0 {
				clk.Add(30 * time.Second)
			}
			res := h.send("t/save", map[string]any{"post": 3})
			streamRun = h.decisions(res.IDs[0])[0].RunID
		}
		run, _ := h.e.GetRun(h.ctx, streamRun)
		if want := first.Add(3 * time.Minute); run.DueAt == nil || !run.DueAt.Equal(want) {
			t.Fatalf("stream's run due %v, want %s (timeout after the first event)", run.DueAt, want)
		}
	})
}

func TestBatchEventsRunsOncePerBatch(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clk := enginetest.NewClock(flowEpoch)
		rec := &recorder{}
		h := flowHarness(t, db, clk, probe, &engine.Function{ID: "bat", Triggers: []engine.Trigger{{Event: "t/log"}},
			Flow:    engine.Flow{BatchEvents: &engine.BatchEvents{MaxSize: 3, Timeout: time.Minute}},
			Handler: rec.handler})
		var runs []string
		for n := 1; n <= 5; n++ {
			res := h.send("t/log", map[string]any{"n": n})
			d := h.oneDecision(res.IDs[0], engine.ActionBatched, engine.ReasonBatchEvents)
			if len(runs) == 0 || runs[len(runs)-1] != d.RunID {
				runs = append(runs, d.RunID)
			}
		}
		if len(runs) != 2 {
			t.Fatalf("5 events in batches of 3 made runs %v", runs)
		}
		h.await(runs[0], engine.StatusCompleted) // full: starts at once
		if got := rec.of(runs[0]); fmt.Sprint(got) != "[1 1 2 3]" {
			t.Fatalf("full batch saw %v, want event 1 and events 1 2 3", got)
		}
		h.settle()
		if run, _ := h.e.GetRun(h.ctx, runs[1]); run.Status != engine.StatusQueued {
			t.Fatalf("partial batch is %s before its timeout", run.Status)
		}
		clk.Add(time.Minute)
		h.await(runs[1], engine.StatusCompleted)
		if got := rec.of(runs[1]); fmt.Sprint(got) != "[4 4 5]" {
			t.Fatalf("partial batch saw %v, want 4 and 4 5", got)
		}
		// The next event after a batch started opens a new one.
		res := h.send("t/log", map[string]any{"n": 6})
		if d := h.decisions(res.IDs[0])[0]; d.RunID == runs[1] {
			t.Fatal("an event joined a batch whose run had started")
		}
	})
}

func TestCancelOnTimeoutEndsTheRegistration(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clk := enginetest.NewClock(flowEpoch)
		h := flowHarness(t, db, clk, waiter("job", engine.Flow{
			CancelOn: []engine.CancelOn{{Event: "t/stop", Match: "data.id", Timeout: time.Hour}}}))
		early := h.send("t/job", map[string]any{"id": 1})
		late := h.send("t/job", map[string]any{"id": 2})
		h.await(early.Runs[0], engine.StatusWaiting)
		h.await(late.Runs[0], engine.StatusWaiting)
		h.send("t/stop", map[string]any{"id": 1})
		h.await(early.Runs[0], engine.StatusCancelled)
		clk.Add(time.Hour + time.Second)
		h.send("t/stop", map[string]any{"id": 2}) // past its timeout: no longer cancels
		h.send("t/release", map[string]any{"id": 2})
		h.await(late.Runs[0], engine.StatusCompleted)
	})
}

func TestFalseTriggerConditionIsRecorded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		h := start(t, db, []*engine.Function{{ID: "pro", Triggers: []engine.Trigger{{Event: "t/signup", If: "event.data.plan == 'pro'"}},
			Handler: noopHandler}})
		res := h.send("t/signup", map[string]any{"plan": "free"})
		h.oneDecision(res.IDs[0], engine.ActionSkipped, engine.ReasonIf)
		res = h.send("t/signup", map[string]any{"plan": "pro"})
		h.oneDecision(res.IDs[0], engine.ActionStarted, "")
	})
}

// A Fanout (the workflow loader) can start a run per workflow, each under its own flow, and
// mark the ones it skips; the event's decisions name each workflow.
func TestFanoutRunsHaveTheirOwnFlowAndSkipsAreRecorded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		limited := &engine.Flow{RateLimit: &engine.RateLimit{Limit: 1, Period: time.Hour}}
		h := start(t, db, []*engine.Function{{ID: "loader", Triggers: []engine.Trigger{{Event: "*"}}, Handler: noopHandler,
			Fanout: func(ctx context.Context, tx engine.Tx, ev engine.Event) ([]engine.RunMeta, error) {
				if ev.Name != "t/wf" {
					return nil, nil
				}
				return []engine.RunMeta{{WorkflowID: 1}, {WorkflowID: 2, Flow: limited}, {WorkflowID: 3, Skip: engine.ReasonIf}}, nil
			}}})
		first := h.send("t/wf", nil)
		second := h.send("t/wf", nil)
		if len(first.Runs) != 2 || len(second.Runs) != 1 {
			t.Fatalf("runs %v then %v, want 2 then 1 (workflow 2 rate-limited)", first.Runs, second.Runs)
		}
		got := ""
		for _, d := range h.decisions(second.IDs[0]) {
			got += fmt.Sprintf("%d:%s/%s ", *d.WorkflowID, d.Action, d.Reason)
		}
		if got != "1:started/ 2:dropped/rateLimit 3:skipped/if " {
			t.Fatalf("decisions %q", got)
		}
	})
}

// A start timeout counts from when the run is due: a debounced or delayed run is not cancelled
// for the time it waits on purpose.
func TestStartTimeoutCountsFromTheDueTime(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clk := enginetest.NewClock(flowEpoch)
		timeouts := &engine.Timeouts{Start: 10 * time.Minute}
		h := flowHarness(t, db, clk, probe,
			&engine.Function{ID: "deb", Triggers: []engine.Trigger{{Event: "t/deb"}}, Handler: noopHandler,
				Flow: engine.Flow{Debounce: &engine.Debounce{Period: time.Hour}, Timeouts: timeouts}},
			&engine.Function{ID: "later", Triggers: []engine.Trigger{{Event: "t/later"}}, Handler: noopHandler,
				Flow: engine.Flow{Timeouts: timeouts}})
		first := h.send("t/deb", nil)
		delayed := h.sendEvent(engine.Event{Name: "t/later", TS: flowEpoch.Add(2 * time.Hour).UnixMilli()})
		clk.Add(50 * time.Minute)
		h.send("t/deb", nil) // postpones the debounce to 1h50m
		h.settle()
		clk.Add(65 * time.Minute) // past 1h50m: due, within 10 minutes of it
		h.await(h.decisions(first.IDs[0])[0].RunID, engine.StatusCompleted)
		clk.Add(10 * time.Minute) // 2h05m: the delayed run is due since 2h
		h.await(delayed.Runs[0], engine.StatusCompleted)
	})
}
