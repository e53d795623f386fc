package web

import (
	"context"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// /metrics answers Prometheus text with the engine's figures; the counting itself is tested
// in engine/metrics_test.go.
func TestMetricsEndpoint(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, _ := intakeServer(t, db)
		if _, err := ts.Eng.Send(context.Background(), engine.Event{Name: "shop/order.placed"}); err != nil {
			t.Fatal(err)
		}
		res := ts.rawAPI(t, "", "GET", "/metrics", "")
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("GET /metrics: %d %s", res.Status, res.Header.Get("Content-Type"))
		}
		for _, want := range []string{
			`inkflow_runs{status="queued"} 1`, "inkflow_queue_depth 1", "inkflow_queue_oldest_due_seconds ",
			"inkflow_workers_alive 0", "inkflow_worker_utilisation 0", "go_goroutines ", "process_resident_memory_bytes ",
			"# TYPE inkflow_events_received_total counter",
		} {
			if !strings.Contains(res.Body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}

// /readyz answers 503 when the database cannot be reached, and /healthz still 200 (the
// process is alive; restarting it would not bring the database back).
func TestReadyzWhenTheDatabaseIsGone(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, _ := intakeServer(t, db)
		if res := ts.rawAPI(t, "", "GET", "/readyz", ""); res.Status != 200 {
			t.Fatalf("readyz with the database up: %d %s", res.Status, res.Body)
		}
		sqlDB, err := db.DB.DB()
		if err != nil {
			t.Fatal(err)
		}
		sqlDB.Close()
		res := ts.rawAPI(t, "", "GET", "/readyz", "")
		if res.Status != 503 || !strings.Contains(res.Body, "database unreachable") {
			t.Errorf("readyz with the database closed: %d %s", res.Status, res.Body)
		}
		if res := ts.rawAPI(t, "", "GET", "/healthz", ""); res.Status != 200 {
			t.Errorf("healthz with the database closed: %d %s", res.Status, res.Body)
		}
		if res := ts.rawAPI(t, "", "GET", "/metrics", ""); res.Status != 200 || !strings.Contains(res.Body, "inkflow_metrics_scrape_errors_total 1") {
			t.Errorf("metrics with the database closed: %d, scrape error not counted", res.Status)
		}
	})
}
