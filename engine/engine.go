package engine

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"
)

// Engine stores events, starts runs and executes them. One Engine per process; any number
// of processes may share one PostgreSQL database.
type Engine struct {
	opts  Options
	db    *gorm.DB
	funcs map[string]*Function
}

// New returns an Engine over opts.DB (already migrated).
func New(opts Options) (*Engine, error) { panic("engine: not implemented yet") }

// Register adds functions. It refuses a duplicate ID, a trigger without event or cron, a
// cron schedule or CEL expression that does not parse. Call before Start.
func (e *Engine) Register(fns ...*Function) error { panic("engine: not implemented yet") }

// Functions returns the registered functions sorted by ID.
func (e *Engine) Functions() []*Function { panic("engine: not implemented yet") }

// Send stores events and starts the runs they trigger, in one transaction.
func (e *Engine) Send(ctx context.Context, events ...Event) (SendResult, error) {
	panic("engine: not implemented yet")
}

// SendTx stores events inside the caller's transaction tx, so that a state change and its
// event commit together or not at all. Runs it starts become visible when tx commits.
func (e *Engine) SendTx(ctx context.Context, tx *gorm.DB, events ...Event) (SendResult, error) {
	panic("engine: not implemented yet")
}

// Start runs workers, the cron scheduler and the wake-up listener until ctx is done, then
// stops claiming, lets runs in hand finish or releases them, and returns.
func (e *Engine) Start(ctx context.Context) error { panic("engine: not implemented yet") }

// Cancel cancels a run that has not finished; a sleeping or waiting run is cancelled at once.
func (e *Engine) Cancel(ctx context.Context, runID string) error {
	panic("engine: not implemented yet")
}

// Rerun starts a new run of the same function for the same event and returns its id.
func (e *Engine) Rerun(ctx context.Context, runID string) (string, error) {
	panic("engine: not implemented yet")
}

// GetRun returns a run with its steps; ENotFound if there is none.
func (e *Engine) GetRun(ctx context.Context, runID string) (*Run, error) {
	panic("engine: not implemented yet")
}

// ListRuns returns runs newest first and the cursor of the next page ("" at the end).
func (e *Engine) ListRuns(ctx context.Context, f RunFilter) ([]Run, string, error) {
	panic("engine: not implemented yet")
}

// CountRuns returns the number of runs per status matching f (Status ignored).
func (e *Engine) CountRuns(ctx context.Context, f RunFilter) (map[Status]int, error) {
	panic("engine: not implemented yet")
}

// ListEvents returns events newest first with the runs each started.
func (e *Engine) ListEvents(ctx context.Context, f EventFilter) ([]StoredEvent, string, error) {
	panic("engine: not implemented yet")
}

// Step is a run's step tool, handed to the handler in Input.Step. Its methods are safe to
// call from the goroutines of Parallel.
type Step struct{}

// Run executes fn once and stores its JSON result; on replay it returns the stored result
// without calling fn. A failing fn is retried with backoff; NonRetriable fails the run at
// once; RetryAfter sets the delay. A repeated id within one run gets a ":N" suffix.
func (s *Step) Run(ctx context.Context, id string, fn func(ctx context.Context) (any, error), opts ...StepOption) (json.RawMessage, error) {
	panic("engine: not implemented yet")
}

// Sleep suspends the run for d.
func (s *Step) Sleep(ctx context.Context, id string, d time.Duration) error {
	panic("engine: not implemented yet")
}

// SleepUntil suspends the run until t.
func (s *Step) SleepUntil(ctx context.Context, id string, t time.Time) error {
	panic("engine: not implemented yet")
}

// WaitForEvent suspends the run until a matching event arrives (returned) or the timeout
// passes (nil, nil).
func (s *Step) WaitForEvent(ctx context.Context, id string, w Wait) (*Event, error) {
	panic("engine: not implemented yet")
}

// SendEvent sends events once: on replay it returns the ids stored the first time.
func (s *Step) SendEvent(ctx context.Context, id string, events ...Event) ([]string, error) {
	panic("engine: not implemented yet")
}

// Invoke starts a run of function functionID with data as its event's data and waits for
// its result (or timeout).
func (s *Step) Invoke(ctx context.Context, id string, functionID string, data map[string]any, timeout time.Duration) (json.RawMessage, error) {
	panic("engine: not implemented yet")
}

// Parallel runs fns concurrently (each typically calls Step methods with distinct ids) and
// returns when all have returned or suspended. If any suspended, the run suspends after the
// others finish; otherwise the first error is returned.
func (s *Step) Parallel(ctx context.Context, fns ...func(ctx context.Context) error) error {
	panic("engine: not implemented yet")
}

// IdempotencyKey returns "runID:stepID" inside a Step.Run fn ("" elsewhere): a key for side
// effects that must happen once even if fn runs twice.
func IdempotencyKey(ctx context.Context) string { panic("engine: not implemented yet") }
