package sdkapps

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/engine/sdk"
	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/internal/testwait"
	"github.com/inkflow/inkflow/web"
)

// clock is real time plus an offset: the engine's injected clock, so a cron tick in
// Europe/Lisbon comes when the test says.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().UTC().Add(c.off) }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.off += d; c.mu.Unlock() }

// Set moves the clock so that Now is t (from then on it follows real time again).
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.off = time.Until(t); c.mu.Unlock() }

// inkflow is an in-process inkflow (engine, CMS, HTTP server with the apps registry).
type inkflow struct {
	t   *testing.T
	url string
	eng *engine.Engine
	reg *sdk.Registry
	cms *cms.CMS
	clk *clock
	ctx context.Context
	h   http.Handler
	hmu sync.Mutex
	// client, when set, is the registry's HTTP client (a test puts something on the way).
	client *http.Client
}

func startInkflow(t *testing.T, db *testdb.DB, clk *clock) *inkflow {
	t.Helper()
	f := &inkflow{t: t, clk: clk, ctx: context.Background()}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hmu.Lock()
		h := f.h
		f.hmu.Unlock()
		if h == nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	f.url = hs.URL
	eng := enginetest.New(t, db, engine.Options{Now: clk.Now, BackoffBase: time.Millisecond,
		BackoffMax: 20 * time.Millisecond, Lease: 5 * time.Second})
	f.eng = eng
	f.cms = cms.New(cms.Options{DB: db.DB, Engine: eng, BcryptCost: bcrypt.MinCost})
	return f
}

// serve builds the apps registry (allowing appOrigin) and the HTTP server, and starts workers.
func (f *inkflow) serve(db *testdb.DB, appOrigin string, dev bool, useAPIAbove ...int) {
	t := f.t
	allow, err := sdk.ParseAllowList(appOrigin)
	if err != nil {
		t.Fatal(err)
	}
	// The registry signs with the real clock: the SDKs refuse signatures more than 5 minutes
	// from their own time.
	cfg := sdk.Config{DB: db.DB, Engine: f.eng, Dev: dev, Allow: allow, Client: f.client}
	if len(useAPIAbove) > 0 {
		cfg.UseAPIAbove = useAPIAbove[0]
	}
	f.reg, err = sdk.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Config{DB: db.DB, Engine: f.eng, CMS: f.cms, Apps: f.reg, UploadDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	f.hmu.Lock()
	f.h = srv.Handler()
	f.hmu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.eng.Start(ctx) }()
	go f.reg.Watch(ctx, 100*time.Millisecond)
	t.Cleanup(func() { cancel(); <-done })
}

// await waits until the run has status, within the test's deadline (enginetest.Await).
func (f *inkflow) await(runID string, status engine.Status) *engine.Run {
	f.t.Helper()
	return enginetest.Await(f.t, f.eng, runID, status)
}

// runsOf waits until function id has n runs with status and returns them.
func (f *inkflow) runsOf(id string, n int, status engine.Status) []engine.Run {
	f.t.Helper()
	var done, all []engine.Run
	enginetest.Eventually(f.t, fmt.Sprintf("function %s to have %d runs %s", id, n, status), func() bool {
		runs, _, err := f.eng.ListRuns(f.ctx, engine.RunFilter{FunctionID: id})
		if err != nil {
			f.t.Fatal(err)
		}
		all, done = runs, nil
		for _, r := range runs {
			if r.Status == status {
				done = append(done, r)
			}
		}
		return len(done) >= n
	}, func() string { return fmt.Sprintf("%d of its %d runs are: %+v", len(done), len(all), all) })
	return done
}

func (f *inkflow) send(name string, data map[string]any) string {
	f.t.Helper()
	res, err := f.eng.Send(f.ctx, engine.Event{Name: name, Data: data})
	if err != nil {
		f.t.Fatal(err)
	}
	if len(res.Runs) != 1 {
		f.t.Fatalf("%s started %d runs, want 1", name, len(res.Runs))
	}
	return res.Runs[0]
}

// startNode serves js/app.mjs with env and returns its origin; the process is killed (by its
// pid) when the test ends.
func startNode(t *testing.T, env ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testdb.Need(t, "node is not installed (real inngest-js SDK tests)")
	}
	npmInstall(t)
	return startApp(t, exec.Command(node, "js/app.mjs"), env...)
}

