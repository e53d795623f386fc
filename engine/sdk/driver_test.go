package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// clock is real time plus an offset the test advances (sleeps and timeouts without waiting).
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().UTC().Add(c.off) }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.off += d; c.mu.Unlock() }

// env is one inkflow process (engine + registry) over a test database, serving a fake app.
type env struct {
	t   *testing.T
	db  *testdb.DB
	eng *engine.Engine
	reg *Registry
	clk *clock
	ctx context.Context
}

func newEnv(t *testing.T, db *testdb.DB, clk *clock, allow string, dev bool) *env {
	t.Helper()
	if clk == nil {
		clk = &clock{}
	}
	eng := enginetest.New(t, db, engine.Options{Now: clk.Now, BackoffBase: time.Millisecond,
		BackoffMax: 20 * time.Millisecond, Lease: 3 * time.Second})
	al, err := ParseAllowList(allow)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := New(Config{DB: db.DB, Engine: eng, Dev: dev, Allow: al, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, eng: eng, reg: reg, clk: clk, ctx: context.Background()}
}

// start loads the apps and runs the engine's workers and the registry's watch until stop or
// the test's end.
func (e *env) start() (stop func()) {
	e.t.Helper()
	if err := e.reg.Load(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.eng.Start(ctx) }()
	go e.reg.Watch(ctx, 50*time.Millisecond)
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	e.t.Cleanup(stop)
	return stop
}

func (e *env) send(name string, data map[string]any) string {
	e.t.Helper()
	res, err := e.eng.Send(e.ctx, engine.Event{Name: name, Data: data})
	if err != nil {
		e.t.Fatalf("send %s: %v", name, err)
	}
	if len(res.Runs) != 1 {
		e.t.Fatalf("send %s started %d runs, want 1", name, len(res.Runs))
	}
	return res.Runs[0]
}

// await waits until the run reaches status, within the test's deadline (enginetest.Await:
// a run that finished otherwise fails the test at once).
func (e *env) await(runID string, status engine.Status) *engine.Run {
	e.t.Helper()
	return enginetest.Await(e.t, e.eng, runID, status)
}

func (e *env) register(req RegisterRequest) {
	e.t.Helper()
	if _, err := e.reg.Register(e.ctx, req, RegisterAuth{}); err != nil {
		e.t.Fatalf("register: %v", err)
	}
}

func fn(id, event string) FunctionConfig {
	return FunctionConfig{ID: id, Name: id, Triggers: []TriggerConfig{{Event: event}}}
}

func withRetries(f FunctionConfig, n int) FunctionConfig {
	f.Other = nil
	entry := f.Steps["step"]
	entry.Retries = &struct {
		Attempts *int `json:"attempts"`
	}{Attempts: &n}
	f.Steps = map[string]StepConfig{"step": entry}
	return f
}

// registerRetries registers fc with retries.attempts = n (the fake fills the entry URL first).
func (e *env) registerRetries(app *fakeApp, fc FunctionConfig, n int) {
	req := app.register(fc)
	req.Functions[0] = withRetries(req.Functions[0], n)
	e.register(req)
}

func stepByName(t *testing.T, run *engine.Run, name string) engine.StepInfo {
	t.Helper()
	for _, s := range run.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("run has no step named %q: %+v", name, run.Steps)
	return engine.StepInfo{}
}

func TestDriverRunsStepsSleepsAndMemoizes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		var aRuns atomic.Int32
		app.add("fake-steps", func(s *fakeStep) (any, error) {
			a, _ := s.Run("load post", func() (any, error) { aRuns.Add(1); return map[string]int{"n": int(s.Event().Data["n"].(float64))}, nil })
			var got struct{ N int }
			_ = json.Unmarshal(a, &got)
			s.Sleep("cool down", "1h")
			b, _ := s.Run("double", func() (any, error) { return got.N * 2, nil })
			return map[string]json.RawMessage{"b": b}, nil
		})
		e := newEnv(t, db, nil, app.srv.URL, true)
		e.register(app.register(fn("fake-steps", "post/created")))
		e.start()
		id := e.send("post/created", map[string]any{"n": 21})
		e.await(id, engine.StatusSleeping)
		e.clk.Add(2 * time.Hour)
		run := e.await(id, engine.StatusCompleted)
		if string(run.Output) != `{"b":42}` {
			t.Errorf("output = %s", run.Output)
		}
		if aRuns.Load() != 1 {
			t.Errorf("step ran %d times, want once (memoized across the sleep)", aRuns.Load())
		}
		if s := stepByName(t, run, "load post"); s.ID != HashStepID("load post") || s.Kind != "run" || string(s.Output) != `{"n":21}` {
			t.Errorf("step = %+v", s)
		}
		if s := stepByName(t, run, "cool down"); s.ID != HashStepID("cool down") || s.Kind != "sleep" {
			t.Errorf("the sleep is not shown by the app's name: %+v", s)
		}
		calls := app.callsOf("fake-steps")
		last := calls[len(calls)-1].Req
		want := []string{HashStepID("load post"), HashStepID("cool down"), HashStepID("double")}
		if strings.Join(last.Ctx.Stack.Stack[:2], ",") != strings.Join(want[:2], ",") {
			t.Errorf("stack = %v, want it to start %v", last.Ctx.Stack.Stack, want[:2])
		}
		if string(last.Steps[want[0]]) != `{"data":{"n":21}}` || string(last.Steps[want[1]]) != "null" {
			t.Errorf("memo = %s / %s", last.Steps[want[0]], last.Steps[want[1]])
		}
		if last.Event.Name != "post/created" || last.Event.User == nil || last.Ctx.RunID != id || last.Version != 1 {
			t.Errorf("call = %+v", last)
		}
	})
}

