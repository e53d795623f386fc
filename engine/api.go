package engine

// This file holds the engine's options: Options for New, StepOption for Step.Run, and the
// typed RunT. The types runs and events are made of are in types.go; the parts live in
// send.go, worker.go, step.go, commit.go, cron.go and query.go.

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// Options configures an Engine. DB is required; the rest have sane defaults.
type Options struct {
	DB *gorm.DB
	// URL is DB's connection URL; on PostgreSQL workers use it for LISTEN/NOTIFY.
	URL    string
	Logger *slog.Logger
	// Now is the clock; tests inject one to schedule without sleeping. Without one the engine
	// keeps the database's time: this process's clock corrected by its offset from the
	// database's, measured at New and at each heartbeat, so that instances whose clocks
	// disagree still agree on leases and on when events arrived.
	Now func() time.Time
	// WorkerID names this process in leases; default host:pid:random.
	WorkerID string
	// Concurrency is how many runs this process executes at once (default 256).
	Concurrency int
	// Lease is how long a claimed run stays with this worker without a heartbeat (default 30s).
	Lease time.Duration
	// Poll is the safety-net poll interval when no wake-up signal arrives (default 2s).
	Poll time.Duration
	// BackoffBase and BackoffMax shape retry delays (defaults 1s and 10m); tests shrink them.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// CronCatchUp is how far back a starting scheduler fires ticks missed while no instance
	// ran (default 1h).
	CronCatchUp time.Duration

	// skew shifts this process's clock, for tests of instances whose clocks disagree.
	skew time.Duration
}

// StepOption adjusts one Step.Run call.
type StepOption func(*stepOptions)

type stepOptions struct {
	name    string
	input   any
	retries *int
	timeout time.Duration
}

// WithName sets the step's display name (default: its id).
func WithName(name string) StepOption { return func(o *stepOptions) { o.name = name } }

// WithInput records the step's input for the dashboard.
func WithInput(v any) StepOption { return func(o *stepOptions) { o.input = v } }

// WithRetries overrides the function's retry count for this step.
func WithRetries(n int) StepOption { return func(o *stepOptions) { o.retries = &n } }

// WithTimeout bounds one attempt of the step; an attempt past it fails and is retried.
func WithTimeout(d time.Duration) StepOption { return func(o *stepOptions) { o.timeout = d } }

// Retries returns a pointer to n, for Function.Retries.
func Retries(n int) *int { return &n }

// RunT is Step.Run with a typed result: fn's T is stored as JSON and decoded back on replay.
func RunT[T any](ctx context.Context, s *Step, id string, fn func(ctx context.Context) (T, error), opts ...StepOption) (T, error) {
	var zero T
	raw, err := s.Run(ctx, id, func(ctx context.Context) (any, error) { return fn(ctx) }, opts...)
	if err != nil {
		return zero, err
	}
	var out T
	if len(raw) == 0 || string(raw) == "null" {
		return zero, nil
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return zero, NonRetriable(Errorf(EInternal, "step %q: decode stored result: %v", id, err))
	}
	return out, nil
}
