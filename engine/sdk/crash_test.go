package sdk

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/internal/testwait"
)

// startChild runs this test binary as a separate inkflow process over db (main_test.go),
// calling only app. kill SIGKILLs it and waits for it to be gone.
func startChild(t *testing.T, db *testdb.DB, app *fakeApp) (kill func()) {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "child.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDB+"="+db.URL, childAllow+"="+app.srv.URL)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	kill = func() {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Kill)
			_ = cmd.Wait()
			logf.Close()
			if t.Failed() {
				b, _ := os.ReadFile(logPath)
				t.Logf("child process log:\n%s", b)
			}
		})
	}
	t.Cleanup(kill)
	return kill
}

// blocker holds the app's answer to the calls it matches until released: the moment the test
// kills the process that made the call.
type blocker struct {
	reached chan struct{}
	release chan struct{}
	once    sync.Once
}

func newBlocker(t *testing.T) *blocker {
	b := &blocker{reached: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(b.free)
	return b
}

func (b *blocker) hold() {
	b.once.Do(func() { close(b.reached) })
	<-b.release
}

func (b *blocker) free() {
	select {
	case <-b.release:
	default:
		close(b.release)
	}
}

func (b *blocker) awaitReached(t *testing.T, what string) {
	t.Helper()
	select {
	case <-b.reached:
	case <-time.After(time.Until(testwait.Deadline(t))):
		t.Fatalf("gave up waiting for %s", what)
	}
}

// TestSDKRunSurvivesAKilledProcessMidStep: the process running an SDK function is SIGKILLed
// while the app runs a step for it. Another process takes the run over when the lease ends:
// the run completes once, the step that had ended is never run again, and the memo the app
// gets holds it.
func TestSDKRunSurvivesAKilledProcessMidStep(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		block := newBlocker(t)
		var first, second, third atomic.Int32
		app.add("fake-kill-step", func(s *fakeStep) (any, error) {
			a, _ := s.Run("first", func() (any, error) { first.Add(1); return "a", nil })
			b, _ := s.Run("second", func() (any, error) {
				if second.Add(1) == 1 {
					block.hold() // the process that called is killed meanwhile
				}
				return "b", nil
			})
			c, _ := s.Run("third", func() (any, error) { third.Add(1); return "c", nil })
			return string(a) + string(b) + string(c), nil
		})
		e := newEnv(t, db, nil, app.srv.URL, true)
		e.register(app.register(fn("fake-kill-step", "kill/step")))
		kill := startChild(t, db, app)
		id := e.send("kill/step", nil)
		block.awaitReached(t, "the child process to call step second")
		kill()
		block.free()

		e.start() // the restarted process
		run := e.await(id, engine.StatusCompleted)
		if string(run.Output) != `"\"a\"\"b\"\"c\""` {
			t.Errorf("output = %s", run.Output)
		}
		if first.Load() != 1 || third.Load() != 1 {
			t.Errorf("step first ran %d times, third %d; want once each", first.Load(), third.Load())
		}
		if second.Load() != 2 {
			t.Errorf("step second ran %d times, want 2 (its first call died with the process)", second.Load())
		}
		assertOneRun(t, e, "fake-kill-step")
		// Every call after the kill carried the memo of the step that had ended.
		for _, c := range app.callsOf("fake-kill-step")[2:] {
			if _, ok := c.Req.Steps[HashStepID("first")]; !ok {
				t.Errorf("a call after the restart lacks the memo of step first: %v", c.Req.Steps)
			}
		}
	})
}

// TestSDKRunSurvivesAKilledProcessBetweenPlanAndCalls: the app answers a discovery call with
// three planned steps (a 206 of StepPlanned); the process is SIGKILLed while it calls them,
// after two have ended and before the third has run. After the restart the two are never
// called again, the third runs once, and the run completes once.
func TestSDKRunSurvivesAKilledProcessBetweenPlanAndCalls(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		app := newFakeApp(t)
		block := newBlocker(t)
		app.add("fake-kill-plan", func(s *fakeStep) (any, error) { return s.Parallel("a", "b", "c"), nil })
		var held atomic.Bool
		var mu sync.Mutex
		ran := map[string]int{} // targeted calls that reached the function, by step
		app.setAnswer(func(c fakeCall) (int, string, http.Header, bool) {
			if c.StepID == HashStepID("c") {
				if held.CompareAndSwap(false, true) {
					block.hold()
					// The caller is dead: answer as an app that never ran the step would.
					return http.StatusServiceUnavailable, `{"message":"gone"}`, nil, true
				}
			}
			mu.Lock()
			for _, id := range []string{"a", "b", "c"} {
				if c.StepID == HashStepID(id) {
					ran[id]++
				}
			}
			mu.Unlock()
			return 0, "", nil, false
		})
		e := newEnv(t, db, nil, app.srv.URL, true)
		e.register(app.register(fn("fake-kill-plan", "kill/plan")))
		kill := startChild(t, db, app)
		id := e.send("kill/plan", nil)
		block.awaitReached(t, "the child process to call planned step c")
		// a and b are committed before the kill (each planned step commits as it ends).
		testwait.For(t, "steps a and b to be stored", func() bool {
			run, err := e.eng.GetRun(e.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			done := 0
			for _, s := range run.Steps {
				if s.Status == "completed" && (s.ID == HashStepID("a") || s.ID == HashStepID("b")) {
					done++
				}
			}
			return done == 2
		})
		kill()
		block.free()

		e.start()
		run := e.await(id, engine.StatusCompleted)
		if string(run.Output) != `["done a","done b","done c"]` {
			t.Errorf("output = %s", run.Output)
		}
		mu.Lock()
		defer mu.Unlock()
		if ran["a"] != 1 || ran["b"] != 1 || ran["c"] != 1 {
			t.Errorf("planned steps ran %v, want each once", ran)
		}
		assertOneRun(t, e, "fake-kill-plan")
	})
}

// assertOneRun fails unless function fnID has exactly one run.
func assertOneRun(t *testing.T, e *env, fnID string) {
	t.Helper()
	counts, err := e.eng.CountRuns(e.ctx, engine.RunFilter{FunctionID: fnID})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != 1 || counts[engine.StatusCompleted] != 1 {
		t.Errorf("function %s has runs %v, want one completed", fnID, counts)
	}
}
