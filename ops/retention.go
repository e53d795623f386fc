package ops

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
)

// Retention's functions and events.
const (
	RetentionFunctionID      = "inkflow-retention"
	RetentionBatchFunctionID = "inkflow-retention-batch"
	// EventRetentionRequested starts a clean-up now (inkflow send inkflow/retention.requested);
	// data.before (Unix ms), when given, replaces "now minus the retention" as the cutoff.
	EventRetentionRequested = "inkflow/retention.requested"
	// EventRetentionBatch is one batch of the clean-up; the planner fans out one per batch.
	EventRetentionBatch = "inkflow/retention.batch"

	DefaultRetention         = 30 * 24 * time.Hour
	DefaultRetentionSchedule = "30 3 * * *"
)

// RetentionConfig configures the clean-up of old runs and events.
type RetentionConfig struct {
	// Engine owns the runs and events; DB holds the blog's links to runs (post_runs).
	Engine *engine.Engine
	DB     *gorm.DB
	// Retention is how long finished runs and old events are kept (default 30 days).
	Retention time.Duration
	// Schedule is a five-field cron expression (default "30 3 * * *": 03:30 every day) and
	// TZ the IANA time zone it is read in (default UTC).
	Schedule string
	TZ       string
	// BatchSize is the number of rows one batch deletes (default 1000); MaxBatches bounds the
	// batches one clean-up plans per table (default 1000), so a first clean-up of a huge
	// backlog spreads over several days instead of one enormous fan-out.
	BatchSize  int
	MaxBatches int
}

// RetentionFunctions returns the clean-up functions: a planner started by the schedule (or by
// EventRetentionRequested) that fans out one EventRetentionBatch event per batch, and the
// batch worker that deletes.
//
// What is deleted: runs that finished (completed, failed, cancelled) before the cutoff, with
// their steps, waits and post links; events received before the cutoff that no live run
// points at; deduplication ids and cron tick records too old to matter. What is never
// deleted: a run that has not finished, however old (a run waiting 60 days for an approval
// keeps its run row, steps, waits and triggering event), and anything newer than the cutoff.
func RetentionFunctions(cfg RetentionConfig) ([]*engine.Function, error) {
	if cfg.Engine == nil || cfg.DB == nil {
		return nil, fmt.Errorf("ops: RetentionConfig.Engine and RetentionConfig.DB are required")
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Schedule == "" {
		cfg.Schedule = DefaultRetentionSchedule
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1000
	}
	if cfg.MaxBatches <= 0 {
		cfg.MaxBatches = 1000
	}
	spec := cfg.Schedule
	if cfg.TZ != "" {
		if _, err := time.LoadLocation(cfg.TZ); err != nil {
			return nil, engine.Errorf(engine.EInvalid, "retention time zone %q: %v", cfg.TZ, err)
		}
		spec = "TZ=" + cfg.TZ + " " + spec
	}
	if _, err := engine.ParseCron(spec); err != nil {
		return nil, err
	}
	r := &retention{cfg: cfg}
	return []*engine.Function{
		{ID: RetentionFunctionID, Name: "Housekeeping: delete old runs and events",
			Triggers: []engine.Trigger{{Cron: spec}, {Event: EventRetentionRequested}},
			Flow:     engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1}}}, Handler: r.plan},
		{ID: RetentionBatchFunctionID, Name: "Housekeeping: delete one batch",
			Triggers: []engine.Trigger{{Event: EventRetentionBatch}},
			Flow:     engine.Flow{Concurrency: []engine.Concurrency{{Limit: 2}}}, Handler: r.batch},
	}, nil
}

// ParseRetention reads INKFLOW_RETENTION: a Go duration ("720h") or days ("30d").
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultRetention, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return 0, engine.Errorf(engine.EInvalid, "retention %q: want a positive duration such as 30d or 720h", s)
	}
	return d, nil
}

type retention struct{ cfg RetentionConfig }

