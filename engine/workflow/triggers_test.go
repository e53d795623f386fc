package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

const echoJSON = `{"actions":[{"id":"a","kind":"echo","inputs":{"value":"!ref($.event.name)"}}],"edges":[{"from":"$source","to":"a"}]}`

// TestSeveralTriggersWithConditions: a workflow with two event triggers (one with a CEL if)
// and a schedule starts one run for an event either trigger matches, none when the condition
// is false, and is due at its schedule's ticks.
func TestSeveralTriggersWithConditions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		sys := startSystem(t, db)
		rec, err := sys.store.Create(sys.ctx, Draft{Enabled: ptr(true), Workflow: json.RawMessage(echoJSON),
			Triggers: json.RawMessage(`[{"event": "shop/order.paid", "if": "event.data.total > 100"},
				{"event": "shop/order.flagged"}, {"event": "shop/order.paid", "if": "event.data.vip == true"},
				{"cron": "TZ=Europe/Lisbon 0 4 * * *"}]`)})
		if err != nil {
			t.Fatal(err)
		}
		if rec.Trigger != "shop/order.paid" || len(rec.Triggers) != 4 || rec.Triggers[3].Cron != "TZ=Europe/Lisbon 0 4 * * *" {
			t.Fatalf("saved %s", dump(rec))
		}
		if got, _ := sys.store.Get(sys.ctx, rec.ID); dump(got.Triggers) != dump(rec.Triggers) {
			t.Fatalf("read back %s", dump(got.Triggers))
		}
		cases := []struct {
			name    string
			data    map[string]any
			runs    int
			skipped bool // recorded on the event as skipped, reason "if"
		}{
			{"shop/order.paid", map[string]any{"total": 250}, 1, false},
			{"shop/order.paid", map[string]any{"total": 250, "vip": true}, 1, false}, // both hold: one run
			{"shop/order.paid", map[string]any{"total": 5, "vip": true}, 1, false},
			{"shop/order.paid", map[string]any{"total": 5}, 0, true},
			{"shop/order.paid", map[string]any{}, 0, true}, // the condition cannot read total: no run
			{"shop/order.flagged", nil, 1, false},
			{"shop/order.refunded", nil, 0, false}, // no trigger of this name: nothing to record
		}
		for _, c := range cases {
			res, err := sys.eng.Send(sys.ctx, engine.Event{Name: c.name, Data: c.data})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Runs) != c.runs {
				t.Errorf("%s %v started %d runs, want %d", c.name, c.data, len(res.Runs), c.runs)
			}
			for _, id := range res.Runs {
				sys.await(id, engine.StatusCompleted)
			}
			ds, err := sys.eng.Decisions(sys.ctx, res.IDs[0])
			if err != nil {
				t.Fatal(err)
			}
			skipped := false
			for _, d := range ds {
				if d.Action == engine.ActionSkipped && d.Reason == engine.ReasonIf && d.WorkflowID != nil && *d.WorkflowID == rec.ID {
					skipped = true
				}
			}
			if skipped != c.skipped {
				t.Errorf("%s %v: decisions %s, want skipped for if: %v", c.name, c.data, dump(ds), c.skipped)
			}
		}
		// 04:00 in Lisbon (UTC+1 in July) is 03:00 UTC.
		due, err := sys.store.dueCron(sys.ctx, time.Date(2026, 7, 10, 3, 0, 0, 0, time.UTC))
		if err != nil || len(due) != 1 || due[0].Data["workflow_id"] != rec.ID {
			t.Fatalf("due at 03:00 UTC: %v %v", dump(due), err)
		}
		if due, _ := sys.store.dueCron(sys.ctx, time.Date(2026, 7, 10, 4, 0, 0, 0, time.UTC)); len(due) != 0 {
			t.Fatalf("due at 04:00 UTC: %v", dump(due))
		}
		// Its scheduled event starts a run of it.
		res, err := sys.eng.Send(sys.ctx, due[0])
		if err != nil || len(res.Runs) != 1 {
			t.Fatalf("scheduled event: %+v %v", res, err)
		}
		sys.await(res.Runs[0], engine.StatusCompleted)

		// Replacing the list with the single trigger string leaves that one trigger.
		upd, err := sys.store.Update(sys.ctx, rec.ID, Draft{Trigger: ptr("shop/order.flagged")})
		if err != nil || dump(upd.Triggers) != `[{"event":"shop/order.flagged"}]` {
			t.Fatalf("single trigger: %s %v", dump(upd), err)
		}
		if runs := sys.send("shop/order.paid", map[string]any{"total": 250}); len(runs) != 0 {
			t.Fatalf("the old trigger still starts runs: %v", runs)
		}
	})
}

