package web

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
)

// A bare CR in what a live stream sends (a webhook's answer, a workflow name) cannot end a
// data line early: EventSource takes CR as a line end, so it would inject fields.
func TestStreamEventsHaveNoBareCR(t *testing.T) {
	rec := httptest.NewRecorder()
	w := echo.NewResponse(rec, echo.New())
	if err := writeEvent(w, "update", "a\rretry: 1\r\nevent: x\nb"); err != nil {
		t.Fatal(err)
	}
	out := rec.Body.String()
	if strings.Contains(out, "\r") {
		t.Fatalf("stream frame holds a CR: %q", out)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n\n"), "\n") {
		if line != "event: update" && !strings.HasPrefix(line, "data: ") {
			t.Fatalf("line %q of %q is not a data line", line, out)
		}
	}
}

// Idle and slow connections are closed by the server's timeouts (shortened here) instead of
// staying open for ever.
func TestServerClosesIdleAndSlowConnections(t *testing.T) {
	saved := [4]time.Duration{ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout}
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout = 300*time.Millisecond, 500*time.Millisecond, 2*time.Second, 300*time.Millisecond
	t.Cleanup(func() {
		ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout = saved[0], saved[1], saved[2], saved[3]
	})
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	})}
	ConfigureHTTP(hs)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })

	closed := func(c net.Conn) bool { // the server hangs up well within the test's patience
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err := io.ReadAll(c)
		return err == nil // EOF: the server closed it (a read timeout would be an error)
	}
	for name, send := range map[string]string{
		"silent":    "",
		"slow head": "GET / HTTP/1.1\r\nHost: x\r\n",
		"slow body": "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc",
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(c, send)
		if !closed(c) {
			t.Errorf("%s connection stayed open", name)
		}
		c.Close()
	}
	// A kept-alive connection is closed once idle.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !closed(c) {
		t.Error("idle kept-alive connection stayed open")
	}
}

// Invalid UTF-8 or NUL in a JSON field, a query filter or a form field is a 4xx that names the
// field, on both databases (PostgreSQL answered 500 for each of these); a chunked form over
// the body limit is 413, not a handler's "title is required".
func TestBadTextIsRefusedByField(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		tok := ts.token(t, admin)
		for _, c := range []struct {
			method, path, body, field string
		}{
			{"POST", "/api/posts", `{"title":"a\u0000b","markdown":"x"}`, "title"},
			{"POST", "/api/posts", "{\"title\":\"a\xffb\",\"markdown\":\"x\"}", "body"},
			{"POST", "/api/events", `{"name":"n\u0000","data":{}}`, "name"},
			{"POST", "/api/events", `{"name":"n","data":{"deep":["ok","x\u0000"]}}`, "data.deep[1]"},
			{"POST", "/api/workflows", `{"name":"w\u0000","trigger":"a.b"}`, "name"},
			{"GET", "/api/runs?status=%ff", "", "status"},
			{"GET", "/api/events?name=a%00b", "", "name"},
		} {
			res := ts.rawAPI(t, tok, c.method, c.path, c.body)
			if res.Status < 400 || res.Status >= 500 || !strings.Contains(res.Body, c.field) {
				t.Errorf("%s %s %q: %d %.200s; want a 4xx naming %q", c.method, c.path, c.body, res.Status, res.Body, c.field)
			}
		}
		form := func(body io.Reader, length int64) int {
			req, _ := http.NewRequest("POST", ts.URL+"/admin/posts/new", body)
			req.ContentLength = length
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		if got := form(strings.NewReader("title=a%FFb"), -1); got != 422 {
			t.Errorf("form field with invalid UTF-8: %d, want 422", got)
		}
		big := io.MultiReader(strings.NewReader("title=x&markdown="), strings.NewReader(strings.Repeat("a", 2<<20)))
		if got := form(big, -1); got != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked form over the limit: %d, want 413", got)
		}
	})
}

// The sign-in limit holds for the cluster: failures spread over two instances on one
// database count together (each kept its own count before, so two instances doubled the tries).
func TestLoginLimitHoldsAcrossInstances(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		a := newTestServer(t, db, nil)
		b := newTestServer(t, db, nil)
		a.mustUser(t, "ed@example.com", cms.RoleEditor)
		ca, cb := a.client(t), b.client(t)
		for i := range 10 {
			c := ca
			if i%2 == 1 {
				c = cb
			}
			if r := c.post("/login", url.Values{"email": {"ed@example.com"}, "password": {"wrong password!"}}); r.Status != 401 {
				t.Fatalf("attempt %d = %d", i, r.Status)
			}
		}
		for name, c := range map[string]*webClient{"first": ca, "second": cb} {
			if r := c.post("/login", url.Values{"email": {"ed@example.com"}, "password": {"correct horse battery"}}); r.Status != http.StatusTooManyRequests {
				t.Errorf("11th attempt on the %s instance = %d, want 429", name, r.Status)
			}
		}
	})
}
