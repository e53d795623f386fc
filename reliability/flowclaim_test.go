package reliability

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// newSender is an engine of this test process that registers no function and runs no worker:
// the runs it starts come from the registry of the live inkflow processes.
func newSender(t *testing.T, db *testdb.DB) *engine.Engine {
	t.Helper()
	e, err := engine.New(engine.Options{DB: db.DB})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// awaitRegistered waits until n live workers have recorded what they register.
func awaitRegistered(t *testing.T, db *testdb.DB, n int64) {
	t.Helper()
	enginetest.Eventually(t, fmt.Sprintf("%d workers to register", n), func() bool {
		var got int64
		return db.DB.Raw(`SELECT COUNT(*) FROM workers WHERE registry <> ''`).Scan(&got).Error == nil && got == n
	})
}

func awaitCompleted(t *testing.T, db *testdb.DB, e *engine.Engine, fn string, n int64) {
	t.Helper()
	enginetest.Eventually(t, fmt.Sprintf("%d runs of %s to complete", n, fn), func() bool {
		var got int64
		return db.DB.Raw(`SELECT COUNT(*) FROM runs WHERE function_id = ? AND status = 'completed'`, fn).Scan(&got).Error == nil && got == n
	}, func() string { return statusCounts(e) })
}

// Flow-control limits hold across processes: three workers on one PostgreSQL share each key's
// concurrency limit and throttle, because claims count in the database, not per process.
func TestFlowLimitsHoldAcrossProcesses(t *testing.T) {
	bin := binary(t)
	db := testdb.Postgres(t)
	for range 3 {
		startWorker(t, bin, db.URL)
	}
	awaitRegistered(t, db, 3)
	sender := newSender(t, db)
	since := time.Now().Add(-time.Second)
	const keyed, throttled, keys = 240, 160, 4
	var evs []engine.Event
	for i := range keyed {
		evs = append(evs, engine.Event{Name: bench.EventKeyed, Data: map[string]any{"key": fmt.Sprint("k", i%keys), "hold_ms": 30}})
	}
	for i := range throttled {
		evs = append(evs, engine.Event{Name: bench.EventThrottled, Data: map[string]any{"key": fmt.Sprint("t", i%keys)}})
	}
	start := time.Now()
	res, err := sender.Send(context.Background(), evs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != len(evs) {
		t.Fatalf("%d runs for %d events: the sender did not start the workers' functions", len(res.Runs), len(evs))
	}
	awaitCompleted(t, db, sender, bench.KeyedFunction, keyed)
	awaitCompleted(t, db, sender, bench.ThrottledFunction, throttled)
	took := time.Since(start)
	k, err := bench.MeasurePeaks(context.Background(), db.DB, bench.KeyedFunction, since, bench.ThrottlePeriod)
	if err != nil {
		t.Fatal(err)
	}
	th, err := bench.MeasurePeaks(context.Background(), db.DB, bench.ThrottledFunction, since, bench.ThrottlePeriod)
	if err != nil {
		t.Fatal(err)
	}
	if n := bench.Max(k.Running); n > bench.KeyedLimit {
		t.Errorf("%d runs of one key ran at once across the processes, limit %d: %v", n, bench.KeyedLimit, k.Running)
	}
	if len(k.Processes) < 2 {
		// Legitimate (the database may hand every freed slot to one process), but then this
		// run did not show the limit shared.
		t.Logf("all keyed runs executed by one process: %v", k.Processes)
	}
	limit := bench.ThrottleLimit + bench.ThrottleBurst
	if n := bench.Max(th.Starts); n > limit {
		t.Errorf("%d runs of one key started within %s across the processes, limit %d: %v", n, bench.ThrottlePeriod, limit, th.Starts)
	}
	// 40 runs a key at 20 a second: the last window's starts come a second after the first.
	if span := th.Last.Sub(th.First); span < bench.ThrottlePeriod {
		t.Errorf("throttled runs all started and ended within %s: the throttle did not delay them", span)
	}
	t.Logf("RESULT flow-across-processes: %d keyed runs (peak %d a key, limit %d, by %d processes) and %d throttled (peak %d starts a second, limit %d) in %s",
		keyed, bench.Max(k.Running), bench.KeyedLimit, len(k.Processes), throttled, bench.Max(th.Starts), limit, took.Round(time.Millisecond))
}

// Rolling deploys across processes: an event sent through a process without a function (the
// test's sender) starts its runs when a live process has it, and only that process executes
// them (the other would fail them, not knowing the function); once it stops, the event
// starts none, while the other process goes on with its own.
func TestRollingDeployAcrossProcesses(t *testing.T) {
	bin := binary(t)
	db := testdb.Postgres(t)
	old := startWorker(t, bin, db.URL)
	newer := startWorker(t, bin, db.URL, "INKFLOW_BENCH_EXTRA=1")
	awaitRegistered(t, db, 2)
	sender := newSender(t, db)
	var evs []engine.Event
	for range 50 {
		evs = append(evs, engine.Event{Name: bench.EventExtra})
	}
	res, err := sender.Send(context.Background(), evs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != len(evs) {
		t.Fatalf("%d runs for %d events of the newer process's function", len(res.Runs), len(evs))
	}
	awaitCompleted(t, db, sender, bench.ExtraFunction, int64(len(evs)))
	if log := old.logText(); strings.Contains(log, "not registered") {
		t.Errorf("the old process took a run it cannot execute:\n%s", tail(log))
	}
	// The newer process stops cleanly; a sender that looks now finds no live process with it.
	newer.cmd.Process.Signal(syscall.SIGTERM)
	newer.cmd.Wait()
	awaitRegistered(t, db, 1)
	late := newSender(t, db)
	res, err = late.Send(context.Background(), engine.Event{Name: bench.EventExtra}, engine.Event{Name: bench.EventOneStep})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 1 {
		t.Fatalf("runs %v: want one, of bench-one-step (no live process has bench-extra)", res.Runs)
	}
	enginetest.Await(t, late, res.Runs[0], engine.StatusCompleted)
}
