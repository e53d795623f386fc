package store

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Flow control decided when an event arrives: decisions, keyed limits, open debounces and
// batches (migrations/*/00110_flow_send.sql). Every statement here works the same on both
// databases: PostgreSQL arbitrates between processes with row locks taken by INSERT ... ON
// CONFLICT and SELECT ... FOR UPDATE; SQLite's one connection serialises anyway.

// Decision is a row of flow_decisions: what function FunctionID (of workflow WorkflowID)
// did with event EventID when it was not a plain start.
type Decision struct {
	ID         string `gorm:"primaryKey"`
	EventID    string
	FunctionID string
	WorkflowID *int64
	Action     string
	Reason     string
	KeyValue   string
	RunID      string
	CreatedAt  int64 `gorm:"autoCreateTime:false"`
}

func (Decision) TableName() string { return "flow_decisions" }

var decisionCols = []string{"id", "event_id", "function_id", "workflow_id", "action", "reason", "key_value", "run_id", "created_at"}

// InsertDecisions stores decisions in one statement.
func (q *Q) InsertDecisions(rows []Decision) error {
	err := insertRows(q.g, "flow_decisions", decisionCols, len(rows), func(i int) []any {
		d := &rows[i]
		return []any{d.ID, d.EventID, d.FunctionID, d.WorkflowID, d.Action, d.Reason, d.KeyValue, d.RunID, d.CreatedAt}
	})
	if err != nil {
		return fmt.Errorf("record flow decisions: %w", err)
	}
	return nil
}

// NoteDecisions stores decisions whose ids name what they decide (a throttled run's
// "delayed" is noted by every claim pass that holds it back): one already stored is kept.
func (q *Q) NoteDecisions(rows []Decision) error {
	for i := range rows {
		d := &rows[i]
		err := q.g.Exec(`INSERT INTO flow_decisions (`+strings.Join(decisionCols, ", ")+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, d.ID, d.EventID, d.FunctionID, d.WorkflowID, d.Action, d.Reason, d.KeyValue, d.RunID, d.CreatedAt).Error
		if err != nil {
			return fmt.Errorf("note flow decision on event %s: %w", d.EventID, err)
		}
	}
	return nil
}

// DecisionsOf returns the decisions taken on event eventID, in the order they were taken.
func (q *Q) DecisionsOf(eventID string) ([]Decision, error) {
	var rows []Decision
	if err := q.g.Where("event_id = ?", eventID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load decisions of event %s: %w", eventID, err)
	}
	return rows, nil
}

// DeleteDecisionsOf deletes the decisions of events (retention).
func (q *Q) DeleteDecisionsOf(eventIDs []string) error {
	if err := q.g.Exec(`DELETE FROM flow_decisions WHERE event_id IN ?`, eventIDs).Error; err != nil {
		return fmt.Errorf("delete old events' decisions: %w", err)
	}
	return nil
}

// FlowKey names one keyed limit's row: Kind is "idempotency", "rateLimit" or "singleton";
// Scope is the workflow id (0 for Go functions); Hash is a digest of the key's value.
type FlowKey struct {
	Kind       string
	FunctionID string
	Scope      int64
	Hash       string
}

// ClaimIdempotency records key k for run runID until expiresAt unless a run holds it at now,
// and reports whether it did (the run may start).
func (q *Q) ClaimIdempotency(k FlowKey, runID string, now, expiresAt int64) (bool, error) {
	var got []string
	err := q.g.Raw(`INSERT INTO flow_keys (kind, function_id, scope, key_hash, run_id, value) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, function_id, scope, key_hash) DO UPDATE SET run_id = excluded.run_id, value = excluded.value
		WHERE flow_keys.value <= ? RETURNING run_id`, k.Kind, k.FunctionID, k.Scope, k.Hash, runID, expiresAt, now).Scan(&got).Error
	if err != nil {
		return false, fmt.Errorf("claim idempotency key of %s: %w", k.FunctionID, err)
	}
	return len(got) == 1, nil
}

