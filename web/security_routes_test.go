package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
)

// securityRoutes are the routes TestRouteRoleTable leaves to their own tests (the runs
// dashboard, workflow pages, events pages, system page, metrics and Inngest intake): here
// every one of them is called by every role, anonymous included. ok 0 accepts any answer
// but 401, 403 and 5xx for an allowed caller.
var securityRoutes = []roleCase{
	{method: "GET", route: "/metrics", ok: 200},
	{method: "GET", route: "/admin/workflows", min: cms.RoleViewer, ok: 200},
	{method: "POST", route: "/admin/workflows", min: cms.RoleAdmin, form: func(*cms.Post) url.Values {
		return url.Values{"name": {"W " + randomSuffix()}, "trigger": {"blog-post.updated"}}
	}},
	{method: "GET", route: "/admin/workflows/:id/edit", min: cms.RoleAdmin, ok: 200},
	{method: "GET", route: "/admin/runs", min: cms.RoleViewer, ok: 200},
	{method: "GET", route: "/admin/runs/stream", min: cms.RoleViewer, ok: 200},
	{method: "GET", route: "/admin/runs/:id", min: cms.RoleViewer, ok: 200},
	{method: "GET", route: "/admin/runs/:id/events", min: cms.RoleViewer, ok: 200},
	{method: "POST", route: "/admin/runs/bulk", min: cms.RoleAdmin, form: func(*cms.Post) url.Values {
		return url.Values{"do": {"cancel-matching"}, "event": {"no.such.event"}}
	}},
	{method: "POST", route: "/admin/runs/:id/cancel", min: cms.RoleAdmin},
	{method: "POST", route: "/admin/runs/:id/rerun", min: cms.RoleAdmin},
	{method: "POST", route: "/admin/runs/:id/retry", min: cms.RoleAdmin},
	{method: "GET", route: "/admin/events", min: cms.RoleViewer, ok: 200},
	{method: "GET", route: "/admin/events/stream", min: cms.RoleViewer, ok: 200},
	{method: "GET", route: "/admin/events/:id", min: cms.RoleViewer, ok: 200},
	{method: "POST", route: "/admin/events", min: cms.RoleEditor, form: func(*cms.Post) url.Values {
		return url.Values{"name": {"test/security"}, "data": {`{"a":1}`}}
	}},
	{method: "GET", route: "/admin/system", min: cms.RoleAdmin, ok: 200},
	{method: "POST", route: "/admin/system/templates/:id", min: cms.RoleAdmin},
}

// TestSecurityRouteRoleTable calls each route above as anonymous, viewer, editor, approver
// and admin, on a real run and workflow, and checks the answer: anonymous pages redirect to
// /login and anonymous actions get 401, too low a role gets 403, the rest get through. Every
// registered route under those prefixes must have a row. POST /e/:key is keyed, not
// role-based: a wrong key is refused for everyone, session or not.
func TestSecurityRouteRoleTable(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, store := workflowServer(t, db)
		have := map[string]bool{"POST /e/:key": true}
		for _, c := range securityRoutes {
			have[c.method+" "+c.route] = true
		}
		for _, r := range ts.Srv.echo.Routes() {
			for _, p := range []string{"/admin/runs", "/admin/workflows", "/admin/events", "/admin/system", "/metrics", "/e/"} {
				if strings.HasPrefix(r.Path, p) && !have[r.Method+" "+r.Path] {
					t.Errorf("route %s %s has no row in the security table", r.Method, r.Path)
				}
			}
		}
		ctx := context.Background()
		name, trigger, on := "Secured", "test/security.run", true
		wf, err := store.Create(ctx, workflow.Draft{Name: &name, Trigger: &trigger, Enabled: &on,
			Workflow: json.RawMessage(`{"actions":[{"id":"l","kind":"log","inputs":{"message":"hi"}}],"edges":[{"from":"$source","to":"l"}]}`)})
		if err != nil {
			t.Fatal(err)
		}
		ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		roles := []cms.Role{"", cms.RoleViewer, cms.RoleEditor, cms.RoleApprover}
		for _, r := range roles[1:] {
			ts.mustUser(t, string(r)+"@example.com", r)
		}
		roles = append(roles, cms.RoleAdmin)
		for _, c := range securityRoutes {
			for _, role := range roles {
				b := ts.client(t)
				if role != "" {
					b.login(string(role) + "@example.com")
				}
				// A fresh run of the workflow per call: cancel, rerun and retry each change it.
				res, err := ts.Eng.Send(ctx, engine.Event{Name: trigger, Data: map[string]any{}})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Runs) != 1 {
					t.Fatalf("the workflow started %d runs", len(res.Runs))
				}
				id := res.Runs[0]
				if strings.Contains(c.route, "workflows") {
					id = itoa(wf.ID)
				}
				if strings.Contains(c.route, "/events/:id") {
					id = res.IDs[0]
				}
				if strings.Contains(c.route, "templates") {
					id = "review"
				}
				path := strings.Replace(c.route, ":id", id, 1)
				status, loc := callStatus(t, b, c, path)
				label := string(role)
				if label == "" {
					label = "anonymous"
				}
				want := c.ok
				switch {
				case c.min == "":
				case role == "" && c.method == "GET":
					want = http.StatusSeeOther
				case role == "":
					want = http.StatusUnauthorized
				case !role.AtLeast(c.min):
					want = http.StatusForbidden
				}
				if want == 0 {
					if status == 401 || status == 403 || status >= 500 || status == 0 {
						t.Errorf("%s %s as %s = %d, want access", c.method, c.route, label, status)
					}
					continue
				}
				if status != want {
					t.Errorf("%s %s as %s = %d, want %d", c.method, c.route, label, status, want)
				}
				if want == http.StatusSeeOther && !strings.HasPrefix(loc, "/login") {
					t.Errorf("%s %s as anonymous redirects to %q, want /login", c.method, c.route, loc)
				}
			}
		}

		// Event intake: a wrong or missing key is refused whoever calls, and stores nothing.
		before := eventCount(t, ts.Eng)
		admin := ts.client(t)
		admin.login("admin@example.com")
		for _, b := range []*webClient{ts.client(t), admin} {
			for _, key := range []string{"wrong-key", "%00", strings.Repeat("k", 300)} {
				req, _ := http.NewRequest("POST", ts.URL+"/e/"+key, strings.NewReader(`{"name":"x/y","data":{}}`))
				req.Header.Set("Content-Type", "application/json")
				want := http.StatusUnauthorized
				if key == "%00" {
					want = http.StatusBadRequest // a NUL byte in the path is refused before any lookup
				}
				if r := b.do(req); r.Status != want {
					t.Errorf("POST /e/%s = %d, want %d", key[:min(len(key), 12)], r.Status, want)
				}
			}
		}
		if after := eventCount(t, ts.Eng); after != before {
			t.Errorf("refused intake stored %d events", after-before)
		}
	})
}

// callStatus makes one call as b and returns the status and Location. Server-Sent Event streams
// never end, so only the status line and headers are read.
func callStatus(t *testing.T, b *webClient, c roleCase, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var req *http.Request
	if c.method == "GET" {
		req, _ = http.NewRequestWithContext(ctx, "GET", b.ts.URL+path, nil)
	} else {
		form := url.Values{}
		if c.form != nil {
			form = c.form(nil)
		}
		form.Set(csrfField, b.csrf())
		req, _ = http.NewRequestWithContext(ctx, c.method, b.ts.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.http.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", c.method, path, err)
		return 0, ""
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}
