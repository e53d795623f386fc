package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/inkflow/inkflow/engine/store"
)

// EventRunCancelled is sent when a run is cancelled, in the transaction that cancels it:
// data {function_id, run_id, reason, event}. Like EventRunFailed it lets other code follow
// the runs it cares about (a blog post leaves review when its review run is cancelled).
const EventRunCancelled = "inkflow/run.cancelled"

// CancelBecause is Cancel with the reason the run's page shows ("superseded by a newer
// review"). ENotFound for an unknown run, EConflict for a finished one.
func (e *Engine) CancelBecause(ctx context.Context, runID, reason string) error {
	var ok bool
	err := e.st.Tx(ctx, func(q *store.Q) error {
		var err error
		ok, err = e.cancelRun(ctx, q, runID, reason, ms(e.now()))
		return err
	})
	if err != nil {
		return err
	}
	if !ok {
		if _, err := e.GetRun(ctx, runID); err != nil {
			return err
		}
		return Errorf(EConflict, "run %s has already finished", runID)
	}
	e.signal()
	return nil
}

// announceCancel sends EventRunCancelled for run inside tx.
func (e *Engine) announceCancel(ctx context.Context, q *store.Q, run runRow, reason string) error {
	if run.EventName == EventRunCancelled {
		return nil
	}
	var ev any
	_ = json.Unmarshal([]byte(run.Event), &ev)
	_, err := e.send(ctx, q, []Event{{Name: EventRunCancelled, Data: map[string]any{
		"function_id": run.FunctionID, "run_id": run.ID, "reason": reason, "event": ev,
	}}})
	if err != nil {
		return fmt.Errorf("announce cancellation: %w", err)
	}
	return nil
}
