package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/inkflow/inkflow/engine/store"
)

// MaxBulkRuns is the most runs one BulkCancel or BulkReplay acts on. A filter matching more is
// refused whole (EInvalid naming "limit") rather than acted on in part, so a request either does
// everything it says or nothing; narrow the filter (since/until) to act in slices.
const MaxBulkRuns = 1000

// BulkResult answers a bulk action: how many runs the filter matched, their ids (newest first)
// and, for a replay, the ids of the new runs in the same order.
type BulkResult struct {
	Matched int      `json:"matched"`
	IDs     []string `json:"ids"`
	Runs    []string `json:"runs"`
}

// matchRuns returns the ids of the runs f selects (f.Limit caps them, default MaxBulkRuns),
// EInvalid naming "limit" when there are more.
func (e *Engine) matchRuns(q *store.Q, f RunFilter, unfinished bool) ([]string, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = MaxBulkRuns
	case limit < 1 || limit > MaxBulkRuns:
		return nil, FieldError("limit", "must be between 1 and %d", MaxBulkRuns)
	}
	if f.Status != "" && !validStatus(f.Status) {
		return nil, FieldError("status", "must be one of %v", Statuses)
	}
	sf := f.stored()
	sf.Unfinished = unfinished
	ids, err := q.RunIDs(sf, limit+1)
	if err != nil {
		return nil, err
	}
	if len(ids) > limit {
		return nil, FieldError("limit", "the filter matches more than %d runs; narrow it (since, until, status) and act in slices", limit)
	}
	return ids, nil
}

// BulkCancel cancels every unfinished run f selects, in one transaction (all or none); with
// dryRun it only reports what it would cancel. Finished runs are not matched.
func (e *Engine) BulkCancel(ctx context.Context, f RunFilter, dryRun bool) (BulkResult, error) {
	res := BulkResult{IDs: []string{}, Runs: []string{}}
	err := e.st.Tx(ctx, func(q *store.Q) error {
		ids, err := e.matchRuns(q, f, true)
		if err != nil {
			return err
		}
		if dryRun {
			res.IDs = ids
			return nil
		}
		now := ms(e.now())
		for _, id := range ids {
			ok, err := e.cancelRun(ctx, q, id, "cancelled by request (bulk)", now)
			if err != nil {
				return err
			}
			if ok { // a run that ended meanwhile is left as it ended
				res.IDs = append(res.IDs, id)
			}
		}
		return nil
	})
	if err != nil {
		return BulkResult{}, err
	}
	res.Matched = len(res.IDs)
	if !dryRun && res.Matched > 0 {
		e.signal()
	}
	return res, nil
}

// BulkReplay starts a new run for every run f selects (the same function, event and workflow
// version, as Rerun does), in one transaction: if one run's function is no longer registered,
// nothing starts (EConflict naming it). With dryRun it only reports what it matched.
func (e *Engine) BulkReplay(ctx context.Context, f RunFilter, dryRun bool) (BulkResult, error) {
	res := BulkResult{IDs: []string{}, Runs: []string{}}
	err := e.st.Tx(ctx, func(q *store.Q) error {
		ids, err := e.matchRuns(q, f, false)
		if err != nil {
			return err
		}
		res.IDs = ids
		if dryRun {
			return nil
		}
		b := &batch{e: e}
		for _, id := range ids {
			old, err := q.GetRun(id)
			if errors.Is(err, store.ErrNotFound) {
				return Errorf(EConflict, "run %s was deleted meanwhile; try again", id)
			}
			if err != nil {
				return err
			}
			newID, err := e.queueRerun(b, old)
			if err != nil {
				return err
			}
			res.Runs = append(res.Runs, newID)
		}
		if err := b.flush(q); err != nil {
			return fmt.Errorf("replay runs: %w", err)
		}
		return q.Notify(notifyChannel)
	})
	if err != nil {
		return BulkResult{}, err
	}
	res.Matched = len(res.IDs)
	if !dryRun && res.Matched > 0 {
		e.signal()
	}
	return res, nil
}

// CancelFunctionRuns cancels every unfinished run of function fnID with reason as the run's
// error (what the dashboard shows), in slices of MaxBulkRuns runs, one transaction each, and
// returns how many it cancelled. It is for a function that is going away (its Inngest SDK app
// was removed): its runs end, saying why, instead of waiting for a worker that has it.
func (e *Engine) CancelFunctionRuns(ctx context.Context, fnID, reason string) (int, error) {
	total := 0
	for {
		var ids []string
		n := 0
		err := e.st.Tx(ctx, func(q *store.Q) error {
			n = 0
			sf := RunFilter{FunctionID: fnID}.stored()
			sf.Unfinished = true
			var err error
			if ids, err = q.RunIDs(sf, MaxBulkRuns); err != nil {
				return err
			}
			now := ms(e.now())
			for _, id := range ids {
				ok, err := e.cancelRun(ctx, q, id, reason, now)
				if err != nil {
					return err
				}
				if ok { // a run that ended meanwhile is left as it ended
					n++
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("cancel the runs of %s: %w", fnID, err)
		}
		total += n
		if len(ids) < MaxBulkRuns {
			return total, nil
		}
	}
}
