package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/database"
	"github.com/inkflow/inkflow/internal/testdb"
)

// committedSteps is the output of every completed step as the database holds it now.
func committedSteps(t *testing.T, e *engine.Engine) map[[2]string]string {
	t.Helper()
	rows, err := e.StepRecords(context.Background(), engine.StepRecordFilter{Status: engine.StepCompleted})
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[[2]string]string, len(rows))
	for _, r := range rows {
		out[[2]string{r.RunID, r.StepID}] = string(r.Output)
	}
	return out
}

// TestSQLiteWorkerKilledDuringWrites SIGKILLs an `inkflow worker` on a SQLite file again and
// again while it commits steps. After the kills the file passes PRAGMA integrity_check, every
// step seen committed at any kill is still there with the same output, and a fresh worker
// finishes every run without repeating a committed step.
func TestSQLiteWorkerKilledDuringWrites(t *testing.T) {
	bin := binary(t)
	db := testdb.SQLite(t)
	sender, err := engine.New(engine.Options{DB: db.DB})
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Register(bench.Functions(db.DB)...); err != nil {
		t.Fatal(err)
	}
	const runs, kills = 500, 15
	events := make([]engine.Event, runs)
	for i := range events {
		events[i] = engine.Event{Name: bench.EventSteps, Data: map[string]any{"steps": 5, "effects": true, "sleep_ms": 120}}
	}
	if _, err := sender.Send(context.Background(), events...); err != nil {
		t.Fatal(err)
	}

	seen := map[[2]string]string{}
	for range kills {
		w := startWorker(t, bin, db.URL)
		time.Sleep(time.Duration(300+rand.IntN(500)) * time.Millisecond) // a random point mid-write
		w.kill()
		for k, out := range committedSteps(t, sender) {
			seen[k] = out
		}
	}

	// A fresh connection checks the file the killed processes left.
	fresh, err := database.Open(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := fresh.Raw(`PRAGMA integrity_check`).Scan(&check).Error; err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	if sqlDB, err := fresh.DB(); err == nil {
		sqlDB.Close()
	}
	committedAtKills := len(seen)
	if committedAtKills == runs*5 {
		t.Fatalf("all work was done before the last kill: the kills hit no writes")
	}

	w := startWorker(t, bin, db.URL)
	var n int
	enginetest.Eventually(t, "every run to complete after the kills", func() bool {
		counts, err := sender.CountRuns(context.Background(), engine.RunFilter{FunctionID: "bench-steps"})
		if err != nil {
			t.Fatal(err)
		}
		n = counts[engine.StatusCompleted]
		return n == runs
	}, func() string {
		return fmt.Sprintf("%d of %d runs completed:%s\nworker log:\n%s", n, runs, statusCounts(sender), tail(w.logText()))
	})
	w.kill()
	have := committedSteps(t, sender)
	lost := 0
	for k, out := range seen {
		if have[k] != out {
			lost++
		}
	}
	audit, err := bench.AuditEffects(context.Background(), sender, db.DB)
	if err != nil {
		t.Fatal(err)
	}
	late, effects := len(audit.Late), audit.Effects
	if lost != 0 || late != 0 || len(have) != runs*5 {
		t.Errorf("%d committed steps lost or changed, %d executions after commit, %d steps (want %d)", lost, late, len(have), runs*5)
	}
	t.Logf("RESULT sqlite-killed: %d runs, %d kills, integrity_check ok, %d steps committed at the kills all intact, %d steps, %d fn executions, %d after commit",
		runs, kills, committedAtKills, len(have), effects, late)
}
