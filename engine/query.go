package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// Cancel cancels a run that has not finished; a sleeping or waiting run is cancelled at once,
// a running one at its next step. ENotFound for an unknown run, EConflict for a finished one.
func (e *Engine) Cancel(ctx context.Context, runID string) error {
	var ok bool
	err := e.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&runRow{}).Where("id = ?", runID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return Errorf(ENotFound, "run %s not found", runID)
		}
		var err error
		ok, err = e.cancelRun(ctx, tx, runID, "cancelled by request", ms(e.now()))
		return err
	})
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(EConflict, "run %s has already finished", runID)
	}
	e.signal() // an invoking parent may be due now
	return nil
}

// Rerun starts a new run of the same function for the same event (and the same workflow
// version) and returns its id.
func (e *Engine) Rerun(ctx context.Context, runID string) (string, error) {
	var id string
	err := e.tx(ctx, func(tx *gorm.DB) error {
		var old runRow
		if err := tx.Where("id = ?", runID).Take(&old).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return Errorf(ENotFound, "run %s not found", runID)
			}
			return err
		}
		r := e.function(old.FunctionID)
		if r == nil {
			return Errorf(EConflict, "function %q is not registered any more", old.FunctionID)
		}
		var p preparedEvent
		if err := json.Unmarshal([]byte(old.Event), &p.ev); err != nil {
			return fmt.Errorf("decode event of run %s: %w", runID, err)
		}
		p.payload = old.Event
		_ = json.Unmarshal([]byte(old.Event), &p.m)
		b := &batch{e: e}
		meta := RunMeta{WorkflowID: deref64(old.WorkflowID), WorkflowVersion: derefInt(old.WorkflowVersion)}
		id = e.queueRun(b, r, p, old.EventID, meta, ms(e.now()), "", "")
		if err := b.flush(tx); err != nil {
			return err
		}
		return e.notify(tx)
	})
	if err != nil {
		return "", err
	}
	e.signal()
	return id, nil
}

// Retry resumes a failed run at the step that failed: its completed steps keep their stored
// results, the failed step gets a fresh set of attempts (a failed Invoke starts a new child),
// and the run is queued again under the same id. EConflict unless the run has failed.
func (e *Engine) Retry(ctx context.Context, runID string) error {
	err := e.tx(ctx, func(tx *gorm.DB) error {
		// The run row first, as every writer of a run and its steps does (retention deletes
		// them under the same lock): its status is read under the lock.
		if err := e.lockRuns(tx, map[string]bool{runID: true}); err != nil {
			return err
		}
		var run runRow
		if err := tx.Where("id = ?", runID).Take(&run).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return Errorf(ENotFound, "run %s not found", runID)
			}
			return err
		}
		if run.Status != StatusFailed {
			return Errorf(EConflict, "run %s is %s; only a failed run can be retried", runID, run.Status)
		}
		now := ms(e.now())
		// A failed invoke starts a new child; a wait left pending by a parallel branch lost its
		// registration when the run ended, so it is declared afresh on replay.
		err := tx.Exec(`DELETE FROM steps WHERE run_id = ? AND ((status = ? AND kind = ?) OR status = ?)`,
			runID, StepFailed, KindInvoke, StepWaiting).Error
		if err != nil {
			return err
		}
		err = tx.Exec(`UPDATE steps SET status = ?, attempts = 0, error = '', wake_at = ?, ended_at = NULL WHERE run_id = ? AND status = ?`,
			StepRetrying, now, runID, StepFailed).Error
		if err != nil {
			return err
		}
		res := tx.Exec(`UPDATE runs SET status = ?, error = '', output = NULL, ended_at = NULL, attempt = 0, due_at = ?, updated_at = ?,
			lease_owner = '', lease_until = 0 WHERE id = ? AND status = ?`, StatusQueued, now, now, runID, StatusFailed)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		if r := e.function(run.FunctionID); r != nil && len(r.fn.CancelOn) > 0 {
			var p preparedEvent
			p.payload = run.Event
			_ = json.Unmarshal([]byte(run.Event), &p.m)
			b := &batch{e: e, waits: cancelRows(r, p, runID, now)}
			if err := b.flush(tx); err != nil {
				return err
			}
		}
		return e.notify(tx)
	})
	if err != nil {
		return err
	}
	e.signal()
	return nil
}

// GetRun returns a run with its steps and what it waits for; ENotFound if there is none.
func (e *Engine) GetRun(ctx context.Context, runID string) (*Run, error) {
	db := e.db.WithContext(ctx)
	var row runRow
	if err := db.Where("id = ?", runID).Take(&row).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, Errorf(ENotFound, "run %s not found", runID)
		}
		return nil, fmt.Errorf("load run %s: %w", runID, err)
	}
	run := toRun(row, true)
	var steps []stepRow
	if err := db.Where("run_id = ?", runID).Order("seq").Find(&steps).Error; err != nil {
		return nil, fmt.Errorf("load steps of run %s: %w", runID, err)
	}
	run.Steps = make([]StepInfo, 0, len(steps))
	for _, s := range steps {
		run.Steps = append(run.Steps, StepInfo{ID: s.ID, Name: s.Name, Kind: s.Kind, Status: s.Status, Attempts: s.Attempts,
			Input: raw(s.Input), Output: raw(s.Output), Error: s.Error, StartedAt: fromMSPtr(s.StartedAt), EndedAt: fromMSPtr(s.EndedAt)})
	}
	if row.Status == StatusWaiting {
		var waits []waitRow
		if err := db.Where("run_id = ? AND kind = ?", runID, waitEvent).Order("created_at").Find(&waits).Error; err != nil {
			return nil, fmt.Errorf("load waits of run %s: %w", runID, err)
		}
		if len(waits) > 0 {
			names := make([]string, 0, len(waits))
			for _, w := range waits {
				names = append(names, w.EventName)
			}
			w := waits[0]
			run.WaitingFor = &WaitInfo{StepID: w.StepID, Event: strings.Join(names, " | "), Match: w.MatchPath, If: w.IfExpr, ExpiresAt: fromMS(w.ExpiresAt)}
		}
	}
	return &run, nil
}

