package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// A NUL in an event is refused whatever the Content-Type: the event routes decode JSON sent as
// text/plain too, which skipped the text check (200, the NUL stored, on both databases).
// The Inngest intake answers in Inngest's shape, 400 naming the field.
func TestNULInEventsIsRefusedWhateverTheContentType(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		ed := ts.token(t, ts.mustUser(t, "ed@example.com", cms.RoleEditor))
		key, _, err := ts.CMS.EventKeys.Create(context.Background(), "shop")
		if err != nil {
			t.Fatal(err)
		}
		send := func(path, tok, ct, body string) response {
			req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", ct)
			if tok != "" {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return response{res.StatusCode, res.Header, string(b)}
		}
		for _, ct := range []string{"text/plain", "Application/JSON", "application/json"} {
			for _, c := range []struct{ body, field string }{
				{`{"name":"shop/a","data":{"k":"v\u0000"}}`, "data.k"},
				{`{"name":"shop/a","data":{"k\u0000":1}}`, "data.k"},
				{`{"name":"shop/a","data":{"items":[{"t":"\u0000"}]}}`, "data.items[0].t"},
				{`{"name":"shop/a","user":{"id":"\u0000"}}`, "user.id"},
				{`[{"name":"shop/a"},{"name":"shop/\u0000"}]`, "name"},
			} {
				if r := send("/api/events", ed, ct, c.body); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, c.field) {
					t.Errorf("/api/events [%s] %s: %d %s; want 422 naming %s", ct, c.body, r.Status, r.Body, c.field)
				}
				r := send("/e/"+key, "", ct, c.body)
				if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, c.field) || !strings.Contains(r.Body, `"status":400`) {
					t.Errorf("/e/{key} [%s] %s: %d %s; want Inngest's 400 naming %s", ct, c.body, r.Status, r.Body, c.field)
				}
			}
		}
		// A backslash-u written as text is not a NUL.
		if r := send("/api/events", ed, "text/plain", `{"name":"shop/a","data":{"k":"\\u0000"}}`); r.Status != 200 {
			t.Errorf("escaped backslash: %d %s", r.Status, r.Body)
		}
		n, err := ts.Eng.CountEvents(context.Background(), "shop/a")
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d shop/a events stored, want only the one without a NUL", n)
		}
	})
}

// Invalid UTF-8 in the filters of the API and the pages is 422 naming the parameter (a
// PostgreSQL 500 once).
func TestBadTextInQueryFiltersIsRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		tok := ts.token(t, admin)
		b := ts.client(t)
		b.login(admin.Email)
		for _, q := range []struct{ path, field string }{
			{"/api/runs?function=%ff", "function"},
			{"/api/runs?function=a%00", "function"},
			{"/api/posts?q=%ff", "q"},
			{"/api/events?name=%c3", "name"},
			{"/admin/events?name=%ff", "name"},
			{"/admin/posts?tag=%ff", "tag"},
			{"/admin/runs?function=%ff", "function"},
			{"/?q=%ff", "q"},
			{"/?q%ff=x", "q"},
		} {
			var r response
			if strings.HasPrefix(q.path, "/api/") {
				r = ts.rawAPI(t, tok, "GET", q.path, "")
			} else {
				r = b.get(q.path)
			}
			if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, q.field) {
				t.Errorf("GET %s: %d %.200s; want 422 naming %q", q.path, r.Status, r.Body, q.field)
			}
		}
	})
}

