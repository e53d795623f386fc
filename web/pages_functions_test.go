package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// The functions page lists stored workflows under the runner, a scheduled one with its next
// fire time in its own zone.
func TestFunctionsPageWorkflows(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, store := workflowServer(t, db)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)
		const wf = `{"actions":[{"id":"hi","kind":"log","inputs":{"message":"morning"}}],"edges":[{"from":"$source","to":"hi"}]}`
		cron := createWorkflow(t, store, "Morning", "cron: TZ=Asia/Tokyo 0 8 * * *", wf)
		event := createWorkflow(t, store, "On submit", "doc.submitted", wf)

		b := ts.client(t)
		b.login("vi@example.com")
		r := b.get("/admin/functions")
		if r.Status != 200 {
			t.Fatalf("functions page: %d", r.Status)
		}
		row := within(t, r.Body, "workflow-trigger-"+strconv.FormatInt(cron.ID, 10))
		next := findIn(row, "cron-next")
		if len(next) != 1 {
			t.Fatal("scheduled workflow shows no next fire time")
		}
		if at := attr(next[0], "datetime"); !strings.HasSuffix(at, "T08:00:00+09:00") {
			t.Errorf("next fire time = %s, want 08:00 Tokyo time", at)
		}
		if txt := text(within(t, r.Body, "workflow-trigger-"+strconv.FormatInt(event.ID, 10))); !strings.Contains(txt, "doc.submitted") {
			t.Errorf("event workflow row: %q", txt)
		}
	})
}

func TestFunctionsPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng := dashboardEngine(t, db)
		err := eng.Register(&engine.Function{ID: "digest", Name: "Morning digest",
			Triggers: []engine.Trigger{{Cron: "TZ=Europe/Paris 0 9 * * *"}, {Cron: "30 6 * * 1"}},
			Handler:  func(ctx context.Context, in *engine.Input) (any, error) { return nil, nil }})
		if err != nil {
			t.Fatal(err)
		}
		ts := newTestServer(t, db, eng)
		enginetest.StartWorkers(t, eng)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)
		ok1 := send(t, eng, "test/greet", map[string]any{"who": "a"})
		ok2 := send(t, eng, "test/greet", map[string]any{"who": "b"})
		broke := send(t, eng, "test/greet", map[string]any{"who": 3}) // not a string: the step panics, then fails
		enginetest.Await(t, eng, ok1, engine.StatusCompleted)
		enginetest.Await(t, eng, ok2, engine.StatusCompleted)
		enginetest.Await(t, eng, broke, engine.StatusFailed)

		if r := ts.client(t).get("/admin/functions"); r.Status != http.StatusSeeOther {
			t.Errorf("anonymous: %d", r.Status)
		}
		b := ts.client(t)
		b.login("vi@example.com")
		r := b.get("/admin/functions")
		if r.Status != 200 {
			t.Fatalf("functions page: %d", r.Status)
		}
		for _, id := range []string{"greet", "breaks", "waits", "naps", "digest"} {
			if len(findTestID(t, r.Body, "function-"+id)) != 1 {
				t.Errorf("function %s not listed", id)
			}
		}
		greet := within(t, r.Body, "function-greet")
		if rate := text(findIn(greet, "success-rate")[0]); rate != "66.7%" {
			t.Errorf("greet success rate = %q, want 66.7%%", rate)
		}
		if p := text(findIn(greet, "p50")[0]); p == "—" || p == "" {
			t.Errorf("greet p50 = %q", p)
		}
		if ev := text(findIn(greet, "trigger-event")[0]); !strings.Contains(ev, "test/greet") {
			t.Errorf("greet trigger = %q", ev)
		}
		var next []string
		for _, n := range findIn(within(t, r.Body, "function-digest"), "cron-next") {
			next = append(next, attr(n, "datetime"))
		}
		if len(next) != 2 {
			t.Fatalf("digest cron times: %v", next)
		}
		if !strings.HasSuffix(next[0], "+01:00") && !strings.HasSuffix(next[0], "+02:00") || !strings.Contains(next[0], "T09:00:00") {
			t.Errorf("Paris schedule's next time = %s, want 09:00 Paris time", next[0])
		}
		if !strings.HasSuffix(next[1], "Z") || !strings.Contains(next[1], "T06:30:00") {
			t.Errorf("UTC schedule's next time = %s", next[1])
		}
		if rate := text(findIn(within(t, r.Body, "function-waits"), "success-rate")[0]); rate != "—" {
			t.Errorf("waits without finished runs: rate %q", rate)
		}
	})
}
