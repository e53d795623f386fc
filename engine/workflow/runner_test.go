package workflow

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// system is a store, a runner and an engine with workers over one test database.
type system struct {
	t     *testing.T
	store *Store
	eng   *engine.Engine
	ctx   context.Context
}

func startSystem(t *testing.T, db *testdb.DB) *system {
	t.Helper()
	store := NewStore(db.DB, testRegistry(t))
	eng := enginetest.New(t, db, engine.Options{BackoffBase: time.Millisecond,
		BackoffMax: 20 * time.Millisecond, Poll: 200 * time.Millisecond, Lease: 5 * time.Second},
		NewRunner(store).Functions()...)
	enginetest.StartWorkers(t, eng)
	return &system{t: t, store: store, eng: eng, ctx: context.Background()}
}

func (s *system) create(trigger, js string) *Record {
	s.t.Helper()
	rec, err := s.store.Create(s.ctx, Draft{Trigger: &trigger, Enabled: ptr(true), Workflow: json.RawMessage(js)})
	if err != nil {
		s.t.Fatal(err)
	}
	return rec
}

func (s *system) send(name string, data map[string]any) []string {
	s.t.Helper()
	res, err := s.eng.Send(s.ctx, engine.Event{Name: name, Data: data})
	if err != nil {
		s.t.Fatal(err)
	}
	return res.Runs
}

// await waits until the run reaches status, failing with its steps when it finishes otherwise.
func (s *system) await(runID string, status engine.Status) *engine.Run {
	s.t.Helper()
	return enginetest.AwaitRun(s.t, s.eng, runID, "be "+string(status), func(run *engine.Run) bool {
		if run.Status != status && run.Status.Finished() {
			s.t.Fatalf("run %s is %s (error %q), want %s; steps %s", runID, run.Status, run.Error, status, dump(run.Steps))
		}
		return run.Status == status
	})
}

func stepIDs(run *engine.Run) []string {
	var ids []string
	for _, st := range run.Steps {
		ids = append(ids, st.ID)
	}
	return ids
}

// TestWalkOnEngine runs the planner's table as real durable runs: each action is a step, and
// the run's output is the same state the planner computes.
func TestWalkOnEngine(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		sys := startSystem(t, db)
		for i, tt := range walkCases {
			t.Run(tt.name, func(t *testing.T) {
				sys.t = t
				event := "walk.case" + string(rune('a'+i))
				rec := sys.create(event, tt.json)
				runs := sys.send(event, tt.data)
				if len(runs) != 1 {
					t.Fatalf("runs %v", runs)
				}
				run := sys.await(runs[0], engine.StatusCompleted)
				if *run.WorkflowID != rec.ID || *run.WorkflowVersion != 1 {
					t.Errorf("run pinned %v/%v", *run.WorkflowID, *run.WorkflowVersion)
				}
				var res Result
				if err := json.Unmarshal(run.Output, &res); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(res.State, tt.state) {
					t.Errorf("state = %s\nwant    %s", dump(res.State), dump(tt.state))
				}
				if !reflect.DeepEqual(res.Skipped, tt.skipped) {
					t.Errorf("skipped = %v, want %v", res.Skipped, tt.skipped)
				}
				want := map[string]bool{}
				for id := range tt.state {
					want[id] = true
				}
				got := map[string]bool{}
				for _, id := range stepIDs(run) {
					got[id] = true
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("steps %v, want one per action that ran %v", stepIDs(run), want)
				}
			})
		}
	})
}

