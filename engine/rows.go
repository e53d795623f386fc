package engine

import "time"

// Rows as stored; see migrations/*/00001_engine.sql. Times are Unix milliseconds.

type eventRow struct {
	ID         string `gorm:"primaryKey"`
	ClientID   string
	Name       string
	Payload    string
	TS         int64 `gorm:"column:ts"`
	ReceivedAt int64
	RunIDs     string `gorm:"column:run_ids"`
}

func (eventRow) TableName() string { return "events" }

type runRow struct {
	ID              string `gorm:"primaryKey"`
	FunctionID      string
	Status          Status
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
}

func (runRow) TableName() string { return "runs" }

type stepRow struct {
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

func (stepRow) TableName() string { return "steps" }

type waitRow struct {
	ID         string `gorm:"primaryKey"`
	Kind       string
	RunID      string
	StepID     string
	EventName  string
	MatchPath  string
	MatchValue string
	MatchHash  string // see matchHash
	IfExpr     string
	Trigger    string
	ExpiresAt  int64
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
	Seq        int64 // order against sends, for waits without a match value (see checkWaits)
}

func (waitRow) TableName() string { return "waits" }

const (
	waitEvent  = "wait"
	waitCancel = "cancel"
)

// never is the expiry of rows that live as long as their run.
const never = int64(1) << 62

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromMSPtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromMS(*v)
	return &t
}

func strPtr(s string) *string { return &s }
