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
	DB *gorm.DB
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

// finished and live list run statuses as SQL literals.
const (
	finishedStatuses = `('completed', 'failed', 'cancelled')`
	liveStatuses     = `('queued', 'running', 'sleeping', 'waiting')`
)

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
	if cfg.DB == nil {
		return nil, fmt.Errorf("ops: RetentionConfig.DB is required")
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
			Triggers:    []engine.Trigger{{Cron: spec}, {Event: EventRetentionRequested}},
			Concurrency: &engine.Concurrency{Limit: 1}, Handler: r.plan},
		{ID: RetentionBatchFunctionID, Name: "Housekeeping: delete one batch",
			Triggers:    []engine.Trigger{{Event: EventRetentionBatch}},
			Concurrency: &engine.Concurrency{Limit: 2}, Handler: r.batch},
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
	Table  string  `json:"table"`
	Cutoff int64   `json:"cutoff"`
	From   *rowKey `json:"from,omitempty"`
	To     *rowKey `json:"to,omitempty"`
}

type rowKey struct {
	At int64  `json:"at,omitempty"`
	ID string `json:"id"`
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
	return r.batches(ctx, "runs", cutoff, func(from *rowKey) (string, []any) {
		sql, args := `SELECT ended_at AS at, id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ?`, []any{cutoff}
		if from != nil {
			sql += ` AND (ended_at > ? OR (ended_at = ? AND id > ?))`
			args = append(args, from.At, from.At, from.ID)
		}
		return sql + ` ORDER BY ended_at, id`, args
	})
}

// eventBatches splits the events received before cutoff into batches of BatchSize, walking
// the primary key: an engine event id is a UUIDv7, whose text sorts by its creation time.
func (r *retention) eventBatches(ctx context.Context, cutoff int64) ([]batchRange, error) {
	return r.batches(ctx, "events", cutoff, func(from *rowKey) (string, []any) {
		sql, args := `SELECT 0 AS at, id FROM events WHERE id < ?`, []any{uuidv7Prefix(cutoff + 1)}
		if from != nil {
			sql += ` AND id > ?`
			args = append(args, from.ID)
		}
		return sql + ` ORDER BY id`, args
	})
}

// batches walks a table in key order, BatchSize rows at a time: query gives the ordered
// selection of the rows after from.
func (r *retention) batches(ctx context.Context, table string, cutoff int64, query func(from *rowKey) (string, []any)) ([]batchRange, error) {
	db := r.cfg.DB.WithContext(ctx)
	var out []batchRange
	var from *rowKey
	for len(out) < r.cfg.MaxBatches {
		sql, args := query(from)
		var keys []rowKey
		if err := db.Raw(sql+` LIMIT 1 OFFSET ?`, append(args, r.cfg.BatchSize-1)...).Scan(&keys).Error; err != nil {
			return nil, fmt.Errorf("plan %s batches: %w", table, err)
		}
		if len(keys) == 0 {
			// Fewer than a batch left: one last batch up to the cutoff, if anything is left.
			if err := db.Raw(sql+` LIMIT 1`, args...).Scan(&keys).Error; err != nil {
				return nil, fmt.Errorf("plan %s batches: %w", table, err)
			}
			if len(keys) > 0 {
				out = append(out, batchRange{Table: table, Cutoff: cutoff, From: from})
			}
			return out, nil
		}
		k := keys[0]
		out = append(out, batchRange{Table: table, Cutoff: cutoff, From: from, To: &k})
		from = &k
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
		var res batchResult
		err := r.cfg.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var err error
			if b.Table == "runs" {
				res, err = deleteRuns(tx, b)
			} else {
				res, err = deleteEvents(tx, b)
			}
			return err
		})
		return res, err
	})
}

