package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
)

// oidcServer is a minimal OpenID Connect provider, the edge of the world for sign-in tests:
// it checks what a real provider checks (client, redirect URI, PKCE S256) and signs in
// whoever the test says.
type oidcServer struct {
	*httptest.Server
	t        *testing.T
	mu       sync.Mutex
	email    string
	verified bool
	codes    map[string]string // code -> PKCE challenge
	tokens   map[string]bool
}

func newOIDCServer(t *testing.T) *oidcServer {
	o := &oidcServer{t: t, codes: map[string]string{}, tokens: map[string]bool{}, verified: true}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", o.authorize)
	mux.HandleFunc("/token", o.token)
	mux.HandleFunc("/userinfo", o.userinfo)
	o.Server = httptest.NewServer(mux)
	t.Cleanup(o.Close)
	return o
}

func (o *oidcServer) as(email string, verified bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.email, o.verified = email, verified
}

func (o *oidcServer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != "client-1" || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	code := "code-" + randomSuffix()
	o.codes[code] = q.Get("code_challenge")
	o.mu.Unlock()
	http.Redirect(w, r, q.Get("redirect_uri")+"?code="+code+"&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
}

func (o *oidcServer) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	o.mu.Lock()
	defer o.mu.Unlock()
	challenge, ok := o.codes[r.Form.Get("code")]
	sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge || r.Form.Get("client_secret") != "secret-1" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	delete(o.codes, r.Form.Get("code"))
	tok := "at-" + randomSuffix()
	o.tokens[tok] = true
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

func (o *oidcServer) userinfo(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")] {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"sub": "1", "email": o.email, "email_verified": o.verified, "name": "Ann Example"})
}

// googleLogin walks a browser through the whole dance and returns the final answer of our
// callback.
func googleLogin(t *testing.T, b *webClient, next string) response {
	t.Helper()
	r := b.get("/auth/google?next=" + url.QueryEscape(next))
	if r.Status != http.StatusFound {
		t.Fatalf("start = %d %s", r.Status, r.Body)
	}
	req, _ := http.NewRequest("GET", r.Header.Get("Location"), nil)
	r = b.do(req) // the provider
	if r.Status != http.StatusFound {
		t.Fatalf("provider = %d %s", r.Status, r.Body)
	}
	req, _ = http.NewRequest("GET", r.Header.Get("Location"), nil)
	return b.do(req) // our callback
}

func TestGoogleSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		o := newOIDCServer(t)
		ts := newTestServer(t, db, nil, func(c *Config) {
			c.Google = GoogleConfig{ClientID: "client-1", ClientSecret: "secret-1", AuthURL: o.URL + "/authorize", TokenURL: o.URL + "/token", UserInfoURL: o.URL + "/userinfo"}
		})
		ts.Srv.cfg.BaseURL = ts.URL // the redirect URI must reach this test server
		if err := ts.CMS.Settings.SetSignupPolicy(ctx, cms.SignupPolicy{Domains: []string{"example.com"}, DefaultRole: cms.RoleEditor}); err != nil {
			t.Fatal(err)
		}
		ts.mustUser(t, "admin@example.com", cms.RoleAdmin)

		if r := ts.client(t).get("/login"); len(findTestID(t, r.Body, "google-login")) != 1 {
			t.Error("no Google button on the sign-in page")
		}

		// A new person from an allowed domain joins with the default role.
		o.as("ann@example.com", true)
		b := ts.client(t)
		r := googleLogin(t, b, "/admin/posts")
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin/posts" {
			t.Fatalf("callback = %d %s", r.Status, r.Header.Get("Location"))
		}
		if r := b.get("/admin/posts"); r.Status != 200 {
			t.Fatalf("signed in with Google: %d", r.Status)
		}
		u, err := ts.CMS.Users.GetByEmail(ctx, "ann@example.com")
		if err != nil || u.Role != cms.RoleEditor || u.Name != "Ann Example" || u.HasPassword() {
			t.Fatalf("joined user = %+v %v", u, err)
		}

		cases := []struct {
			name, email string
			verified    bool
			wantError   string
		}{
			{"other domain", "eve@evil.example", true, "not-member"},
			{"unverified email", "bob@example.com", false, "unverified"},
		}
		for _, c := range cases {
			o.as(c.email, c.verified)
			r := googleLogin(t, ts.client(t), "/admin")
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?error="+c.wantError {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Header.Get("Location"))
			}
			if _, err := ts.CMS.Users.GetByEmail(ctx, c.email); err == nil {
				t.Errorf("%s: a user was created", c.name)
			}
		}
		// An invited user signs in whatever their domain; a disabled one does not.
		guest := ts.mustUser(t, "guest@elsewhere.org", cms.RoleViewer)
		o.as("guest@elsewhere.org", true)
		if r := googleLogin(t, ts.client(t), "/admin"); r.Header.Get("Location") != "/admin" {
			t.Errorf("invited user: %s", r.Header.Get("Location"))
		}
		ts.CMS.Users.SetDisabled(ctx, guest.ID, true)
		if r := googleLogin(t, ts.client(t), "/admin"); r.Header.Get("Location") != "/login?error=disabled" {
			t.Errorf("disabled user: %s", r.Header.Get("Location"))
		}

		// A callback whose state is not the one this browser started with is refused.
		b2 := ts.client(t)
		b2.get("/auth/google")
		if r := b2.get("/auth/google/callback?code=x&state=forged"); r.Status != http.StatusForbidden {
			t.Errorf("forged state = %d", r.Status)
		}
		// A code replayed without the verifier fails at the provider: no session.
		b3 := ts.client(t)
		start := b3.get("/auth/google")
		loc, _ := url.Parse(start.Header.Get("Location"))
		req, _ := http.NewRequest("GET", o.URL+"/authorize?"+loc.RawQuery, nil)
		prov := b3.do(req)
		cb, _ := url.Parse(prov.Header.Get("Location"))
		other := ts.client(t)
		other.get("/auth/google") // a different verifier and state in this browser
		r = other.get("/auth/google/callback?" + cb.RawQuery)
		if r.Status != http.StatusForbidden {
			t.Errorf("code used by another browser = %d", r.Status)
		}
	})
}
