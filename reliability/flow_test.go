package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Start-time flow control across processes: three `inkflow bench serve` processes on one
// PostgreSQL take events for the same keys at once, so each decision is the database's; and
// processes SIGKILLed while a debounce or a partial batch is open lose no acknowledged event
// and start no second run.

// servers runs n `inkflow bench serve` processes on db sharing one admin token.
func servers(t *testing.T, bin, dbURL string, n int) []*server {
	t.Helper()
	out := []*server{startServer(t, bin, dbURL)}
	for len(out) < n {
		out = append(out, serveMore(t, bin, dbURL, out[0].token))
	}
	return out
}

// serveMore runs one more `inkflow bench serve` on db, for clients of token.
func serveMore(t *testing.T, bin, dbURL, token string) *server {
	t.Helper()
	addr := freeAddr(t)
	p := start(t, bin, nil, "bench", "serve", "--database-url", dbURL, "--addr", addr, "--lease", "1s")
	s := &server{proc: p, url: "http://" + addr, token: token}
	enginetest.Eventually(t, "the server to become ready", func() bool { return s.status("/readyz") == 200 })
	return s
}

// post sends one event through s's API and returns its stored id ("" when the server did
// not acknowledge it: it died, say).
func (s *server) post(ev engine.Event) (string, error) {
	body, _ := json.Marshal(ev)
	req, _ := http.NewRequest("POST", s.url+"/api/events", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.token)
	c := http.Client{Timeout: 30 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return "", fmt.Errorf("POST /api/events: %d %s", res.StatusCode, raw)
	}
	var out engine.SendResult
	if err := json.Unmarshal(raw, &out); err != nil || len(out.IDs) != 1 {
		return "", fmt.Errorf("POST /api/events answered %s", raw)
	}
	return out.IDs[0], nil
}

