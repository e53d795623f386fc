package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
)

// syncBuffer collects the server's log lines from concurrent handlers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSecretsStoredHashedAndNeverLogged: an API token and an event key are stored only as
// hashes (no column of their tables holds the secret or its tail), and the server's log at
// debug level, captured while they authenticate requests through their real channels (the
// Authorization header, the /e/{key} path, the session cookie; good, revoked and wrong ones),
// never contains them.
func TestSecretsStoredHashedAndNeverLogged(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var logs syncBuffer
		ts := newTestServer(t, db, newEngine(t, db), func(c *Config) {
			c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		})
		ctx := context.Background()
		u := ts.mustUser(t, "ed@example.com", cms.RoleEditor)
		token, tokRow, err := ts.CMS.Tokens.Create(ctx, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		key, _, err := ts.CMS.EventKeys.Create(ctx, "ci")
		if err != nil {
			t.Fatal(err)
		}
		secrets := map[string]string{"API token": token, "event key": key}

		for _, table := range []string{"api_tokens", "event_keys"} {
			var rows []map[string]any
			if err := db.DB.Table(table).Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			for _, row := range rows {
				for col, v := range row {
					s, _ := v.(string)
					for what, secret := range secrets {
						if s != "" && (strings.Contains(s, secret) || strings.Contains(s, secret[len(secret)-16:])) {
							t.Errorf("%s.%s holds the %s (or its tail): %q", table, col, what, s)
						}
					}
				}
			}
		}

		// Requests that authenticate with them, well and badly.
		ts.api(t, token, "GET", "/api/me", nil)
		ts.api(t, token, "POST", "/api/events", map[string]any{"name": "test/logged", "data": map[string]any{}})
		ts.api(t, token+"x", "GET", "/api/me", nil)
		for _, k := range []string{key, key + "x"} {
			req, _ := http.NewRequest("POST", ts.URL+"/e/"+k, strings.NewReader(`{"name":"test/intake","data":{}}`))
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
		}
		b := ts.client(t)
		b.login("ed@example.com")
		var session string
		base, _ := url.Parse(ts.URL)
		for _, c := range b.http.Jar.Cookies(base) {
			if c.Name == sessionCookie {
				session = c.Value
			}
		}
		b.get("/admin")
		b.get("/no/such/page")
		ts.api(t, "", "GET", "/api/posts/../../etc/passwd", nil) // an error path logs too
		if session == "" {
			t.Fatal("no session cookie after sign-in")
		}
		secrets["session id"] = session
		ts.CMS.Tokens.Revoke(ctx, u.ID, tokRow.ID)
		ts.api(t, token, "GET", "/api/me", nil)

		out := logs.String()
		if out == "" {
			t.Fatal("the server logged nothing: the capture is broken")
		}
		for what, secret := range secrets {
			if strings.Contains(out, secret) || strings.Contains(out, secret[len(secret)-16:]) {
				t.Errorf("the server log contains the %s:\n%s", what, linesWith(out, secret[len(secret)-16:]))
			}
		}
	})
}

// linesWith returns the log lines that contain s.
func linesWith(log, s string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