// TakeRate takes one start from key k's rate limit (GCRA: a start is allowed when the
// theoretical arrival time, pushed by interval, stays within period of now) and reports
// whether there was room. The row's lock makes concurrent senders take turns.
func (q *Q) TakeRate(k FlowKey, now, interval, period int64) (bool, error) {
	var got []int64
	err := q.g.Raw(`INSERT INTO flow_keys (kind, function_id, scope, key_hash, value) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, function_id, scope, key_hash) DO UPDATE
		SET value = (CASE WHEN flow_keys.value > ? THEN flow_keys.value ELSE ? END) + ?
		WHERE (CASE WHEN flow_keys.value > ? THEN flow_keys.value ELSE ? END) + ? - ? <= ?
		RETURNING value`, k.Kind, k.FunctionID, k.Scope, k.Hash, now+interval,
		now, now, interval, now, now, interval, now, period).Scan(&got).Error
	if err != nil {
		return false, fmt.Errorf("take rate limit of %s: %w", k.FunctionID, err)
	}
	return len(got) == 1, nil
}

// ClaimSingleton gives key k to run runID unless another run holding it is still in progress,
// and returns that run ("" when runID got the key). The key's row stays locked until the
// transaction ends, so a second sender waits for the first's decision.
//
// The holder's status is read by a statement of its own, after the row lock is held: under
// PostgreSQL's READ COMMITTED each statement sees what committed before it began, so the run
// a concurrent sender inserted with the key is visible once its lock is released. A subquery
// in ON CONFLICT's WHERE would read the snapshot taken before the wait, miss that run, and let
// two runs of one key start (seen across three processes).
func (q *Q) ClaimSingleton(k FlowKey, runID string) (string, error) {
	ins := q.g.Exec(`INSERT INTO flow_keys (kind, function_id, scope, key_hash, run_id) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, function_id, scope, key_hash) DO NOTHING`, k.Kind, k.FunctionID, k.Scope, k.Hash, runID)
	if ins.Error != nil {
		return "", fmt.Errorf("claim singleton key of %s: %w", k.FunctionID, ins.Error)
	}
	if ins.RowsAffected == 1 {
		return "", nil
	}
	var holder []string
	if err := q.d.forUpdate(q.g.Table("flow_keys").Where("kind = ? AND function_id = ? AND scope = ? AND key_hash = ?",
		k.Kind, k.FunctionID, k.Scope, k.Hash)).Pluck("run_id", &holder).Error; err != nil {
		return "", fmt.Errorf("find singleton run of %s: %w", k.FunctionID, err)
	}
	if len(holder) == 0 {
		// Pruned between the two statements: going round again inserts it.
		return q.ClaimSingleton(k, runID)
	}
	var live []string
	if err := q.g.Raw(`SELECT id FROM runs WHERE id = ? AND status IN `+liveStatuses, holder[0]).Scan(&live).Error; err != nil {
		return "", fmt.Errorf("read singleton run of %s: %w", k.FunctionID, err)
	}
	if len(live) == 1 {
		return holder[0], nil
	}
	return "", q.SetKeyRun(k, runID)
}

// SetKeyRun hands key k (locked by ClaimSingleton) to run runID.
func (q *Q) SetKeyRun(k FlowKey, runID string) error {
	err := q.g.Exec(`UPDATE flow_keys SET run_id = ? WHERE kind = ? AND function_id = ? AND scope = ? AND key_hash = ?`,
		runID, k.Kind, k.FunctionID, k.Scope, k.Hash).Error
	if err != nil {
		return fmt.Errorf("hand singleton key of %s on: %w", k.FunctionID, err)
	}
	return nil
}