func TestDriverStepRetriesThenFailsForGood(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		var flaky atomic.Int32
		app.add("fake-flaky", func(s *fakeStep) (any, error) {
			v, err := s.Run("flaky", func() (any, error) {
				if flaky.Add(1) < 3 {
					return nil, errors.New("not yet")
				}
				return "ok", nil
			})
			if err != nil {
				return nil, err
			}
			_, err = s.Run("doomed", func() (any, error) { return nil, errors.New("boom") })
			if err != nil {
				return "caught " + err.Error() + " after " + string(v), nil // user code catches a failed step
			}
			return "unreachable", nil
		})
		e := newEnv(t, db, nil, app.srv.URL, true)
		e.registerRetries(app, fn("fake-flaky", "job/start"), 2)
		e.start()
		run := e.await(e.send("job/start", nil), engine.StatusCompleted)
		if string(run.Output) != `"caught boom after \"ok\""` {
			t.Errorf("output = %s", run.Output)
		}
		if s := stepByName(t, run, "flaky"); s.Status != "completed" || s.Attempts != 3 {
			t.Errorf("flaky = %+v, want completed on its third attempt", s)
		}
		if s := stepByName(t, run, "doomed"); s.Status != "failed" || s.Attempts != 3 || s.Error != "Error: boom" {
			t.Errorf("doomed = %+v, want failed after 3 attempts", s)
		}
		var attempts []int
		for _, c := range app.callsOf("fake-flaky") {
			if c.StepID == HashStepID("flaky") || c.StepID == HashStepID("doomed") {
				attempts = append(attempts, c.Req.Ctx.Attempt)
			}
			if c.Req.Ctx.MaxAttempts != 3 {
				t.Fatalf("max_attempts = %d, want 3 (retries 2 + 1)", c.Req.Ctx.MaxAttempts)
			}
		}
		if got := attempts; len(got) != 4 || got[0] != 1 || got[1] != 2 || got[2] != 1 || got[3] != 2 {
			t.Errorf("attempts of the targeted retry calls = %v, want [1 2 1 2]", got)
		}
	})
}

