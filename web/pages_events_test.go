package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

func eventCount(t *testing.T, eng *engine.Engine) int {
	t.Helper()
	evs, _, err := eng.ListEvents(context.Background(), engine.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func TestEventsPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng := dashboardEngine(t, db) // not started: runs stay queued
		ts := newTestServer(t, db, eng)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)
		ts.mustUser(t, "ed@example.com", cms.RoleEditor)
		run := send(t, eng, "test/greet", map[string]any{"who": "<i>zoe</i>"})
		for range eventsPageSize + 2 {
			send0(t, eng, "test/noise", map[string]any{"n": 1})
		}

		if r := ts.client(t).get("/admin/events"); r.Status != http.StatusSeeOther {
			t.Errorf("anonymous: %d", r.Status)
		}
		vi := ts.client(t)
		vi.login("vi@example.com")
		r := vi.get("/admin/events")
		if r.Status != 200 {
			t.Fatalf("events page: %d", r.Status)
		}
		assertInert(t, "events page", r.Body)
		if n := len(findTestID(t, r.Body, "event")); n != eventsPageSize {
			t.Errorf("first page has %d events", n)
		}
		if len(findTestID(t, r.Body, "send-form")) != 0 {
			t.Error("a viewer sees the send form")
		}
		older := findTestID(t, r.Body, "older")
		if len(older) != 1 {
			t.Fatal("no older link")
		}
		r = vi.get(attr(older[0], "href"))
		if n := len(findTestID(t, r.Body, "event")); n != 3 || len(findTestID(t, r.Body, "older")) != 0 {
			t.Errorf("second page has %d events", n)
		}

		r = vi.get("/admin/events?name=test/greet")
		evs := findTestID(t, r.Body, "event")
		if len(evs) != 1 {
			t.Fatalf("name filter: %d events", len(evs))
		}
		if links := testIDs(t, r.Body, "event-run", "href"); len(links) != 1 || links[0] != "/admin/runs/"+run {
			t.Errorf("runs the event started: %v", links)
		}
		if p := text(findTestID(t, r.Body, "event-payload")[0]); !strings.Contains(p, `"who": "<i>zoe</i>"`) {
			t.Errorf("payload: %s", p)
		}
		if r := vi.post("/admin/events", url.Values{"name": {"x"}}); r.Status != 403 {
			t.Errorf("viewer send: %d", r.Status)
		}

		ed := ts.client(t)
		ed.login("ed@example.com")
		r = ed.get("/admin/events")
		if len(findTestID(t, r.Body, "send-form")) != 1 {
			t.Fatal("an editor has no send form")
		}
		before := eventCount(t, eng)
		refused := []struct {
			name, evName, data, field string
		}{
			{"bad JSON", "test/greet", `{"who": "ann",}`, "data"},
			{"not an object", "test/greet", `[1, 2]`, "data"},
			{"a string", "test/greet", `"hi"`, "data"},
			{"no name", "", `{"who": "ann"}`, "name"},
		}
		for _, c := range refused {
			r := ed.post("/admin/events", url.Values{"name": {c.evName}, "data": {c.data}})
			if r.Status != 422 {
				t.Errorf("%s: %d", c.name, r.Status)
				continue
			}
			if len(findTestID(t, r.Body, "error-"+c.field)) != 1 {
				t.Errorf("%s: no error next to %s", c.name, c.field)
			}
			if got := text(findTestID(t, r.Body, "send-data")[0]); got != c.data {
				t.Errorf("%s: the form lost the data: %q", c.name, got)
			}
		}
		if after := eventCount(t, eng); after != before {
			t.Errorf("refused forms sent %d events", after-before)
		}
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/admin/events", strings.NewReader("name=test/greet"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := ed.do(req); r.Status != 403 || eventCount(t, eng) != before {
			t.Errorf("send without CSRF: %d", r.Status)
		}

		r = ed.post("/admin/events", url.Values{"name": {"test/greet"}, "data": {`{"who": "bo"}`}})
		loc := r.Header.Get("Location")
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/events?sent=") {
			t.Fatalf("send: %d %s %s", r.Status, loc, snippet(r.Body))
		}
		r = ed.get(loc)
		sent := findTestID(t, r.Body, "sent")
		runs := testIDs(t, r.Body, "sent-run", "href")
		if len(sent) != 1 || len(runs) != 1 {
			t.Fatalf("sent notice: %d, runs %v", len(sent), runs)
		}
		got, err := eng.GetRun(context.Background(), strings.TrimPrefix(runs[0], "/admin/runs/"))
		if err != nil || got.FunctionID != "greet" || !strings.Contains(string(got.Event), `"who":"bo"`) {
			t.Errorf("the sent event's run: %+v %v", got, err)
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
		startEngine(t, eng)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)
		ok1 := send(t, eng, "test/greet", map[string]any{"who": "a"})
		ok2 := send(t, eng, "test/greet", map[string]any{"who": "b"})
		broke := send(t, eng, "test/greet", map[string]any{"who": 3}) // not a string: the step panics, then fails
		awaitStatus(t, eng, ok1, engine.StatusCompleted)
		awaitStatus(t, eng, ok2, engine.StatusCompleted)
		awaitStatus(t, eng, broke, engine.StatusFailed)

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

// within returns the one element of body with data-testid id.
func within(t *testing.T, body, id string) *html.Node {
	t.Helper()
	nodes := findTestID(t, body, id)
	if len(nodes) != 1 {
		t.Fatalf("%d elements %s", len(nodes), id)
	}
	return nodes[0]
}

// findIn returns the elements under n with data-testid id.
func findIn(n *html.Node, id string) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && attr(c, "data-testid") == id {
			out = append(out, c)
		}
	}
	return out
}
