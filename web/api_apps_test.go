package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/sdk"
	"github.com/inkflow/inkflow/internal/testdb"
)

// oobApp is an app that syncs out-of-band, as the SDKs do: on inkflow's PUT it posts its
// functions to inkflow's /fn/register (with the hashed signing key in signed mode), then
// answers the PUT. Its one function answers 200 "hi".
type oobApp struct {
	srv    *httptest.Server
	server string // inkflow's URL
	key    string
}

func newOOBApp(t *testing.T) *oobApp {
	a := &oobApp{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(sdk.HeaderSDK, "js:v3.54.2")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `"hi"`)
			return
		}
		reg := map[string]any{"url": a.url(), "appName": "blog-app", "sdk": "js:v3.54.2", "framework": "nextjs", "deployType": "ping",
			"functions": []any{map[string]any{"id": "blog-app-hello", "name": "Hello", "triggers": []any{map[string]any{"event": "app/hello"}},
				"batchEvents": map[string]any{"maxSize": 10, "timeout": "5s", "if": "event.data.x == 1"},
				"steps": map[string]any{"step": map[string]any{"id": "step", "name": "step",
					"runtime": map[string]any{"type": "http", "url": a.url() + "?fnId=blog-app-hello&stepId=step"}}}}}}
		b, _ := json.Marshal(reg)
		req, _ := http.NewRequest(http.MethodPost, a.server+"/fn/register?deployId=x", bytes.NewReader(b))
		req.Header.Set(sdk.HeaderExpectedServerKind, r.Header.Get(sdk.HeaderServerKind))
		req.Header.Set("Authorization", "Bearer undefined")
		if a.key != "" {
			req.Header.Set("Authorization", "Bearer "+sdk.HashedKey(a.key))
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(500)
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			w.WriteHeader(500)
			w.Write(body)
			return
		}
		w.Header().Set(sdk.HeaderSyncKind, sdk.SyncOutOfBand)
		io.WriteString(w, `{"message":"Successfully registered","modified":true}`)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *oobApp) url() string { return a.srv.URL + "/api/inngest" }

func appsServer(t *testing.T, db *testdb.DB, app *oobApp, dev bool) (*testServer, *sdk.Registry) {
	t.Helper()
	eng := newEngine(t, db)
	allow, _ := sdk.ParseAllowList(app.srv.URL)
	reg, err := sdk.New(sdk.Config{DB: db.DB, Engine: eng, Dev: dev, Allow: allow})
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, db, eng, func(c *Config) { c.Apps = reg })
	app.server = ts.URL
	return ts, reg
}

func TestAppsSyncOutOfBandAndPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newOOBApp(t)
		ts, _ := appsServer(t, db, app, true)
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		tok := ts.token(t, admin)

		res := ts.api(t, tok, "POST", "/api/apps", map[string]string{"url": app.url()})
		if res.Status != 200 {
			t.Fatalf("POST /api/apps: %d %s", res.Status, res.Body)
		}
		var got sdk.App
		_ = json.Unmarshal([]byte(res.Body), &got)
		if got.Name != "blog-app" || got.SDK != "js:v3.54.2" || len(got.Functions) != 1 || strings.Join(got.Functions[0].NotApplied, ",") != "batchEvents.if" {
			t.Fatalf("synced app = %+v", got)
		}
		// The function is live: an event through the dev event key starts its run.
		res = ts.rawAPI(t, "", "POST", "/e/NO_EVENT_KEY_SET", `{"name":"app/hello","data":{}}`)
		if res.Status != 200 {
			t.Fatalf("dev event key: %d %s", res.Status, res.Body)
		}
		runs, _, _ := ts.Eng.ListRuns(context.Background(), engine.RunFilter{FunctionID: "blog-app-hello"})
		if len(runs) != 1 {
			t.Fatalf("runs of the synced function = %d, want 1", len(runs))
		}

		res = ts.api(t, tok, "GET", "/api/apps", nil)
		if res.Status != 200 || !strings.Contains(res.Body, `"mode":"dev"`) || !strings.Contains(res.Body, "blog-app-hello") {
			t.Errorf("GET /api/apps: %d %s", res.Status, res.Body)
		}
		for body, want := range map[string]string{`{}`: "url", `{"url":"http://10.0.0.1/api"}`: "INKFLOW_APP_URLS"} {
			res = ts.rawAPI(t, tok, "POST", "/api/apps", body)
			if res.Status != 422 || !strings.Contains(res.Body, want) {
				t.Errorf("POST /api/apps %s: %d %s", body, res.Status, res.Body)
			}
		}

		b := ts.client(t)
		b.login("admin@example.com")
		page := b.get("/admin/apps")
		if page.Status != 200 {
			t.Fatalf("/admin/apps: %d", page.Status)
		}
		card := findTestID(t, page.Body, "app")
		if len(card) != 1 || attr(card[0], "data-url") != app.url() {
			t.Fatalf("app cards: %d", len(card))
		}
		if na := text(findTestID(t, page.Body, "not-applied")[0]); !strings.Contains(na, "not applied") || !strings.Contains(na, "batchEvents.if") {
			t.Errorf("not applied cell = %q", na)
		}
		if len(findTestID(t, page.Body, "sync-now")) != 1 {
			t.Error("no Sync now button")
		}
		// Sync now from the page, then a failing sync shows its reason on the page and the app.
		if res := b.post("/admin/apps", url.Values{"url": {app.url()}}); res.Status != http.StatusSeeOther {
			t.Fatalf("sync now: %d %s", res.Status, res.Body)
		}
		app.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		})
		res = b.post("/admin/apps", url.Values{"url": {app.url()}})
		if res.Status != http.StatusBadGateway || !strings.Contains(res.Body, "down for maintenance") {
			t.Errorf("failing sync: %d", res.Status)
		}
		if errs := findTestID(t, b.get("/admin/apps").Body, "app-error"); len(errs) != 1 || !strings.Contains(text(errs[0]), "503") {
			t.Errorf("the app's last sync error is not shown")
		}
		viewer := ts.client(t)
		ts.mustUser(t, "viewer@example.com", cms.RoleViewer)
		viewer.login("viewer@example.com")
		if vp := viewer.get("/admin/apps"); vp.Status != 200 || len(findTestID(t, vp.Body, "sync-now")) != 0 {
			t.Errorf("a viewer sees the page without sync buttons: %d", vp.Status)
		}
	})
}