func TestDriverWaitForEventWithIf(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		app.add("fake-review", func(s *fakeStep) (any, error) {
			ev := s.WaitForEvent("wait for approval", "post/approved", "event.data.id == async.data.id", "1d")
			if ev == nil {
				return "timed out", nil
			}
			return map[string]any{"by": ev.Data["by"], "name": ev.Name}, nil
		})
		e := newEnv(t, db, nil, app.srv.URL, true)
		e.register(app.register(fn("fake-review", "post/sent")))
		e.start()
		id := e.send("post/sent", map[string]any{"id": 1})
		e.await(id, engine.StatusWaiting)
		if _, err := e.eng.Send(e.ctx, engine.Event{Name: "post/approved", Data: map[string]any{"id": 2, "by": "mallory"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.eng.Send(e.ctx, engine.Event{Name: "post/approved", Data: map[string]any{"id": 1, "by": "ana"}}); err != nil {
			t.Fatal(err)
		}
		run := e.await(id, engine.StatusCompleted)
		if string(run.Output) != `{"by":"ana","name":"post/approved"}` {
			t.Errorf("output = %s", run.Output)
		}
		// And the timeout: the wait resumes with null.
		id = e.send("post/sent", map[string]any{"id": 3})
		e.await(id, engine.StatusWaiting)
		e.clk.Add(25 * time.Hour)
		if run := e.await(id, engine.StatusCompleted); string(run.Output) != `"timed out"` {
			t.Errorf("after the timeout output = %s", run.Output)
		}
	})
}

func TestDriverAnswers(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		var calls atomic.Int32
		app.add("fake-answers", func(s *fakeStep) (any, error) {
			switch s.Event().Data["case"] {
			case "nonretriable":
				return nil, nonRetriable{"bad input"}
			case "throw":
				return nil, errors.New("function-level failure")
			}
			return "fine", nil
		})
		// Non-SDK answers and 5xx with Retry-After come first, then the app answers properly.
		app.setAnswer(func(c fakeCall) (int, string, http.Header, bool) {
			kase, _ := c.Req.Event.Data["case"].(string)
			n := calls.Add(1)
			switch {
			case kase == "proxy" && n%2 == 1:
				return 200, "<html>login</html>", http.Header{HeaderSDK: nil}, true
			case kase == "unavailable" && n%2 == 1:
				return 503, `{"message":"warming up"}`, http.Header{HeaderRetryAfter: {"0"}}, true
			case kase == "unauthorized":
				return 401, `{"message":"Invalid signature"}`, nil, true
			}
			return 0, "", nil, false
		})
		e := newEnv(t, db, nil, app.srv.URL, true)
		e.registerRetries(app, fn("fake-answers", "answers/try"), 1)
		e.start()
		for kase, want := range map[string]struct {
			status engine.Status
			text   string
		}{
			"proxy":        {engine.StatusCompleted, `"fine"`},
			"unavailable":  {engine.StatusCompleted, `"fine"`},
			"nonretriable": {engine.StatusFailed, "NonRetriableError: bad input"},
			"throw":        {engine.StatusFailed, "Error: function-level failure"},
			"unauthorized": {engine.StatusFailed, "signing key"},
		} {
			calls.Store(0)
			run := e.await(e.send("answers/try", map[string]any{"case": kase}), want.status)
			got := string(run.Output)
			if want.status == engine.StatusFailed {
				got = run.Error
			}
			if !strings.Contains(got, want.text) {
				t.Errorf("%s: %s with %q, want %q", kase, run.Status, got, want.text)
			}
			if kase == "nonretriable" && run.Attempt != 0 {
				t.Errorf("a No-Retry answer was retried (attempt %d)", run.Attempt)
			}
			if kase == "throw" && run.Attempt != 1 {
				t.Errorf("a 500 was tried %d more times, want 1 (retries 1)", run.Attempt)
			}
		}
	})
}