// batchRange is one batch: rows after From up to To (inclusive; nil To: up to the cutoff).
// Runs are walked in (ended_at, id) order, events in id order (ids are time-ordered UUIDv7).
type batchRange struct {
	Table  string         `json:"table"`
	Cutoff int64          `json:"cutoff"`
	From   *engine.RowKey `json:"from,omitempty"`
	To     *engine.RowKey `json:"to,omitempty"`
}

// planResult is what the planner outputs.
type planResult struct {
	Cutoff  time.Time `json:"cutoff"`
	Batches int       `json:"batches"`
}

// cutoff is data.before when given, else the tick's (or event's) time minus the retention.
func (r *retention) cutoff(ev engine.Event) int64 {
	if b, ok := ev.Data["before"].(float64); ok && b > 0 {
		return int64(b)
	}
	at := time.UnixMilli(ev.TS)
	if tick, ok := ev.Data["tick"].(string); ok {
		if t, err := time.Parse(time.RFC3339, tick); err == nil {
			at = t
		}
	}
	return at.Add(-r.cfg.Retention).UnixMilli()
}

func (r *retention) plan(ctx context.Context, in *engine.Input) (any, error) {
	cutoff := r.cutoff(in.Event)
	batches, err := engine.RunT(ctx, in.Step, "plan", func(ctx context.Context) ([]batchRange, error) {
		runs, err := r.runBatches(ctx, cutoff)
		if err != nil {
			return nil, err
		}
		events, err := r.eventBatches(ctx, cutoff)
		if err != nil {
			return nil, err
		}
		return append(runs, events...), nil
	})
	if err != nil {
		return nil, err
	}
	if len(batches) > 0 {
		events := make([]engine.Event, len(batches))
		for i, b := range batches {
			events[i] = engine.Event{Name: EventRetentionBatch, Data: batchData(b)}
		}
		if _, err := in.Step.SendEvent(ctx, "fan-out", events...); err != nil {
			return nil, err
		}
	}
	_, err = in.Step.Run(ctx, "bookkeeping", func(ctx context.Context) (any, error) { return r.bookkeeping(ctx, cutoff) })
	if err != nil {
		return nil, err
	}
	engine.Log(ctx).Info("retention planned", "cutoff", time.UnixMilli(cutoff).UTC(), "batches", len(batches))
	return planResult{Cutoff: time.UnixMilli(cutoff).UTC(), Batches: len(batches)}, nil
}

// runBatches splits the finished runs that ended before cutoff into batches of BatchSize.
func (r *retention) runBatches(ctx context.Context, cutoff int64) ([]batchRange, error) {
	return r.batches("runs", cutoff, func(from *engine.RowKey, offset int) (*engine.RowKey, error) {
		return r.cfg.Engine.FinishedRunKey(ctx, time.UnixMilli(cutoff), from, offset)
	})
}

// eventBatches splits the events received before cutoff into batches of BatchSize.
func (r *retention) eventBatches(ctx context.Context, cutoff int64) ([]batchRange, error) {
	return r.batches("events", cutoff, func(from *engine.RowKey, offset int) (*engine.RowKey, error) {
		return r.cfg.Engine.EventKey(ctx, time.UnixMilli(cutoff), from, offset)
	})
}

// batches walks a table in key order, BatchSize rows at a time: keyAt gives the key offset
// rows after from.
func (r *retention) batches(table string, cutoff int64, keyAt func(from *engine.RowKey, offset int) (*engine.RowKey, error)) ([]batchRange, error) {
	var out []batchRange
	var from *engine.RowKey
	for len(out) < r.cfg.MaxBatches {
		k, err := keyAt(from, r.cfg.BatchSize-1)
		if err != nil {
			return nil, fmt.Errorf("plan %s batches: %w", table, err)
		}
		if k == nil {
			// Fewer than a batch left: one last batch up to the cutoff, if anything is left.
			if k, err = keyAt(from, 0); err != nil {
				return nil, fmt.Errorf("plan %s batches: %w", table, err)
			}
			if k != nil {
				out = append(out, batchRange{Table: table, Cutoff: cutoff, From: from})
			}
			return out, nil
		}
		out = append(out, batchRange{Table: table, Cutoff: cutoff, From: from, To: k})
		from = k
	}
	return out, nil
}