// TestRunsKeepTheirPinnedVersion: a run waiting for an event finishes on the version it
// started with while the workflow is edited, and a new event runs the new version.
func TestRunsKeepTheirPinnedVersion(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		sys := startSystem(t, db)
		v1 := `{"actions":[
			{"id":"wait","kind":"wait_for_event","name":"Wait for approval","inputs":{"event":"doc.approved","match":"data.id","timeout":"1h"}},
			{"id":"say","kind":"echo","inputs":{"text":"v1 approved by !ref($.state.wait.data.by)"}}],
			"edges":[{"from":"$source","to":"wait"},{"from":"wait","to":"say","conditional":{"type":"if","ref":"!ref($.output)"}}]}`
		rec := sys.create("doc.submitted", v1)
		old := sys.send("doc.submitted", map[string]any{"id": 1})[0]
		sys.await(old, engine.StatusWaiting)

		v2 := strings.Replace(v1, `"v1 approved`, `"v2 approved`, 1)
		if _, err := sys.store.Update(sys.ctx, rec.ID, Draft{Workflow: json.RawMessage(v2)}); err != nil {
			t.Fatal(err)
		}
		fresh := sys.send("doc.submitted", map[string]any{"id": 2})[0]
		sys.await(fresh, engine.StatusWaiting)

		sys.send("doc.approved", map[string]any{"id": 1, "by": "ana"})
		sys.send("doc.approved", map[string]any{"id": 2, "by": "rui"})
		for runID, want := range map[string]struct {
			version int
			text    string
		}{old: {1, "v1 approved by ana"}, fresh: {2, "v2 approved by rui"}} {
			run := sys.await(runID, engine.StatusCompleted)
			var res Result
			if err := json.Unmarshal(run.Output, &res); err != nil {
				t.Fatal(err)
			}
			if *run.WorkflowVersion != want.version || res.State["say"] != want.text {
				t.Errorf("run %s: version %d, say %q; want %d %q", runID, *run.WorkflowVersion, res.State["say"], want.version, want.text)
			}
			if ids := stepIDs(run); !reflect.DeepEqual(ids, []string{"wait", "say"}) {
				t.Errorf("steps %v", ids)
			}
		}
		// Disabled workflows start nothing; a run in flight is not affected.
		if _, err := sys.store.SetEnabled(sys.ctx, rec.ID, false); err != nil {
			t.Fatal(err)
		}
		if runs := sys.send("doc.submitted", map[string]any{"id": 3}); len(runs) != 0 {
			t.Errorf("disabled workflow started %v", runs)
		}
	})
}

