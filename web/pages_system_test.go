package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/ops"
)

func TestSystemPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng := enginetest.New(t, db, engine.Options{})
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

		// One live worker with its 3 slots busy (runs that wait for the test's end), then two
		// runs it has no slot for: they stay queued.
		release := make(chan struct{})
		hold := &engine.Function{ID: "sys-hold", Triggers: []engine.Trigger{{Event: "sys/hold"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				<-release
				return nil, nil
			}}
		worker := enginetest.Start(t, db, engine.Options{Concurrency: 3, WorkerID: "worker-under-test", Lease: 600 * time.Millisecond}, hold, idle)
		t.Cleanup(func() { close(release) }) // before the worker's cleanup stops it
		for range 3 {
			if _, err := worker.Send(context.Background(), engine.Event{Name: "sys/hold"}); err != nil {
				t.Fatal(err)
			}
		}
		enginetest.Eventually(t, "the worker to report its 3 slots busy", func() bool {
			res = admin.get("/admin/system")
			rows := findTestID(t, res.Body, "worker-row")
			return res.Status == 200 && len(rows) == 1 && strings.Contains(text(rows[0]), "3 / 3")
		})
		for range 2 {
			if _, err := eng.Send(context.Background(), engine.Event{Name: "sys/never"}); err != nil {
				t.Fatal(err)
			}
		}
		res = admin.get("/admin/system")
		if got := text(findTestID(t, res.Body, "queue-depth")[0]); got != "2" {
			t.Errorf("queue depth %q, want 2", got)
		}
		if got := text(findTestID(t, res.Body, "runs-queued")[0]); got != "2" {
			t.Errorf("queued %q, want 2", got)
		}
		rows := findTestID(t, res.Body, "worker-row")
		if len(rows) != 1 || !strings.Contains(text(rows[0]), "worker-under-test") || !strings.Contains(text(rows[0]), "alive") ||
			!strings.Contains(text(rows[0]), "3 / 3") {
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

// The operations templates import from the API and from the System page's buttons, as
// disabled workflows.
func TestImportOperationsTemplates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng := enginetest.New(t, db, engine.Options{})
		c := cms.New(cms.Options{DB: db.DB, Engine: eng})
		reg := workflow.NewRegistry()
		if err := workflow.RegisterBuiltins(reg, workflow.BuiltinConfig{}); err != nil {
			t.Fatal(err)
		}
		if err := workflow.RegisterEmail(reg, workflow.EmailConfig{}); err != nil {
			t.Fatal(err)
		}
		if err := ops.RegisterKinds(reg, ops.KindDeps{CMS: c, Engine: eng}); err != nil {
			t.Fatal(err)
		}
		store := workflow.NewStore(db.DB, reg)
		ts := newTestServer(t, db, eng, func(cfg *Config) { cfg.Workflows = store })
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		token, _, err := ts.CMS.Tokens.Create(context.Background(), admin.ID, "t")
		if err != nil {
			t.Fatal(err)
		}

		res := ts.api(t, token, "GET", "/api/templates", nil)
		var list struct {
			Templates []struct{ ID, Name string } `json:"templates"`
		}
		if err := json.Unmarshal([]byte(res.Body), &list); err != nil || res.Status != 200 || len(list.Templates) != 4 {
			t.Fatalf("GET /api/templates: %d %s", res.Status, res.Body)
		}
		// The gallery's order: the blog's everyday flows, then the operators'.
		var ids []string
		for _, tpl := range list.Templates {
			ids = append(ids, tpl.ID)
		}
		if strings.Join(ids, ",") != "review-flow,social-posts,weekly-report,failure-alert" {
			t.Errorf("templates in order %v", ids)
		}
		res = ts.api(t, token, "POST", "/api/templates/weekly-report/import", nil)
		var rec struct {
			ID      int64  `json:"id"`
			Trigger string `json:"trigger"`
			Enabled bool   `json:"enabled"`
		}
		if err := json.Unmarshal([]byte(res.Body), &rec); err != nil || res.Status != 201 || rec.Trigger != "cron: TZ=UTC 0 8 * * 1" || rec.Enabled {
			t.Fatalf("import weekly-report: %d %s", res.Status, res.Body)
		}
		if res := ts.api(t, token, "POST", "/api/templates/nope/import", nil); res.Status != 404 {
			t.Errorf("unknown template: %d", res.Status)
		}

		b := ts.client(t)
		b.login("admin@example.com")
		page := b.get("/admin/system")
		if len(findTestID(t, page.Body, "import-failure-alert")) != 1 {
			t.Fatal("the System page offers no failure-alert import")
		}
		res = b.post("/admin/system/templates/failure-alert", nil)
		if res.Status != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/admin/workflows/") {
			t.Fatalf("import from the page: %d %s", res.Status, res.Header.Get("Location"))
		}
		all, err := store.List(context.Background())
		if err != nil || len(all) != 2 {
			t.Fatalf("workflows after two imports: %d %v", len(all), err)
		}
	})
}
