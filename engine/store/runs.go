package store

import (
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

var runCols = []string{"id", "function_id", "status", "event_id", "event_name", "event", "workflow_id", "workflow_version",
	"concurrency_key", "attempt", "due_at", "lease_owner", "lease_until", "parent_run_id", "parent_step_id",
	"output", "error", "created_at", "started_at", "ended_at", "updated_at",
	"concurrency_limit", "concurrency_key2", "concurrency_limit2", "throttle_key", "throttle_limit", "throttle_period",
	"limited", "timeout_finish", "deadline_at", "needs"}

// InsertRuns stores new runs.
func (q *Q) InsertRuns(runs []Run) error {
	err := insertRows(q.g, "runs", runCols, len(runs), func(i int) []any {
		r := &runs[i]
		return []any{r.ID, r.FunctionID, r.Status, r.EventID, r.EventName, r.Event, r.WorkflowID, r.WorkflowVersion,
			r.ConcurrencyKey, r.Attempt, r.DueAt, r.LeaseOwner, r.LeaseUntil, r.ParentRunID, r.ParentStepID,
			r.Output, r.Error, r.CreatedAt, r.StartedAt, r.EndedAt, r.UpdatedAt,
			r.ConcurrencyLimit, r.ConcurrencyKey2, r.ConcurrencyLimit2, r.ThrottleKey, r.ThrottleLimit, r.ThrottlePeriod,
			r.Limited, r.TimeoutFinish, r.DeadlineAt, r.Needs}
	})
	if err != nil {
		return fmt.Errorf("insert runs: %w", err)
	}
	return nil
}

// GetRun reads one run; ErrNotFound if there is none.
func (q *Q) GetRun(id string) (*Run, error) {
	var r Run
	if err := q.g.Where("id = ?", id).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load run %s: %w", id, err)
	}
	return &r, nil
}

