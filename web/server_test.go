package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// testServer is a real server over a real database, reached over real HTTP.
type testServer struct {
	*httptest.Server
	CMS *cms.CMS
	Eng *engine.Engine
	DB  *testdb.DB
	Srv *Server
}

type serverOption func(*Config)

func newTestServer(t *testing.T, db *testdb.DB, eng *engine.Engine, opts ...serverOption) *testServer {
	t.Helper()
	c := cms.New(cms.Options{DB: db.DB, Engine: eng, BcryptCost: bcrypt.MinCost})
	cfg := Config{DB: db.DB, Engine: eng, CMS: c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), UploadDir: t.TempDir()}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &testServer{Server: hs, CMS: c, Eng: eng, DB: db, Srv: srv}
}

// mustUser creates a user with a password.
func (ts *testServer) mustUser(t *testing.T, email string, role cms.Role) *cms.User {
	t.Helper()
	u, err := ts.CMS.Users.Create(context.Background(), cms.NewUser{Email: email, Role: role, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// webClient is an HTTP client with cookies, like a browser; it never follows redirects so
// tests see them.
type webClient struct {
	t    *testing.T
	ts   *testServer
	http *http.Client
}

func (ts *testServer) client(t *testing.T) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, ts: ts, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// csrf returns the browser's CSRF cookie, fetching a page first if needed.
func (b *webClient) csrf() string {
	u, _ := url.Parse(b.ts.URL)
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == csrfCookie {
			return c.Value
		}
	}
	b.get("/login")
	for _, c := range b.http.Jar.Cookies(u) {
		if c.Name == csrfCookie {
			return c.Value
		}
	}
	b.t.Fatal("no CSRF cookie")
	return ""
}

type response struct {
	Status int
	Header http.Header
	Body   string
}

func (b *webClient) do(req *http.Request) response {
	b.t.Helper()
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(body)}
}

func (b *webClient) get(path string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.ts.URL+path, nil)
	return b.do(req)
}

// post sends a form with the CSRF token, as the pages do.
func (b *webClient) post(path string, form url.Values) response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get(csrfField) == "" {
		form.Set(csrfField, b.csrf())
	}
	req, _ := http.NewRequest(http.MethodPost, b.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// send makes a JSON request with the CSRF header, as htmx and the editor do.
func (b *webClient) send(method, path string, body any) response {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = strings.NewReader(string(raw))
	}
	req, _ := http.NewRequest(method, b.ts.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(csrfHeader, b.csrf())
	return b.do(req)
}

// login signs the browser in with the test password.
func (b *webClient) login(email string) {
	b.t.Helper()
	res := b.post("/login", url.Values{"email": {email}, "password": {"correct horse battery"}})
	if res.Status != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d: %s", email, res.Status, res.Body)
	}
}

// api calls the JSON API with a bearer token and body as JSON.
func (ts *testServer) api(t *testing.T, token, method, path string, body any) response {
	t.Helper()
	raw := ""
	if body != nil {
		b, _ := json.Marshal(body)
		raw = string(b)
	}
	return ts.rawAPI(t, token, method, path, raw)
}

// rawAPI sends body as it is (malformed JSON included) with a bearer token.
func (ts *testServer) rawAPI(t *testing.T, token, method, path, body string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, ts.URL+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(out)}
}

func (ts *testServer) token(t *testing.T, u *cms.User) string {
	t.Helper()
	tok, _, err := ts.CMS.Tokens.Create(context.Background(), u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestServerBasics(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, nil)
		b := ts.client(t)

		if r := b.get("/healthz"); r.Status != 200 {
			t.Errorf("healthz = %d", r.Status)
		}
		if r := b.get("/readyz"); r.Status != 200 || !strings.Contains(r.Body, "ready") {
			t.Errorf("readyz = %d %s", r.Status, r.Body)
		}
		r := b.get("/no/such/page")
		if r.Status != 404 || !strings.Contains(r.Body, `data-testid="error-404"`) {
			t.Errorf("unknown page = %d, want the 404 page:\n%s", r.Status, r.Body)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
			if r.Header.Get(h) == "" {
				t.Errorf("missing header %s", h)
			}
		}
		r = b.get("/api/nothing")
		if r.Status != 404 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || !strings.Contains(r.Body, `"error"`) {
			t.Errorf("unknown API route = %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		if r := b.get("/static/css/site.css"); r.Status != 200 || !strings.Contains(r.Header.Get("Content-Type"), "css") {
			t.Errorf("stylesheet = %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		if r := b.get("/static/static.go"); r.Status != 404 {
			t.Errorf("static Go source = %d, want 404", r.Status)
		}
		if r := b.get("/static/js/htmx.min.js"); r.Status != 200 {
			t.Errorf("htmx = %d", r.Status)
		}
	})
}

func TestSetupThenLogin(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, nil)
		b := ts.client(t)
		if r := b.get("/login"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/setup" {
			t.Fatalf("fresh install /login = %d %s, want redirect to /setup", r.Status, r.Header.Get("Location"))
		}
		r := b.post("/setup", url.Values{"email": {"not-an-email"}, "password": {"short"}})
		if r.Status != 422 || !strings.Contains(r.Body, `data-testid="error-email"`) {
			t.Fatalf("bad setup = %d, want 422 with the email error:\n%s", r.Status, r.Body)
		}
		if n, _ := ts.CMS.Users.Count(context.Background()); n != 0 {
			t.Fatalf("bad setup stored %d users", n)
		}
		r = b.post("/setup", url.Values{"email": {"Admin@Example.com"}, "name": {"Ada"}, "password": {"correct horse battery"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin" {
			t.Fatalf("setup = %d %s", r.Status, r.Body)
		}
		if r := b.get("/admin"); r.Status != 200 || !strings.Contains(r.Body, `data-testid="whoami"`) {
			t.Fatalf("admin after setup = %d", r.Status)
		}
		if r := b.get("/setup"); r.Status != 404 {
			t.Errorf("/setup after setup = %d, want 404", r.Status)
		}
		if r := ts.client(t).post("/setup", url.Values{"email": {"evil@example.com"}, "password": {"correct horse battery"}}); r.Status != 404 {
			t.Errorf("second setup = %d, want 404", r.Status)
		}

		// Sign out, then a wrong password, then the right one.
		if r := b.post("/logout", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("logout = %d", r.Status)
		}
		if r := b.get("/admin"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("admin after logout = %d %s", r.Status, r.Header.Get("Location"))
		}
		r = b.post("/login", url.Values{"email": {"admin@example.com"}, "password": {"wrong password!"}})
		if r.Status != 401 || !strings.Contains(r.Body, "wrong email or password") {
			t.Fatalf("wrong password = %d %s", r.Status, r.Body)
		}
		b.login("admin@example.com")
		if r := b.get("/admin"); r.Status != 200 {
			t.Fatalf("admin after login = %d", r.Status)
		}
	})
}