var (
	npmOnce sync.Once
	npmErr  error
	npmOut  []byte
)

// npmInstall installs js/'s pinned SDKs (package-lock.json) once, when they are missing.
func npmInstall(t *testing.T) {
	t.Helper()
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join("js", "node_modules", "inngest4", "package.json")); err == nil {
			return
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			npmErr = err
			return
		}
		cmd := exec.Command(npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund")
		cmd.Dir = "js"
		npmOut, npmErr = cmd.CombinedOutput()
	})
	if npmErr != nil {
		t.Fatalf("npm ci in e2e/sdkapps/js: %v\n%s", npmErr, npmOut)
	}
}

// startApp starts an app process with env (the SDK's variables of this environment left out)
// and returns its origin once it prints "listening PORT"; it is killed, by its pid, when the
// test ends.
func startApp(t *testing.T, cmd *exec.Cmd, env ...string) string {
	t.Helper()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INNGEST_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = &logWriter{t: t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	port := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if p, ok := strings.CutPrefix(lines.Text(), "listening "); ok {
				port <- p
			}
		}
	}()
	select {
	case p := <-port:
		return "http://127.0.0.1:" + p
	case <-time.After(time.Until(testwait.Deadline(t))):
		t.Fatal("gave up waiting for the app to print its port")
	}
	return ""
}

// logWriter shows the app's stderr in the test log.
type logWriter struct{ t *testing.T }

func (w *logWriter) Write(p []byte) (int, error) {
	w.t.Log("app: " + strings.TrimSpace(string(p)))
	return len(p), nil
}

// signedSetup makes inkflow's signing key (as `inkflow apps signing-key` does) and an event
// key for an app in signed mode.
func signedSetup(t *testing.T, db *testdb.DB, f *inkflow) (key, eventKey string) {
	t.Helper()
	key = "signkey-prod-" + strings.Repeat("ab", 32)
	if err := db.Exec(`INSERT INTO sdk_signing_keys (id, signing_key, created_at) VALUES (1, ?, 0)`, key).Error; err != nil {
		t.Fatal(err)
	}
	eventKey, _, err := f.cms.EventKeys.Create(f.ctx, "sdk app")
	if err != nil {
		t.Fatal(err)
	}
	return key, eventKey
}

// beforeLisbon9 is five minutes before the first 09:00 in Lisbon that is more than six
// minutes after now: where the cron part of a test puts the engine's clock.
func beforeLisbon9(now time.Time) time.Time {
	loc, _ := time.LoadLocation("Europe/Lisbon")
	now = now.In(loc)
	nine := time.Date(now.Year(), now.Month(), now.Day(), 9, 0, 0, 0, loc)
	if !nine.After(now.Add(6 * time.Minute)) {
		nine = nine.AddDate(0, 0, 1)
	}
	return nine.Add(-5 * time.Minute)
}

// TestInngestJS runs the app on inngest 3.x (its blog review an @inngest/workflow-kit
// Engine) and on 4.x, each in dev mode, in signed mode, and in signed mode with every call
// sent without its memo (use_api: the SDK fetches it from /v0/runs/{id}/actions and /batch).
func TestInngestJS(t *testing.T) {
	t.Parallel()
	for _, sdk := range []string{"inngest", "inngest4"} {
		for _, mode := range []string{"dev", "signed", "use-api"} {
			t.Run(sdk+"/"+mode, func(t *testing.T) {
				testdb.Each(t, func(t *testing.T, db *testdb.DB) { runJSApp(t, db, sdk, mode) })
			})
		}
	}
}

