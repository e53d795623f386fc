package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// TestIntakeLoad sends 1,000 events per second (open loop: requests leave on schedule
// whether or not earlier ones were answered) to one `inkflow serve` on PostgreSQL through
// POST /api/events on loopback, each starting a one-step run. Every request must answer 200;
// the test reports the intake latency percentiles and how long the server's workers took to
// drain the backlog of runs after the last request. INKFLOW_LOAD_SECONDS sets the duration
// (default 5; .ci/run uses 15; docs/RELIABILITY.md has the 60 s figure).
func TestIntakeLoad(t *testing.T) {
	bin := binary(t)
	db := testdb.Postgres(t)
	seconds := envInt("INKFLOW_LOAD_SECONDS", 5)
	const rate = 1000
	s := startServer(t, bin, db.URL)
	total := rate * seconds

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	var failed atomic.Int64
	var firstFailure atomic.Value
	lat := make([]time.Duration, total)
	jobs := make(chan int, total)
	var wg sync.WaitGroup
	for range 128 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				body := fmt.Sprintf(`{"name":%q,"data":{"n":%d}}`, bench.EventOneStep, i)
				req, _ := http.NewRequest("POST", s.url+"/api/events", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+s.token)
				req.Header.Set("Content-Type", "application/json")
				start := time.Now()
				res, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				lat[i] = time.Since(start)
				if err != nil {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	// Every 5 ms, the requests due by then leave (the schedule, not the ticker, sets the rate).
	began := time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	for i := 0; i < total; {
		<-tick.C
		due := min(total, int(time.Since(began).Seconds()*rate))
		for ; i < due; i++ {
			jobs <- i
		}
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	sentIn := time.Since(began)
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed, first: %v", n, total, firstFailure.Load())
	}

	drainStart := time.Now()
	audit := enginetest.New(t, db, engine.Options{}) // reads the database; runs nothing
	ctx := context.Background()
	enginetest.Eventually(t, "the backlog of runs to drain", func() bool {
		counts := runCounts(t, audit, "bench-one-step")
		return counts.total() == counts[engine.StatusCompleted]
	})
	drain := time.Since(drainStart)
	stored, err := audit.CountEvents(ctx, bench.EventOneStep)
	if err != nil {
		t.Fatal(err)
	}
	runs := runCounts(t, audit, "bench-one-step")[engine.StatusCompleted]
	if stored != total || runs != total {
		t.Errorf("%d requests answered 200 but %d events stored and %d runs completed", total, stored, runs)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)].Round(100 * time.Microsecond) }
	t.Logf("RESULT intake-load: %d events in %s (%.0f/s offered), 0 failed; intake latency p50 %s p99 %s max %s; backlog drained %s after the last request; server RSS %d MB",
		total, sentIn.Round(time.Millisecond), float64(total)/sentIn.Seconds(), pct(0.5), pct(0.99), lat[len(lat)-1].Round(time.Millisecond),
		drain.Round(time.Millisecond), rssMB(s.cmd.Process.Pid))
}

// TestManyWaitingRunsResume parks INKFLOW_WAITS runs (default 10,000; 100,000 locally for
// docs/RELIABILITY.md) waiting for an event, checks that the waits are rows and not worker
// memory (the worker holds no run while they wait), then sends every resume event and
// reports how long until all runs completed.
func TestManyWaitingRunsResume(t *testing.T) {
	bin := binary(t)
	db := testdb.Postgres(t)
	n := envInt("INKFLOW_WAITS", 10000)
	sender, err := engine.New(engine.Options{DB: db.DB})
	if err != nil {
		t.Fatal(err)
	}
	if err := sender.Register(bench.Functions(db.DB)...); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const chunk = 2000
	for i := 0; i < n; i += chunk {
		evs := make([]engine.Event, 0, chunk)
		for j := i; j < min(n, i+chunk); j++ {
			evs = append(evs, engine.Event{Name: bench.EventWait, Data: map[string]any{"id": fmt.Sprintf("w-%d", j)}})
		}
		if _, err := sender.Send(ctx, evs...); err != nil {
			t.Fatal(err)
		}
	}
	w := startWorker(t, bin, db.URL)
	parked := time.Now()
	enginetest.Eventually(t, "every run to wait", func() bool {
		return runCounts(t, sender, "bench-wait")[engine.StatusWaiting] == n
	})
	parkTook := time.Since(parked)
	held := runCounts(t, sender, "")[engine.StatusRunning]
	waits, err := sender.CountWaits(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rss := rssMB(w.cmd.Process.Pid)
	if held != 0 || waits != n {
		t.Fatalf("%d runs held by the worker, %d wait rows; want 0 and %d", held, waits, n)
	}

	start := time.Now()
	for i := 0; i < n; i += chunk {
		evs := make([]engine.Event, 0, chunk)
		for j := i; j < min(n, i+chunk); j++ {
			evs = append(evs, engine.Event{Name: bench.EventResume, Data: map[string]any{"id": fmt.Sprintf("w-%d", j)}})
		}
		if _, err := sender.Send(ctx, evs...); err != nil {
			t.Fatal(err)
		}
	}
	sendTook := time.Since(start)
	enginetest.Eventually(t, "every resumed run to complete", func() bool {
		return runCounts(t, sender, "bench-wait")[engine.StatusCompleted] == n
	})
	took := time.Since(start)
	wrong := 0 // runs whose output is not their own event's id: resumed by another run's event
	all, err := sender.AllRuns(ctx, engine.RunFilter{FunctionID: "bench-wait"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		var ev engine.Event
		decodeJSON(t, r.Event, &ev)
		if want, _ := json.Marshal(ev.Data["id"]); string(r.Output) != string(want) {
			wrong++
		}
	}
	if wrong != 0 {
		t.Errorf("%d runs resumed by another run's event", wrong)
	}
	t.Logf("RESULT waiting-runs: %d runs parked in %s (worker RSS %d MB while all waited, 0 runs in memory); resume events sent in %s; all %d completed %s after the first resume (%.0f runs/s)",
		n, parkTook.Round(time.Millisecond), rss, sendTook.Round(time.Millisecond), n, took.Round(time.Millisecond), float64(n)/took.Seconds())
}

// statusCounts are the runs of a function by status.
type statusCount map[engine.Status]int

func (c statusCount) total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// runCounts counts function fnID's runs (every function's when empty) by status.
func runCounts(t *testing.T, e *engine.Engine, fnID string) statusCount {
	t.Helper()
	counts, err := e.CountRuns(context.Background(), engine.RunFilter{FunctionID: fnID})
	if err != nil {
		t.Fatal(err)
	}
	return counts
}
