package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/inkflow/inkflow/engine/store"
)

// Cancel cancels a run that has not finished; a sleeping or waiting run is cancelled at once,
// a running one at its next step. ENotFound for an unknown run, EConflict for a finished one.
func (e *Engine) Cancel(ctx context.Context, runID string) error {
	var ok bool
	err := e.st.Tx(ctx, func(q *store.Q) error {
		exists, err := q.RunExists(runID)
		if err != nil {
			return err
		}
		if !exists {
			return Errorf(ENotFound, "run %s not found", runID)
		}
		ok, err = e.cancelRun(ctx, q, runID, "cancelled by request", ms(e.now()))
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
	err := e.st.Tx(ctx, func(q *store.Q) error {
		old, err := q.GetRun(runID)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(ENotFound, "run %s not found", runID)
		}
		if err != nil {
			return err
		}
		b := &batch{e: e}
		if id, err = e.queueRerun(b, old); err != nil {
			return err
		}
		if err := b.flush(q); err != nil {
			return err
		}
		return q.Notify(notifyChannel)
	})
	if err != nil {
		return "", err
	}
	e.signal()
	return id, nil
}

// queueRerun adds to b a new run of old's function for old's event and workflow version.
func (e *Engine) queueRerun(b *batch, old *store.Run) (string, error) {
	r := e.function(old.FunctionID)
	if r == nil {
		return "", Errorf(EConflict, "function %q of run %s is not registered any more", old.FunctionID, old.ID)
	}
	var p preparedEvent
	if err := json.Unmarshal([]byte(old.Event), &p.ev); err != nil {
		return "", fmt.Errorf("decode event of run %s: %w", old.ID, err)
	}
	p.payload = old.Event
	_ = json.Unmarshal([]byte(old.Event), &p.m)
	meta := RunMeta{WorkflowID: deref64(old.WorkflowID), WorkflowVersion: derefInt(old.WorkflowVersion)}
	id := e.queueRun(b, r, p, old.EventID, meta, ms(e.now()), "", "")
	// The new run is held to the old one's claim-time flow (a workflow's config, its version's
	// needs), which a Fanout gave it and the function alone does not know.
	i := len(b.runs) - 1
	for i > 0 && b.runs[i].ID != id {
		i--
	}
	row := &b.runs[i]
	row.ConcurrencyKey, row.ConcurrencyLimit, row.ConcurrencyKey2, row.ConcurrencyLimit2 =
		old.ConcurrencyKey, old.ConcurrencyLimit, old.ConcurrencyKey2, old.ConcurrencyLimit2
	row.ThrottleKey, row.ThrottleLimit, row.ThrottlePeriod = old.ThrottleKey, old.ThrottleLimit, old.ThrottlePeriod
	row.Limited, row.TimeoutFinish, row.Needs = old.Limited, old.TimeoutFinish, old.Needs
	return id, nil
}

// Retry resumes a failed run at the step that failed: its completed steps keep their stored
// results, the failed step gets a fresh set of attempts (a failed Invoke starts a new child),
// and the run is queued again under the same id. EConflict unless the run has failed.
func (e *Engine) Retry(ctx context.Context, runID string) error {
	err := e.st.Tx(ctx, func(q *store.Q) error {
		// The run row first, as every writer of a run and its steps does (retention deletes
		// them under the same lock): its status is read under the lock.
		if err := q.LockRuns([]string{runID}); err != nil {
			return err
		}
		run, err := q.GetRun(runID)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(ENotFound, "run %s not found", runID)
		}
		if err != nil {
			return err
		}
		if Status(run.Status) != StatusFailed {
			return Errorf(EConflict, "run %s is %s; only a failed run can be retried", runID, run.Status)
		}
		now := ms(e.now())
		// A failed invoke starts a new child; a wait left pending by a parallel branch lost its
		// registration when the run ended, so it is declared afresh on replay.
		if err := q.DropStepsForRetry(runID); err != nil {
			return err
		}
		if err := q.RetryFailedSteps(runID, now); err != nil {
			return err
		}
		if ok, err := q.RequeueFailed(runID, now); err != nil || !ok {
			return err
		}
		if r := e.function(run.FunctionID); r != nil && len(r.fn.CancelOn) > 0 {
			var p preparedEvent
			p.payload = run.Event
			_ = json.Unmarshal([]byte(run.Event), &p.m)
			b := &batch{e: e, waits: cancelRows(r.fn.CancelOn, p, runID, now, now)} // numbered, and their paths recorded
			if err := b.flush(q); err != nil {
				return err
			}
		}
		return q.Notify(notifyChannel)
	})
	if err != nil {
		return err
	}
	e.signal()
	return nil
}