func TestBuiltinKindsOnEngine(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var hookKey, hookBody string
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			hookKey, hookBody = r.Header.Get("Idempotency-Key"), string(b)
			w.Write([]byte(`{"accepted":true}`))
		}))
		defer hook.Close()
		sys := startSystem(t, db)
		sys.create("followup.done", `{"actions":[{"id":"got","kind":"set_state","inputs":{"values":{"n":"!ref($.event.data.n)"}}}],"edges":[{"from":"$source","to":"got"}]}`)
		sys.create("kinds.go", `{"actions":[
			{"id":"vals","kind":"set_state","inputs":{"values":{"n":"!ref($.event.data.n)","greeting":"hi !ref($.event.data.who)"}}},
			{"id":"nap","kind":"sleep","inputs":{"duration":"10ms"}},
			{"id":"note","kind":"log","inputs":{"message":"n is !ref($.state.vals.n)"}},
			{"id":"tell","kind":"send_event","inputs":{"name":"followup.done","data":{"n":"!ref($.state.vals.n)"}}},
			{"id":"timeout","kind":"wait_for_event","inputs":{"event":"never.comes","timeout":"20ms"}},
			{"id":"late","kind":"echo","inputs":{"value":"timed out"}},
			{"id":"hook","kind":"webhook","inputs":{"url":"`+hook.URL+`/in","body":{"n":"!ref($.state.vals.n)"}}}],
			"edges":[{"from":"$source","to":"vals"},{"from":"vals","to":"tell"},{"from":"tell","to":"timeout"},{"from":"timeout","to":"nap"},
			{"from":"nap","to":"note"},{"from":"timeout","to":"late","conditional":{"type":"else","ref":"!ref($.output)"}},{"from":"vals","to":"hook"}]}`)
		run := sys.await(sys.send("kinds.go", map[string]any{"n": 5, "who": "ana"})[0], engine.StatusCompleted)
		var res Result
		if err := json.Unmarshal(run.Output, &res); err != nil {
			t.Fatal(err)
		}
		if got := res.State["vals"]; !reflect.DeepEqual(got, map[string]any{"n": 5.0, "greeting": "hi ana"}) {
			t.Errorf("vals = %v", got)
		}
		if got := res.State["note"].(map[string]any)["message"]; got != "n is 5" {
			t.Errorf("log message %q", got)
		}
		if res.State["timeout"] != nil || res.State["late"] != "timed out" {
			t.Errorf("timeout branch: %s", dump(res.State))
		}
		if want := map[string]any{"status": 200.0, "body": map[string]any{"accepted": true}}; !reflect.DeepEqual(res.State["hook"], want) {
			t.Errorf("webhook output %v", res.State["hook"])
		}
		if hookBody != `{"n":5}` || hookKey != run.ID+":hook" {
			t.Errorf("webhook got body %s key %q", hookBody, hookKey)
		}
		ids, _ := res.State["tell"].(map[string]any)["ids"].([]any)
		if len(ids) != 1 {
			t.Fatalf("send_event ids %v", res.State["tell"])
		}
		// The run page shows the step's output: the same value the action's refs read.
		full, err := sys.eng.GetRun(sys.ctx, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range full.Steps {
			if st.Kind == "send" {
				var shown any
				if err := json.Unmarshal(st.Output, &shown); err != nil || !reflect.DeepEqual(shown, res.State["tell"]) {
					t.Errorf("send step %q shows %s, refs read %s", st.ID, st.Output, dump(res.State["tell"]))
				}
			}
		}
		// The sent event started the other workflow.
		enginetest.Eventually(t, "followup.done to start a run that completes", func() bool {
			runs, _, err := sys.eng.ListRuns(sys.ctx, engine.RunFilter{EventName: "followup.done", Status: engine.StatusCompleted})
			if err != nil {
				t.Fatal(err)
			}
			return len(runs) == 1
		})
	})
}

