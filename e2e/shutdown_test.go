package e2e

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// SIGTERM stops a worker cleanly: it stops claiming, lets the runs in hand finish or hands
// them back, and exits 0; another worker then finishes everything with no step repeated.
func TestWorkerShutsDownOnSIGTERMLosingNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals processes")
	}
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		bin := buildBinary(t)
		sender, err := engine.New(engine.Options{DB: db.DB})
		if err != nil {
			t.Fatal(err)
		}
		if err := sender.Register(bench.Functions(db.DB)...); err != nil {
			t.Fatal(err)
		}
		const runs = 40
		events := make([]engine.Event, runs)
		for i := range events {
			events[i] = engine.Event{Name: bench.EventSteps, Data: map[string]any{"steps": 3, "effects": true, "sleep_ms": 100}}
		}
		if _, err := sender.Send(context.Background(), events...); err != nil {
			t.Fatal(err)
		}
		w := startWorker(t, bin, db.URL, 0)
		// Wait until the worker is busy with runs, then ask it to stop.
		enginetest.Eventually(t, "the worker to start a run", func() bool {
			return effectCount(t, db) > 0
		})
		start := time.Now()
		if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := w.cmd.Wait(); err != nil {
			t.Fatalf("worker exit after SIGTERM: %v", err)
		}
		took := time.Since(start)
		if held := leasedBy(t, sender, ""); held != 0 {
			t.Errorf("%d runs still leased by the stopped worker", held)
		}
		done := runsIn(t, sender, engine.RunFilter{}, engine.StatusCompleted)

		w2 := startWorker(t, bin, db.URL, 1)
		defer func() { w2.cmd.Process.Kill(); w2.cmd.Wait() }()
		var n int
		enginetest.Eventually(t, "every run to complete after the restart", func() bool {
			n = runsIn(t, sender, engine.RunFilter{FunctionID: "bench-steps"}, engine.StatusCompleted)
			return n == runs
		}, func() string { return fmt.Sprintf("%d of %d runs completed", n, runs) })
		if late := len(effectAudit(t, sender, db).Late); late != 0 {
			t.Errorf("%d step executions after their commit", late)
		}
		t.Logf("SIGTERM to exit: %s; %d of %d runs finished before exit, the rest by the next worker", took.Round(time.Millisecond), done, runs)
	})
}
