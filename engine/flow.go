package engine

import "time"

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