// RunExists reports whether run id is stored.
func (q *Q) RunExists(id string) (bool, error) {
	var n int64
	if err := q.g.Model(&Run{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return false, fmt.Errorf("find run %s: %w", id, err)
	}
	return n > 0, nil
}

// CancelRun ends a live run as cancelled with reason; false if it had already finished.
func (q *Q) CancelRun(id, reason string, now int64) (bool, error) {
	res := q.g.Exec(`UPDATE runs SET status = 'cancelled', error = ?, ended_at = ?, updated_at = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND status IN `+liveStatuses, reason, now, now, id)
	if res.Error != nil {
		return false, fmt.Errorf("cancel run %s: %w", id, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// LiveChildren lists the unfinished runs that run parentID invoked (from step stepID only,
// when given), in id order.
func (q *Q) LiveChildren(parentID, stepID string) ([]string, error) {
	sel := q.g.Model(&Run{}).Where("parent_run_id = ? AND status IN "+liveStatuses, parentID)
	if stepID != "" {
		sel = sel.Where("parent_step_id = ?", stepID)
	}
	var ids []string
	if err := sel.Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("find invoked runs of %s: %w", parentID, err)
	}
	return ids, nil
}

// WakeRun makes a live run due now; a sleeping or waiting one becomes queued.
func (q *Q) WakeRun(id string, now int64) error {
	err := q.g.Exec(`UPDATE runs SET due_at = ?, updated_at = ?,
		status = CASE WHEN status IN ('sleeping', 'waiting') THEN 'queued' ELSE status END
		WHERE id = ? AND status IN `+liveStatuses, now, now, id).Error
	if err != nil {
		return fmt.Errorf("wake run %s: %w", id, err)
	}
	return nil
}

// RequeueFailed queues a failed run again from its first attempt; false unless it had failed.
func (q *Q) RequeueFailed(id string, now int64) (bool, error) {
	res := q.g.Exec(`UPDATE runs SET status = 'queued', error = '', output = NULL, ended_at = NULL, attempt = 0, due_at = ?, updated_at = ?,
		lease_owner = '', lease_until = 0 WHERE id = ? AND status = 'failed'`, now, now, id)
	if res.Error != nil {
		return false, fmt.Errorf("requeue run %s: %w", id, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// RunFilter selects runs to list or count; zero fields match everything. Times are Unix ms.
type RunFilter struct {
	Status     string
	FunctionID string
	EventName  string
	WorkflowID int64
	Since      int64 // created at or after
	Until      int64 // created before
	EndedSince int64 // ended at or after
	Unfinished bool  // only runs still in progress (not completed, failed or cancelled)
}

func (f RunFilter) apply(sel *gorm.DB) *gorm.DB {
	if f.Status != "" {
		sel = sel.Where("status = ?", f.Status)
	}
	if f.FunctionID != "" {
		sel = sel.Where("function_id = ?", f.FunctionID)
	}
	if f.EventName != "" {
		sel = sel.Where("event_name = ?", f.EventName)
	}
	if f.WorkflowID != 0 {
		sel = sel.Where("workflow_id = ?", f.WorkflowID)
	}
	if f.Since != 0 {
		sel = sel.Where("created_at >= ?", f.Since)
	}
	if f.Until != 0 {
		sel = sel.Where("created_at < ?", f.Until)
	}
	if f.EndedSince != 0 {
		sel = sel.Where("ended_at >= ?", f.EndedSince)
	}
	if f.Unfinished {
		sel = sel.Where("status NOT IN ('completed', 'failed', 'cancelled')")
	}
	return sel
}

// RunIDs returns the ids of up to limit runs matching f, newest first.
func (q *Q) RunIDs(f RunFilter, limit int) ([]string, error) {
	var ids []string
	if err := f.apply(q.g.Model(&Run{})).Order("id DESC").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("match runs: %w", err)
	}
	return ids, nil
}

// ListRuns returns up to limit runs matching f with ids below before ("" for the newest),
// newest first, without their events.
func (q *Q) ListRuns(f RunFilter, before string, limit int) ([]Run, error) {
	sel := f.apply(q.g.Model(&Run{}))
	if before != "" {
		sel = sel.Where("id < ?", before)
	}
	var rows []Run
	if err := sel.Omit("event").Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return rows, nil
}

// CountRuns counts the runs matching f by status.
func (q *Q) CountRuns(f RunFilter) (map[string]int, error) {
	var rows []struct {
		Status string
		N      int
	}
	if err := f.apply(q.g.Model(&Run{})).Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// OwnedRunning returns which of runs ids are running under owner's lease, holding their rows
// (shared) until the transaction ends: proof of ownership without writing the run rows, which
// keeps a concurrent cancel off until the transaction is done.
func (q *Q) OwnedRunning(ids []string, owner string) ([]string, error) {
	var got []string
	sel := q.g.Table("runs").Where("id IN ? AND lease_owner = ? AND status = 'running'", ids, owner)
	if err := q.d.forShare(sel).Pluck("id", &got).Error; err != nil {
		return nil, fmt.Errorf("check leases: %w", err)
	}
	return got, nil
}

// Completion is a run's successful end: its output.
type Completion struct {
	RunID  string
	Output *string
}

// CompleteRuns marks runs completed with their outputs in one statement and returns the ids
// owner still held (the others were cancelled or taken over meanwhile).
func (q *Q) CompleteRuns(done []Completion, now int64, owner string) ([]string, error) {
	values := make([]string, len(done))
	args := make([]any, 0, 2*len(done)+3)
	for i, c := range done {
		values[i] = "(?, ?)"
		args = append(args, c.RunID, c.Output)
	}
	args = append(args, now, now, owner)
	var ids []string
	// UPDATE ... FROM joins the values once (a correlated subquery per row would compare every
	// pair); both PostgreSQL and SQLite (3.33+) support it.
	err := q.g.Raw(`WITH v(id, output) AS (VALUES `+strings.Join(values, ", ")+`)
		UPDATE runs SET status = 'completed', output = v.output, error = '',
			ended_at = ?, updated_at = ?, lease_owner = '', lease_until = 0
		FROM v WHERE runs.id = v.id AND runs.lease_owner = ? AND runs.status = 'running' RETURNING runs.id`, args...).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("complete runs: %w", err)
	}
	return ids, nil
}

// NoteRunError sets the error shown on live run id (an event its cancel condition ignored).
func (q *Q) NoteRunError(id, msg string) error {
	if err := q.g.Exec(`UPDATE runs SET error = ? WHERE id = ? AND status IN `+liveStatuses, msg, id).Error; err != nil {
		return fmt.Errorf("note on run %s: %w", id, err)
	}
	return nil
}