// Reserved names are refused in every spelling that reads as one: another case
// ("Blog-Post.x", "INKFLOW/x"), space around it (" inkflow/x"), a control or zero-width
// character; on the API, the intake, the events page and in a workflow's send_event, saved
// or from a ref at run time. Each of these was accepted (200) before.
func TestReservedNameVariantsAreRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		rs := newReviewServer(t, db, nil)
		key, _, err := rs.CMS.EventKeys.Create(context.Background(), "shop")
		if err != nil {
			t.Fatal(err)
		}
		editor, admin := rs.token(t, rs.editor), rs.token(t, rs.admin)
		page := rs.client(t)
		page.login(rs.editor.Email)
		variants := []string{"Blog-Post.approve-ai-suggestions", "BLOG-POST.updated", "INKFLOW/run.failed",
			"Inngest/function.finished", " inkflow/run.failed", "inkflow/run.failed ", "\u200binkflow/run.failed",
			"inkflow/run\nfailed", "in\u212Aflow/run.failed"}
		for _, name := range variants {
			body := fmt.Sprintf(`{"name":%q,"data":{"id":1}}`, name)
			for who, tok := range map[string]string{"editor": editor, "admin": admin} {
				if r := rs.rawAPI(t, tok, "POST", "/api/events", body); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `"name"`) {
					t.Errorf("%s POST /api/events %q: %d %s; want 422 on name", who, name, r.Status, r.Body)
				}
			}
			if r := rs.rawAPI(t, "", "POST", "/e/"+key, body); r.Status/100 != 4 || !strings.Contains(r.Body, `"ids":[]`) {
				t.Errorf("POST /e/{key} %q: %d %s; want a 4xx in Inngest's shape", name, r.Status, r.Body)
			}
			if r := page.post("/admin/events", url.Values{"name": {name}, "data": {"{}"}}); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("events page %q: %d; want 422", name, r.Status)
			}
		}
		// send_event: a literal engine name is refused on save, even for an admin...
		for _, name := range []string{"inkflow/run.failed", "INKFLOW/run.failed", "Blog-Post.published", "inngest/function.finished"} {
			wf := fmt.Sprintf(`{"name":"forge","trigger":"forge.now","enabled":true,"workflow":{"actions":[{"id":"send","kind":"send_event","inputs":{"name":%q,"data":{}}}],"edges":[{"from":"$source","to":"send"}]}}`, name)
			if r := rs.rawAPI(t, admin, "POST", "/api/workflows", wf); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "send") {
				t.Errorf("saving send_event of %q: %d %.300s; want 422 naming the action", name, r.Status, r.Body)
			}
		}
		// ... and one that comes from a ref fails its step at run time, saying why.
		wf := `{"name":"forge by ref","trigger":"forge.now","enabled":true,"workflow":{"actions":[{"id":"send","kind":"send_event","inputs":{"name":"!ref($.event.data.name)","data":{}}}],"edges":[{"from":"$source","to":"send"}]}}`
		if r := rs.rawAPI(t, admin, "POST", "/api/workflows", wf); r.Status != http.StatusCreated {
			t.Fatalf("workflow with a ref name: %d %s", r.Status, r.Body)
		}
		for name, why := range map[string]string{"inkflow/run.failed": "reserved", "INKFLOW/run.failed": "reserved",
			"Blog-Post.published": "only from the CMS", " inkflow/run.failed": "starts with a space"} {
			r := rs.rawAPI(t, editor, "POST", "/api/events", fmt.Sprintf(`{"name":"forge.now","data":{"name":%q}}`, name))
			runs := decode[engine.SendResult](t, r).Runs
			if len(runs) != 1 {
				t.Fatalf("forge.now: %d %s", r.Status, r.Body)
			}
			if run := rs.awaitRun(t, runs[0], engine.StatusFailed); !strings.Contains(run.Error, why) {
				t.Errorf("send_event of %q failed with %q; want it to say %q", name, run.Error, why)
			}
		}
		forged := 0
		for cursor := ""; ; {
			evs, next, err := rs.Eng.ListEvents(context.Background(), engine.EventFilter{Limit: 1000, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				low := strings.ToLower(ev.Name)
				if ev.Name != engine.EventRunFailed && (strings.Contains(low, "inkflow/") || strings.Contains(low, "blog-post.") || strings.Contains(low, "inngest/")) {
					forged++
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if forged != 0 {
			t.Errorf("%d events with a reserved-looking name were stored", forged)
		}
	})
}
