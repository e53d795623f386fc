package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// injections are SQL fragments a hostile caller puts in filter parameters.
var injections = []string{
	"' OR '1'='1",
	"' OR 1=1 --",
	"1; DROP TABLE runs; --",
	"1); DELETE FROM events; --",
	"x' UNION SELECT id, id, id FROM users --",
	"%' OR name LIKE '%",
	`"; DROP TABLE posts; --`,
	"\\'; SELECT pg_sleep(5); --",
	"completed' AND (SELECT COUNT(*) FROM users) > 0 --",
	"-1 OR 1=1",
	"nul\x00byte", // PostgreSQL refuses NUL in text: must be a 4xx, not a 500
}

// TestSQLInjectionInFilters puts each injection into every filter parameter of /api/runs,
// /api/events and /api/posts. Each answer is 200 or 4xx (never 5xx); a 200 for a filter
// value that matches nothing lists nothing (an injected OR would list everything); and
// afterwards every table still holds what it held.
func TestSQLInjectionInFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		ctx := context.Background()
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		tok := ts.token(t, admin)
		for i := range 3 {
			title, md := fmt.Sprintf("Post %d", i), "Text."
			if _, err := ts.CMS.Posts.Create(ctx, admin, cms.PostInput{Title: &title, Markdown: &md}); err != nil {
				t.Fatal(err)
			}
			if _, err := ts.Eng.Send(ctx, engine.Event{Name: cms.EventUpdated, Data: map[string]any{"id": i}}); err != nil {
				t.Fatal(err)
			}
		}
		counts := func() map[string]int64 {
			out := map[string]int64{}
			for _, table := range []string{"runs", "events", "posts", "users", "api_tokens"} {
				var n int64
				if err := db.DB.Table(table).Count(&n).Error; err != nil {
					t.Fatalf("count %s: %v", table, err)
				}
				out[table] = n
			}
			return out
		}
		before := counts()
		params := map[string][]string{
			"/api/runs":   {"status", "function", "event", "workflow", "since", "until", "limit", "cursor"},
			"/api/events": {"name", "limit", "cursor"},
			"/api/posts":  {"status", "tag", "q", "limit", "offset"},
		}
		listKey := map[string]string{"/api/runs": "runs", "/api/events": "events", "/api/posts": "posts"}
		for path, names := range params {
			for _, name := range names {
				for _, inj := range injections {
					r := ts.api(t, tok, "GET", path+"?"+url.Values{name: {inj}}.Encode(), nil)
					if r.Status >= 500 || (r.Status != 200 && (r.Status < 400 || !strings.Contains(r.Body, `"error"`))) {
						t.Errorf("GET %s?%s=%q = %d %s", path, name, inj, r.Status, snippet(r.Body))
						continue
					}
					// Values that are not filters to match: numbers and times (refused or
					// defaulted) and the keyset cursor (compared as a bound, not matched).
					if r.Status != 200 || strings.Contains("limit offset since until cursor", name) {
						continue
					}
					var body map[string]json.RawMessage
					if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
						t.Fatalf("GET %s: %v", path, err)
					}
					var items []any
					json.Unmarshal(body[listKey[path]], &items)
					if len(items) != 0 {
						t.Errorf("GET %s?%s=%q listed %d items: the value was not treated as data", path, name, inj, len(items))
					}
				}
			}
		}
		// Path parameters too.
		for _, inj := range injections {
			for _, p := range []string{"/api/runs/", "/api/posts/", "/api/workflows/"} {
				r := ts.api(t, tok, "GET", p+url.PathEscape(inj), nil)
				if r.Status >= 500 || r.Status == 200 {
					t.Errorf("GET %s%q = %d %s", p, inj, r.Status, snippet(r.Body))
				}
			}
		}
		after := counts()
		for table, n := range before {
			if after[table] != n {
				t.Errorf("table %s had %d rows, now %d", table, n, after[table])
			}
		}
	})
}

// TestPayloadLimits: an event over 512 KiB is refused with 413 through /api/events and
// through Inngest intake, a body over the server's limit is refused with 413 before it is
// read, and nothing of a refused request is stored.
func TestPayloadLimits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, key := intakeServer(t, db)
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		tok := ts.token(t, admin)
		before := eventCount(t, ts.Eng)
		big := strings.Repeat("x", engine.MaxEventBytes)
		event := func(data string) string {
			return fmt.Sprintf(`{"name":"test/big","data":{"s":%q}}`, data)
		}
		cases := []struct {
			name, path, body string
			bearer           bool
		}{
			{"event over 512 KiB", "/api/events", event(big), true},
			{"one event of a batch over 512 KiB", "/api/events", "[" + event("small") + "," + event(big) + "]", true},
			{"body over the limit", "/api/events", event(strings.Repeat("y", 3<<20)), true},
			{"intake event over 512 KiB", "/e/" + key, event(big), false},
			{"intake body over the limit", "/e/" + key, event(strings.Repeat("y", 3<<20)), false},
		}
		for _, c := range cases {
			req, _ := http.NewRequest("POST", ts.URL+c.path, strings.NewReader(c.body))
			req.Header.Set("Content-Type", "application/json")
			if c.bearer {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("%s: %d, want 413", c.name, res.StatusCode)
			}
		}
		if after := eventCount(t, ts.Eng); after != before {
			t.Errorf("refused payloads stored %d events", after-before)
		}
		// Just under the limit is accepted.
		ok := event(strings.Repeat("z", engine.MaxEventBytes-200))
		if r := ts.api(t, tok, "POST", "/api/events", json.RawMessage(ok)); r.Status != 200 {
			t.Errorf("event just under 512 KiB = %d %s", r.Status, snippet(r.Body))
		}
	})
}
