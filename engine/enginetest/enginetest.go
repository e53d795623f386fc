// Package enginetest is the test harness for code that runs the durable engine: build an
// engine over a test database with functions registered, start its workers for the length of
// the test, wait for a run to reach a status, and a settable clock for schedules and sleeps.
//
// Waits have no fixed deadlines: they last until shortly before the test's own deadline
// (go test -timeout, t.Deadline(); see internal/testwait), so a slow machine or -race makes a
// test slower, never red, while a run that can no longer reach the status (it finished
// otherwise) fails at once.
package enginetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/internal/testwait"
)

// New builds an engine over db with fns registered, failing the test on error. opts.DB and
// opts.URL are set from db; a zero opts.Poll becomes 100 ms. Its workers are not started:
// a test that only sends, queries or runs cron by hand needs none (see Start).
func New(t testing.TB, db *testdb.DB, opts engine.Options, fns ...*engine.Function) *engine.Engine {
	t.Helper()
	opts.DB, opts.URL = db.DB, db.URL
	if opts.Poll == 0 {
		opts.Poll = 100 * time.Millisecond
	}
	eng, err := engine.New(opts)
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	if len(fns) > 0 {
		if err := eng.Register(fns...); err != nil {
			t.Fatalf("register functions: %v", err)
		}
	}
	return eng
}

// Start is New followed by StartWorkers.
func Start(t testing.TB, db *testdb.DB, opts engine.Options, fns ...*engine.Function) *engine.Engine {
	t.Helper()
	eng := New(t, db, opts, fns...)
	StartWorkers(t, eng)
	return eng
}

// StartWorkers runs eng's workers until the test ends; the cleanup stops them and waits until
// they have returned, so nothing outlives the test's database. A worker that stops with an
// error fails the test.
func StartWorkers(t testing.TB, eng *engine.Engine) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Start(ctx) }()
	t.Cleanup(func() {
		select {
		case err := <-done: // stopped on their own, before the test ended
			cancel()
			t.Errorf("engine workers stopped during the test: %v", err)
		default:
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("engine workers stopped: %v", err)
			}
		}
	})
}

// Await waits until run id has status want and returns it. It fails the test when the run
// finishes with another status (showing its error) or the test's deadline comes near.
func Await(t testing.TB, eng *engine.Engine, id string, want engine.Status) *engine.Run {
	t.Helper()
	return AwaitRun(t, eng, id, "be "+string(want), func(r *engine.Run) bool {
		if r.Status != want && r.Status.Finished() {
			t.Fatalf("run %s (%s) finished %s, want %s: %s", r.ID, r.FunctionID, r.Status, want, r.Error)
		}
		return r.Status == want
	})
}

// AwaitRun waits until ok holds for run id and returns the run; what says, for the failure
// message, what the test waited for ("have two steps").
func AwaitRun(t testing.TB, eng *engine.Engine, id, what string, ok func(*engine.Run) bool) *engine.Run {
	t.Helper()
	var last *engine.Run
	Eventually(t, "run "+id+" to "+what, func() bool {
		r, err := eng.GetRun(context.Background(), id)
		if err != nil {
			t.Fatalf("get run %s: %v", id, err)
		}
		last = r
		return ok(r)
	}, func() string { return "it is " + string(last.Status) + " " + last.Error })
	return last
}

// Eventually waits until cond holds (testwait.For): until shortly before the test's deadline,
// then it fails the test saying what it waited for, and detail's words when given.
func Eventually(t testing.TB, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	testwait.For(t, what, cond, detail...)
}

// Clock is a settable time source for engine.Options.Now (and anything else that takes a
// func() time.Time), safe to share between engines and goroutines.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads start until moved.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to now.
func (c *Clock) Set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}
