package engine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/inkflow/inkflow/engine/store"
)

// Limits on what the engine accepts. Anything over them is refused with an ETooLarge error
// naming the limit, never stored half-way.
const (
	MaxEventBytes      = 512 << 10 // an event's JSON
	MaxStepOutputBytes = 4 << 20   // one step's JSON result
	MaxStepsPerRun     = 1000
	MaxStepIDBytes     = 1024 // a step's id (PostgreSQL indexes it with the run's id)
	// MaxSleep is the longest a Sleep or SleepUntil may suspend a run (as workflow durations).
	MaxSleep       = 10 * 365 * 24 * time.Hour
	DefaultRetries = 4
	// DedupWindow is how long a client-given event id suppresses a second event with that id.
	DedupWindow = 24 * time.Hour
)

// Event is something that happened. Name is required; Data is a JSON object.
type Event struct {
	// ID is the client's idempotency id; when empty the engine assigns one. An event whose
	// ID was seen within DedupWindow is accepted but starts nothing.
	ID   string         `json:"id"`
	Name string         `json:"name"`
	Data map[string]any `json:"data"`
	User map[string]any `json:"user,omitempty"`
	// TS is milliseconds since the Unix epoch; zero means "now".
	TS int64 `json:"ts"`
	// V is an optional schema version, carried as Inngest does.
	V string `json:"v,omitempty"`
}

// Status is a run's lifecycle state.
type Status string

const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusSleeping  Status = "sleeping"
	StatusWaiting   Status = "waiting"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// Statuses lists every run status in lifecycle order.
var Statuses = []Status{StatusQueued, StatusRunning, StatusSleeping, StatusWaiting, StatusCompleted, StatusFailed, StatusCancelled}

// Finished reports whether s is a final status.
func (s Status) Finished() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// Handler is a function's body. It is called once per attempt of the run and replays from
// the top: steps already committed return their stored result.
type Handler func(ctx context.Context, in *Input) (any, error)

// Input is what a handler receives.
type Input struct {
	Event Event
	// Events are the events of a batched run (BatchEvents), in the order they arrived, Event
	// being the first; any other run sees its one event here.
	Events []Event
	Run    RunInfo
	Step   *Step
	// Error is the run's final error; set only for OnFailure handlers.
	Error string
}

// RunInfo describes the run a handler executes.
type RunInfo struct {
	ID         string
	FunctionID string
	Attempt    int
	Meta       RunMeta
}

// RunMeta labels a run with the workflow that started it (zero for plain functions).
type RunMeta struct {
	WorkflowID      int64 `json:"workflow_id,omitempty"`
	WorkflowVersion int   `json:"workflow_version,omitempty"`
	// ConcurrencyKey, set by a Fanout, is the key under which the function's Concurrency
	// limit applies to this run (instead of evaluating Concurrency.Key).
	ConcurrencyKey string `json:"concurrency_key,omitempty"`
	// Flow, set by a Fanout, replaces the function's flow control for this run (a workflow's
	// saved config).
	Flow *Flow `json:"-"`
	// Skip, set by a Fanout, starts no run for this entry and records the start as skipped
	// with Skip as its reason (ReasonIf: the workflow's trigger condition is false), so the
	// event's page says why the workflow did not run.
	Skip string `json:"-"`
	// Needs, set by a Fanout, are what a process must provide (Function.Provides) besides the
	// function to claim this run (the action kinds of a workflow version, "kind:<name>"):
	// until a live process has them all, the run waits, labelled, and never fails for it.
	Needs []string `json:"-"`
}

// Function is code that runs durably in response to events or a schedule.
type Function struct {
	// ID is stable across deploys: runs refer to it.
	ID       string
	Name     string
	Triggers []Trigger
	// Flow is the function's flow control: retries, concurrency, throttle, debounce and the
	// rest (flow.go); its fields read as the function's own (fn.Retries).
	Flow
	Handler Handler
	// OnFailure, when set, runs (as its own run) after a run of this function fails for good.
	OnFailure Handler
	// Fanout, when set, decides inside the sending transaction tx how many runs one matching
	// event starts and how each is labelled (the workflow loader starts one run per enabled
	// workflow, reading its tables through tx). Returning none starts nothing.
	Fanout func(ctx context.Context, tx Tx, ev Event) ([]RunMeta, error)
	// Provides, when set, lists what this process's handler has that runs may need
	// (RunMeta.Needs), read at every claim: the workflow runner's registered action kinds.
	Provides func() []string
}

// Tx is a database transaction, as database/sql runs statements: a *sql.Tx, or inside gorm's
// db.Transaction the transaction's tx.Statement.ConnPool. It is the seam between the engine
// and code that keeps its own tables in the same database: SendTx writes events and runs into
// the caller's Tx (a post's change and its event commit together or not at all), and a
// Fanout reads through the engine's. Nothing else about the engine's storage shows.
type Tx = store.Conn

