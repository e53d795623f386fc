package engine

import (
	"errors"
	"fmt"
	"time"
)

// Flow is a function's flow control: Inngest's function configuration, under Inngest's names
// and with its meaning (docs/flow-control.md says where inkflow chooses differently). Keys and
// conditions are CEL over `event` (`async` too in CancelOn.If). The zero Flow limits nothing.
//
// A Function embeds its Flow; a Fanout may give each run its own (RunMeta.Flow: a workflow's
// saved config), which then replaces the function's for that run.
type Flow struct {
	// Retries is how many times a failing step is retried; nil means DefaultRetries.
	Retries *int
	// Concurrency limits how many runs execute a step at once (a sleeping or waiting run holds
	// no slot), overall or per key value; at most two limits, both must have room.
	Concurrency []Concurrency
	// Throttle delays starts beyond Limit+Burst per Period (per key), in order.
	Throttle *Throttle
	// RateLimit drops starts beyond Limit per Period (per key).
	RateLimit *RateLimit
	// Debounce folds the events of a key that arrive within Period of each other into one run
	// of the last event, started Period after it (or Timeout after the first).
	Debounce *Debounce
	// BatchEvents folds up to MaxSize events (per key) into one run, started when the batch is
	// full or Timeout after its first event.
	BatchEvents *BatchEvents
	// Idempotency is a key (CEL over event): at most one run per key value in 24 hours.
	Idempotency string
	// Priority moves runs ahead of (or behind) others of the function in the queue.
	Priority *Priority
	// Singleton allows one run in progress per key (sleeping and waiting runs count).
	Singleton *Singleton
	// CancelOn cancels a run when a matching event arrives, even while it sleeps or waits.
	CancelOn []CancelOn
	// Timeouts cancel a run that waits too long to start, or takes too long to finish.
	Timeouts *Timeouts
}

// Concurrency limits how many runs of a function execute at once; with Key (a CEL expression
// over `event`) the limit applies per distinct key value.
type Concurrency struct {
	Limit int
	Key   string
	// KeyedOnly limits only runs that have a key (from Key or a Fanout's RunMeta); runs
	// without one run unlimited. The workflow runner uses it for per-workflow keys.
	KeyedOnly bool
}

// Throttle lets at most Limit+Burst runs start in any window of one Period, per Key value;
// the rest are delayed, in order, not dropped.
type Throttle struct {
	Limit  int
	Period time.Duration
	Burst  int
	Key    string
}

// RateLimit lets at most Limit runs start per Period, per Key value; the rest are dropped
// (recorded on their event as "dropped", reason "rateLimit").
type RateLimit struct {
	Limit  int
	Period time.Duration
	Key    string
}

// Debounce: see Flow.Debounce. Timeout, when set, bounds how long a stream of events can
// postpone the run.
type Debounce struct {
	Period  time.Duration
	Key     string
	Timeout time.Duration
}

// BatchEvents: see Flow.BatchEvents. The run sees the first event as `event` and all of them,
// in order, as `events`.
type BatchEvents struct {
	MaxSize int
	Timeout time.Duration
	Key     string
}

// Priority: Run is a CEL expression over event giving seconds, -600..600; a run with priority
// p is claimed as if it had been queued p seconds earlier.
type Priority struct {
	Run string
}

// SingletonMode says what a new start does when a run of its key is in progress.
type SingletonMode string

const (
	// SingletonSkip drops the new start (recorded as "skipped", reason "singleton").
	SingletonSkip SingletonMode = "skip"
	// SingletonCancel cancels the run in progress and starts the new one.
	SingletonCancel SingletonMode = "cancel"
)

// Singleton allows one run in progress per Key value (every run of the function when Key is
// empty).
type Singleton struct {
	Key  string
	Mode SingletonMode
}

// CancelOn cancels a run when an event named Event arrives whose data.<Match> equals the
// triggering event's, or for which the CEL expression If (over `event` and `async`) holds.
// Timeout, when set, ends the registration that long after the run started.
type CancelOn struct {
	Event   string
	Match   string
	If      string
	Timeout time.Duration
}

// Timeouts: Start cancels a run not started that long after it was queued; Finish cancels
// a run still in progress that long after it started.
type Timeouts struct {
	Start  time.Duration
	Finish time.Duration
}

// Bounds of the flow options, as Inngest documents them where it does (docs/flow-control.md).
const (
	MaxRetries         = 20
	MaxConcurrencyKeys = 2
	MaxDebouncePeriod  = 7 * 24 * time.Hour
	MaxRateLimitPeriod = 24 * time.Hour
	MaxThrottlePeriod  = 7 * 24 * time.Hour
	MaxBatchSize       = 1000
	MaxBatchTimeout    = 7 * 24 * time.Hour
	// MaxPriority bounds what a Priority.Run expression may give, in seconds either way.
	MaxPriority = 600
)