func runJSApp(t *testing.T, db *testdb.DB, pkg string, mode string) {
	dev := mode == "dev"
	clk := &clock{}
	f := startInkflow(t, db, clk)
	env := []string{"INNGEST_PKG=" + pkg, "INNGEST_DEV=" + f.url}
	var key string
	if !dev {
		var evKey string
		key, evKey = signedSetup(t, db, f)
		env = []string{"INNGEST_PKG=" + pkg, "INNGEST_DEV=0", "INNGEST_BASE_URL=" + f.url, "INNGEST_SIGNING_KEY=" + key, "INNGEST_EVENT_KEY=" + evKey}
	}
	origin := startNode(t, env...)
	if mode == "use-api" {
		f.serve(db, origin, dev, 1)
	} else {
		f.serve(db, origin, dev)
	}
	if got, _ := f.reg.SigningKey(f.ctx); !dev && got != key {
		t.Fatalf("signing key %q", got)
	}

	app, err := f.reg.Sync(f.ctx, origin+"/api/inngest")
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	ids := map[string]bool{}
	for _, fn := range app.Functions {
		ids[fn.ID] = true
	}
	for _, id := range []string{"smart-blog-blog-review", "smart-blog-nightly-digest", "smart-blog-process-log", "smart-blog-strict", "smart-blog-strict-failure"} {
		if !ids[id] {
			t.Fatalf("synced functions %v lack %s (app %+v)", ids, id, app)
		}
	}
	if !strings.HasPrefix(app.SDK, "js:") {
		t.Errorf("sdk = %q", app.SDK)
	}

	// The blog workflow: review, wait for approval (match data.id), apply.
	id := f.send("blog-post.updated", map[string]any{"id": 7})
	f.await(id, engine.StatusWaiting)
	if _, err := f.eng.Send(f.ctx, engine.Event{Name: "blog-post.approve-ai-suggestions", Data: map[string]any{"id": 8, "by": "mallory"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.Send(f.ctx, engine.Event{Name: "blog-post.approve-ai-suggestions", Data: map[string]any{"id": 7, "by": "ana"}}); err != nil {
		t.Fatal(err)
	}
	run := f.await(id, engine.StatusCompleted)
	var out struct {
		Status  string
		Applied struct{ By string }
	}
	_ = json.Unmarshal(run.Output, &out)
	if out.Status != "applied" || out.Applied.By != "ana" {
		t.Errorf("blog review output = %s", run.Output)
	}
	if wantSDK := map[string]string{"inngest": "js:v3.", "inngest4": "js:v4."}[pkg]; !strings.HasPrefix(app.SDK, wantSDK) {
		t.Errorf("sdk = %q, want %s*", app.SDK, wantSDK)
	}
	if pkg == "inngest" && !strings.Contains(string(run.Output), `"workflow":"workflow-kit"`) {
		t.Errorf("on 3.x the review runs through workflow-kit: %s", run.Output)
	}
	names := []string{}
	for _, s := range run.Steps {
		names = append(names, s.Name)
	}
	if !strings.Contains(strings.Join(names, ","), "load post") || !strings.Contains(strings.Join(names, ","), "apply changes") {
		t.Errorf("step names = %v, want the SDK's display names", names)
	}

	// Cron at 09:00 Lisbon on the injected clock, presented as inngest/scheduled.timer; its
	// sendEvent fans out to three runs that each retry once.
	// The clock follows real time, and everything above took some: it is put five minutes
	// before the next 09:00 only now (forward only, so an earlier first sight by the engine's
	// own scheduler stays in the past), then moved past 09:00.
	clk.Set(beforeLisbon9(clk.Now()))
	if _, err := f.eng.RunCron(f.ctx); err != nil { // first sight of the schedule
		t.Fatal(err)
	}
	clk.Add(6 * time.Minute)
	if _, err := f.eng.RunCron(f.ctx); err != nil {
		t.Fatal(err)
	}
	digest := f.runsOf("smart-blog-nightly-digest", 1, engine.StatusCompleted)
	if !strings.Contains(string(digest[0].Output), `"trigger":"inngest/scheduled.timer"`) || !strings.Contains(string(digest[0].Output), `"sent":3`) {
		t.Errorf("digest output = %s", digest[0].Output)
	}
	for _, r := range f.runsOf("smart-blog-process-log", 3, engine.StatusCompleted) {
		if !strings.Contains(string(r.Output), `"attempt":2`) {
			t.Errorf("process-log output = %s, want it done on its second attempt", r.Output)
		}
	}

	// NonRetriableError fails the run at once; onFailure gets inngest/function.failed.
	id = f.send("logs/strict", map[string]any{"line": "garbage"})
	run = f.await(id, engine.StatusFailed)
	if run.Attempt != 0 || !strings.Contains(run.Error, "bad record") {
		t.Errorf("strict run: attempt %d, error %q", run.Attempt, run.Error)
	}
	failure := f.runsOf("smart-blog-strict-failure", 1, engine.StatusCompleted)
	if !strings.Contains(string(failure[0].Output), `"reported":"bad record"`) || !strings.Contains(string(failure[0].Output), `"original":"logs/strict"`) {
		t.Errorf("onFailure output = %s", failure[0].Output)
	}
}
