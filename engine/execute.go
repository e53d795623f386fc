package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"time"

	"github.com/inkflow/inkflow/engine/store"
)

// execution is one attempt of a run in this worker: from claim to suspend or finish.
type execution struct {
	e       *Engine
	reg     *registered
	run     runRow
	trigger map[string]any // the triggering event as CEL and match paths see it
	step    *Step
}

// execute replays a claimed run's handler and records how it ended.
// rows are the run's stored steps, loaded for the whole claim batch at once.
func (e *Engine) execute(ctx context.Context, run runRow, rows []stepRow) {
	x := &execution{e: e, run: run}
	e.inflight.Store(run.ID, struct{}{})
	defer e.inflight.Delete(run.ID)
	defer func() {
		if r := recover(); r != nil { // a bug in the engine itself: never take the worker down
			e.log.Error("run execution panicked", "run_id", run.ID, "panic", r, "stack", string(debug.Stack()))
			x.release()
		}
	}()
	x.reg = e.function(run.FunctionID)
	if x.reg == nil {
		x.reg = e.reloadFunction(ctx, run.FunctionID) // synced by another process (dynamic.go)
	}
	if x.reg == nil {
		x.finish(StatusFailed, nil, fmt.Sprintf("function %q is not registered in this process", run.FunctionID))
		return
	}
	var ev Event
	if err := json.Unmarshal([]byte(run.Event), &ev); err != nil {
		x.finish(StatusFailed, nil, "stored event is not valid JSON: "+err.Error())
		return
	}
	x.trigger = eventMap(ev) // as the stored JSON decodes, without parsing it twice
	x.step = newStep(x, rows)
	in := &Input{Event: ev, Step: x.step, Run: RunInfo{ID: run.ID, FunctionID: run.FunctionID, Attempt: run.Attempt,
		Meta: RunMeta{WorkflowID: deref64(run.WorkflowID), WorkflowVersion: derefInt(run.WorkflowVersion)}}}
	events, err := x.batchEvents(ctx, ev)
	if err != nil {
		x.releaseLater("load the run's batch: " + err.Error())
		return
	}
	in.Events = events
	if ev.Name == EventRunFailed {
		in.Error, _ = ev.Data["error"].(string)
	}
	ctx = withLog(ctx, e.log.With("run_id", run.ID, "function", run.FunctionID))
	out, err, sig := x.call(ctx, in)
	switch s := sig.(type) {
	case abortSignal:
		switch {
		case s.leaseLost:
			e.log.Info("run left without writing", "run_id", run.ID, "reason", s.reason)
		case s.permanent:
			e.log.Error("run failed: its progress cannot be stored", "run_id", run.ID, "reason", s.reason)
			x.finish(StatusFailed, nil, s.reason)
		default:
			e.log.Error("run handed back: its progress could not be stored", "run_id", run.ID, "reason", s.reason)
			x.releaseLater(s.reason)
		}
		return
	case suspendSignal:
		x.suspend()
		return
	}
	if err != nil {
		x.fail(err)
		return
	}
	b, encErr := encodeOutput("result", out)
	if encErr != nil {
		x.finish(StatusFailed, nil, encErr.Error())
		return
	}
	x.finish(StatusCompleted, b, "")
}

