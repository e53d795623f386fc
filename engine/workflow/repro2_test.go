package workflow

import (
	"context"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

func TestReproEngineWaitTimeout(t *testing.T) {
	db := testdb.SQLite(t)
	eng, _ := engine.New(engine.Options{DB: db.DB, URL: db.URL, Poll: 200 * time.Millisecond})
	eng.Register(&engine.Function{ID: "f", Triggers: []engine.Trigger{{Event: "go"}}, Handler: func(ctx context.Context, in *engine.Input) (any, error) {
		ev, err := in.Step.WaitForEvent(ctx, "w", engine.Wait{Event: "never", Timeout: 20 * time.Millisecond})
		return ev, err
	}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go eng.Start(ctx)
	res, _ := eng.Send(ctx, engine.Event{Name: "go"})
	deadline := time.Now().Add(5 * time.Second)
	for {
		run, _ := eng.GetRun(ctx, res.Runs[0])
		if run.Status == engine.StatusCompleted {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s due %v steps %s", run.Status, run.DueAt, dump(run.Steps))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