func TestFnRegisterSignedMode(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newOOBApp(t)
		ts, reg := appsServer(t, db, app, false)
		register := func(auth, body string) response {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/fn/register", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return response{res.StatusCode, res.Header, string(b)}
		}
		body := `{"url":"` + app.url() + `","appName":"x","sdk":"go:v0.16.0","functions":[]}`
		if res := register("", body); res.Status != 401 || !strings.Contains(res.Body, "signing-key") {
			t.Errorf("no key yet: %d %s", res.Status, res.Body)
		}
		key, err := reg.SigningKey(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res := register("Bearer undefined", body); res.Status != 401 || !strings.Contains(res.Body, `"error"`) {
			t.Errorf("wrong key: %d %s", res.Status, res.Body)
		}
		if res := register("Bearer "+sdk.HashedKey(key), `{"url":`); res.Status != 400 || !strings.Contains(res.Body, "not valid JSON") {
			t.Errorf("bad JSON: %d %s", res.Status, res.Body)
		}
		if res := register("Bearer "+sdk.HashedKey(key), `{"url":"http://169.254.169.254/","functions":[]}`); res.Status != 422 || !strings.Contains(res.Body, "INKFLOW_APP_URLS") {
			t.Errorf("URL not allowed: %d %s", res.Status, res.Body)
		}
		if res := register("Bearer "+sdk.HashedKey(key), body); res.Status != 200 || res.Body != `{"ok":true,"modified":true}`+"\n" {
			t.Errorf("good register: %d %q", res.Status, res.Body)
		}
		// Out-of-band over HTTP, signed: the app posts with the hashed key.
		app.key = key
		if res := ts.api(t, ts.token(t, ts.mustUser(t, "a@example.com", cms.RoleAdmin)), "POST", "/api/apps", map[string]string{"url": app.url()}); res.Status != 200 {
			t.Errorf("signed out-of-band sync: %d %s", res.Status, res.Body)
		}
		// The /v0 runs API (use_api) answers only with the hashed key, and only runs of apps.
		res, err := ts.Eng.Send(context.Background(), engine.Event{Name: "app/hello"})
		if err != nil || len(res.Runs) != 1 {
			t.Fatalf("send: %v %v", res, err)
		}
		get := func(path, auth string) response {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
			req.Header.Set("Authorization", auth)
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Body.Close()
			b, _ := io.ReadAll(r.Body)
			return response{r.StatusCode, r.Header, string(b)}
		}
		good := "Bearer " + sdk.HashedKey(key)
		if r := get("/v0/runs/"+res.Runs[0]+"/batch", good); r.Status != 200 || !strings.Contains(r.Body, `"name":"app/hello"`) {
			t.Errorf("batch: %d %s", r.Status, r.Body)
		}
		if r := get("/v0/runs/"+res.Runs[0]+"/actions", good); r.Status != 200 || !strings.HasPrefix(r.Body, "{") {
			t.Errorf("actions: %d %s", r.Status, r.Body)
		}
		if r := get("/v0/runs/"+res.Runs[0]+"/actions", "Bearer undefined"); r.Status != 401 {
			t.Errorf("actions with a wrong key: %d", r.Status)
		}
		other, _ := ts.Eng.Send(context.Background(), engine.Event{Name: cms.EventUpdated, Data: map[string]any{"id": 1}})
		if r := get("/v0/runs/"+other.Runs[0]+"/batch", good); r.Status != 404 {
			t.Errorf("a run of a Go function: %d %s", r.Status, r.Body)
		}
		// The dev event key is refused in signed mode.
		if res := ts.rawAPI(t, "", "POST", "/e/NO_EVENT_KEY_SET", `{"name":"app/hello"}`); res.Status != 401 {
			t.Errorf("NO_EVENT_KEY_SET in signed mode: %d", res.Status)
		}
		_ = time.Second
	})
}

