package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// TestRunsPageBulkActions: on /admin/runs an admin selects runs or takes every run the filter
// matches, sees a confirmation with the count (nothing done yet), confirms, and the list says
// what was done. Viewers see no bulk controls and an editor's POST is refused; a POST without
// the CSRF token is refused.
func TestRunsPageBulkActions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng := dashboardEngine(t, db)
		ts := newTestServer(t, db, eng)
		enginetest.StartWorkers(t, eng)
		ts.mustUser(t, "ad@example.com", cms.RoleAdmin)
		ts.mustUser(t, "ed@example.com", cms.RoleEditor)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)
		var waiting []string
		for i := range 3 {
			waiting = append(waiting, send(t, eng, "test/ask", map[string]any{"id": i}))
		}
		greet := send(t, eng, "test/greet", map[string]any{"who": "ann"})
		for _, id := range waiting {
			enginetest.Await(t, eng, id, engine.StatusWaiting)
		}
		enginetest.Await(t, eng, greet, engine.StatusCompleted)
		status := func(id string) engine.Status {
			run, err := eng.GetRun(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			return run.Status
		}

		viewer := ts.client(t)
		viewer.login("vi@example.com")
		if r := viewer.get("/admin/runs"); len(findTestID(t, r.Body, "bulk-runs")) != 0 || len(findTestID(t, r.Body, "run-select")) != 0 {
			t.Errorf("a viewer sees bulk controls")
		}
		editor := ts.client(t)
		editor.login("ed@example.com")
		if r := editor.post("/admin/runs/bulk", url.Values{"do": {"cancel-matching"}}); r.Status != http.StatusForbidden {
			t.Errorf("editor's bulk cancel: %d", r.Status)
		}

		admin := ts.client(t)
		admin.login("ad@example.com")
		r := admin.get("/admin/runs?event=test/ask")
		if len(findTestID(t, r.Body, "bulk-runs")) != 1 || len(testIDs(t, r.Body, "run-select", "value")) != 3 {
			t.Fatalf("admin's runs page has no bulk controls for the 3 runs:\n%s", snippet(r.Body))
		}
		// Without the CSRF token: refused.
		req, _ := http.NewRequest("POST", ts.URL+"/admin/runs/bulk", strings.NewReader("do=cancel-matching&event=test/ask"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res := admin.do(req); res.Status != http.StatusForbidden {
			t.Errorf("bulk POST without CSRF: %d", res.Status)
		}

		// Every run matching event=test/ask: a confirmation with the count, nothing cancelled.
		r = admin.post("/admin/runs/bulk", url.Values{"do": {"cancel-matching"}, "event": {"test/ask"}})
		if r.Status != 200 || text(within(t, r.Body, "bulk-count")) != "3" || len(findTestID(t, r.Body, "bulk-confirm")) != 1 {
			t.Fatalf("confirmation: %d %s", r.Status, snippet(r.Body))
		}
		for _, id := range waiting {
			if st := status(id); st != engine.StatusWaiting {
				t.Fatalf("the confirmation step changed run %s: %s", id, st)
			}
		}
		r = admin.post("/admin/runs/bulk", url.Values{"do": {"cancel-matching"}, "event": {"test/ask"}, "confirm": {"1"}})
		if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=cancel-3") || !strings.Contains(r.Header.Get("Location"), "event=test") {
			t.Fatalf("confirmed: %d %s", r.Status, r.Header.Get("Location"))
		}
		for _, id := range waiting {
			if st := status(id); st != engine.StatusCancelled {
				t.Errorf("run %s is %s after the bulk cancel", id, st)
			}
		}
		if st := status(greet); st != engine.StatusCompleted {
			t.Errorf("a run outside the filter changed: %s", st)
		}
		if r = admin.get(r.Header.Get("Location")); text(within(t, r.Body, "runs-notice")) != "Cancelled 3 runs." {
			t.Errorf("notice after the bulk cancel: %s", snippet(r.Body))
		}

		// Selected runs: replay two of them (and a finished run is skipped by cancel).
		r = admin.post("/admin/runs/bulk", url.Values{"do": {"replay-selected"}, "id": {waiting[0], waiting[1]}})
		if r.Status != 200 || text(within(t, r.Body, "bulk-count")) != "2" {
			t.Fatalf("replay confirmation: %d %s", r.Status, snippet(r.Body))
		}
		r = admin.post("/admin/runs/bulk", url.Values{"do": {"replay-selected"}, "id": {waiting[0], waiting[1]}, "confirm": {"1"}})
		if r.Status != http.StatusSeeOther || !strings.Contains(r.Header.Get("Location"), "done=replay-2") {
			t.Fatalf("replayed: %d %s", r.Status, r.Header.Get("Location"))
		}
		runs, _, err := eng.ListRuns(context.Background(), engine.RunFilter{EventName: "test/ask"})
		if err != nil || len(runs) != 5 {
			t.Fatalf("after replaying 2 of 3 runs there are %d runs of test/ask (%v)", len(runs), err)
		}
		r = admin.post("/admin/runs/bulk", url.Values{"do": {"cancel-selected"}, "id": {greet}})
		if r.Status != 200 || len(findTestID(t, r.Body, "bulk-nothing")) != 1 {
			t.Errorf("cancel of a finished run: %d %s", r.Status, snippet(r.Body))
		}

		// Bad input: 4xx naming the field, nothing done.
		for _, form := range []url.Values{
			{"do": {"delete-matching"}},
			{"do": {"cancel-selected"}},
			{"do": {"cancel-matching"}, "since": {"yesterday"}},
		} {
			if r := admin.post("/admin/runs/bulk", form); r.Status < 400 || r.Status >= 500 {
				t.Errorf("%v: %d", form, r.Status)
			}
		}
	})
}
