package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

func TestSystemPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng, err := engine.New(engine.Options{DB: db.DB, URL: db.URL, Concurrency: 7, WorkerID: "worker-under-test"})
		if err != nil {
			t.Fatal(err)
		}
		nightly := &engine.Function{ID: "nightly", Name: "Nightly digest", Triggers: []engine.Trigger{{Cron: "TZ=Europe/Paris 30 2 * * *"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) { return nil, nil }}
		idle := &engine.Function{ID: "never-due", Triggers: []engine.Trigger{{Event: "sys/never"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) { return nil, nil }}
		if err := eng.Register(nightly, idle); err != nil {
			t.Fatal(err)
		}
		ts := newTestServer(t, db, eng)
		ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		ts.mustUser(t, "editor@example.com", cms.RoleEditor)

		admin := ts.client(t)
		admin.login("admin@example.com")
		res := admin.get("/admin/system")
		if res.Status != 200 || len(findTestID(t, res.Body, "no-workers")) != 1 {
			t.Fatalf("with no worker: %d, want the no-worker notice", res.Status)
		}

		// Two queued runs and one live worker.
		for range 2 {
			if _, err := eng.Send(context.Background(), engine.Event{Name: "sys/never"}); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now().UnixMilli()
		if err := db.DB.Exec(`INSERT INTO workers (id, started_at, heartbeat_at, running, capacity) VALUES ('worker-under-test', ?, ?, 3, 7)`, now-60000, now).Error; err != nil {
			t.Fatal(err)
		}
		res = admin.get("/admin/system")
		if res.Status != 200 {
			t.Fatalf("GET /admin/system: %d", res.Status)
		}
		if got := text(findTestID(t, res.Body, "queue-depth")[0]); got != "2" {
			t.Errorf("queue depth %q, want 2", got)
		}
		if got := text(findTestID(t, res.Body, "runs-queued")[0]); got != "2" {
			t.Errorf("queued %q, want 2", got)
		}
		rows := findTestID(t, res.Body, "worker-row")
		if len(rows) != 1 || !strings.Contains(text(rows[0]), "worker-under-test") || !strings.Contains(text(rows[0]), "alive") ||
			!strings.Contains(text(rows[0]), "3 / 7") {
			t.Errorf("worker rows: %d %q", len(rows), text(rows[0]))
		}
		crons := findTestID(t, res.Body, "cron-row")
		if len(crons) != 1 || !strings.Contains(text(crons[0]), "Nightly digest") || !strings.Contains(text(crons[0]), "TZ=Europe/Paris 30 2 * * *") {
			t.Errorf("cron rows: %d", len(crons))
		}

		editor := ts.client(t)
		editor.login("editor@example.com")
		if res := editor.get("/admin/system"); res.Status != 403 {
			t.Errorf("editor: %d, want 403", res.Status)
		}
	})
}
