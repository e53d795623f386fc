package reliability

import (
	"context"
	"os"
	"os/exec"
	"sort"
	"testing"
	"time"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// TestPostgresRestart stops and starts the PostgreSQL cluster in the middle of a load that an
// `inkflow serve` and two `inkflow worker` processes are executing. While the database is
// away /readyz answers 503; afterwards it answers 200 again without restarting inkflow, the
// processes reconnect, every run completes, no probe step ran after its commit and every
// event has exactly one run.
//
// It restarts the shared cluster, which would break tests running beside it, so it runs only
// with INKFLOW_PG_RESTART=1, set by its own step at the end of .ci/run (see
// docs/RELIABILITY.md). Without that variable it skips, naming where it runs.
// INKFLOW_PG_CLUSTER names another cluster to restart (default main), for running it locally
// beside other work on a cluster of its own.
func TestPostgresRestart(t *testing.T) {
	if os.Getenv("INKFLOW_PG_RESTART") != "1" {
		t.Skip("restarts the shared PostgreSQL cluster: runs alone in .ci/run's last step (INKFLOW_PG_RESTART=1 go test -run TestPostgresRestart ./reliability/)")
	}
	bin := binary(t)
	db := testdb.Postgres(t)
	version, cluster := clusterVersion(t), "main"
	if c := os.Getenv("INKFLOW_PG_CLUSTER"); c != "" {
		cluster = c // a cluster of its own (on TEST_DATABASE_URL's port), to disturb nobody
	}
	f := newFixture(t, db)
	s := startServer(t, bin, db.URL)
	for range 2 {
		startWorker(t, bin, db.URL)
	}
	batch := mix{steps: 150, waits: 50}
	const before, after = 4, 4
	first := 0
	for range before {
		f.send(t, f.events(t, batch, first)...)
		first += 1000
	}
	enginetest.Eventually(t, "work in progress", func() bool {
		n, err := bench.CountEffects(context.Background(), db.DB)
		return err == nil && n > 50
	})

	pgctl(t, version, cluster, "stop")
	stopped := time.Now()
	enginetest.Eventually(t, "/readyz to answer 503 with the database away", func() bool { return s.status("/readyz") == 503 })
	saw503 := time.Since(stopped)
	time.Sleep(2 * time.Second) // the processes keep failing to reach the database meanwhile
	pgctl(t, version, cluster, "start")
	started := time.Now()
	enginetest.Eventually(t, "/readyz to recover without restarting inkflow", func() bool { return s.status("/readyz") == 200 })
	recovered := time.Since(started)

	for range after {
		f.send(t, f.events(t, batch, first)...)
		first += 1000
	}
	resumed := map[string]bool{}
	want := (before + after) * batch.total()
	deadline := time.Now().Add(3 * time.Minute)
	resumes := 0
	for {
		resumes += f.resumeWaiting(t, resumed)
		done := f.finished(t)
		if done == int64(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d runs ended after the restart:%s\nserver log:\n%s", done, want, f.statusCounts(t), tail(s.logText()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if s.cmd.ProcessState != nil {
		t.Fatalf("the server exited during the restart")
	}
	a := f.audit(t, nil, want)
	t.Logf("RESULT pg-restart: 1 restart (database away %s); /readyz 503 after %s, 200 again %s after the start; %d runs, %d resume events, %d probe steps, %d fn executions, %d after commit, %d events without a run, %d sends retried",
		time.Since(stopped).Round(time.Millisecond)-time.Since(started).Round(time.Millisecond), saw503.Round(time.Millisecond), recovered.Round(time.Millisecond),
		a.runs, resumes, a.probeSteps, a.effects, a.lateEffects, a.eventsWithoutRun, f.sendErrors)
}

// clusterVersion is the newest PostgreSQL cluster version installed (as .ci/run picks it).
func clusterVersion(t *testing.T) string {
	t.Helper()
	entries, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(entries) == 0 {
		t.Fatalf("no PostgreSQL cluster in /etc/postgresql: %v", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names[len(names)-1]
}

// pgctl stops or starts the cluster (as root, like .ci/run).
func pgctl(t *testing.T, version, cluster, action string) {
	t.Helper()
	out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", version, cluster, action).CombinedOutput()
	if err == nil {
		return
	}
	// pg_ctlcluster start has answered "failed to start" for a server whose own log says it is
	// ready to accept connections: what matters here is that the database is back.
	if action == "start" {
		for range 60 {
			if exec.Command("pg_isready", "-h", "127.0.0.1", "-q").Run() == nil {
				t.Logf("pg_ctlcluster start said %v, but PostgreSQL accepts connections:\n%s", err, out)
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	t.Fatalf("pg_ctlcluster %s: %v\n%s", action, err, out)
}

var _ = bench.EventSteps
var _ engine.Event