func toRun(r runRow, withEvent bool) Run {
	run := Run{ID: r.ID, FunctionID: r.FunctionID, Status: r.Status, EventID: r.EventID, EventName: r.EventName,
		WorkflowID: r.WorkflowID, WorkflowVersion: r.WorkflowVersion, Attempt: r.Attempt, Output: raw(r.Output),
		Error: r.Error, CreatedAt: fromMS(r.CreatedAt), StartedAt: fromMSPtr(r.StartedAt), EndedAt: fromMSPtr(r.EndedAt)}
	if withEvent {
		run.Event = json.RawMessage(r.Event)
	}
	if !r.Status.Finished() && r.Status != StatusRunning {
		due := fromMS(r.DueAt)
		run.DueAt = &due
	}
	return run
}

func raw(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}

func (f RunFilter) apply(q *gorm.DB) *gorm.DB {
	if f.FunctionID != "" {
		q = q.Where("function_id = ?", f.FunctionID)
	}
	if f.EventName != "" {
		q = q.Where("event_name = ?", f.EventName)
	}
	if f.WorkflowID != 0 {
		q = q.Where("workflow_id = ?", f.WorkflowID)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", ms(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", ms(f.Until))
	}
	if !f.EndedSince.IsZero() {
		q = q.Where("ended_at >= ?", ms(f.EndedSince))
	}
	return q
}

func pageLimit(n int) (int, error) {
	switch {
	case n == 0:
		return 50, nil
	case n < 1 || n > 1000:
		return 0, FieldError("limit", "must be between 1 and 1000")
	}
	return n, nil
}

// ListRuns returns runs newest first and the cursor of the next page ("" at the end).
func (e *Engine) ListRuns(ctx context.Context, f RunFilter) ([]Run, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	if f.Status != "" && !validStatus(f.Status) {
		return nil, "", FieldError("status", "must be one of %v", Statuses)
	}
	q := f.apply(e.db.WithContext(ctx).Model(&runRow{}))
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Cursor != "" {
		q = q.Where("id < ?", f.Cursor)
	}
	var rows []runRow
	if err := q.Omit("event").Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	out := make([]Run, 0, len(rows))
	for _, r := range rows {
		out = append(out, toRun(r, false))
	}
	return out, next, nil
}

func validStatus(s Status) bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// CountRuns returns the number of runs per status matching f (Status ignored).
func (e *Engine) CountRuns(ctx context.Context, f RunFilter) (map[Status]int, error) {
	var rows []struct {
		Status Status
		N      int
	}
	q := f.apply(e.db.WithContext(ctx).Model(&runRow{}))
	if err := q.Select("status, COUNT(*) AS n").Group("status").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count runs: %w", err)
	}
	out := make(map[Status]int, len(Statuses))
	for _, s := range Statuses {
		out[s] = 0
	}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// ListEvents returns events newest first with the runs each started.
func (e *Engine) ListEvents(ctx context.Context, f EventFilter) ([]StoredEvent, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	q := e.db.WithContext(ctx).Model(&eventRow{})
	if f.Name != "" {
		q = q.Where("name = ?", f.Name)
	}
	if f.Cursor != "" {
		q = q.Where("id < ?", f.Cursor)
	}
	var rows []eventRow
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("list events: %w", err)
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	out := make([]StoredEvent, 0, len(rows))
	for _, r := range rows {
		se, err := toStoredEvent(r)
		if err != nil {
			return nil, "", err
		}
		out = append(out, se)
	}
	return out, next, nil
}

// GetEvent returns one stored event by its engine id; ENotFound if there is none.
func (e *Engine) GetEvent(ctx context.Context, id string) (*StoredEvent, error) {
	var r eventRow
	if err := e.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, Errorf(ENotFound, "event %s not found", id)
		}
		return nil, fmt.Errorf("load event %s: %w", id, err)
	}
	se, err := toStoredEvent(r)
	return &se, err
}

func toStoredEvent(r eventRow) (StoredEvent, error) {
	var se StoredEvent
	if err := json.Unmarshal([]byte(r.Payload), &se.Event); err != nil {
		return se, fmt.Errorf("decode event %s: %w", r.ID, err)
	}
	se.StoreID = r.ID
	se.ReceivedAt = fromMS(r.ReceivedAt)
	se.Runs = splitIDs(r.RunIDs)
	return se, nil
}

func joinIDs(ids []string) string { return strings.Join(ids, ",") }

func splitIDs(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