func TestTriggersRefusedNamingTheField(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		sys := startSystem(t, db)
		cases := []struct {
			d     Draft
			field string
		}{
			{Draft{Trigger: ptr("a.b"), Triggers: json.RawMessage(`[{"event": "a.b"}]`)}, "triggers"},
			{Draft{Triggers: json.RawMessage(`{"event": "a.b"}`)}, "triggers"},
			{Draft{Triggers: json.RawMessage(`[{"event": "a.b", "cron": "* * * * *"}]`)}, "triggers[0]"},
			{Draft{Triggers: json.RawMessage(`[{}]`)}, "triggers[0]"},
			{Draft{Triggers: json.RawMessage(`[{"event": "a.b"}, {"event": "a b"}]`)}, "triggers[1].event"},
			{Draft{Triggers: json.RawMessage(`[{"event": "*"}]`)}, "triggers[0].event"},
			{Draft{Triggers: json.RawMessage(`[{"event": "a.b", "if": "event.data.x >"}]`)}, "triggers[0].if"},
			{Draft{Triggers: json.RawMessage(`[{"event": "a.b", "if": 3}]`)}, "triggers[0].if"},
			{Draft{Triggers: json.RawMessage(`[{"cron": "61 * * * *"}]`)}, "triggers[0].cron"},
			{Draft{Triggers: json.RawMessage(`[{"cron": "* * * * *", "if": "true"}]`)}, "triggers[0].if"},
			{Draft{Triggers: json.RawMessage(`[{"event": "a.b", "when": "x"}]`)}, "triggers[0].when"},
			{Draft{Triggers: json.RawMessage(`[]`), Enabled: ptr(true)}, "triggers"},
			{Draft{Triggers: json.RawMessage(`[{"event":"a"},{"event":"b"},{"event":"c"},{"event":"d"},{"event":"e"},{"event":"f"},{"event":"g"},{"event":"h"},{"event":"i"},{"event":"j"},{"event":"k"}]`)}, "triggers"},
		}
		for _, c := range cases {
			c.d.Workflow = json.RawMessage(echoJSON)
			_, err := sys.store.Create(sys.ctx, c.d)
			if _, ok := fieldsOf(err)[c.field]; !ok {
				t.Errorf("%s: %v, want a field error on %s", c.d.Triggers, err, c.field)
			}
		}
		if list, _ := sys.store.List(sys.ctx); len(list) != 0 {
			t.Errorf("refused saves stored %s", dump(list))
		}
	})
}

// TestFanoutGivesRunsTheirFlow: a workflow with a config gives each run its Flow; one without
// leaves the function's, and the per-workflow concurrency key keeps its limit of one.
func TestFanoutGivesRunsTheirFlow(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		sys := startSystem(t, db)
		mk := func(config string, key *string) *Record {
			rec, err := sys.store.Create(sys.ctx, Draft{Trigger: ptr("note.saved"), Enabled: ptr(true), ConcurrencyKey: key,
				Workflow: json.RawMessage(echoJSON), Config: json.RawMessage(config)})
			if err != nil {
				t.Fatal(err)
			}
			return rec
		}
		plain := mk(``, nil)
		debounced := mk(`{"debounce": {"period": "30s", "key": "event.data.id"}, "retries": 1}`, nil)
		keyed := mk(`{"singleton": {"mode": "skip"}}`, ptr("event.data.id"))
		sqlDB, err := db.DB.DB()
		if err != nil {
			t.Fatal(err)
		}
		runner := NewRunner(sys.store)
		metas, err := runner.Fanout(sys.ctx, sqlDB, engine.Event{Name: "note.saved", Data: map[string]any{"id": 7}})
		if err != nil || len(metas) != 3 {
			t.Fatalf("fanout: %+v %v", metas, err)
		}
		byID := map[int64]engine.RunMeta{}
		for _, m := range metas {
			byID[m.WorkflowID] = m
		}
		if m := byID[plain.ID]; m.Flow != nil || m.WorkflowVersion != 1 {
			t.Errorf("plain workflow's run: %+v", m)
		}
		if f := byID[debounced.ID].Flow; f == nil || f.Debounce == nil || f.Debounce.Period != 30*time.Second || f.Retries == nil || *f.Retries != 1 {
			t.Errorf("debounced workflow's flow: %s", dump(f))
		}
		m := byID[keyed.ID]
		if m.ConcurrencyKey != "wf"+itoa(keyed.ID)+":7" || m.Flow == nil || m.Flow.Singleton == nil ||
			dump(m.Flow.Concurrency) != dump([]engine.Concurrency{{Limit: 1, KeyedOnly: true}}) {
			t.Errorf("keyed workflow's run: %s", dump(m))
		}
		// A new version's config reaches the runs it starts.
		if _, err := sys.store.Update(sys.ctx, debounced.ID, Draft{Config: json.RawMessage(`{"retries": 0}`)}); err != nil {
			t.Fatal(err)
		}
		metas, _ = runner.Fanout(sys.ctx, sqlDB, engine.Event{Name: "note.saved", Data: map[string]any{"id": 7}})
		for _, m := range metas {
			if m.WorkflowID == debounced.ID && (m.WorkflowVersion != 2 || m.Flow.Debounce != nil || *m.Flow.Retries != 0) {
				t.Errorf("after the config changed: %s", dump(m))
			}
		}
	})
}

