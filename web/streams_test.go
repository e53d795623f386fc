package web

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/internal/testwait"
)

// openTokenStream GETs a live path with an API token.
func openTokenStream(t *testing.T, ts *testServer, tok, path string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		cancel()
		t.Fatalf("token stream %s: %v %v", path, err, res)
	}
	s := &sseStream{res: res, lines: bufio.NewScanner(res.Body), cancel: cancel}
	s.lines.Buffer(make([]byte, 1<<20), 8<<20)
	t.Cleanup(s.close)
	return s
}

// ends reads the stream until the server ends it; a stream that stays open fails the test
// when its 30 s context runs out.
func (s *sseStream) ends(t *testing.T) {
	t.Helper()
	for {
		if _, ok := s.next(t); !ok {
			return
		}
	}
}

// A live stream ends soon after its viewer signs out, is disabled, changes role or has the
// token revoked (it kept delivering after logout before); a stream of someone else goes on.
func TestStreamsEndWhenTheSessionEnds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db), func(c *Config) { c.StreamRecheck = 100 * time.Millisecond })
		ctx := context.Background()
		browser := func(email string, role cms.Role) (*webClient, *cms.User) {
			u := ts.mustUser(t, email, role)
			b := ts.client(t)
			b.login(email)
			return b, u
		}
		ts.mustUser(t, "boss@example.com", cms.RoleAdmin) // the demoted admin is not the last
		leaving, _ := browser("leaving@example.com", cms.RoleViewer)
		disabled, du := browser("disabled@example.com", cms.RoleViewer)
		demoted, eu := browser("demoted@example.com", cms.RoleAdmin)
		staying, _ := browser("staying@example.com", cms.RoleViewer)
		tu := ts.mustUser(t, "token@example.com", cms.RoleViewer)
		tok, tokRow, err := ts.CMS.Tokens.Create(ctx, tu.ID, "stream")
		if err != nil {
			t.Fatal(err)
		}

		s1 := openStream(t, leaving, "/admin/runs/stream")
		s2 := openStream(t, disabled, "/admin/events/stream")
		s3 := openStream(t, demoted, "/admin/runs/stream")
		s4 := openTokenStream(t, ts, tok, "/admin/runs/stream")
		s5 := openStream(t, staying, "/admin/runs/stream")
		for _, s := range []*sseStream{s1, s2, s3, s4, s5} {
			if ev, ok := s.next(t); !ok || ev.name != "update" {
				t.Fatalf("first event %+v %v", ev, ok)
			}
		}

		if r := leaving.post("/logout", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("logout: %d", r.Status)
		}
		s1.ends(t)
		if err := ts.CMS.Users.SetDisabled(ctx, du.ID, true); err != nil {
			t.Fatal(err)
		}
		s2.ends(t)
		if err := ts.CMS.Users.SetRole(ctx, eu.ID, cms.RoleViewer); err != nil {
			t.Fatal(err)
		}
		s3.ends(t)
		if err := ts.CMS.Tokens.Revoke(ctx, tu.ID, tokRow.ID); err != nil {
			t.Fatal(err)
		}
		s4.ends(t)

		// The stream of a viewer who did nothing still delivers: a new run shows up on it.
		if _, err := ts.Eng.Send(ctx, engine.Event{Name: cms.EventUpdated, Data: map[string]any{"id": 1}}); err != nil {
			t.Fatal(err)
		}
		if ev, ok := s5.next(t); !ok || ev.name != "update" {
			t.Fatalf("the staying viewer's stream: %+v %v", ev, ok)
		}
	})
}

// Live streams are capped per user and per process: past either a new one is 429, and a
// place comes back when a stream closes.
func TestStreamsAreCapped(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db), func(c *Config) { c.StreamsPerUser, c.Streams = 2, 3 })
		ann, bob := ts.client(t), ts.client(t)
		ts.mustUser(t, "ann@example.com", cms.RoleViewer)
		ts.mustUser(t, "bob@example.com", cms.RoleViewer)
		ann.login("ann@example.com")
		bob.login("bob@example.com")
		status := func(b *webClient) int {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/admin/runs/stream", nil)
			res, err := b.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			if res.StatusCode == 200 {
				return 200 // the stream closes with ctx
			}
			_, _ = io.ReadAll(res.Body)
			return res.StatusCode
		}
		a1 := openStream(t, ann, "/admin/runs/stream")
		openStream(t, ann, "/admin/runs/stream")
		if got := status(ann); got != http.StatusTooManyRequests {
			t.Errorf("ann's third stream: %d, want 429", got)
		}
		openStream(t, bob, "/admin/runs/stream")
		if got := status(bob); got != http.StatusTooManyRequests {
			t.Errorf("a fourth stream in all: %d, want 429", got)
		}
		a1.close()
		testwait.For(t, "a place to come back after a stream closed", func() bool {
			return status(bob) == 200
		}, func() string { return "bob's stream is still refused" })
	})
}
