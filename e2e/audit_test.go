package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// The system tests read what the database holds through the engine's audit methods, never
// its tables (nothing outside engine/ touches them).

// auditor is an engine over db that runs nothing, for reading runs, events and steps.
func auditor(t *testing.T, db *testdb.DB) *engine.Engine {
	t.Helper()
	return enginetest.New(t, db, engine.Options{})
}

// runsIn counts the runs f selects in status (every status when empty).
func runsIn(t *testing.T, e *engine.Engine, f engine.RunFilter, status engine.Status) int {
	t.Helper()
	counts, err := e.CountRuns(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if status != "" {
		return counts[status]
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// leasedBy counts the runs held under a lease by workers whose id contains part ("" for any).
func leasedBy(t *testing.T, e *engine.Engine, part string) int {
	t.Helper()
	holders, err := e.LeaseHolders(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for owner, c := range holders {
		if strings.Contains(owner, part) {
			n += c
		}
	}
	return n
}

// effectAudit checks the probe steps' executions against their commits.
func effectAudit(t *testing.T, e *engine.Engine, db *testdb.DB) bench.EffectAudit {
	t.Helper()
	a, err := bench.AuditEffects(context.Background(), e, db.DB)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// effectCount counts the probe steps' executions so far.
func effectCount(t *testing.T, db *testdb.DB) int {
	t.Helper()
	n, err := bench.CountEffects(context.Background(), db.DB)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