// PruneFlowKeys drops the idempotency and rate-limit rows whose time is before before (they
// decide nothing any more) and returns how many.
func (q *Q) PruneFlowKeys(before int64) (int64, error) {
	res := q.g.Exec(`DELETE FROM flow_keys WHERE kind IN ('idempotency', 'rateLimit') AND value < ?`, before)
	if res.Error != nil {
		return 0, fmt.Errorf("prune flow keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// OpenGroup is a row of flow_open: a debounce or batch still gathering events.
type OpenGroup struct {
	FunctionID string
	Scope      int64
	KeyHash    string
	RunID      string
	FirstAt    int64
	Size       int
}

func (OpenGroup) TableName() string { return "flow_open" }

// OpenGroupFor returns the open group of (fn, scope, hash) with its row locked until the
// transaction ends, creating it for run runID (first at now, size 0) when there is none; it
// reports whether it created it. A sender that finds another creating it waits for that
// commit (PostgreSQL's unique index) and then takes the row.
func (q *Q) OpenGroupFor(fn string, scope int64, hash, runID string, now int64) (*OpenGroup, bool, error) {
	var got []string
	err := q.g.Raw(`INSERT INTO flow_open (function_id, scope, key_hash, run_id, first_at, size) VALUES (?, ?, ?, ?, ?, 0)
		ON CONFLICT (function_id, scope, key_hash) DO NOTHING RETURNING run_id`, fn, scope, hash, runID, now).Scan(&got).Error
	if err != nil {
		return nil, false, fmt.Errorf("open group of %s: %w", fn, err)
	}
	if len(got) == 1 {
		return &OpenGroup{FunctionID: fn, Scope: scope, KeyHash: hash, RunID: runID, FirstAt: now}, true, nil
	}
	var g OpenGroup
	err = q.d.forUpdate(q.g.Where("function_id = ? AND scope = ? AND key_hash = ?", fn, scope, hash)).Take(&g).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		// Closed between the two statements: PostgreSQL's ON CONFLICT saw the row that a
		// flush then deleted. Going round again opens a new one.
		return q.OpenGroupFor(fn, scope, hash, runID, now)
	}
	if err != nil {
		return nil, false, fmt.Errorf("lock group of %s: %w", fn, err)
	}
	return &g, false, nil
}

// SetGroup stores g's run, first event time and size (its row is locked by OpenGroupFor).
func (q *Q) SetGroup(g *OpenGroup) error {
	err := q.g.Exec(`UPDATE flow_open SET run_id = ?, first_at = ?, size = ? WHERE function_id = ? AND scope = ? AND key_hash = ?`,
		g.RunID, g.FirstAt, g.Size, g.FunctionID, g.Scope, g.KeyHash).Error
	if err != nil {
		return fmt.Errorf("update group of %s: %w", g.FunctionID, err)
	}
	return nil
}

// CloseGroup deletes g: the next event of its key opens a new one.
func (q *Q) CloseGroup(g *OpenGroup) error {
	err := q.g.Exec(`DELETE FROM flow_open WHERE function_id = ? AND scope = ? AND key_hash = ?`, g.FunctionID, g.Scope, g.KeyHash).Error
	if err != nil {
		return fmt.Errorf("close group of %s: %w", g.FunctionID, err)
	}
	return nil
}

// RetriggerQueued gives a queued run that no worker has claimed yet a new triggering event
// (when event is not nil) and due time, and reports whether the run was still unclaimed.
// A run a worker has begun keeps what it has: the caller starts another.
func (q *Q) RetriggerQueued(runID string, event *Event, dueAt, now int64) (bool, error) {
	var res *gorm.DB
	const unclaimed = ` WHERE id = ? AND status = 'queued' AND started_at IS NULL AND lease_until = 0`
	// A start timeout (deadline_at while queued) moves with the due time: it counts from it.
	const due = `due_at = ?, deadline_at = CASE WHEN deadline_at IS NULL THEN NULL ELSE deadline_at + ? - due_at END, updated_at = ?`
	if event != nil {
		res = q.g.Exec(`UPDATE runs SET event_id = ?, event_name = ?, event = ?, `+due+unclaimed,
			event.ID, event.Name, event.Payload, dueAt, dueAt, now, runID)
	} else {
		res = q.g.Exec(`UPDATE runs SET `+due+unclaimed, dueAt, dueAt, now, runID)
	}
	if res.Error != nil {
		return false, fmt.Errorf("update queued run %s: %w", runID, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// BatchEvent is a row of flow_batch_events.
type BatchEvent struct {
	RunID   string `gorm:"primaryKey"`
	Seq     int    `gorm:"primaryKey"`
	EventID string
	Payload string
}

func (BatchEvent) TableName() string { return "flow_batch_events" }

// AddBatchEvents stores events of batched runs.
func (q *Q) AddBatchEvents(rows []BatchEvent) error {
	err := insertRows(q.g, "flow_batch_events", []string{"run_id", "seq", "event_id", "payload"}, len(rows), func(i int) []any {
		return []any{rows[i].RunID, rows[i].Seq, rows[i].EventID, rows[i].Payload}
	})
	if err != nil {
		return fmt.Errorf("add events to batches: %w", err)
	}
	return nil
}

// BatchEventsOf returns the events of batched run runID in order (none for other runs).
func (q *Q) BatchEventsOf(runID string) ([]BatchEvent, error) {
	var rows []BatchEvent
	if err := q.g.Where("run_id = ?", runID).Order("seq").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load batch of run %s: %w", runID, err)
	}
	return rows, nil
}

// DeleteBatchEventsOf deletes the batches of runs (retention).
func (q *Q) DeleteBatchEventsOf(runIDs []string) error {
	if err := q.g.Exec(`DELETE FROM flow_batch_events WHERE run_id IN ?`, runIDs).Error; err != nil {
		return fmt.Errorf("delete batches: %w", err)
	}
	return nil
}

// RunLabel is who a run belongs to: its function and workflow.
type RunLabel struct {
	ID         string
	FunctionID string
	WorkflowID *int64
}

// RunLabels returns the labels of the runs ids that exist, in id order.
func (q *Q) RunLabels(ids []string) ([]RunLabel, error) {
	var out []RunLabel
	for start := 0; start < len(ids); start += 500 {
		var more []RunLabel
		err := q.g.Raw(`SELECT id, function_id, workflow_id FROM runs WHERE id IN ? ORDER BY id`, ids[start:min(len(ids), start+500)]).Scan(&more).Error
		if err != nil {
			return nil, fmt.Errorf("label runs: %w", err)
		}
		out = append(out, more...)
	}
	return out, nil
}

// PruneFlowHolders drops the rows that hold nothing any more: open groups whose run a worker
// has begun (or retention deleted) and singleton keys whose run has finished. The next event
// of such a key would replace the row anyway; this keeps the tables to the keys in use.
func (q *Q) PruneFlowHolders() (int64, error) {
	// Each row goes only if it still names the run found finished: a row that a sender
	// re-took meanwhile names its new run and stays (the NOT EXISTS of a DELETE would be
	// checked against a snapshot older than that sender's commit).
	var groups []OpenGroup
	if err := q.g.Raw(`SELECT function_id, scope, key_hash, run_id FROM flow_open WHERE NOT EXISTS (SELECT 1 FROM runs
		WHERE runs.id = flow_open.run_id AND runs.status = 'queued' AND runs.started_at IS NULL) LIMIT ?`, pruneFlowBatch).Scan(&groups).Error; err != nil {
		return 0, fmt.Errorf("find spent open groups: %w", err)
	}
	var n int64
	for _, g := range groups {
		res := q.g.Exec(`DELETE FROM flow_open WHERE function_id = ? AND scope = ? AND key_hash = ? AND run_id = ?`,
			g.FunctionID, g.Scope, g.KeyHash, g.RunID)
		if res.Error != nil {
			return n, fmt.Errorf("prune open group of %s: %w", g.FunctionID, res.Error)
		}
		n += res.RowsAffected
	}
	var keys []struct {
		FunctionID string
		Scope      int64
		KeyHash    string
		RunID      string
	}
	if err := q.g.Raw(`SELECT function_id, scope, key_hash, run_id FROM flow_keys WHERE kind = 'singleton' AND NOT EXISTS (SELECT 1 FROM runs
		WHERE runs.id = flow_keys.run_id AND runs.status IN `+liveStatuses+`) LIMIT ?`, pruneFlowBatch).Scan(&keys).Error; err != nil {
		return n, fmt.Errorf("find spent singleton keys: %w", err)
	}
	for _, k := range keys {
		res := q.g.Exec(`DELETE FROM flow_keys WHERE kind = 'singleton' AND function_id = ? AND scope = ? AND key_hash = ? AND run_id = ?`,
			k.FunctionID, k.Scope, k.KeyHash, k.RunID)
		if res.Error != nil {
			return n, fmt.Errorf("prune singleton key of %s: %w", k.FunctionID, res.Error)
		}
		n += res.RowsAffected
	}
	return n, nil
}

// pruneFlowBatch bounds one housekeeping pass over the flow tables.
const pruneFlowBatch = 1000