// TestWorkflowConfigConcurrencyOnEngine: a workflow's config.concurrency holds on the real
// engine: one run per key value executes at a time, another key's run goes ahead beside it.
func TestWorkflowConfigConcurrencyOnEngine(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var mu sync.Mutex
		active, most := map[string]int{}, map[string]int{}
		total := 0
		release := make(chan struct{})
		reg := testRegistry(t)
		reg.MustRegister(Kind{Name: "hold", Handler: func(ctx context.Context, in ActionInput) (any, error) {
			id := fmt.Sprint(in.Event.Data["id"])
			mu.Lock()
			active[id]++
			total++
			most[id] = max(most[id], active[id])
			mu.Unlock()
			defer func() {
				mu.Lock()
				active[id]--
				total--
				mu.Unlock()
			}()
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return nil, nil
		}})
		store := NewStore(db.DB, reg)
		eng := enginetest.New(t, db, engine.Options{Poll: 50 * time.Millisecond, Lease: 5 * time.Second}, NewRunner(store).Functions()...)
		enginetest.StartWorkers(t, eng)
		ctx := context.Background()
		if _, err := store.Create(ctx, Draft{Trigger: ptr("job.queued"), Enabled: ptr(true),
			Workflow: json.RawMessage(`{"actions":[{"id":"h","kind":"hold"}],"edges":[{"from":"$source","to":"h"}]}`),
			Config:   json.RawMessage(`{"concurrency": [{"limit": 1, "key": "event.data.id"}]}`)}); err != nil {
			t.Fatal(err)
		}
		var runs []string
		for _, id := range []int{1, 1, 1, 2} {
			res, err := eng.Send(ctx, engine.Event{Name: "job.queued", Data: map[string]any{"id": id}})
			if err != nil || len(res.Runs) != 1 {
				t.Fatalf("send: %+v %v", res, err)
			}
			runs = append(runs, res.Runs...)
		}
		enginetest.Eventually(t, "a run of each key executing", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return active["1"] == 1 && active["2"] == 1
		})
		close(release)
		for _, id := range runs {
			enginetest.Await(t, eng, id, engine.StatusCompleted)
		}
		if most["1"] != 1 || most["2"] != 1 {
			t.Errorf("most runs executing at once per key: %v, want 1 each", most)
		}
	})
}

// TestWorkflowSingletonCancelOnEngine: the review template's "one live run per post" —
// config.singleton {key: event.data.id, mode: cancel} — holds on the real engine: a second
// event for the same post cancels the waiting run and starts its own; another post's run is
// left alone.
func TestWorkflowSingletonCancelOnEngine(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		sys := startSystem(t, db)
		if _, err := sys.store.Create(sys.ctx, Draft{Trigger: ptr("doc.sent"), Enabled: ptr(true),
			Workflow: json.RawMessage(`{"actions":[{"id":"w","kind":"wait_for_event","inputs":{"event":"doc.decided","match":"data.id","timeout":"1h"}}],"edges":[{"from":"$source","to":"w"}]}`),
			Config:   json.RawMessage(`{"singleton": {"key": "event.data.id", "mode": "cancel"}}`)}); err != nil {
			t.Fatal(err)
		}
		first := sys.send("doc.sent", map[string]any{"id": 1})
		other := sys.send("doc.sent", map[string]any{"id": 2})
		if len(first) != 1 || len(other) != 1 {
			t.Fatalf("runs %v %v", first, other)
		}
		sys.await(first[0], engine.StatusWaiting)
		sys.await(other[0], engine.StatusWaiting)
		second := sys.send("doc.sent", map[string]any{"id": 1})
		if len(second) != 1 {
			t.Fatalf("the second send started %v", second)
		}
		enginetest.Await(t, sys.eng, first[0], engine.StatusCancelled)
		sys.await(second[0], engine.StatusWaiting)
		if run, err := sys.eng.GetRun(sys.ctx, other[0]); err != nil || run.Status != engine.StatusWaiting {
			t.Errorf("another key's run: %+v %v", run, err)
		}
	})
}