func TestDriverSurvivesARestartAndAnAppCrash(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		var first atomic.Int32
		var dropped atomic.Bool
		app.add("fake-crash", func(s *fakeStep) (any, error) {
			s.Run("first", func() (any, error) { first.Add(1); return 1, nil })
			s.Sleep("pause", "1h")
			s.Run("second", func() (any, error) { return 2, nil })
			return "done", nil
		})
		// The app dies in the middle of the call after the sleep, once: the connection drops.
		app.setAnswer(func(c fakeCall) (int, string, http.Header, bool) {
			if _, slept := c.Req.Steps[HashStepID("pause")]; slept && dropped.CompareAndSwap(false, true) {
				panic(http.ErrAbortHandler)
			}
			return 0, "", nil, false
		})
		clk := &clock{}
		a := newEnv(t, db, clk, app.srv.URL, true)
		a.register(app.register(fn("fake-crash", "crash/start")))
		stopA := a.start()
		id := a.send("crash/start", nil)
		a.await(id, engine.StatusSleeping)
		stopA()
		// A new process: it knows the function only from the database.
		b := newEnv(t, db, clk, app.srv.URL, true)
		b.start()
		clk.Add(2 * time.Hour)
		run := b.await(id, engine.StatusCompleted)
		if first.Load() != 1 || !dropped.Load() {
			t.Errorf("first step ran %d times (want 1); connection dropped: %v", first.Load(), dropped.Load())
		}
		if string(run.Output) != `"done"` {
			t.Errorf("output = %s", run.Output)
		}
	})
}

func TestDriverPlannedStepsAndEventNames(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		app.add("fake-parallel", func(s *fakeStep) (any, error) {
			out := s.Parallel("a", "b", "c")
			return out, nil
		})
		var failedSeen atomic.Value
		app.add("fake-doomed", func(s *fakeStep) (any, error) { return nil, nonRetriable{"no"} })
		app.add("fake-doomed-failure", func(s *fakeStep) (any, error) {
			failedSeen.Store(s.Event())
			return "reported", nil
		})
		e := newEnv(t, db, nil, app.srv.URL, true)
		doomedFailure := FunctionConfig{ID: "fake-doomed-failure", Name: "on failure",
			Triggers: []TriggerConfig{{Event: EventFunctionFailed, Expression: "event.data.function_id == 'fake-doomed'"}}}
		e.register(app.register(fn("fake-parallel", "par/start"), fn("fake-doomed", "doom/start"), doomedFailure))
		e.start()
		run := e.await(e.send("par/start", nil), engine.StatusCompleted)
		if string(run.Output) != `["done a","done b","done c"]` {
			t.Errorf("parallel output = %s", run.Output)
		}
		e.await(e.send("doom/start", nil), engine.StatusFailed)
		enginetest.Eventually(t, "the onFailure function to be called", func() bool { return failedSeen.Load() != nil })
		ev, _ := failedSeen.Load().(CallEvent)
		if ev.Name != EventFunctionFailed || ev.Data["function_id"] != "fake-doomed" {
			t.Fatalf("onFailure function saw %+v", ev)
		}
		if got, _ := ev.Data["error"].(map[string]any); got["name"] != "NonRetriableError" || got["message"] != "no" {
			t.Errorf("failure event error = %v, want an error object", ev.Data["error"])
		}
	})
}

