package sdkapps

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// forger sits between inkflow and the app (the registry's transport) and changes the app's
// answers after the app signed them: what a proxy or an attacker on the way could do.
type forger struct {
	mu     sync.Mutex
	change func(req *http.Request, h http.Header, body []byte) []byte
}

func (f *forger) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	change := f.change
	f.mu.Unlock()
	if change == nil {
		return resp, nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = change(req, resp.Header, body)
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func (f *forger) set(change func(req *http.Request, h http.Header, body []byte) []byte) {
	f.mu.Lock()
	f.change = change
	f.mu.Unlock()
}

// TestSignedAnswersAreChecked runs the real SDKs in signed mode with their answers changed on
// the way: inkflow takes the genuine signed answers (inngest-js signs every answer, inngestgo
// its in-band sync answer), refuses a step's answer whose body no longer matches its signature
// or whose signature was taken off, records nothing of it and calls again, and refuses a
// function list changed after it was signed.
func TestSignedAnswersAreChecked(t *testing.T) {
	t.Parallel()
	for _, pkg := range []string{"inngest", "inngest4", "go"} {
		t.Run(pkg, func(t *testing.T) {
			testdb.Each(t, func(t *testing.T, db *testdb.DB) { runForged(t, db, pkg) })
		})
	}
}

func runForged(t *testing.T, db *testdb.DB, pkg string) {
	f := startInkflow(t, db, &clock{})
	fg := &forger{}
	f.client = &http.Client{Transport: fg}
	key, evKey := signedSetup(t, db, f)
	env := []string{"INNGEST_BASE_URL=" + f.url, "INNGEST_SIGNING_KEY=" + key, "INNGEST_EVENT_KEY=" + evKey}
	var origin string
	if pkg == "go" {
		origin = startApp(t, exec.Command(buildGoApp(t)), env...)
	} else {
		origin = startNode(t, append(env, "INNGEST_PKG="+pkg, "INNGEST_DEV=0")...)
	}
	f.serve(db, origin, false)
	appURL := origin + "/api/inngest"

	// A function list changed after the app signed it is refused; nothing is stored.
	fg.set(func(req *http.Request, h http.Header, body []byte) []byte {
		return bytes.Replace(body, []byte(`"name":"`), []byte(`"name":"evil `), 1)
	})
	if _, err := f.reg.Sync(f.ctx, appURL); err == nil || !strings.Contains(err.Error(), "signing key") {
		t.Fatalf("sync with a changed function list: %v", err)
	}
	if apps, _ := f.reg.Apps(f.ctx); len(apps) != 1 || len(apps[0].Functions) != 0 {
		t.Fatalf("after a forged sync answer the apps are %+v", apps)
	}
	fg.set(nil)
	if _, err := f.reg.Sync(f.ctx, appURL); err != nil {
		t.Fatalf("a genuine signed in-band sync: %v", err)
	}
	if pkg == "go" {
		// inngestgo v0.16 signs no call answer: its runs work signed, unchecked.
		if run := f.await(f.send("go/bench.one", nil), engine.StatusCompleted); string(run.Output) != "1" {
			t.Errorf("go one-step output = %s", run.Output)
		}
		return
	}

	// The review's first step, "load post", answers {"id":7,"title":"Post 7"}: its first
	// answer is changed under its signature, the second loses its signature.
	var forged atomic.Int32
	fg.set(func(req *http.Request, h http.Header, body []byte) []byte {
		if req.Method != http.MethodPost || !bytes.Contains(body, []byte("Post 7")) {
			return body
		}
		switch forged.Add(1) {
		case 1:
		case 2:
			h.Del("X-Inngest-Signature")
		default:
			return body
		}
		return bytes.ReplaceAll(body, []byte("Post 7"), []byte("Evil 7"))
	})
	id := f.send("blog-post.updated", map[string]any{"id": 7})
	run := f.await(id, engine.StatusWaiting)
	for _, s := range run.Steps {
		if strings.Contains(string(s.Output), "Evil") {
			t.Errorf("a forged answer was recorded: step %s = %s", s.Name, s.Output)
		}
	}
	if n := forged.Load(); n < 3 {
		t.Errorf("the answer carrying the step was seen %d times, want 3 (two refused, the third taken)", n)
	}
	if !strings.Contains(stepOutputs(run), "Post 7") {
		t.Errorf("the genuine step output is missing: %+v", run.Steps)
	}
}

func stepOutputs(run *engine.Run) string {
	var b strings.Builder
	for _, s := range run.Steps {
		b.Write(s.Output)
	}
	return b.String()
}