// TestRemoveApp: an admin removes an app by DELETE /api/apps?url= or by the page's "Remove"
// (CSRF, the box ticked). Its runs in progress are cancelled saying why, its functions start
// no more runs, and the app is gone from the list; syncing it again brings it back.
func TestRemoveApp(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newOOBApp(t)
		ts, _ := appsServer(t, db, app, true)
		tok := ts.token(t, ts.mustUser(t, "admin@example.com", cms.RoleAdmin))
		ctx := context.Background()
		sync := func() {
			t.Helper()
			if res := ts.api(t, tok, "POST", "/api/apps", map[string]string{"url": app.url()}); res.Status != 200 {
				t.Fatalf("sync: %d %s", res.Status, res.Body)
			}
		}
		startRun := func() string {
			t.Helper()
			res, err := ts.Eng.Send(ctx, engine.Event{Name: "app/hello"})
			if err != nil || len(res.Runs) != 1 {
				t.Fatalf("send app/hello: %+v %v", res, err)
			}
			return res.Runs[0] // no workers here: it stays queued, in progress
		}
		assertGone := func(runID string) {
			t.Helper()
			run, err := ts.Eng.GetRun(ctx, runID)
			if err != nil {
				t.Fatal(err)
			}
			if run.Status != engine.StatusCancelled || !strings.Contains(run.Error, "app "+app.url()+" was removed") {
				t.Errorf("run in progress after removal: %s %q, want cancelled saying the app was removed", run.Status, run.Error)
			}
			if res, err := ts.Eng.Send(ctx, engine.Event{Name: "app/hello"}); err != nil || len(res.Runs) != 0 {
				t.Errorf("after removal app/hello started runs %v (%v)", res.Runs, err)
			}
			if res := ts.api(t, tok, "GET", "/api/apps", nil); strings.Contains(res.Body, app.url()) {
				t.Errorf("the removed app is still listed: %s", res.Body)
			}
		}

		// The API.
		sync()
		run := startRun()
		if res := ts.api(t, tok, "DELETE", "/api/apps", nil); res.Status != 422 || !strings.Contains(res.Body, `"url"`) {
			t.Errorf("DELETE without url: %d %s", res.Status, res.Body)
		}
		if res := ts.api(t, tok, "DELETE", "/api/apps?url="+url.QueryEscape("http://127.0.0.1:1/none"), nil); res.Status != 404 {
			t.Errorf("DELETE of an unknown app: %d %s", res.Status, res.Body)
		}
		res := ts.api(t, tok, "DELETE", "/api/apps?url="+url.QueryEscape(app.url()), nil)
		if res.Status != 200 || res.Body != `{"url":"`+app.url()+`","cancelled":1}`+"\n" {
			t.Fatalf("DELETE /api/apps: %d %s", res.Status, res.Body)
		}
		assertGone(run)

		// The page: the box must be ticked; then the app goes, with a notice.
		sync()
		run = startRun()
		b := ts.client(t)
		b.login("admin@example.com")
		page := b.get("/admin/apps")
		if len(findTestID(t, page.Body, "remove-confirm")) != 1 {
			t.Fatalf("no Remove form with its confirmation box on the app's card")
		}
		if res := b.post("/admin/apps/remove", url.Values{"url": {app.url()}}); res.Status != 422 || len(findTestID(t, res.Body, "remove-error")) != 1 {
			t.Errorf("remove without the box ticked: %d", res.Status)
		}
		if r, _ := ts.Eng.GetRun(ctx, run); r.Status != engine.StatusQueued {
			t.Fatalf("an unconfirmed removal changed the run: %s", r.Status)
		}
		res = b.post("/admin/apps/remove", url.Values{"url": {app.url()}, "confirm": {"yes"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("remove: %d %s", res.Status, snippet(res.Body))
		}
		if n := findTestID(t, b.get(res.Header.Get("Location")).Body, "removed"); len(n) != 1 || !strings.Contains(text(n[0]), "1 runs in progress were cancelled") {
			t.Errorf("no notice of the removal")
		}
		assertGone(run)
	})
}
