package web

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
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
