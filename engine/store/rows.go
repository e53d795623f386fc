package store

// Rows as stored; see migrations/*/00001_engine.sql. Times are Unix milliseconds.

// Event is a row of events.
type Event struct {
	ID         string `gorm:"primaryKey"`
	ClientID   string
	Name       string
	Payload    string
	TS         int64 `gorm:"column:ts"`
	ReceivedAt int64
	RunIDs     string `gorm:"column:run_ids"`
	Notes      string // why functions started no run (a trigger condition over its limits)
}

func (Event) TableName() string { return "events" }

// Run is a row of runs.
type Run struct {
	ID              string `gorm:"primaryKey"`
	FunctionID      string
	Status          string
	EventID         string
	EventName       string
	Event           string
	WorkflowID      *int64
	WorkflowVersion *int
	ConcurrencyKey  string
	Attempt         int
	DueAt           int64
	LeaseOwner      string
	LeaseUntil      int64
	ParentRunID     string
	ParentStepID    string
	Output          *string
	Error           string
	CreatedAt       int64 `gorm:"autoCreateTime:false"`
	StartedAt       *int64
	EndedAt         *int64
	UpdatedAt       int64 `gorm:"autoUpdateTime:false"`
	// Claim-time flow control (see migration 00120): limits of 0 limit nothing.
	ConcurrencyLimit  int
	ConcurrencyKey2   string `gorm:"column:concurrency_key2"`
	ConcurrencyLimit2 int    `gorm:"column:concurrency_limit2"`
	ThrottleKey       string
	ThrottleLimit     int   // limit + burst starts per ThrottlePeriod
	ThrottlePeriod    int64 // ms
	Limited           int   // 1 when any of the above limits the run
	TimeoutFinish     int64 // ms after it started; 0 for none
	DeadlineAt        *int64
	Needs             string // a run_needs hash; '' for none
}

func (Run) TableName() string { return "runs" }

// Step is a row of steps.
type Step struct {
	RunID     string `gorm:"primaryKey"`
	ID        string `gorm:"primaryKey"`
	Seq       int
	Name      string
	Kind      string
	Status    string
	Attempts  int
	Input     *string
	Output    *string
	Error     string
	WakeAt    *int64
	StartedAt *int64
	EndedAt   *int64
}

func (Step) TableName() string { return "steps" }

// Wait is a row of waits: a run waiting for an event (Kind "wait") or a CancelOn
// registration ("cancel").
type Wait struct {
	ID         string `gorm:"primaryKey"`
	Kind       string
	RunID      string
	StepID     string
	EventName  string
	MatchPath  string
	MatchValue string
	MatchHash  string // a hash of (MatchPath, MatchValue): the index key, whatever the value's size
	IfExpr     string
	Trigger    string
	ExpiresAt  int64
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
	Seq        int64 // order against sends, for waits without a match value (see engine's checkWaits)
}

func (Wait) TableName() string { return "waits" }

// Wait kinds.
const (
	WaitEvent  = "wait"
	WaitCancel = "cancel"
)

// Run statuses as the store's statements name them (the engine's Status values).
const (
	liveStatuses     = `('queued', 'running', 'sleeping', 'waiting')`
	finishedStatuses = `('completed', 'failed', 'cancelled')`
)