// Trigger starts a function: by event name (with an optional CEL If over `event`), or by a
// cron schedule with an optional "TZ=Area/City " prefix.
//
// Event "*" matches every event; such a function should have a Fanout that picks what to run
// (the workflow loader does).
type Trigger struct {
	Event string
	If    string
	Cron  string
}

// Wait describes what WaitForEvent waits for.
type Wait struct {
	Event string
	// OrEvents are more event names that also end the wait (approve or reject, say); the
	// returned event's Name tells which one came.
	OrEvents []string
	// Match is a dotted path such as "data.id": the awaited event's value there must equal the
	// triggering event's value at the same path.
	Match string
	// If is a CEL expression over `event` (the triggering event) and `async` (the candidate).
	If      string
	Timeout time.Duration
}

// SendResult tells what Send did: the stored events' ids and the runs they started.
type SendResult struct {
	IDs  []string `json:"ids"`
	Runs []string `json:"runs"`
}

// Run is a stored run as listed by the API.
type Run struct {
	ID              string          `json:"id"`
	FunctionID      string          `json:"function"`
	Status          Status          `json:"status"`
	EventID         string          `json:"event_id"`
	EventName       string          `json:"event_name"`
	Event           json.RawMessage `json:"event,omitempty"`
	WorkflowID      *int64          `json:"workflow_id"`
	WorkflowVersion *int            `json:"workflow_version"`
	Attempt         int             `json:"attempt"`
	Output          json.RawMessage `json:"output,omitempty"`
	Error           string          `json:"error,omitempty"`
	// WaitingFor is set while the run waits for an event or sleeps: what and until when.
	WaitingFor *WaitInfo `json:"waiting_for,omitempty"`
	// WaitingForWorker is set while no live process can claim the run (GetRun only): "waiting
	// for a worker that has function X" (and, for a workflow run, the action kinds it lacks).
	WaitingForWorker string     `json:"waiting_for_worker,omitempty"`
	DueAt            *time.Time `json:"due_at,omitempty"`
	CreatedAt        time.Time  `json:"created_at"`
	StartedAt        *time.Time `json:"started_at,omitempty"`
	EndedAt          *time.Time `json:"ended_at,omitempty"`
	Steps            []StepInfo `json:"steps,omitempty"`
}

// WaitInfo says what a waiting run waits for.
type WaitInfo struct {
	StepID    string    `json:"step_id"`
	Event     string    `json:"event"`
	Match     string    `json:"match,omitempty"`
	If        string    `json:"if,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Step kinds (StepInfo.Kind) and step statuses (StepInfo.Status) as stored and listed.
const (
	KindRun    = "run"
	KindSleep  = "sleep"
	KindWait   = "wait"
	KindSend   = "send"
	KindInvoke = "invoke"

	StepCompleted = "completed"
	StepFailed    = "failed"
	StepRetrying  = "retrying" // failed an attempt; due again at its wake time
	StepSleeping  = "sleeping"
	StepWaiting   = "waiting" // for an event, or for an invoked run
)

// StepInfo is a stored step as shown by the API and the dashboard.
type StepInfo struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Kind      string          `json:"kind"` // run, sleep, wait, send, invoke
	Status    string          `json:"status"`
	Attempts  int             `json:"attempts"`
	Input     json.RawMessage `json:"input,omitempty"`
	Output    json.RawMessage `json:"output,omitempty"`
	Error     string          `json:"error,omitempty"`
	StartedAt *time.Time      `json:"started_at,omitempty"`
	EndedAt   *time.Time      `json:"ended_at,omitempty"`
}

// RunFilter selects runs for ListRuns. Zero fields match everything.
type RunFilter struct {
	Status     Status
	FunctionID string
	EventName  string
	WorkflowID int64
	Since      time.Time
	Until      time.Time
	// EndedSince keeps the runs that ended at or after it (finished runs only).
	EndedSince time.Time
	Limit      int    // 1..1000, default 50
	Cursor     string // from a previous page's Next
}

// EventFilter selects events for ListEvents.
type EventFilter struct {
	Name   string
	Limit  int
	Cursor string
}

// StoredEvent is an event as stored, with the runs it started.
type StoredEvent struct {
	Event
	// StoreID is the engine's id for the stored event (the one Send returns); Event.ID is the
	// sender's id when it gave one.
	StoreID    string    `json:"internal_id"`
	ReceivedAt time.Time `json:"received_at"`
	Runs       []string  `json:"runs"`
	// Resumed are the runs whose wait this event resolved, oldest first.
	Resumed []string `json:"resumed"`
	// Notes say why functions started no run for it (a trigger condition stopped at its
	// cost limit or deadline), one a line.
	Notes string `json:"notes,omitempty"`
}
