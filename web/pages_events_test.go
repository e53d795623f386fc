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

// The events page is live: its stream sends the list, then again when an event arrives; an
// event that resolved a waiting run says "Resumed run X" and links it, on the page and in
// GET /api/events.
func TestEventsPageIsLiveAndSaysWhichRunAnEventResumed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng := dashboardEngine(t, db)
		ts := newTestServer(t, db, eng)
		enginetest.StartWorkers(t, eng)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)
		wait := send(t, eng, "test/ask", map[string]any{"id": 7})
		enginetest.Await(t, eng, wait, engine.StatusWaiting)

		if r := ts.client(t).get("/admin/events/stream"); r.Status != http.StatusSeeOther {
			t.Errorf("anonymous stream: %d", r.Status)
		}
		b := ts.client(t)
		b.login("vi@example.com")
		r := b.get("/admin/events?name=test/answer")
		if live := findTestID(t, r.Body, "events-live"); len(live) != 1 || attr(live[0], "data-live") != "/admin/events/stream?name=test%2Fanswer" {
			t.Fatalf("the events page has no live region for its filter")
		}
		s := openStream(t, b, "/admin/events/stream?name=test/answer")
		if ev, ok := s.next(t); !ok || ev.name != "update" || len(findTestID(t, ev.data, "no-events")) != 1 {
			t.Fatalf("first update: %+v %v", ev, ok)
		}
		res, err := eng.Send(context.Background(), engine.Event{Name: "test/answer", Data: map[string]any{"id": 7}})
		if err != nil {
			t.Fatal(err)
		}
		enginetest.Await(t, eng, wait, engine.StatusCompleted)
		// Updates come as the page changes; the last one of interest names the resumed run.
		for {
			ev, ok := s.next(t)
			if !ok {
				t.Fatal("the stream ended before showing the resumed run")
			}
			links := findTestID(t, ev.data, "event-resumed-run")
			if len(links) == 0 {
				continue
			}
			if attr(links[0], "href") != "/admin/runs/"+wait || !strings.Contains(text(findTestID(t, ev.data, "event-resumed")[0]), "Resumed run") {
				t.Errorf("resumed link %q, want run %s", attr(links[0], "href"), wait)
			}
			break
		}
		r = b.get("/admin/events")
		if n := len(findTestID(t, r.Body, "event-resumed-run")); n != 1 {
			t.Errorf("the events page shows %d resumed runs, want 1", n)
		}
		r = b.get("/api/events?name=test/answer")
		if !strings.Contains(r.Body, `"resumed":["`+wait+`"]`) || !strings.Contains(r.Body, res.IDs[0]) {
			t.Errorf("GET /api/events: %s", snippet(r.Body))
		}
	})
}