// TestWorkflowConfigRetries: config.retries is how many times each action's step is retried
// (an action's own retries still wins).
func TestWorkflowConfigRetries(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var mu sync.Mutex
		calls := map[string]int{}
		reg := testRegistry(t)
		reg.MustRegister(Kind{Name: "flaky", Handler: func(ctx context.Context, in ActionInput) (any, error) {
			mu.Lock()
			calls[in.Event.Name]++
			mu.Unlock()
			return nil, fmt.Errorf("not today")
		}})
		store := NewStore(db.DB, reg)
		eng := enginetest.New(t, db, engine.Options{BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond},
			NewRunner(store).Functions()...)
		enginetest.StartWorkers(t, eng)
		ctx := context.Background()
		for name, config := range map[string]string{"try.once": `{"retries": 0}`, "try.thrice": `{"retries": 2}`} {
			if _, err := store.Create(ctx, Draft{Trigger: ptr(name), Enabled: ptr(true), Config: json.RawMessage(config),
				Workflow: json.RawMessage(`{"actions":[{"id":"f","kind":"flaky"}],"edges":[{"from":"$source","to":"f"}]}`)}); err != nil {
				t.Fatal(err)
			}
		}
		for name, want := range map[string]int{"try.once": 1, "try.thrice": 3} {
			res, err := eng.Send(ctx, engine.Event{Name: name})
			if err != nil || len(res.Runs) != 1 {
				t.Fatalf("send %s: %+v %v", name, res, err)
			}
			enginetest.Await(t, eng, res.Runs[0], engine.StatusFailed)
			mu.Lock()
			got := calls[name]
			mu.Unlock()
			if got != want {
				t.Errorf("%s: the action ran %d times, want %d", name, got, want)
			}
		}
	})
}

// TestBatchedWorkflowSeesEvents: a workflow with config.batchEvents runs once for a full
// batch, and !ref($.events) is every event, in order; without batchEvents the ref is refused
// naming the action's input.
func TestBatchedWorkflowSeesEvents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		sys := startSystem(t, db)
		graph := `{"actions":[{"id":"a","kind":"echo","inputs":{"value":"!ref($.events)"}}],"edges":[{"from":"$source","to":"a"}]}`
		_, err := sys.store.Create(sys.ctx, Draft{Trigger: ptr("row.added"), Workflow: json.RawMessage(graph)})
		if fieldsOf(err)["actions.a.inputs.value"] == "" {
			t.Fatalf("$.events without batchEvents: %v", err)
		}
		rec, err := sys.store.Create(sys.ctx, Draft{Trigger: ptr("row.added"), Enabled: ptr(true), Workflow: json.RawMessage(graph),
			Config: json.RawMessage(`{"batchEvents": {"maxSize": 3, "timeout": "1h"}}`)})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			sys.send("row.added", map[string]any{"n": i})
		}
		var runs []engine.Run
		enginetest.Eventually(t, "the batch's run", func() bool {
			runs, _, err = sys.eng.ListRuns(sys.ctx, engine.RunFilter{WorkflowID: rec.ID})
			if err != nil {
				t.Fatal(err)
			}
			return len(runs) > 0
		})
		if len(runs) != 1 {
			t.Fatalf("a batch of 3 started %d runs, want one (the third event fills the batch)", len(runs))
		}
		run := sys.await(runs[0].ID, engine.StatusCompleted)
		var out struct {
			State map[string][]struct {
				Data map[string]any `json:"data"`
			} `json:"state"`
		}
		if err := json.Unmarshal(run.Output, &out); err != nil {
			t.Fatalf("output %s: %v", run.Output, err)
		}
		got := out.State["a"]
		if len(got) != 3 || got[0].Data["n"] != 0.0 || got[2].Data["n"] != 2.0 {
			t.Errorf("$.events = %s", run.Output)
		}
	})
}

// TestWorkflowCancelRegistrationsEndWithTheRun: a workflow's config.cancel registers its
// cancel events per run; a run that ends without ever waiting leaves none of them behind (they
// would pile up in the waits table, and each later matching event would look at them).
func TestWorkflowCancelRegistrationsEndWithTheRun(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		sys := startSystem(t, db)
		if _, err := sys.store.Create(sys.ctx, Draft{Trigger: ptr("doc.filed"), Enabled: ptr(true),
			Workflow: json.RawMessage(`{"actions":[{"id":"a","kind":"echo","inputs":{"value":"x"}}],"edges":[{"from":"$source","to":"a"}]}`),
			Config:   json.RawMessage(`{"cancel": [{"event": "doc.withdrawn", "if": "event.data.id == async.data.id"}]}`)}); err != nil {
			t.Fatal(err)
		}
		runs := sys.send("doc.filed", map[string]any{"id": 7})
		if len(runs) != 1 {
			t.Fatalf("runs %v", runs)
		}
		sys.await(runs[0], engine.StatusCompleted)
		if n, err := sys.eng.CountCancelRegistrations(sys.ctx); err != nil || n != 0 {
			t.Errorf("after the run completed, %d cancel registrations are left (%v), want 0", n, err)
		}
	})
}
