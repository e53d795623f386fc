package e2e

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// worker is one `inkflow worker` process.
type worker struct {
	cmd *exec.Cmd
	log *os.File
}

// startWorker runs `inkflow bench worker`: the product's functions and the probes the tests send.
func startWorker(t *testing.T, bin, url string, n int) *worker {
	t.Helper()
	logf, err := os.Create(filepath.Join(t.TempDir(), "worker.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "bench", "worker", "--database-url", url, "--lease", "1s", "--concurrency", "32")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &worker{cmd: cmd, log: logf}
}

// TestCrashedWorkersNeverRepeatCommittedSteps kills `inkflow worker` processes with SIGKILL
// in the middle of runs, again and again, and then checks that every run completed and no
// step's fn ran after that step was committed.
func TestCrashedWorkersNeverRepeatCommittedSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills processes")
	}
	db := testdb.Postgres(t)
	bin := buildBinary(t)
	const runs, stepsPerRun, workers = 500, 5, 3

	sender, err := engine.New(engine.Options{DB: db.DB})
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Register(bench.Functions(db.DB)...); err != nil {
		t.Fatal(err)
	}
	ws := make([]*worker, workers)
	for i := range ws {
		ws[i] = startWorker(t, bin, db.URL, i)
	}
	defer func() {
		for _, w := range ws {
			w.cmd.Process.Kill()
			w.cmd.Wait()
		}
	}()
	events := make([]engine.Event, runs)
	for i := range events {
		events[i] = engine.Event{Name: bench.EventSteps, Data: map[string]any{"steps": stepsPerRun, "effects": true, "sleep_ms": 15}}
	}
	ctx := context.Background()
	if _, err := sender.Send(ctx, events...); err != nil {
		t.Fatal(err)
	}

	kills := 0
	deadline := time.Now().Add(3 * time.Minute)
	for {
		done := runsIn(t, sender, engine.RunFilter{FunctionID: "bench-steps"}, engine.StatusCompleted)
		if done == runs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d runs completed after %d kills", done, runs, kills)
		}
		// Kill a random worker mid-flight and start a fresh one in its place.
		if kills < 12 {
			time.Sleep(time.Duration(150+rand.IntN(250)) * time.Millisecond)
			i := rand.IntN(workers)
			ws[i].cmd.Process.Signal(syscall.SIGKILL)
			ws[i].cmd.Wait()
			kills++
			ws[i] = startWorker(t, bin, db.URL, i)
			continue
		}
		time.Sleep(50 * time.Millisecond)
	}

	all := runsIn(t, sender, engine.RunFilter{}, "")
	if failed := all - runsIn(t, sender, engine.RunFilter{}, engine.StatusCompleted); failed != 0 {
		t.Errorf("%d runs did not complete", failed)
	}
	// No fn execution began after its step was committed.
	audit := effectAudit(t, sender, db)
	if len(audit.Late) != 0 {
		t.Errorf("%d step executions happened after their step was committed: %+v", len(audit.Late), audit.Late)
	}
	steps, executions := audit.Steps, audit.Effects
	if steps != runs*stepsPerRun || len(audit.Missing) != 0 {
		t.Errorf("%d completed steps (want %d), %d without an execution", steps, runs*stepsPerRun, len(audit.Missing))
	}
	t.Logf("%d runs, %d kills, %d steps, %d fn executions (%d re-executed after a crash before commit), 0 after commit",
		runs, kills, steps, executions, executions-steps)
}
