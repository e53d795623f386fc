package browser_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/internal/browser"
)

const smokePage = `<!doctype html><html><body>
<button data-testid="go" onclick="document.querySelector('[data-testid=status]').textContent='clicked'">Go</button>
<p data-testid="status">idle</p></body></html>`

func smokeServer(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(smokePage))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRunDrivesChromium runs a real headless Chromium against a real HTTP server: the script
// clicks a button that only JavaScript can change and saves a screenshot.
func TestRunDrivesChromium(t *testing.T) {
	srv := smokeServer(t)
	shot := filepath.Join("testdata", "out", "smoke.png")
	_ = os.Remove(shot)

	out := browser.Run(t, "testdata/smoke.mjs", map[string]string{"BASE_URL": srv.URL})

	if !strings.Contains(out, "RESULT clicked") {
		t.Errorf("script output lacks its result:\n%s", out)
	}
	info, err := os.Stat(shot)
	if err != nil {
		t.Fatalf("screenshot not written: %v", err)
	}
	if info.Size() < 1000 {
		t.Errorf("screenshot is %d bytes, too small to be a page", info.Size())
	}
}

// TestRunReportsScriptFailure checks that a failing script fails the Go test with the
// script's own words; it runs Run in a subtest-like recorder so this test itself passes.
func TestRunReportsScriptFailure(t *testing.T) {
	browser.Need(t)
	srv := smokeServer(t)
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		browser.Run(rec, "testdata/smoke.mjs", map[string]string{"BASE_URL": srv.URL, "WANT_FAIL": "1"})
	}()
	<-done
	if !rec.failed {
		t.Fatal("a script that exits non-zero did not fail the test")
	}
	if !strings.Contains(rec.msg, "asked to fail") {
		t.Errorf("failure message does not carry the script output:\n%s", rec.msg)
	}
}

// recorder stands in for the test in TestRunReportsScriptFailure, recording Fatalf instead of
// stopping this test; Fatalf ends the goroutine as testing.T does.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Logf(string, ...any) {}