func TestCronSchedules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		sys := startSystem(t, db)
		every5 := sys.create("cron: 5 12 * * *", `{"actions":[{"id":"a","kind":"echo","inputs":{"value":"!ref($.event.data.tick)"}}],"edges":[{"from":"$source","to":"a"}]}`)
		const note = `{"actions":[{"id":"n","kind":"log","inputs":{"message":"tick"}}],"edges":[{"from":"$source","to":"n"}]}`
		lisbonID := sys.create("cron: TZ=Europe/Lisbon 0 4 * * *", note).ID
		off := sys.create("cron: * * * * *", note)
		if _, err := sys.store.SetEnabled(sys.ctx, off.ID, false); err != nil {
			t.Fatal(err)
		}
		tick := time.Date(2026, 3, 1, 12, 5, 0, 0, time.UTC)
		due, err := sys.store.dueCron(sys.ctx, tick)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != 1 || due[0].ID != "wf-"+itoa(every5.ID)+"-"+itoa(tick.Unix()) {
			t.Fatalf("due at 12:05: %s", dump(due))
		}
		lisbon := time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC) // 04:00 in Lisbon (summer time)
		due, _ = sys.store.dueCron(sys.ctx, lisbon)
		if len(due) != 1 || due[0].Data["workflow_id"] != lisbonID {
			t.Fatalf("due at 04:00 Lisbon: %s", dump(due))
		}
		// The scheduled event starts exactly that workflow, once per tick id.
		res, err := sys.eng.Send(sys.ctx, due[0:1]...)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Runs) != 1 {
			t.Fatalf("scheduled event started %v", res.Runs)
		}
		run := sys.await(res.Runs[0], engine.StatusCompleted)
		if *run.WorkflowID != lisbonID {
			t.Errorf("ran workflow %d, want %d", *run.WorkflowID, lisbonID)
		}
		again, _ := sys.eng.Send(sys.ctx, due[0:1]...)
		if len(again.Runs) != 0 {
			t.Errorf("repeated tick started %v", again.Runs)
		}
		// An ordinary event with the cron text as its name starts nothing.
		if runs := sys.send("cron: 5 12 * * *", nil); len(runs) != 0 {
			t.Errorf("event named like a schedule started %v", runs)
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// A run whose pinned version uses a kind this process no longer has is not claimed: it waits
// for a process that has the kind (a rolling deploy's newer or older one), says so, and is
// never failed for it; an admin can cancel it. (It used to fail at once; DESIGN.md's rolling
// deploys say such runs wait.)
func TestRunOfAMissingKindWaits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		old := NewRegistry()
		old.MustRegister(Kind{Name: "retired", Handler: func(ctx context.Context, in ActionInput) (any, error) { return nil, nil }})
		trig := "retire.me"
		if _, err := NewStore(db.DB, old).Create(context.Background(), Draft{Trigger: &trig, Enabled: ptr(true),
			Workflow: json.RawMessage(`{"actions":[{"id":"r","kind":"retired"}],"edges":[{"from":"$source","to":"r"}]}`)}); err != nil {
			t.Fatal(err)
		}
		sys := startSystem(t, db)
		id := sys.send(trig, nil)[0]
		want := "waiting for a worker that has function " + RunnerFunctionID + " with action kinds retired"
		run := enginetest.AwaitRun(t, sys.eng, id, "say what it waits for", func(r *engine.Run) bool {
			if r.Status.Finished() {
				t.Fatalf("run finished %s: %s", r.Status, r.Error)
			}
			return r.WaitingForWorker == want
		})
		if run.Status != engine.StatusQueued || len(run.Steps) != 0 {
			t.Errorf("waiting run: %s, steps %v", run.Status, stepIDs(run))
		}
		if err := sys.eng.Cancel(sys.ctx, id); err != nil {
			t.Fatal(err)
		}
		sys.await(id, engine.StatusCancelled)
	})
}

// An independent chain runs to its end while another branch waits for an event.
func TestBranchesDoNotWaitForEachOther(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		sys := startSystem(t, db)
		sys.create("order.placed", `{"actions":[
			{"id":"pay","kind":"wait_for_event","inputs":{"event":"order.paid","match":"data.order","timeout":"1h"}},
			{"id":"pack","kind":"echo","inputs":{"value":"packed"}},{"id":"label","kind":"echo","inputs":{"text":"label for !ref($.event.data.order)"}},
			{"id":"ship","kind":"echo","inputs":{"value":["!ref($.state.pay.data.order)","!ref($.state.label)"]}}],
			"edges":[{"from":"$source","to":"pay"},{"from":"$source","to":"pack"},{"from":"pack","to":"label"},{"from":"pay","to":"ship"},{"from":"label","to":"ship"}]}`)
		id := sys.send("order.placed", map[string]any{"order": "A1"})[0]
		run := sys.await(id, engine.StatusWaiting)
		done := map[string]bool{}
		for _, st := range run.Steps {
			done[st.ID] = st.Status == "completed"
		}
		if !done["pack"] || !done["label"] || done["ship"] {
			t.Fatalf("while pay waits: steps %s", dump(run.Steps))
		}
		sys.send("order.paid", map[string]any{"order": "A1"})
		run = sys.await(id, engine.StatusCompleted)
		var res Result
		if err := json.Unmarshal(run.Output, &res); err != nil {
			t.Fatal(err)
		}
		if want := []any{"A1", "label for A1"}; !reflect.DeepEqual(res.State["ship"], want) {
			t.Errorf("ship = %v, want %v", res.State["ship"], want)
		}
	})
}
