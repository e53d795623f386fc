package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inkflow/inkflow/bench"
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
	cmd.Env = append(os.Environ(), "INKFLOW_EVENT_KEY="+key)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in := &instance{url: "http://" + addr, cmd: cmd, log: logPath}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if res, err := http.Get(in.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return in
			}
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(logPath)
			t.Fatalf("inkflow serve never became ready:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
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
	var out struct{ Runs []string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 || len(out.Runs) != len(events) {
		t.Fatalf("POST /api/events to %s: %d, %d runs started for %d events (%v)", in.url, res.StatusCode, len(out.Runs), len(events), err)
	}
}

// Three `inkflow serve` processes on one PostgreSQL: 5,000 runs of a 5-step function sent
// through all three complete, every step's side effect happens exactly once, and each cron
// tick fires once in total. One instance is stopped with SIGTERM while the runs are going:
// it exits cleanly and nothing is lost or repeated.
func TestThreeInstancesShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs three servers")
	}
	db := testdb.Postgres(t)
	bin := buildBinary(t)
	const key = "cluster-test-event-key"
	const runs, steps, perRequest = 5000, 5, 100
	cluster := []*instance{startInstance(t, bin, db.URL, key), startInstance(t, bin, db.URL, key), startInstance(t, bin, db.URL, key)}
	started := time.Now()

	for i := 0; i < runs/perRequest; i++ {
		batch := make([]map[string]any, perRequest)
		for j := range batch {
			batch[j] = map[string]any{"name": bench.EventSteps, "data": map[string]any{"steps": steps, "effects": true}}
		}
		cluster[i%len(cluster)].sendBatch(t, key, batch)
	}

	// Stop one instance under load: it must leave with exit status 0 and hold no run.
	victim := cluster[2]
	waitFor(t, time.Minute, "some runs to complete", func() bool {
		return countRows(t, db, "runs", "function_id = 'bench-steps' AND status = 'completed'") > 200
	})
	if err := victim.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := victim.cmd.Wait(); err != nil {
		t.Fatalf("instance stopped by SIGTERM exited with %v", err)
	}
	if n := countRows(t, db, "runs", "status = 'running' AND lease_owner LIKE ?", fmt.Sprintf("%%:%d:%%", victim.cmd.Process.Pid)); n != 0 {
		t.Errorf("%d runs still leased by the stopped instance", n)
	}

	waitFor(t, 5*time.Minute, "every run to complete", func() bool {
		return countRows(t, db, "runs", "function_id = 'bench-steps' AND status = 'completed'") == runs
	})
	t.Logf("%d runs of %d steps through 3 instances in %s", runs, steps, time.Since(started).Round(time.Millisecond))
	if n := countRows(t, db, "runs", "function_id = 'bench-steps' AND status <> 'completed'"); n != 0 {
		t.Errorf("%d runs did not complete", n)
	}
	var effects struct{ Total, Uniq, Repeated int64 }
	db.DB.Raw(`SELECT COUNT(*) AS total, COUNT(DISTINCT run_id || '/' || step_id) AS uniq FROM probe_effects`).Scan(&effects)
	db.DB.Raw(`SELECT COUNT(*) FROM (SELECT run_id, step_id FROM probe_effects GROUP BY run_id, step_id HAVING COUNT(*) > 1) AS twice`).Scan(&effects.Repeated)
	if effects.Total != runs*steps || effects.Uniq != runs*steps || effects.Repeated != 0 {
		t.Errorf("side effects: %d executions of %d distinct steps, %d repeated; want %d, each once", effects.Total, effects.Uniq, effects.Repeated, runs*steps)
	}

	// Cron: the workflow scheduler ticks every minute on every instance; each tick must start
	// exactly one run in total. Wait for a tick that happened while the cluster ran.
	waitFor(t, 75*time.Second, "a cron tick", func() bool {
		return countRows(t, db, "runs", "function_id = ?", workflow.CronFunctionID) > 0
	})
	// (Rows with no run are the schedule's first sighting by each instance, not ticks.)
	ticks := countRows(t, db, "cron_ticks", "function_id LIKE ? AND run_id <> ''", workflow.CronFunctionID+"#%")
	cronRuns := countRows(t, db, "runs", "function_id = ?", workflow.CronFunctionID)
	if ticks == 0 || cronRuns != ticks {
		t.Errorf("%d cron ticks recorded and %d scheduler runs started; want one run per tick", ticks, cronRuns)
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

func countRows(t *testing.T, db *testdb.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.DB.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond until it holds or the time is up: the processes under test are other
// programs, with no signal to wait on but the database.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
