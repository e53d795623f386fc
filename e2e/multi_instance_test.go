package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
)

// instance is one `inkflow serve` process of a cluster sharing one database.
type instance struct {
	url string
	cmd *exec.Cmd
	log string
}

// startInstance runs `inkflow serve` with JSON logs and a fixed event key, until the test
// ends, and waits until it is ready.
func startInstance(t *testing.T, bin, dbURL, key string) *instance {
	t.Helper()
	addr := freePort(t)
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--database-url", dbURL, "--addr", addr, "--log-format", "json", "--concurrency", "32")
	// The webhooks of the test's workflow go to a server inside the test, on loopback.
	cmd.Env = append(os.Environ(), "INKFLOW_EVENT_KEY="+key, "INKFLOW_WEBHOOK_ALLOW_PRIVATE=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{url: "http://" + addr, cmd: cmd, log: logPath}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	enginetest.Eventually(t, "inkflow serve to become ready", func() bool {
		res, err := http.Get(in.url + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	}, func() string { out, _ := os.ReadFile(logPath); return "log:\n" + string(out) })
	return in
}

// sendBatch posts events to /api/events with the event key as a bearer token.
func (in *instance) sendBatch(t *testing.T, key string, events []map[string]any) {
	t.Helper()
	body, _ := json.Marshal(events)
	req, _ := http.NewRequest("POST", in.url+"/api/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out struct{ Runs []string }
	if err := json.Unmarshal(raw, &out); err != nil || res.StatusCode != 200 || len(out.Runs) != len(events) {
		log, _ := os.ReadFile(in.log)
		t.Fatalf("POST /api/events to %s: %d %s: %d runs started for %d events\n%s", in.url, res.StatusCode, raw, len(out.Runs), len(events), log)
	}
}

// effects is the edge of the world the workflow's steps act on: an HTTP server recording when
// each webhook delivery arrived, by its Idempotency-Key (run id + ":" + step id).
type effects struct {
	mu   sync.Mutex
	seen map[string][]int64 // unix ms of each delivery
}

func (e *effects) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UnixMilli()
	e.mu.Lock()
	k := r.Header.Get("Idempotency-Key")
	e.seen[k] = append(e.seen[k], now)
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok":true}`))
}

// count returns how many distinct steps were delivered, how many deliveries there were, and
// the delivery times of the steps delivered more than once.
func (e *effects) count() (keys, deliveries int, repeated map[string][]int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	repeated = map[string][]int64{}
	for k, at := range e.seen {
		keys++
		deliveries += len(at)
		if len(at) > 1 {
			repeated[k] = at
		}
	}
	return
}

// checkRepeats fails the test for a delivery that came after its step committed: a committed
// step ran again, which the engine promises never happens. Other repeats are the at-least-once
// the engine promises (and the reason a webhook carries an Idempotency-Key for its receiver
// to deduplicate by): a step attempt that failed after its request arrived runs again, and
// net/http itself sends a request that carries an Idempotency-Key again when its kept-alive
// connection fails before the answer (Transport.shouldRetryRequest); they are logged.
func checkRepeats(t *testing.T, s *server, repeated map[string][]int64) {
	t.Helper()
	for key, at := range repeated {
		runID, stepID, _ := strings.Cut(key, ":")
		var run struct {
			Steps []struct {
				ID       string     `json:"id"`
				Attempts int        `json:"attempts"`
				Error    string     `json:"error"`
				EndedAt  *time.Time `json:"ended_at"`
			} `json:"steps"`
		}
		s.call(t, "GET", "/api/runs/"+runID, nil, 200, &run)
		for _, st := range run.Steps {
			if st.ID != stepID || st.EndedAt == nil {
				continue
			}
			ended := st.EndedAt.UnixMilli()
			for _, ms := range at {
				if ms > ended {
					t.Errorf("step %s was delivered at %d ms, after it committed at %d ms: a committed step ran again", key, ms, ended)
				}
			}
			t.Logf("step %s delivered %d times before its commit (attempts %d, last error %q): at-least-once", key, len(at), st.Attempts, st.Error)
		}
	}
}

