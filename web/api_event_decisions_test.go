package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// GET /api/events/{id} and /admin/events/{id} say what each function did with an event:
// a plain start, and the starts flow control dropped or delayed, with the option and key.
func TestEventDecisionsAPIAndPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		noop := func(context.Context, *engine.Input) (any, error) { return nil, nil }
		eng := enginetest.New(t, db, engine.Options{},
			&engine.Function{ID: "plain", Triggers: []engine.Trigger{{Event: "t/order"}}, Handler: noop},
			&engine.Function{ID: "limited", Triggers: []engine.Trigger{{Event: "t/order"}}, Handler: noop,
				Flow: engine.Flow{RateLimit: &engine.RateLimit{Limit: 1, Period: time.Hour, Key: "event.data.shop"}}})
		ts := newTestServer(t, db, eng)
		viewer := ts.token(t, ts.mustUser(t, "vi@example.com", cms.RoleViewer))
		ctx := context.Background()
		if _, err := eng.Send(ctx, engine.Event{Name: "t/order", Data: map[string]any{"shop": "north"}}); err != nil {
			t.Fatal(err)
		}
		res, err := eng.Send(ctx, engine.Event{Name: "t/order", Data: map[string]any{"shop": "north"}})
		if err != nil {
			t.Fatal(err)
		}
		r := ts.api(t, viewer, "GET", "/api/events/"+res.IDs[0], nil)
		if r.Status != http.StatusOK {
			t.Fatalf("GET event: %d %s", r.Status, r.Body)
		}
		var got struct {
			Event struct {
				Name string `json:"name"`
				ID   string `json:"internal_id"`
			} `json:"event"`
			Decisions []map[string]any `json:"decisions"`
		}
		if err := json.Unmarshal([]byte(r.Body), &got); err != nil {
			t.Fatal(err)
		}
		if got.Event.Name != "t/order" || got.Event.ID != res.IDs[0] || len(got.Decisions) != 2 {
			t.Fatalf("answer %s", r.Body)
		}
		started, dropped := got.Decisions[0], got.Decisions[1]
		if started["function"] != "plain" || started["action"] != "started" || started["run_id"] != res.Runs[0] {
			t.Errorf("plain start: %v", started)
		}
		if dropped["function"] != "limited" || dropped["action"] != "dropped" || dropped["reason"] != "rateLimit" ||
			dropped["key"] != "north" || dropped["run_id"] != "" {
			t.Errorf("rate-limited start: %v", dropped)
		}
		for _, field := range []string{"function", "workflow_id", "action", "reason", "key", "run_id"} {
			if _, ok := dropped[field]; !ok {
				t.Errorf("decision has no %q: %v", field, dropped)
			}
		}
		if r := ts.api(t, viewer, "GET", "/api/events/00000000-0000-0000-0000-000000000000", nil); r.Status != http.StatusNotFound {
			t.Errorf("unknown event: %d", r.Status)
		}

		vi := ts.client(t)
		vi.login("vi@example.com")
		page := vi.get("/admin/events/" + res.IDs[0])
		if page.Status != http.StatusOK {
			t.Fatalf("event page: %d", page.Status)
		}
		rows := findTestID(t, page.Body, "decision")
		if len(rows) != 2 || attr(rows[1], "data-action") != "dropped" || attr(rows[1], "data-reason") != "rateLimit" {
			t.Fatalf("page decisions: %d rows", len(rows))
		}
		if links := testIDs(t, page.Body, "decision-run", "href"); len(links) != 1 || links[0] != "/admin/runs/"+res.Runs[0] {
			t.Errorf("run links %v", links)
		}
		if links := testIDs(t, vi.get("/admin/events").Body, "event-link", "href"); len(links) != 2 || links[0] != "/admin/events/"+res.IDs[0] {
			t.Errorf("events list links %v", links)
		}
	})
}

// An event with a future ts, sent through the API or the Inngest intake, starts its runs at
// ts; one more than 10 years ahead is refused naming ts.
func TestFutureTSDelaysRunsThroughEveryDoor(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		noop := func(context.Context, *engine.Input) (any, error) { return nil, nil }
		eng := enginetest.New(t, db, engine.Options{},
			&engine.Function{ID: "remind", Triggers: []engine.Trigger{{Event: "t/remind"}}, Handler: noop})
		ts := newTestServer(t, db, eng)
		editor := ts.token(t, ts.mustUser(t, "ed@example.com", cms.RoleEditor))
		key, _, err := ts.CMS.EventKeys.Create(context.Background(), "shop")
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now().Add(time.Hour).UnixMilli()
		refused := map[string]int{"api": http.StatusUnprocessableEntity, "intake": http.StatusBadRequest} // the intake answers as Inngest's
		for door, send := range map[string]func(body string) response{
			"api":    func(body string) response { return ts.rawAPI(t, editor, "POST", "/api/events", body) },
			"intake": func(body string) response { return ts.rawAPI(t, "", "POST", "/e/"+key, body) },
		} {
			r := send(fmt.Sprintf(`{"name":"t/remind","data":{},"ts":%d}`, at))
			if r.Status != http.StatusOK && r.Status != http.StatusCreated {
				t.Fatalf("%s: %d %s", door, r.Status, r.Body)
			}
			runs, _, err := eng.ListRuns(context.Background(), engine.RunFilter{FunctionID: "remind", Limit: 10})
			if err != nil || len(runs) == 0 {
				t.Fatalf("%s: no run (%v)", door, err)
			}
			if due := runs[0].DueAt; due == nil || due.UnixMilli() != at || runs[0].Status != engine.StatusQueued {
				t.Fatalf("%s: run due %v (%s), want at ts %d", door, due, runs[0].Status, at)
			}
			far := time.Now().AddDate(11, 0, 0).UnixMilli()
			if r := send(fmt.Sprintf(`{"name":"t/remind","data":{},"ts":%d}`, far)); r.Status != refused[door] || !strings.Contains(r.Body, "ts") {
				t.Errorf("%s: ts 11 years ahead: %d %s, want %d naming ts", door, r.Status, r.Body, refused[door])
			}
		}
	})
}