func TestDriverInvokeBothWays(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		var calleeSaw atomic.Value
		app.add("fake-invoker", func(s *fakeStep) (any, error) {
			v, err := s.Invoke("ask go", "go-double", map[string]any{"n": 21})
			if err != nil {
				return nil, err
			}
			return map[string]json.RawMessage{"from_go": v}, nil
		})
		app.add("fake-callee", func(s *fakeStep) (any, error) {
			calleeSaw.Store(s.Event())
			return map[string]any{"tripled": s.Event().Data["n"].(float64) * 3}, nil
		})
		e := newEnv(t, db, nil, app.srv.URL, true)
		err := e.eng.Register(
			&engine.Function{ID: "go-double", Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Event.Data["n"].(float64) * 2, nil
			}},
			&engine.Function{ID: "go-caller", Triggers: []engine.Trigger{{Event: "go/call"}}, Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.Invoke(ctx, "ask the app", "fake-callee", map[string]any{"n": 5}, time.Hour)
			}},
		)
		if err != nil {
			t.Fatal(err)
		}
		// fake-callee has no trigger of its own: it is only invoked (Inngest allows that).
		callee := FunctionConfig{ID: "fake-callee", Name: "callee", Triggers: []TriggerConfig{{Event: "fake/never"}}}
		e.register(app.register(fn("fake-invoker", "invoke/start"), callee))
		e.start()
		run := e.await(e.send("invoke/start", nil), engine.StatusCompleted)
		if string(run.Output) != `{"from_go":42}` {
			t.Errorf("SDK -> Go output = %s", run.Output)
		}
		run = e.await(e.send("go/call", nil), engine.StatusCompleted)
		if string(run.Output) != `{"tripled":15}` {
			t.Errorf("Go -> SDK output = %s", run.Output)
		}
		if ev, _ := calleeSaw.Load().(CallEvent); ev.Name != EventInvoked {
			t.Errorf("the invoked SDK function saw %q, want %s", ev.Name, EventInvoked)
		}
	})
}

// TestDriverRefusesForgedAnswers: in signed mode an answer whose signature does not match
// (its body changed after the app signed it) or that carries none is refused and nothing of
// it is recorded; the call is made again and the genuine answer is taken. A forged in-band
// sync answer changes no function.
func TestDriverRefusesForgedAnswers(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		var ran atomic.Int32
		app.add("fake-signed", func(s *fakeStep) (any, error) {
			v, _ := s.Run("pay", func() (any, error) { ran.Add(1); return "genuine", nil })
			return v, nil
		})
		e := newEnv(t, db, nil, app.srv.URL, false)
		key, err := e.reg.SigningKey(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		app.setKey(key)
		var forged atomic.Int32
		app.setForge(func(h http.Header, body []byte) []byte {
			if !strings.Contains(string(body), "genuine") {
				return body
			}
			switch forged.Add(1) {
			case 1: // the body changed, the app's signature kept
				return []byte(strings.ReplaceAll(string(body), "genuine", "forged!"))
			case 2: // the signature taken off
				h.Del(HeaderSignature)
				return []byte(strings.ReplaceAll(string(body), "genuine", "forged!"))
			}
			return body
		})
		if _, err := e.reg.Register(e.ctx, app.register(fn("fake-signed", "signed/pay")), RegisterAuth{Authorization: "Bearer " + HashedKey(key)}); err != nil {
			t.Fatal(err)
		}
		e.start()
		run := e.await(e.send("signed/pay", nil), engine.StatusCompleted)
		if string(run.Output) != `"genuine"` || string(stepByName(t, run, "pay").Output) != `"genuine"` {
			t.Errorf("output %s, step %s: a forged answer was recorded", run.Output, stepByName(t, run, "pay").Output)
		}
		if forged.Load() < 3 || ran.Load() != 3 {
			t.Errorf("answers forged %d, step ran %d times; want the two forged answers refused and the third taken", forged.Load(), ran.Load())
		}

		// The in-band sync answer, changed after signing, is refused: the functions stay.
		app.add("fake-extra", func(s *fakeStep) (any, error) { return nil, nil })
		app.setForge(func(h http.Header, body []byte) []byte {
			return []byte(strings.ReplaceAll(string(body), `"name":"fake-signed"`, `"name":"evil"`))
		})
		if _, err := e.reg.Sync(e.ctx, app.url()); err == nil || !strings.Contains(err.Error(), "signing key") {
			t.Fatalf("sync with a forged answer: %v", err)
		}
		a, err := e.reg.App(e.ctx, app.url())
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Functions) != 1 || a.Functions[0].Name != "fake-signed" {
			t.Errorf("after a forged sync answer the functions are %+v", a.Functions)
		}
		app.setForge(nil)
		if a, err := e.reg.Sync(e.ctx, app.url()); err != nil || len(a.Functions) != 2 {
			t.Errorf("a genuine in-band sync: %+v, %v", a, err)
		}
	})
}