// Three `inkflow serve` processes on one PostgreSQL: 5,000 events sent through all three
// start 5,000 runs of a five-step workflow (each step a webhook: a side effect outside the
// database); every run completes, every step's side effect happens exactly once, and each
// cron tick fires once in total. One instance is stopped with SIGTERM while the runs are
// going: it exits cleanly and nothing is lost or repeated.
func TestThreeInstancesShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three servers")
	}
	db := testdb.Postgres(t)
	bin := buildBinary(t)
	const key = "cluster-test-event-key"
	const runs, steps, perRequest = 5000, 5, 100
	sink := &effects{seen: map[string][]int64{}}
	hook := httptest.NewServer(sink)
	defer hook.Close()

	token := adminToken(t, bin, db.URL)
	cluster := []*instance{startInstance(t, bin, db.URL, key), startInstance(t, bin, db.URL, key), startInstance(t, bin, db.URL, key)}
	wf := map[string]any{"actions": []map[string]any{}, "edges": []map[string]any{}}
	from := "$source"
	for i := range steps {
		id := fmt.Sprintf("step%d", i)
		wf["actions"] = append(wf["actions"].([]map[string]any), map[string]any{"id": id, "kind": "webhook",
			"inputs": map[string]any{"url": hook.URL, "body": map[string]any{"n": "!ref($.event.data.n)"}}})
		wf["edges"] = append(wf["edges"].([]map[string]any), map[string]any{"from": from, "to": id})
		from = id
	}
	s := &server{url: cluster[0].url, token: token}
	var rec struct{ ID int64 }
	s.call(t, "POST", "/api/workflows", map[string]any{"name": "Cluster", "trigger": "cluster.steps", "enabled": true, "workflow": wf}, 201, &rec)
	// A workflow due every minute, so that each tick of the scheduler starts a run.
	s.call(t, "POST", "/api/workflows", map[string]any{"name": "Every minute", "trigger": "cron: * * * * *", "enabled": true,
		"workflow": map[string]any{
			"actions": []map[string]any{{"id": "note", "kind": "log", "inputs": map[string]any{"message": "tick"}}},
			"edges":   []map[string]any{{"from": "$source", "to": "note"}},
		}}, 201, nil)
	started := time.Now()

	for i := 0; i < runs/perRequest; i++ {
		batch := make([]map[string]any, perRequest)
		for j := range batch {
			batch[j] = map[string]any{"name": "cluster.steps", "data": map[string]any{"n": i*perRequest + j}}
		}
		cluster[i%len(cluster)].sendBatch(t, key, batch)
	}
	audit := auditor(t, db)
	done := func() int {
		return runsIn(t, audit, engine.RunFilter{WorkflowID: rec.ID}, engine.StatusCompleted)
	}

	// Stop one instance under load: it must leave with exit status 0 and hold no run.
	victim := cluster[2]
	enginetest.Eventually(t, "some runs to complete", func() bool { return done() > 200 })
	if err := victim.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := victim.cmd.Wait(); err != nil {
		t.Fatalf("instance stopped by SIGTERM exited with %v", err)
	}
	if n := leasedBy(t, audit, fmt.Sprintf(":%d:", victim.cmd.Process.Pid)); n != 0 {
		t.Errorf("%d runs still leased by the stopped instance", n)
	}

	enginetest.Eventually(t, "every run to complete", func() bool { return done() == runs })
	t.Logf("%d runs of %d webhook steps through 3 instances in %s", runs, steps, time.Since(started).Round(time.Millisecond))
	if n := runsIn(t, audit, engine.RunFilter{WorkflowID: rec.ID}, "") - done(); n != 0 {
		t.Errorf("%d runs did not complete", n)
	}
	keys, deliveries, repeated := sink.count()
	if keys != runs*steps {
		t.Errorf("side effects: %d distinct steps delivered, want %d", keys, runs*steps)
	}
	t.Logf("%d deliveries for %d steps; %d delivered more than once", deliveries, keys, len(repeated))
	checkRepeats(t, s, repeated)

	// Cron: the workflow scheduler ticks every minute on every instance; each tick (the
	// every-minute workflow makes every tick due) must start exactly one run in total. Wait
	// for a tick that happened while the cluster ran.
	enginetest.Eventually(t, "a cron tick", func() bool {
		return runsIn(t, audit, engine.RunFilter{FunctionID: workflow.CronFunctionID}, "") > 0
	})
	// (Rows with no run are the schedule's first sighting by each instance, not ticks.)
	ticks, err := audit.CountCronTicks(context.Background(), workflow.CronFunctionID)
	if err != nil {
		t.Fatal(err)
	}
	cronRuns := runsIn(t, audit, engine.RunFilter{FunctionID: workflow.CronFunctionID}, "")
	if ticks == 0 || cronRuns != ticks {
		t.Errorf("%d cron ticks recorded and %d scheduler runs started; want one run per tick", ticks, cronRuns)
	}

	// /metrics on any instance reports the cluster: the runs all three finished (counted once
	// the newest are a couple of seconds old), an empty queue, and the two workers still alive
	// (the stopped one removed itself).
	var metrics string
	enginetest.Eventually(t, "/metrics to count every run", func() bool {
		// The cluster's runs plus the every-minute workflow's, as the database holds them.
		done := runsIn(t, audit, engine.RunFilter{FunctionID: workflow.RunnerFunctionID}, engine.StatusCompleted)
		finished := fmt.Sprintf(`inkflow_runs_finished_total{function=%q,status="completed"} %d`, workflow.RunnerFunctionID, done)
		res, err := http.Get(cluster[0].url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		metrics = string(raw)
		return strings.Contains(metrics, finished+"\n")
	})
	for _, want := range []string{"inkflow_queue_depth 0", "inkflow_workers_alive 2"} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// Every log line of every instance is JSON (--log-format json).
	for _, in := range cluster {
		f, err := os.Open(in.log)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var v map[string]any
			if line := strings.TrimSpace(sc.Text()); line != "" && json.Unmarshal([]byte(line), &v) != nil {
				t.Errorf("%s: not a JSON log line: %s", in.url, line)
				break
			}
		}
		f.Close()
	}
}

// adminToken creates an admin and an API token with the CLI, as an operator would.
func adminToken(t *testing.T, bin, dbURL string) string {
	t.Helper()
	run := func(args ...string) string {
		out, err := exec.Command(bin, append(args, "--database-url", dbURL)...).CombinedOutput()
		if err != nil {
			t.Fatalf("inkflow %v: %v\n%s", args, err, out)
		}
		return lastLine(string(out))
	}
	run("users", "create", "--email", "ops@example.com", "--role", "admin", "--password", "correct horse battery")
	return run("tokens", "create", "--email", "ops@example.com")
}