// burst posts each event once, spread over the servers, all servers at once, and returns the
// stored ids in the order of events.
func burst(t *testing.T, ss []*server, events []engine.Event) []string {
	t.Helper()
	ids := make([]string, len(events))
	var wg sync.WaitGroup
	for w, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(events); i += len(ss) {
				id, err := s.post(events[i])
				if err != nil {
					t.Error(err)
					return
				}
				ids[i] = id
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return ids
}

// observer is an engine over the test database that only reads (no workers).
func observer(t *testing.T, db *testdb.DB) *engine.Engine {
	t.Helper()
	return enginetest.New(t, db, engine.Options{})
}

func runsOf(t *testing.T, eng *engine.Engine, fn string) []engine.Run {
	t.Helper()
	runs, _, err := eng.ListRuns(context.Background(), engine.RunFilter{FunctionID: fn, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// decisionOf is the one decision taken on event id by function fn.
func decisionOf(t *testing.T, eng *engine.Engine, id, fn string) engine.Decision {
	t.Helper()
	ds, err := eng.Decisions(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var mine []engine.Decision
	for _, d := range ds {
		if d.Function == fn {
			mine = append(mine, d)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("event %s has decisions %+v for %s, want one", id, mine, fn)
	}
	return mine[0]
}

func TestFlowLimitsHoldAcrossThreeProcesses(t *testing.T) {
	bin := binary(t)
	db := testdb.Postgres(t)
	ss := servers(t, bin, db.URL, 3)
	obs := observer(t, db)

	t.Run("rateLimit", func(t *testing.T) {
		var evs []engine.Event
		for i := range 60 {
			evs = append(evs, engine.Event{Name: bench.EventRateLimit, Data: map[string]any{"key": "shared", "n": i}})
		}
		ids := burst(t, ss, evs)
		started, dropped := 0, 0
		for _, id := range ids {
			switch d := decisionOf(t, obs, id, "bench-rate-limit"); d.Action {
			case engine.ActionStarted:
				started++
			case engine.ActionDropped:
				dropped++
			default:
				t.Fatalf("decision %+v", d)
			}
		}
		if n := len(runsOf(t, obs, "bench-rate-limit")); started != 5 || dropped != 55 || n != 5 {
			t.Fatalf("60 events at a limit of 5 on three processes: %d started, %d dropped, %d runs", started, dropped, n)
		}
	})

	t.Run("singleton", func(t *testing.T) {
		var evs []engine.Event
		for i := range 30 {
			evs = append(evs, engine.Event{Name: bench.EventSingleton, Data: map[string]any{"id": "only", "n": i}})
		}
		ids := burst(t, ss, evs)
		runs := runsOf(t, obs, "bench-singleton")
		if len(runs) != 1 {
			t.Fatalf("30 events of one key on three processes started %d runs", len(runs))
		}
		for _, id := range ids {
			d := decisionOf(t, obs, id, "bench-singleton")
			if d.RunID != runs[0].ID || (d.Action != engine.ActionStarted && d.Action != engine.ActionSkipped) {
				t.Fatalf("decision %+v, want started or skipped for run %s", d, runs[0].ID)
			}
		}
		enginetest.Await(t, obs, runs[0].ID, engine.StatusWaiting)
		if _, err := ss[1].post(engine.Event{Name: bench.EventResume, Data: map[string]any{"id": "only"}}); err != nil {
			t.Fatal(err)
		}
		enginetest.Await(t, obs, runs[0].ID, engine.StatusCompleted)
		id, err := ss[2].post(engine.Event{Name: bench.EventSingleton, Data: map[string]any{"id": "only", "n": 99}})
		if err != nil {
			t.Fatal(err)
		}
		if d := decisionOf(t, obs, id, "bench-singleton"); d.Action != engine.ActionStarted || d.RunID == runs[0].ID {
			t.Fatalf("after the run ended: %+v, want a new start", d)
		}
	})

	t.Run("debounce", func(t *testing.T) {
		var evs []engine.Event
		for i := range 30 {
			evs = append(evs, engine.Event{Name: bench.EventDebounce, Data: map[string]any{"key": "k", "n": i}})
		}
		begun := time.Now()
		ids := burst(t, ss, evs)
		last, err := ss[0].post(engine.Event{Name: bench.EventDebounce, Data: map[string]any{"key": "k", "n": 999}})
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(begun)
		runs := map[string]bool{}
		for _, id := range append(ids, last) {
			d := decisionOf(t, obs, id, "bench-debounce")
			if d.Action != engine.ActionDebounced || d.RunID == "" {
				t.Fatalf("decision %+v", d)
			}
			runs[d.RunID] = true
		}
		if took < 2*time.Second && len(runs) != 1 { // the period is 3 s: nothing can have started
			t.Fatalf("31 events within %s on three processes folded into %d runs, want 1", took, len(runs))
		}
		lastRun := decisionOf(t, obs, last, "bench-debounce").RunID
		run := enginetest.Await(t, obs, lastRun, engine.StatusCompleted)
		if string(run.Output) != "999" {
			t.Fatalf("debounced run ran with n=%s, want the last event's 999", run.Output)
		}
		if n := len(runsOf(t, obs, "bench-debounce")); n != len(runs) {
			t.Fatalf("%d runs, %d named by decisions", n, len(runs))
		}
	})
}

// TestKilledProcessesLoseNoDebouncedOrBatchedEvent streams debounce and batch events into one
// server until it is SIGKILLed, with the only worker killed too; a new worker then starts
// each open debounce and batch once: the debounce with the last acknowledged event (or an
// in-flight one committed just before the kill), the batch with every acknowledged event, in
// order, none twice.
func TestKilledProcessesLoseNoDebouncedOrBatchedEvent(t *testing.T) {
	bin := binary(t)
	db := testdb.Postgres(t)
	s := startServer(t, bin, db.URL)
	w := startWorker(t, bin, db.URL)
	obs := observer(t, db)

	type acked struct {
		n  int
		id string
	}
	stream := func(name string) (chan struct{}, chan []acked) {
		stop, done := make(chan struct{}), make(chan []acked, 1)
		go func() {
			var got []acked
			for n := 0; ; n++ {
				select {
				case <-stop:
					done <- got
					return
				default:
				}
				id, err := s.post(engine.Event{Name: name, Data: map[string]any{"key": "crash", "n": n}})
				if err != nil {
					done <- got // the server died under this request: it was not acknowledged
					return
				}
				got = append(got, acked{n, id})
			}
		}()
		return stop, done
	}
	stopD, doneD := stream(bench.EventDebounce)
	stopB, doneB := stream(bench.EventBatch)
	enginetest.Eventually(t, "a few events acknowledged", func() bool {
		var n int64
		db.DB.Raw(`SELECT COUNT(*) FROM flow_decisions`).Scan(&n)
		return n >= 40
	})
	s.kill() // mid-stream: the open debounce and batch are held by no one now
	w.kill()
	close(stopD)
	close(stopB)
	debounced, batched := <-doneD, <-doneB
	if len(debounced) == 0 || len(batched) == 0 {
		t.Fatalf("acknowledged %d debounce and %d batch events before the kill", len(debounced), len(batched))
	}
	startWorker(t, bin, db.URL)

	// Debounce: one run, with the last acknowledged event or one sent after it.
	runID := decisionOf(t, obs, debounced[0].id, "bench-debounce").RunID
	for _, a := range debounced {
		if d := decisionOf(t, obs, a.id, "bench-debounce"); d.RunID != runID {
			t.Fatalf("event n=%d folded into run %s, want %s (one debounce)", a.n, d.RunID, runID)
		}
	}
	run := enginetest.Await(t, obs, runID, engine.StatusCompleted)
	var n int
	if err := json.Unmarshal(run.Output, &n); err != nil || n < debounced[len(debounced)-1].n {
		t.Fatalf("debounced run ran with n=%s, want at least the last acknowledged %d", run.Output, debounced[len(debounced)-1].n)
	}
	if runs := runsOf(t, obs, "bench-debounce"); len(runs) != 1 {
		t.Fatalf("%d debounce runs, want 1", len(runs))
	}

	// Batch: every acknowledged event in one run (up to 1,000), in order, none twice.
	byRun := map[string][]int{}
	for _, a := range batched {
		d := decisionOf(t, obs, a.id, "bench-batch")
		byRun[d.RunID] = append(byRun[d.RunID], a.n)
	}
	runs := runsOf(t, obs, "bench-batch")
	if len(runs) != len(byRun) {
		t.Fatalf("%d batch runs, %d named by decisions", len(runs), len(byRun))
	}
	var all []int
	for id, want := range byRun {
		run := enginetest.Await(t, obs, id, engine.StatusCompleted)
		var got []int
		if err := json.Unmarshal(run.Output, &got); err != nil {
			t.Fatalf("batch output %s: %v", run.Output, err)
		}
		// The run may hold one more event than acknowledged (committed as the server died).
		if len(got) < len(want) || fmt.Sprint(got[:len(want)]) != fmt.Sprint(want) {
			t.Fatalf("batch run saw %v, want the acknowledged %v first, in order", got, want)
		}
		all = append(all, got...)
	}
	sort.Ints(all)
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] {
			t.Fatalf("event n=%d is in two batches", all[i])
		}
	}
	t.Logf("RESULT flow-crash: %d debounced and %d batched events acknowledged before the SIGKILL; 1 debounce run, %d batch runs, nothing lost",
		len(debounced), len(batched), len(byRun))
}