// deleteRuns deletes the batch's finished runs with their steps, waits and post links. The
// status and end time are checked again here: only finished runs are ever touched.
func deleteRuns(tx *gorm.DB, b batchRange) (batchResult, error) {
	q := tx.Table("runs").Where("status IN "+finishedStatuses+" AND ended_at IS NOT NULL AND ended_at < ?", b.Cutoff)
	if b.From != nil {
		q = q.Where("(ended_at > ? OR (ended_at = ? AND id > ?))", b.From.At, b.From.At, b.From.ID)
	}
	if b.To != nil {
		q = q.Where("(ended_at < ? OR (ended_at = ? AND id <= ?))", b.To.At, b.To.At, b.To.ID)
	}
	var ids []string
	if err := q.Pluck("id", &ids).Error; err != nil {
		return batchResult{}, fmt.Errorf("select runs: %w", err)
	}
	res := batchResult{Table: "runs"}
	if len(ids) == 0 {
		return res, nil
	}
	for _, stmt := range []string{
		`DELETE FROM steps WHERE run_id IN ?`,
		`DELETE FROM waits WHERE run_id IN ?`,
		`DELETE FROM post_runs WHERE run_id IN ?`,
	} {
		if err := tx.Exec(stmt, ids).Error; err != nil {
			return batchResult{}, fmt.Errorf("delete rows of old runs: %w", err)
		}
	}
	del := tx.Exec(`DELETE FROM runs WHERE id IN ? AND status IN `+finishedStatuses, ids)
	if del.Error != nil {
		return batchResult{}, fmt.Errorf("delete runs: %w", del.Error)
	}
	res.Deleted = int(del.RowsAffected)
	return res, nil
}

// deleteEvents deletes the batch's events received before the cutoff, except those a live
// run points at (its trigger stays visible for as long as the run lives).
func deleteEvents(tx *gorm.DB, b batchRange) (batchResult, error) {
	q := tx.Table("events").Where("id < ? AND received_at < ?", uuidv7Prefix(b.Cutoff+1), b.Cutoff)
	if b.From != nil {
		q = q.Where("id > ?", b.From.ID)
	}
	if b.To != nil {
		q = q.Where("id <= ?", b.To.ID)
	}
	var ids []string
	if err := q.Pluck("id", &ids).Error; err != nil {
		return batchResult{}, fmt.Errorf("select events: %w", err)
	}
	res := batchResult{Table: "events"}
	if len(ids) == 0 {
		return res, nil
	}
	var live []string
	if err := tx.Raw(`SELECT DISTINCT event_id FROM runs WHERE status IN `+liveStatuses+` AND event_id IN ?`, ids).
		Scan(&live).Error; err != nil {
		return batchResult{}, fmt.Errorf("find events of live runs: %w", err)
	}
	keep := map[string]bool{}
	for _, id := range live {
		keep[id] = true
	}
	doomed := ids[:0:0]
	for _, id := range ids {
		if !keep[id] {
			doomed = append(doomed, id)
		}
	}
	res.Kept = len(ids) - len(doomed)
	if len(doomed) == 0 {
		return res, nil
	}
	if err := tx.Exec(`DELETE FROM event_resumes WHERE event_id IN ?`, doomed).Error; err != nil {
		return batchResult{}, fmt.Errorf("delete events' resumed runs: %w", err)
	}
	del := tx.Exec(`DELETE FROM events WHERE id IN ?`, doomed)
	if del.Error != nil {
		return batchResult{}, fmt.Errorf("delete events: %w", del.Error)
	}
	res.Deleted = int(del.RowsAffected)
	return res, nil
}

// bookkeeping drops deduplication ids past their window and cron tick records older than
// both the cutoff and two days (the scheduler looks back at most an hour by default).
func (r *retention) bookkeeping(ctx context.Context, cutoff int64) (map[string]int64, error) {
	db := r.cfg.DB.WithContext(ctx)
	dedup := db.Exec(`DELETE FROM event_dedup WHERE seen_at < ?`, cutoff-engine.DedupWindow.Milliseconds())
	if dedup.Error != nil {
		return nil, fmt.Errorf("prune event ids: %w", dedup.Error)
	}
	ticks := db.Exec(`DELETE FROM cron_ticks WHERE tick < ?`, min(cutoff, time.Now().Add(-48*time.Hour).UnixMilli()))
	if ticks.Error != nil {
		return nil, fmt.Errorf("prune cron ticks: %w", ticks.Error)
	}
	return map[string]int64{"event_ids": dedup.RowsAffected, "cron_ticks": ticks.RowsAffected}, nil
}

// uuidv7Prefix is the text every UUIDv7 made at or after ms sorts at or after, and every one
// made before sorts before: the 48-bit millisecond timestamp in hex, as UUID text starts.
func uuidv7Prefix(ms int64) string {
	return fmt.Sprintf("%08x-%04x", uint64(ms)>>16, uint64(ms)&0xffff)
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
	key := func(v any) *rowKey {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		k := &rowKey{}
		k.ID, _ = m["id"].(string)
		if at, ok := m["at"].(float64); ok {
			k.At = int64(at)
		}
		return k
	}
	b.From, b.To = key(d["from"]), key(d["to"])
	return b, nil
}