// batchResult is what one batch outputs.
type batchResult struct {
	Table   string `json:"table"`
	Deleted int    `json:"deleted"`
	// Kept counts events of the range kept because a live run points at them.
	Kept int `json:"kept,omitempty"`
}

func (r *retention) batch(ctx context.Context, in *engine.Input) (any, error) {
	b, err := batchFrom(in.Event.Data)
	if err != nil {
		return nil, engine.NonRetriable(err)
	}
	return in.Step.Run(ctx, "delete", func(ctx context.Context) (any, error) {
		if b.Table == "runs" {
			return r.deleteRuns(ctx, b)
		}
		deleted, kept, err := r.cfg.Engine.DeleteEvents(ctx, time.UnixMilli(b.Cutoff), b.From, b.To)
		return batchResult{Table: "events", Deleted: deleted, Kept: kept}, err
	})
}

// deleteRuns deletes the batch's finished runs (the engine checks their status again under
// its locks: only finished runs are ever touched) and then the posts' links to them.
func (r *retention) deleteRuns(ctx context.Context, b batchRange) (batchResult, error) {
	ids, err := r.cfg.Engine.DeleteFinished(ctx, time.UnixMilli(b.Cutoff), b.From, b.To)
	if err != nil {
		return batchResult{}, err
	}
	if len(ids) > 0 {
		// A link left behind by a failure here points at a run that is gone: the post's page
		// lists the runs it finds.
		if err := r.cfg.DB.WithContext(ctx).Exec(`DELETE FROM post_runs WHERE run_id IN ?`, ids).Error; err != nil {
			return batchResult{}, fmt.Errorf("delete links to old runs: %w", err)
		}
	}
	return batchResult{Table: "runs", Deleted: len(ids)}, nil
}

// bookkeeping drops deduplication ids past their window, cron tick records older than both
// the cutoff and two days (the scheduler looks back at most an hour by default) and the match
// paths no wait uses any more.
func (r *retention) bookkeeping(ctx context.Context, cutoff int64) (map[string]int64, error) {
	dedup, err := r.cfg.Engine.PruneDedup(ctx, time.UnixMilli(cutoff-engine.DedupWindow.Milliseconds()))
	if err != nil {
		return nil, err
	}
	ticks, err := r.cfg.Engine.PruneCronTicks(ctx, time.UnixMilli(min(cutoff, time.Now().Add(-48*time.Hour).UnixMilli())))
	if err != nil {
		return nil, err
	}
	paths, err := r.cfg.Engine.PruneWaitPaths(ctx)
	if err != nil {
		return nil, err
	}
	return map[string]int64{"event_ids": dedup, "cron_ticks": ticks, "wait_paths": paths}, nil
}

func batchData(b batchRange) map[string]any {
	d := map[string]any{"table": b.Table, "cutoff": b.Cutoff}
	if b.From != nil {
		d["from"] = map[string]any{"at": b.From.At, "id": b.From.ID}
	}
	if b.To != nil {
		d["to"] = map[string]any{"at": b.To.At, "id": b.To.ID}
	}
	return d
}

func batchFrom(d map[string]any) (batchRange, error) {
	b := batchRange{}
	b.Table, _ = d["table"].(string)
	if b.Table != "runs" && b.Table != "events" {
		return b, engine.FieldError("data.table", "must be runs or events")
	}
	c, ok := d["cutoff"].(float64)
	if !ok {
		return b, engine.FieldError("data.cutoff", "is required (Unix ms)")
	}
	b.Cutoff = int64(c)
	key := func(v any) *engine.RowKey {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		k := &engine.RowKey{}
		k.ID, _ = m["id"].(string)
		if at, ok := m["at"].(float64); ok {
			k.At = int64(at)
		}
		return k
	}
	b.From, b.To = key(d["from"]), key(d["to"])
	return b, nil
}