func TestLoginIsRateLimited(t *testing.T) {
	db := testdb.SQLite(t)
	ts := newTestServer(t, db, nil)
	ts.mustUser(t, "ed@example.com", cms.RoleEditor)
	b := ts.client(t)
	for i := range 10 {
		if r := b.post("/login", url.Values{"email": {"ed@example.com"}, "password": {"wrong password!"}}); r.Status != 401 {
			t.Fatalf("attempt %d = %d", i, r.Status)
		}
	}
	r := b.post("/login", url.Values{"email": {"ed@example.com"}, "password": {"correct horse battery"}})
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("11th attempt = %d, want 429 even with the right password", r.Status)
	}
}

func TestSessionCookieFlagsAndNewIDAtLogin(t *testing.T) {
	db := testdb.SQLite(t)
	ts := newTestServer(t, db, nil, func(c *Config) { c.SecureCookies = true })
	ts.mustUser(t, "ed@example.com", cms.RoleEditor)
	b := ts.client(t)
	// A session id planted before sign-in must not survive it.
	u, _ := url.Parse(ts.URL)
	b.http.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "planted", Path: "/"}})
	r := b.post("/login", url.Values{"email": {"ed@example.com"}, "password": {"correct horse battery"}})
	var sc string
	for _, h := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, sessionCookie+"=") {
			sc = h
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Secure"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	if strings.Contains(sc, "planted") || sc == "" {
		t.Errorf("session cookie %q", sc)
	}
}

func TestCSRF(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, nil)
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		b := ts.client(t)
		b.login("admin@example.com")

		// A form without the token, or with another one, is refused and does nothing.
		for name, tok := range map[string]string{"missing": "", "wrong": strings.Repeat("x", 43)} {
			form := url.Values{"email": {"admin@example.com"}}
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/logout", strings.NewReader(form.Encode()+"&_csrf="+tok))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if r := b.do(req); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "CSRF") {
				t.Errorf("%s token: logout = %d, want 403", name, r.Status)
			}
			if r := b.get("/admin"); r.Status != 200 {
				t.Fatalf("%s token: the refused logout signed us out (%d)", name, r.Status)
			}
		}
		// JSON with the session cookie needs the header too.
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/posts", strings.NewReader(`{"title":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		if r := b.do(req); r.Status != http.StatusForbidden || !strings.Contains(r.Body, `"error"`) {
			t.Errorf("cookie JSON without CSRF header = %d %s", r.Status, r.Body)
		}
		// A bearer token is not ambient, so it needs no CSRF token.
		if r := ts.api(t, ts.token(t, admin), http.MethodGet, "/api/me", nil); r.Status != 200 || !strings.Contains(r.Body, "admin@example.com") {
			t.Errorf("bearer /api/me = %d %s", r.Status, r.Body)
		}
	})
}

func TestAPIAuth(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, nil)
		u := ts.mustUser(t, "v@example.com", cms.RoleViewer)
		tok := ts.token(t, u)
		if r := ts.api(t, "", http.MethodGet, "/api/me", nil); r.Status != 401 || !strings.Contains(r.Body, `"error"`) {
			t.Errorf("anonymous = %d %s", r.Status, r.Body)
		}
		if r := ts.api(t, "ink_wrong", http.MethodGet, "/api/me", nil); r.Status != 401 {
			t.Errorf("bad token = %d", r.Status)
		}
		if r := ts.api(t, tok, http.MethodGet, "/api/me", nil); r.Status != 200 {
			t.Errorf("token = %d", r.Status)
		}
		if err := ts.CMS.Users.SetDisabled(context.Background(), u.ID, true); err != nil {
			t.Fatal(err)
		}
		if r := ts.api(t, tok, http.MethodGet, "/api/me", nil); r.Status != 401 {
			t.Errorf("disabled user's token = %d, want 401", r.Status)
		}
	})
}

func TestBodyLimit(t *testing.T) {
	db := testdb.SQLite(t)
	ts := newTestServer(t, db, nil, func(c *Config) { c.BodyLimit = 1000 })
	u := ts.mustUser(t, "ed@example.com", cms.RoleAdmin)
	r := ts.api(t, ts.token(t, u), http.MethodPost, "/api/me", map[string]string{"x": strings.Repeat("a", 2000)})
	if r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(r.Body, `"error"`) {
		t.Errorf("oversized body = %d %s", r.Status, r.Body)
	}
}