// Check validates f: limits and sizes positive, periods positive and within their bounds, CEL
// keys and conditions accepted by compile (the engine's is Engine.CompileExpr, which goes
// through its bounded program cache). The error is an EInvalid *Error whose Fields name the
// offending option by its JSON name ("debounce.period", "concurrency[1].key", "cancel[0].if")
// and whose message starts with that name. Check reports the first problem it finds.
func (f Flow) Check(compile func(src string) error) error {
	c := flowChecker{compile: compile}
	if f.Retries != nil && (*f.Retries < 0 || *f.Retries > MaxRetries) {
		return FieldError("retries", "must be between 0 and %d", MaxRetries)
	}
	if len(f.Concurrency) > MaxConcurrencyKeys {
		return FieldError("concurrency", "at most %d limits", MaxConcurrencyKeys)
	}
	for i, l := range f.Concurrency {
		name := fmt.Sprintf("concurrency[%d]", i)
		if err := c.positive(name+".limit", l.Limit); err != nil {
			return err
		}
		if err := c.expr(name+".key", l.Key); err != nil {
			return err
		}
	}
	if t := f.Throttle; t != nil {
		if err := c.all(
			c.positive("throttle.limit", t.Limit),
			c.period("throttle.period", t.Period, MaxThrottlePeriod),
			c.minPeriod("throttle.period", t.Period, time.Second),
			c.notNegative("throttle.burst", t.Burst),
			c.expr("throttle.key", t.Key),
		); err != nil {
			return err
		}
	}
	if r := f.RateLimit; r != nil {
		if err := c.all(
			c.positive("rateLimit.limit", r.Limit),
			c.period("rateLimit.period", r.Period, MaxRateLimitPeriod),
			c.minPeriod("rateLimit.period", r.Period, time.Second),
			c.expr("rateLimit.key", r.Key),
		); err != nil {
			return err
		}
	}
	if d := f.Debounce; d != nil {
		if err := c.all(
			c.period("debounce.period", d.Period, MaxDebouncePeriod),
			c.minPeriod("debounce.period", d.Period, time.Second),
			c.expr("debounce.key", d.Key),
			c.optionalPeriod("debounce.timeout", d.Timeout, MaxDebouncePeriod),
		); err != nil {
			return err
		}
	}
	if b := f.BatchEvents; b != nil {
		if b.MaxSize <= 0 || b.MaxSize > MaxBatchSize {
			return FieldError("batchEvents.maxSize", "must be between 1 and %d", MaxBatchSize)
		}
		if err := c.all(
			c.period("batchEvents.timeout", b.Timeout, MaxBatchTimeout),
			c.minPeriod("batchEvents.timeout", b.Timeout, time.Second),
			c.expr("batchEvents.key", b.Key),
		); err != nil {
			return err
		}
	}
	if err := c.expr("idempotency", f.Idempotency); err != nil {
		return err
	}
	if p := f.Priority; p != nil {
		if p.Run == "" {
			return FieldError("priority.run", "is required")
		}
		if err := c.expr("priority.run", p.Run); err != nil {
			return err
		}
	}
	if s := f.Singleton; s != nil {
		if s.Mode != SingletonSkip && s.Mode != SingletonCancel {
			return FieldError("singleton.mode", "must be %q or %q", SingletonSkip, SingletonCancel)
		}
		if err := c.expr("singleton.key", s.Key); err != nil {
			return err
		}
	}
	for i, cn := range f.CancelOn {
		name := fmt.Sprintf("cancel[%d]", i)
		if cn.Event == "" {
			return FieldError(name+".event", "is required")
		}
		if err := c.all(
			checkText(name+".event", cn.Event),
			c.expr(name+".if", cn.If),
			c.optionalPeriod(name+".timeout", cn.Timeout, MaxSleep),
		); err != nil {
			return err
		}
	}
	if t := f.Timeouts; t != nil {
		if err := c.all(
			c.optionalPeriod("timeouts.start", t.Start, MaxSleep),
			c.optionalPeriod("timeouts.finish", t.Finish, MaxSleep),
		); err != nil {
			return err
		}
	}
	return nil
}

// flowChecker holds Check's small rules; each returns nil or a FieldError.
type flowChecker struct{ compile func(string) error }

func (flowChecker) all(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (flowChecker) positive(field string, n int) error {
	if n <= 0 {
		return FieldError(field, "must be positive")
	}
	return nil
}

func (flowChecker) notNegative(field string, n int) error {
	if n < 0 {
		return FieldError(field, "must not be negative")
	}
	return nil
}

func (flowChecker) period(field string, d, max time.Duration) error {
	if d <= 0 {
		return FieldError(field, "must be a positive duration")
	}
	if d > max {
		return FieldError(field, "must be at most %s", formatBound(max))
	}
	return nil
}

func (flowChecker) minPeriod(field string, d, least time.Duration) error {
	if d > 0 && d < least {
		return FieldError(field, "must be at least %s", least)
	}
	return nil
}

func (c flowChecker) optionalPeriod(field string, d, max time.Duration) error {
	if d == 0 {
		return nil
	}
	return c.period(field, d, max)
}

func (c flowChecker) expr(field, src string) error {
	if src == "" {
		return nil
	}
	if err := checkText(field, src); err != nil {
		return err
	}
	if c.compile == nil {
		return nil
	}
	if err := c.compile(src); err != nil {
		msg := err.Error()
		var de *Error
		if errors.As(err, &de) {
			msg = de.Message
		}
		return FieldError(field, "%s", msg)
	}
	return nil
}

// formatBound writes whole days as "7d" (Inngest's spelling) and the rest as Go does.
func formatBound(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// CompileExpr checks a CEL expression over `event` and `async` as the engine would run it,
// through the process's bounded program cache: nil, or an EInvalid error that says why.
// Flow.Check takes it as its compile function.
func (e *Engine) CompileExpr(src string) error {
	_, err := e.exprs.compile(src)
	return err
}

// CheckFlow is f.Check with the engine's compiler.
func (e *Engine) CheckFlow(f Flow) error { return f.Check(e.CompileExpr) }
