package reliability

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/inkflow/inkflow/actions/aitest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// TestWorkersKilledUnderMixedLoad runs 2,000 runs of mixed work on three `inkflow worker`
// processes and SIGKILLs a random one every few hundred milliseconds while events keep
// arriving: probe runs with side effects, runs waiting for an event, workflows that sleep and
// wait, and workflows whose AI steps call the in-test model. At the end every run completed,
// every trigger event has exactly one run, no probe fn ran after its step committed and the
// model was never asked again for a committed AI step.
func TestWorkersKilledUnderMixedLoad(t *testing.T) {
	bin := binary(t)
	db := testdb.Postgres(t)
	f := newFixture(t, db)
	m := aitest.New(t)

	const workers, maxKills = 3, 40
	batches := envInt("INKFLOW_CRASH_BATCHES", 20)
	batch := mix{steps: 60, waits: 20, workflows: 12, ai: 8} // x20 = 2,000 runs
	ws := make([]*proc, workers)
	for i := range ws {
		ws[i] = startWorker(t, bin, db.URL, m.Env()...)
	}

	resumed := map[string]bool{}
	kills, sent, resumes := 0, 0, 0
	nextKill := time.Now().Add(300 * time.Millisecond)
	deadline := time.Now().Add(4 * time.Minute)
	want := batch.total() * batches
	for {
		if sent < batches {
			f.send(t, f.events(t, batch, sent*1000)...)
			sent++
		}
		resumes += f.resumeWaiting(t, resumed)
		if kills < maxKills && time.Now().After(nextKill) {
			i := rand.IntN(workers)
			ws[i].kill()
			ws[i] = startWorker(t, bin, db.URL, m.Env()...)
			kills++
			nextKill = time.Now().Add(time.Duration(150+rand.IntN(300)) * time.Millisecond)
		}
		done := f.finished(t)
		if sent == batches && done == int64(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs ended after %d kills: %s; a worker's log:\n%s", done, want, kills, f.statusCounts(t), tail(ws[0].logText()))
		}
		time.Sleep(150 * time.Millisecond)
	}
	a := f.audit(t, m, want)
	t.Logf("RESULT workers-killed: %d sends refused and retried (%s),", f.sendErrors, f.lastSendError)
	t.Logf("RESULT workers-killed: %d runs, %d kills, %d resume events, %d probe steps, %d probe fn executions (%d re-run before commit, %d after commit), %d model calls (%d after commit), %d lost",
		a.runs, kills, resumes, a.probeSteps, a.effects, a.effects-a.probeSteps, a.lateEffects, a.modelCalls, a.lateModelCalls, a.eventsWithoutRun)
}

// tail is the end of a log, enough to see why a process stopped.
func tail(s string) string {
	if len(s) > 4000 {
		return "..." + s[len(s)-4000:]
	}
	return s
}
