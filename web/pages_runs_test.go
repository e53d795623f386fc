package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// dashboardEngine is a real, started engine with one function per run outcome the dashboard
// shows: completed (with input and output), failed (with an error), waiting for an event,
// and sleeping.
func dashboardEngine(t *testing.T, db *testdb.DB) *engine.Engine {
	t.Helper()
	eng := enginetest.New(t, db, engine.Options{BackoffBase: time.Millisecond, BackoffMax: time.Millisecond},

		&engine.Function{ID: "greet", Triggers: []engine.Trigger{{Event: "test/greet"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.Run(ctx, "hello", func(ctx context.Context) (any, error) {
					return map[string]any{"greeting": "hello " + in.Event.Data["who"].(string)}, nil
				}, engine.WithInput(in.Event.Data), engine.WithName("Say hello"))
			}},
		&engine.Function{ID: "breaks", Flow: engine.Flow{Retries: engine.Retries(1)}, Triggers: []engine.Trigger{{Event: "test/break"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.Run(ctx, "explode", func(ctx context.Context) (any, error) {
					return nil, errors.New("the flux capacitor is empty")
				})
			}},
		&engine.Function{ID: "waits", Triggers: []engine.Trigger{{Event: "test/ask"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.WaitForEvent(ctx, "answer", engine.Wait{Event: "test/answer", Match: "data.id", Timeout: time.Hour})
			}},
		&engine.Function{ID: "naps", Triggers: []engine.Trigger{{Event: "test/nap"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return nil, in.Step.Sleep(ctx, "nap", time.Hour)
			}},
	)
	return eng
}

// send sends one event through the engine and returns the run it started.
func send(t *testing.T, eng *engine.Engine, name string, data map[string]any) string {
	t.Helper()
	res, err := eng.Send(context.Background(), engine.Event{Name: name, Data: data})
	if err != nil || len(res.Runs) != 1 {
		t.Fatalf("send %s: %+v %v", name, res, err)
	}
	return res.Runs[0]
}

func testIDs(t *testing.T, body, id, attrName string) []string {
	t.Helper()
	var out []string
	for _, n := range findTestID(t, body, id) {
		out = append(out, attr(n, attrName))
	}
	return out
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

func TestRunsListPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng := dashboardEngine(t, db)
		ts := newTestServer(t, db, eng)
		enginetest.StartWorkers(t, eng)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)

		greet := send(t, eng, "test/greet", map[string]any{"who": "ann"})
		broke := send(t, eng, "test/break", nil)
		wait := send(t, eng, "test/ask", map[string]any{"id": 7})
		enginetest.Await(t, eng, greet, engine.StatusCompleted)
		enginetest.Await(t, eng, broke, engine.StatusFailed)
		enginetest.Await(t, eng, wait, engine.StatusWaiting)

		anon := ts.client(t)
		if r := anon.get("/admin/runs"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("anonymous: %d %s", r.Status, r.Header.Get("Location"))
		}
		if r := anon.get("/admin/runs/stream"); r.Status != http.StatusSeeOther {
			t.Errorf("anonymous stream: %d", r.Status)
		}

		b := ts.client(t)
		b.login("vi@example.com")
		r := b.get("/admin/runs")
		if r.Status != 200 {
			t.Fatalf("runs page: %d %s", r.Status, snippet(r.Body))
		}
		assertInert(t, "runs page", r.Body)
		if got := testIDs(t, r.Body, "run-row", "data-run"); len(got) != 3 || got[0] != wait || got[2] != greet {
			t.Errorf("rows newest first = %v, want [%s ... %s]", got, wait, greet)
		}
		counts := map[string]string{}
		for _, st := range []string{"completed", "failed", "waiting", "queued"} {
			chip := findTestID(t, r.Body, "status-"+st)
			if len(chip) != 1 {
				t.Fatalf("no %s chip", st)
			}
			counts[st] = strings.Join(strings.Fields(text(chip[0]))[1:], " ")
		}
		if counts["completed"] != "1" || counts["failed"] != "1" || counts["waiting"] != "1" || counts["queued"] != "0" {
			t.Errorf("status counts = %v", counts)
		}
		if live := findTestID(t, r.Body, "runs-live"); len(live) != 1 || attr(live[0], "data-live") != "/admin/runs/stream" {
			t.Errorf("live region missing")
		}

		cases := []struct {
			name, query string
			status      int
			rows        []string
			errField    string
		}{
			{"status", "status=failed", 200, []string{broke}, ""},
			{"function", "function=greet", 200, []string{greet}, ""},
			{"event name", "event=test/ask", 200, []string{wait}, ""},
			{"status and function that disagree", "status=failed&function=greet", 200, nil, ""},
			{"since in the future", "since=2999-01-01T00:00", 200, nil, ""},
			{"until in the future", "until=2999-01-01T00:00", 200, []string{wait, broke, greet}, ""},
			{"until in the past", "until=2000-01-01T00:00", 200, nil, ""},
			{"malformed since", "since=yesterday", 422, nil, "since"},
			{"malformed until", "until=2026-13-45", 422, nil, "until"},
			{"workflow not a number", "workflow=abc", 422, nil, "workflow"},
			{"unknown status", "status=bogus", 422, nil, "status"},
		}
		for _, c := range cases {
			r := b.get("/admin/runs?" + c.query)
			if r.Status != c.status {
				t.Errorf("%s: status %d, want %d", c.name, r.Status, c.status)
				continue
			}
			if got := testIDs(t, r.Body, "run-row", "data-run"); strings.Join(got, ",") != strings.Join(c.rows, ",") {
				t.Errorf("%s: rows %v, want %v", c.name, got, c.rows)
			}
			if c.errField != "" && len(findTestID(t, r.Body, "error-"+c.errField)) != 1 {
				t.Errorf("%s: no error next to %s", c.name, c.errField)
			}
		}
		// Filters narrow the counts too, and status chips keep the other filters.
		r = b.get("/admin/runs?function=breaks")
		chip := findTestID(t, r.Body, "status-failed")[0]
		if attr(chip, "href") != "/admin/runs?function=breaks&status=failed" {
			t.Errorf("failed chip links to %q", attr(chip, "href"))
		}
		if n := strings.TrimSpace(text(findTestID(t, r.Body, "status-completed")[0])); n != "completed 0" {
			t.Errorf("completed chip with function=breaks: %q", n)
		}
	})
}

func TestRunsListPagination(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng := dashboardEngine(t, db) // not started: the runs stay queued
		ts := newTestServer(t, db, eng)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)
		events := make([]engine.Event, runsPageSize+5)
		for i := range events {
			events[i] = engine.Event{Name: "test/greet", Data: map[string]any{"who": strconv.Itoa(i)}}
		}
		if _, err := eng.Send(context.Background(), events...); err != nil {
			t.Fatal(err)
		}
		b := ts.client(t)
		b.login("vi@example.com")
		r := b.get("/admin/runs?function=greet")
		first := testIDs(t, r.Body, "run-row", "data-run")
		older := findTestID(t, r.Body, "older")
		if len(first) != runsPageSize || len(older) != 1 {
			t.Fatalf("first page: %d rows, %d older links", len(first), len(older))
		}
		next, err := url.Parse(attr(older[0], "href"))
		if err != nil || next.Query().Get("function") != "greet" || next.Query().Get("cursor") == "" {
			t.Fatalf("older link %q keeps neither filter nor cursor", attr(older[0], "href"))
		}
		r = b.get(next.String())
		second := testIDs(t, r.Body, "run-row", "data-run")
		if len(second) != 5 || len(findTestID(t, r.Body, "older")) != 0 || len(findTestID(t, r.Body, "newest")) != 1 {
			t.Fatalf("second page: %d rows", len(second))
		}
		seen := map[string]bool{}
		for _, id := range append(first, second...) {
			if seen[id] {
				t.Errorf("run %s on both pages", id)
			}
			seen[id] = true
		}
		if second[0] >= first[len(first)-1] {
			t.Errorf("second page is not older: %s after %s", second[0], first[len(first)-1])
		}
	})
}

func TestRunPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng := dashboardEngine(t, db)
		ts := newTestServer(t, db, eng)
		enginetest.StartWorkers(t, eng)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)
		ts.mustUser(t, "ad@example.com", cms.RoleAdmin)
		greet := send(t, eng, "test/greet", map[string]any{"who": "<b>ann</b>"})
		broke := send(t, eng, "test/break", nil)
		wait := send(t, eng, "test/ask", map[string]any{"id": 7})
		nap := send(t, eng, "test/nap", nil)
		enginetest.Await(t, eng, greet, engine.StatusCompleted)
		enginetest.Await(t, eng, broke, engine.StatusFailed)
		enginetest.Await(t, eng, wait, engine.StatusWaiting)
		enginetest.Await(t, eng, nap, engine.StatusSleeping)

		vi := ts.client(t)
		vi.login("vi@example.com")
		r := vi.get("/admin/runs/" + greet)
		if r.Status != 200 {
			t.Fatalf("run page: %d", r.Status)
		}
		assertInert(t, "run page", r.Body)
		steps := findTestID(t, r.Body, "step")
		if len(steps) != 1 || attr(steps[0], "data-step") != "hello" || attr(steps[0], "data-status") != "completed" {
			t.Fatalf("steps: %d", len(steps))
		}
		details := text(findTestID(t, r.Body, "step-details")[0])
		if !strings.Contains(details, `"who": "<b>ann</b>"`) || !strings.Contains(details, `"greeting": "hello <b>ann</b>"`) {
			t.Errorf("step input/output not shown as pretty JSON: %s", details)
		}
		if st := testIDs(t, r.Body, "run-status", "data-status"); len(st) != 1 || st[0] != "completed" {
			t.Errorf("status = %v", st)
		}
		if live := findTestID(t, r.Body, "run-live"); len(live) != 1 || attr(live[0], "data-live") != "/admin/runs/"+greet+"/events" {
			t.Error("no live region")
		}
		if len(findTestID(t, r.Body, "run-actions")) != 0 {
			t.Error("a viewer sees admin actions")
		}

		r = vi.get("/admin/runs/" + broke)
		if e := findTestID(t, r.Body, "step-error"); len(e) != 1 || !strings.Contains(text(e[0]), "flux capacitor") {
			t.Error("failed step's error not shown")
		}
		if a := findTestID(t, r.Body, "step-attempts"); len(a) != 1 || !strings.Contains(text(a[0]), "2 attempts") {
			t.Error("attempts not shown")
		}
		if len(findTestID(t, r.Body, "run-error")) != 1 {
			t.Error("run error not shown")
		}

		r = vi.get("/admin/runs/" + wait)
		if w := findTestID(t, r.Body, "wait-event"); len(w) != 1 || text(w[0]) != "test/answer" {
			t.Fatalf("waiting run does not say what it waits for")
		}
		if !strings.Contains(text(findTestID(t, r.Body, "run-waiting")[0]), "data.id") || len(findTestID(t, r.Body, "wait-expires")) != 1 {
			t.Error("wait match or expiry missing")
		}
		r = vi.get("/admin/runs/" + nap)
		if w := findTestID(t, r.Body, "wake-at"); len(w) != 1 {
			t.Error("sleeping run's wake time missing")
		}

		if r := vi.get("/admin/runs/no-such-run"); r.Status != 404 || len(findTestID(t, r.Body, "error-404")) != 1 {
			t.Errorf("unknown run: %d", r.Status)
		}
		if r := vi.post("/admin/runs/"+wait+"/cancel", nil); r.Status != 403 {
			t.Errorf("viewer cancel: %d", r.Status)
		}
		if r := vi.post("/admin/runs/"+greet+"/rerun", nil); r.Status != 403 {
			t.Errorf("viewer rerun: %d", r.Status)
		}

		ad := ts.client(t)
		ad.login("ad@example.com")
		r = ad.get("/admin/runs/" + wait)
		if len(findTestID(t, r.Body, "cancel-run")) != 1 || len(findTestID(t, r.Body, "retry")) != 0 {
			t.Error("admin of a waiting run: want cancel, no retry")
		}
		if r := ad.get("/admin/runs/" + broke); len(findTestID(t, r.Body, "retry")) != 1 || len(findTestID(t, r.Body, "cancel-run")) != 0 {
			t.Error("admin of a failed run: want retry, no cancel")
		} else if hint := text(findTestID(t, r.Body, "retry-hint")[0]); !strings.Contains(hint, "resumes this run at the step that failed") {
			t.Errorf("retry hint %q does not say that Retry resumes the run", hint)
		}
		// Without the CSRF token nothing happens.
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/admin/runs/"+wait+"/cancel", nil)
		if r := ad.do(req); r.Status != 403 {
			t.Errorf("cancel without CSRF: %d", r.Status)
		}
		r = ad.post("/admin/runs/"+wait+"/cancel", nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/runs/"+wait+"?done=cancelled" {
			t.Fatalf("cancel: %d %s", r.Status, r.Header.Get("Location"))
		}
		r = ad.get(r.Header.Get("Location"))
		if len(findTestID(t, r.Body, "notice")) != 1 || testIDs(t, r.Body, "run-status", "data-status")[0] != "cancelled" {
			t.Error("cancelled run page")
		}
		if r := ad.post("/admin/runs/"+wait+"/cancel", nil); r.Status != 409 {
			t.Errorf("cancel twice: %d", r.Status)
		}

		// Retry resumes the failed run itself: same id, its failed step tried afresh.
		r = ad.post("/admin/runs/"+broke+"/retry", nil)
		if loc := r.Header.Get("Location"); r.Status != http.StatusSeeOther || loc != "/admin/runs/"+broke+"?done=retry" {
			t.Fatalf("retry: %d %s", r.Status, loc)
		}
		if again := enginetest.Await(t, eng, broke, engine.StatusFailed); len(again.Steps) != 1 || again.Steps[0].Attempts != 2 {
			t.Errorf("retried run: %+v", again.Steps)
		}
		if r := ad.post("/admin/runs/"+greet+"/retry", nil); r.Status != 409 {
			t.Errorf("retry of a completed run: %d", r.Status)
		}
		for _, path := range []string{"rerun"} {
			r = ad.post("/admin/runs/"+greet+"/"+path, nil)
			loc := r.Header.Get("Location")
			if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/runs/") || strings.Contains(loc, greet) {
				t.Fatalf("%s: %d %s", path, r.Status, loc)
			}
			id := strings.TrimPrefix(strings.Split(loc, "?")[0], "/admin/runs/")
			again := enginetest.Await(t, eng, id, engine.StatusCompleted)
			if again.FunctionID != "greet" || len(again.Steps) != 1 || !strings.Contains(string(again.Steps[0].Output), "greeting") {
				t.Errorf("%s: new run %+v", path, again)
			}
		}
		if r := ad.post("/admin/runs/no-such-run/rerun", nil); r.Status != 404 {
			t.Errorf("rerun unknown: %d", r.Status)
		}
	})
}