// call invokes the handler, catching control-flow signals and panics.
//
//lint:ignore ST1008 sig, a recovered control-flow signal, is not an error and comes last
func (x *execution) call(ctx context.Context, in *Input) (out any, err error, sig any) {
	defer func() {
		if r := recover(); r != nil {
			switch r.(type) {
			case suspendSignal, abortSignal:
				sig = r
			default:
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}
	}()
	out, err = x.reg.fn.Handler(ctx, in)
	return out, err, nil
}

// fail retries the whole run with backoff for a handler error, or fails it for good when the
// error is non-retriable (a failed step, say) or the retries are spent.
func (x *execution) fail(err error) {
	attempt := x.run.Attempt + 1
	if IsNonRetriable(err) || attempt > x.reg.retries {
		x.finish(StatusFailed, nil, err.Error())
		return
	}
	now := x.e.now()
	due := ms(now.Add(x.e.backoff(attempt, err)))
	x.write(func(q *store.Q) error {
		return q.RetryRunLater(x.run.ID, x.e.opts.WorkerID, attempt, storableText(err.Error()), due, ms(now))
	})
}

// finish records the run's end, wakes a parent waiting on it and announces a failure.
func (x *execution) finish(status Status, output []byte, errMsg string) {
	now := ms(x.e.now())
	var out *string
	if output != nil {
		out = strPtr(string(storableJSON(output)))
	}
	errMsg = storableText(errMsg) // a handler's error may carry a NUL: the run must still end
	if status == StatusCompleted && x.run.ParentRunID == "" {
		// The common case goes through the group commit; failures and invoked runs have
		// more to do in their transaction and take the path below.
		err := x.e.commits.do(&commitReq{finish: &finishRec{runID: x.run.ID, output: out, dropWaits: x.mayHaveWaits()}})
		if err != nil && !errors.Is(err, errLeaseLost) {
			x.e.log.Warn("record run end", "run_id", x.run.ID, "err", err)
		}
		return
	}
	x.write(func(q *store.Q) error {
		ok, err := q.EndRun(x.run.ID, x.e.opts.WorkerID, string(status), out, errMsg, now)
		if err != nil {
			return err
		}
		if !ok {
			return errLeaseLost
		}
		return x.e.afterEnd(context.Background(), q, x.run, status, out, errMsg, now)
	})
	if x.run.ParentRunID != "" {
		x.e.signal() // the invoking run is due now
	}
}

var errLeaseLost = errors.New("lease lost")

// afterEnd is what every run end does inside its transaction: drop its waits and CancelOn
// registrations, resolve an Invoke waiting on it and send EventRunFailed for a failure.
func (e *Engine) afterEnd(ctx context.Context, q *store.Q, run runRow, status Status, out *string, errMsg string, now int64) error {
	if err := q.DeleteWaitsOf([]string{run.ID}); err != nil {
		return err
	}
	if status == StatusFailed && run.EventName != EventRunFailed {
		// Before the parent is locked below: sending locks event names, which come first.
		var ev any
		_ = json.Unmarshal([]byte(run.Event), &ev)
		_, err := e.send(ctx, q, []Event{{Name: EventRunFailed, Data: map[string]any{
			"function_id": run.FunctionID, "run_id": run.ID, "error": errMsg, "event": ev,
		}}})
		if err != nil {
			return fmt.Errorf("announce failure: %w", err)
		}
	}
	if status == StatusCancelled {
		// Runs it invoked have no one left to answer to.
		if err := e.cancelChildren(ctx, q, run.ID, "", "the invoking run was cancelled", now); err != nil {
			return err
		}
		if err := e.announceCancel(ctx, q, run, errMsg); err != nil {
			return err
		}
	}
	if run.ParentRunID != "" {
		if err := q.LockRuns([]string{run.ParentRunID}); err != nil {
			return err
		}
		st, msg := StepCompleted, ""
		if status != StatusCompleted {
			st, msg = StepFailed, fmt.Sprintf("invoked run %s %s: %s", run.ID, status, errMsg)
		}
		resolved, err := q.EndStep(run.ParentRunID, run.ParentStepID, StepWaiting, st, out, msg, now)
		if err != nil {
			return fmt.Errorf("resolve invoking run: %w", err)
		}
		if resolved {
			if err := q.WakeRun(run.ParentRunID, now); err != nil {
				return err
			}
			if err := q.Notify(notifyChannel); err != nil {
				return err
			}
		}
	}
	return nil
}

// cancelChildren cancels the unfinished runs that run parentID invoked (from step stepID
// only, when given). Children have later ids than their parent, so locks stay in id order.
func (e *Engine) cancelChildren(ctx context.Context, q *store.Q, parentID, stepID, reason string, now int64) error {
	ids, err := q.LiveChildren(parentID, stepID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := e.cancelRun(ctx, q, id, reason, now); err != nil {
			return err
		}
	}
	return nil
}

// suspend hands the run back to the database until its earliest pending step is due. A wait
// resolved while the handler was still running makes it due at once.
func (x *execution) suspend() {
	ids := x.step.pendingIDs()
	now := ms(x.e.now())
	x.write(func(q *store.Q) error {
		// Lock the run row first: an event delivery updates it before the step, so either it
		// has committed (and the step query below sees the resolution) or it waits for this
		// transaction and then wakes the suspended run itself.
		if err := q.LockRuns([]string{x.run.ID}); err != nil {
			return err
		}
		var rows []stepRow
		if len(ids) > 0 {
			var err error
			if rows, err = q.StepsByID(x.run.ID, ids); err != nil {
				return err
			}
		}
		status, due := StatusQueued, now
		if len(rows) == len(ids) {
			status, due = pendingState(rows, now)
		}
		return q.SuspendRun(x.run.ID, x.e.opts.WorkerID, string(status), due, now)
	})
	x.e.signal()
}

// pendingState picks the suspended run's status and due time from the steps it waits on.
func pendingState(rows []stepRow, now int64) (Status, int64) {
	status, due := StatusQueued, int64(-1)
	waiting, sleeping := false, false
	for _, r := range rows {
		switch r.Status {
		case StepWaiting:
			waiting = true
		case StepSleeping:
			sleeping = true
		case StepRetrying:
		default:
			return StatusQueued, now // resolved meanwhile
		}
		if r.WakeAt != nil && (due < 0 || *r.WakeAt < due) {
			due = *r.WakeAt
		}
	}
	switch {
	case waiting:
		status = StatusWaiting
	case sleeping:
		status = StatusSleeping
	}
	if due < 0 {
		due = now
	}
	return status, due
}

// release gives a claimed run back untouched, for another attempt at once.
func (x *execution) release() {
	_ = x.e.st.Q(context.Background()).ReleaseRunning(x.run.ID, x.e.opts.WorkerID)
}

// write runs fn in a transaction. If the database refuses it, the run is handed back to be
// tried again shortly (its steps so far are safe); if that fails too, this worker stops
// heartbeating it when the execution ends, so its lease expires and another worker takes it.
func (x *execution) write(fn func(q *store.Q) error) {
	err := x.e.st.Tx(context.Background(), fn)
	if err != nil && !errors.Is(err, errLeaseLost) {
		x.e.log.Error("record run progress", "run_id", x.run.ID, "err", err)
		x.releaseLater("record run progress: " + err.Error())
	}
}

// releaseLater hands the run back, due after a short pause so a repeating database error
// does not spin, with why on the run (its page shows it until the run moves on).
func (x *execution) releaseLater(why string) {
	due := ms(x.e.now().Add(x.e.backoff(1, nil)))
	err := x.e.st.Q(context.Background()).HandBack(x.run.ID, x.e.opts.WorkerID, due, storableText(why))
	if err != nil {
		x.e.log.Warn("hand back run", "run_id", x.run.ID, "err", err)
	}
}

// commitStep stores a step's record before the handler goes on, in one transaction that
// first proves this worker still owns the run. hook runs inside the transaction before the
// row is written and may change it. A domain error (*Error) from hook is returned with
// nothing written; any other failure unwinds the handler without writing more.
func (x *execution) commitStep(row *stepRow, hook func(q *store.Q) error) error {
	return x.commitStepAfter(row, nil, hook)
}

// commitStepAfter is commitStep with pre run first in the transaction, before the run row is
// locked: locks that must come before the run's (event names) are taken there.
func (x *execution) commitStepAfter(row *stepRow, pre, hook func(q *store.Q) error) error {
	now := ms(x.e.now())
	storableStep(row)
	var domain *Error
	var err error
	if hook == nil && pre == nil {
		stored := *row
		err = x.e.commits.do(&commitReq{step: &stored})
	} else {
		err = x.commitAlone(row, pre, hook, now)
	}
	if err == nil {
		return nil
	}
	if errors.As(err, &domain) {
		return domain
	}
	if errors.Is(err, errLeaseLost) {
		panic(abortSignal{reason: "the run is no longer this worker's (cancelled, or its lease expired)", leaseLost: true})
	}
	reason := storableText(fmt.Sprintf("store step %q: %v", row.ID, err))
	panic(abortSignal{reason: reason, permanent: x.e.st.Permanent(err)})
}

// mayHaveWaits reports whether rows in waits may belong to the run: CancelOn registrations
// (the function's, or the run's own flow that a Fanout gave it: a workflow's config.cancel)
// or a wait or invoke step.
func (x *execution) mayHaveWaits() bool {
	if len(x.reg.fn.CancelOn) > 0 || x.reg.fn.Fanout != nil {
		return true
	}
	x.step.mu.Lock()
	defer x.step.mu.Unlock()
	for _, r := range x.step.memo {
		if r.Kind == KindWait || r.Kind == KindInvoke {
			return true
		}
	}
	return false
}

// commitAlone stores a step whose hook has more to write, in a transaction of its own.
func (x *execution) commitAlone(row *stepRow, pre, hook func(q *store.Q) error, now int64) error {
	return x.e.st.Tx(context.Background(), func(q *store.Q) error {
		if pre != nil {
			if err := pre(q); err != nil {
				return err
			}
		}
		ok, err := q.ExtendLease(x.run.ID, x.e.opts.WorkerID, now, now+x.e.opts.Lease.Milliseconds())
		if err != nil {
			return err
		}
		if !ok {
			return errLeaseLost
		}
		if hook != nil {
			if err := hook(q); err != nil {
				return err
			}
		}
		return q.UpsertStep(row)
	})
}

// storableText makes a message safe to store on both databases: valid UTF-8 without NUL.
func storableText(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", `\x00`), "\uFFFD")
}

// backoff is the delay before attempt+1: exponential from BackoffBase with ±25% jitter,
// capped at BackoffMax, unless the error asked for its own delay with RetryAfter.
func (e *Engine) backoff(attempt int, err error) time.Duration {
	if d, ok := retryDelay(err); ok {
		return d
	}
	d := e.opts.BackoffBase << min(attempt-1, 20)
	if d > e.opts.BackoffMax || d <= 0 {
		d = e.opts.BackoffMax
	}
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + jitter
}

// cancelRun cancels a live run with reason. A worker executing it notices at its next write.
func (e *Engine) cancelRun(ctx context.Context, q *store.Q, runID, reason string, now int64) (bool, error) {
	ok, err := q.CancelRun(runID, reason, now)
	if err != nil || !ok {
		return false, err
	}
	run, err := q.GetRun(runID)
	if err != nil {
		return false, fmt.Errorf("cancel run %s: %w", runID, err)
	}
	return true, e.afterEnd(ctx, q, *run, StatusCancelled, nil, reason, now)
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func derefInt(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
