package workflow

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Rolling deploys: a workflow run needs its version's action kinds. A process without one of
// them leaves the run waiting (labelled with the kind it lacks) instead of failing it, and a
// process that has them all runs it.
func TestWorkflowRunsWaitForAWorkerWithTheirKinds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		full := testRegistry(t)
		full.MustRegister(Kind{Name: "brand_new", Handler: func(ctx context.Context, in ActionInput) (any, error) { return "new kind ran", nil }})
		newStore, oldStore := NewStore(db.DB, full), NewStore(db.DB, testRegistry(t))
		wf := `{"actions":[{"id":"a","kind":"test"},{"id":"b","kind":"brand_new"}],"edges":[{"from":"$source","to":"a"},{"from":"a","to":"b"}]}`
		rec, err := newStore.Create(ctx, Draft{Trigger: ptr("kinds.go"), Enabled: ptr(true), Workflow: json.RawMessage(wf)})
		if err != nil {
			t.Fatal(err)
		}
		opts := engine.Options{Poll: 50 * time.Millisecond, Lease: 3 * time.Second, WorkerID: "old"}
		old := enginetest.Start(t, db, opts, NewRunner(oldStore).Functions()...)
		res, err := old.Send(ctx, engine.Event{Name: "kinds.go"})
		if err != nil || len(res.Runs) != 1 {
			t.Fatalf("send: %v %v", res, err)
		}
		id := res.Runs[0]
		// The old process keeps claiming: another workflow's run, of kinds it has, completes.
		other, err := oldStore.Create(ctx, Draft{Trigger: ptr("kinds.other"), Enabled: ptr(true), Workflow: json.RawMessage(chainJSON)})
		if err != nil {
			t.Fatal(err)
		}
		res, err = old.Send(ctx, engine.Event{Name: "kinds.other"})
		if err != nil || len(res.Runs) != 1 {
			t.Fatalf("send: %v %v", res, err)
		}
		enginetest.Await(t, old, res.Runs[0], engine.StatusCompleted)
		r, err := old.GetRun(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := "waiting for a worker that has function " + RunnerFunctionID + " with action kinds brand_new"
		if r.Status != engine.StatusQueued || r.WaitingForWorker != want {
			t.Fatalf("run of workflow %d (other %d): %s %q, waiting %q; want queued, %q", rec.ID, other.ID, r.Status, r.Error, r.WaitingForWorker, want)
		}
		opts.WorkerID = "new"
		enginetest.Start(t, db, opts, NewRunner(newStore).Functions()...)
		r = enginetest.Await(t, old, id, engine.StatusCompleted)
		if r.WaitingForWorker != "" || len(r.Steps) != 2 {
			t.Errorf("run after the new process came: waiting %q, steps %+v", r.WaitingForWorker, r.Steps)
		}
	})
}