// GetRun returns a run with its steps and what it waits for; ENotFound if there is none.
func (e *Engine) GetRun(ctx context.Context, runID string) (*Run, error) {
	q := e.st.Q(ctx)
	row, err := q.GetRun(runID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(ENotFound, "run %s not found", runID)
	}
	if err != nil {
		return nil, err
	}
	run := toRun(*row, true)
	if run.WaitingForWorker, err = e.waitingForWorker(q, row); err != nil {
		return nil, err
	}
	steps, err := q.StepsOf([]string{runID})
	if err != nil {
		return nil, err
	}
	run.Steps = make([]StepInfo, 0, len(steps))
	for _, s := range steps {
		run.Steps = append(run.Steps, StepInfo{ID: s.ID, Name: s.Name, Kind: s.Kind, Status: s.Status, Attempts: s.Attempts,
			Input: raw(s.Input), Output: raw(s.Output), Error: s.Error, StartedAt: fromMSPtr(s.StartedAt), EndedAt: fromMSPtr(s.EndedAt)})
	}
	if run.Status == StatusWaiting {
		waits, err := q.EventWaitsOf(runID)
		if err != nil {
			return nil, err
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
	run := Run{ID: r.ID, FunctionID: r.FunctionID, Status: Status(r.Status), EventID: r.EventID, EventName: r.EventName,
		WorkflowID: r.WorkflowID, WorkflowVersion: r.WorkflowVersion, Attempt: r.Attempt, Output: raw(r.Output),
		Error: r.Error, CreatedAt: fromMS(r.CreatedAt), StartedAt: fromMSPtr(r.StartedAt), EndedAt: fromMSPtr(r.EndedAt)}
	if withEvent {
		run.Event = json.RawMessage(r.Event)
	}
	if !run.Status.Finished() && run.Status != StatusRunning {
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

// stored is f as the store selects runs.
func (f RunFilter) stored() store.RunFilter {
	sf := store.RunFilter{Status: string(f.Status), FunctionID: f.FunctionID, EventName: f.EventName, WorkflowID: f.WorkflowID}
	if !f.Since.IsZero() {
		sf.Since = ms(f.Since)
	}
	if !f.Until.IsZero() {
		sf.Until = ms(f.Until)
	}
	if !f.EndedSince.IsZero() {
		sf.EndedSince = ms(f.EndedSince)
	}
	return sf
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
	rows, err := e.st.Q(ctx).ListRuns(f.stored(), f.Cursor, limit+1)
	if err != nil {
		return nil, "", err
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
	sf := f.stored()
	sf.Status = ""
	counts, err := e.st.Q(ctx).CountRuns(sf)
	if err != nil {
		return nil, err
	}
	out := make(map[Status]int, len(Statuses))
	for _, s := range Statuses {
		out[s] = counts[string(s)]
	}
	return out, nil
}

// ListEvents returns events newest first with the runs each started.
func (e *Engine) ListEvents(ctx context.Context, f EventFilter) ([]StoredEvent, string, error) {
	limit, err := pageLimit(f.Limit)
	if err != nil {
		return nil, "", err
	}
	rows, err := e.st.Q(ctx).ListEvents(f.Name, f.Cursor, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = rows[limit-1].ID
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	resumed, err := resumedBy(e.st.Q(ctx), ids)
	if err != nil {
		return nil, "", err
	}
	out := make([]StoredEvent, 0, len(rows))
	for _, r := range rows {
		se, err := toStoredEvent(r)
		if err != nil {
			return nil, "", err
		}
		se.Resumed = append(se.Resumed, resumed[r.ID]...)
		out = append(out, se)
	}
	return out, next, nil
}

// GetEvent returns one stored event by its engine id; ENotFound if there is none.
func (e *Engine) GetEvent(ctx context.Context, id string) (*StoredEvent, error) {
	r, err := e.st.Q(ctx).GetEvent(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(ENotFound, "event %s not found", id)
	}
	if err != nil {
		return nil, err
	}
	se, err := toStoredEvent(*r)
	if err != nil {
		return nil, err
	}
	resumed, err := resumedBy(e.st.Q(ctx), []string{r.ID})
	if err != nil {
		return nil, err
	}
	se.Resumed = append(se.Resumed, resumed[r.ID]...)
	return &se, nil
}

func toStoredEvent(r eventRow) (StoredEvent, error) {
	var se StoredEvent
	if err := json.Unmarshal([]byte(r.Payload), &se.Event); err != nil {
		return se, fmt.Errorf("decode event %s: %w", r.ID, err)
	}
	se.StoreID = r.ID
	se.ReceivedAt = fromMS(r.ReceivedAt)
	se.Runs = splitIDs(r.RunIDs)
	se.Resumed = []string{}
	se.Notes = r.Notes
	return se, nil
}

func joinIDs(ids []string) string { return strings.Join(ids, ",") }

func splitIDs(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}
