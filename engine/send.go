package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/inkflow/inkflow/engine/store"
)

// Send stores events and starts the runs they trigger, in one transaction.
// A transaction PostgreSQL aborted to break a deadlock or a serialization conflict is tried
// again, up to three times in all.
func (e *Engine) Send(ctx context.Context, events ...Event) (SendResult, error) {
	var res SendResult
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		err = e.st.Tx(ctx, func(q *store.Q) error {
			var err error
			res, err = e.send(ctx, q, events)
			return err
		})
		if !e.st.Retryable(err) {
			break
		}
	}
	if err != nil {
		return SendResult{}, err
	}
	e.signal()
	return res, nil
}

// SendTx stores events inside the caller's transaction tx (see Tx), so that a state change
// and its event commit together or not at all. Runs it starts become visible when tx
// commits; on PostgreSQL workers are notified at commit, elsewhere within the poll interval
// or at once when the caller's process runs the workers.
func (e *Engine) SendTx(ctx context.Context, tx Tx, events ...Event) (SendResult, error) {
	return e.send(ctx, e.st.In(ctx, tx), events)
}

// send is SendTx on a store handle inside a transaction.
func (e *Engine) send(ctx context.Context, q *store.Q, events []Event) (SendResult, error) {
	if len(events) == 0 {
		return SendResult{}, Errorf(EInvalid, "no events to send")
	}
	now := ms(e.now())
	prepared := make([]preparedEvent, 0, len(events))
	for i, ev := range events {
		p, err := prepare(ev, now)
		if err != nil {
			if len(events) > 1 {
				return SendResult{}, fmt.Errorf("event %d: %w", i, err)
			}
			return SendResult{}, err
		}
		prepared = append(prepared, p)
	}
	res := SendResult{IDs: make([]string, 0, len(events)), Runs: []string{}}
	w := &batch{e: e}
	fns := e.triggerable(q) // once per send, not per event
	var fresh []storedEvent
	for _, p := range prepared {
		id, isNew, err := e.dedup(q, p, now)
		if err != nil {
			return SendResult{}, err
		}
		res.IDs = append(res.IDs, id)
		if !isNew {
			continue
		}
		fresh = append(fresh, storedEvent{p, id})
		runs, notes, err := e.startRuns(ctx, q, w, fns, p, id, now)
		if err != nil {
			return SendResult{}, err
		}
		res.Runs = append(res.Runs, runs...)
		w.events = append(w.events, eventRow{ID: id, ClientID: p.clientID, Name: p.ev.Name, Payload: p.payload,
			TS: p.ev.TS, ReceivedAt: now, RunIDs: joinIDs(runs), Notes: storableText(strings.Join(notes, "\n"))})
	}
	if err := w.flush(q); err != nil {
		return SendResult{}, err
	}
	woke, err := e.resolve(ctx, q, fresh, now)
	if err != nil {
		return SendResult{}, err
	}
	if len(res.Runs) > 0 || woke > 0 {
		if err := q.Notify(notifyChannel); err != nil {
			return SendResult{}, err
		}
		e.signal()
	}
	return res, nil
}

// preparedEvent is a validated event with its canonical forms.
type preparedEvent struct {
	ev       Event
	clientID string
	payload  string
	m        map[string]any
}

// prepare validates ev and fills what the engine assigns.
func prepare(ev Event, now int64) (preparedEvent, error) {
	if strings.TrimSpace(ev.Name) == "" {
		return preparedEvent{}, FieldError("name", "is required")
	}
	if len(ev.Name) > 256 {
		return preparedEvent{}, FieldError("name", "is longer than 256 characters")
	}
	if err := checkEventName(ev.Name); err != nil {
		return preparedEvent{}, err
	}
	for field, v := range map[string]string{"id": ev.ID, "v": ev.V} {
		if err := checkText(field, v); err != nil {
			return preparedEvent{}, err
		}
	}
	if ev.Data == nil {
		ev.Data = map[string]any{}
	}
	if ev.TS == 0 {
		ev.TS = now
	}
	if ev.TS > now+MaxSleep.Milliseconds() {
		return preparedEvent{}, FieldError("ts", "is more than 10 years ahead (a future ts delays the runs until then)")
	}
	p := preparedEvent{clientID: ev.ID}
	if ev.ID == "" {
		ev.ID = newID()
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return preparedEvent{}, FieldError("data", "is not JSON: %v", err)
	}
	if len(b) > MaxEventBytes {
		return preparedEvent{}, &Error{Code: ETooLarge, Message: fmt.Sprintf("event %q is %d bytes; the limit is %d", ev.Name, len(b), MaxEventBytes)}
	}
	if err := checkEventValues(b); err != nil {
		return preparedEvent{}, err
	}
	p.ev = ev
	p.payload = string(b)
	p.m = eventMap(ev)
	return p, nil
}

// dedup returns the id to report for p and whether p is new. A client id seen within
// DedupWindow makes the event a duplicate: it is acknowledged and starts nothing.
func (e *Engine) dedup(q *store.Q, p preparedEvent, now int64) (string, bool, error) {
	if p.clientID == "" {
		return p.ev.ID, true, nil // prepare gave the event a fresh engine id
	}
	id := newID()
	fresh, err := q.RecordClientID(p.clientID, id, now, now-DedupWindow.Milliseconds())
	if err != nil || fresh {
		return id, fresh, err
	}
	prev, err := q.ClientEventID(p.clientID)
	return prev, false, err
}

// batch collects rows so that one send writes each table with one statement.
type batch struct {
	e      *Engine
	events []eventRow
	runs   []runRow
	waits  []waitRow
	// decisions are the flow-control decisions that were not plain starts (flow_send.go).
	decisions []store.Decision
	// needs are the needs sets of the batch's runs, by name (claim.go).
	needs map[string][]string
}

// numberUnmatched gives the batch's cancel registrations without a match value their place
// in the order of sends (see checkWaits): events sent before the run started do not cancel it.
func (b *batch) numberUnmatched(q *store.Q) error {
	var seq int64
	for i := range b.waits {
		if b.waits[i].MatchHash != "" {
			continue
		}
		if seq == 0 {
			var err error
			if seq, err = q.NextWaitSeq(); err != nil {
				return err
			}
		}
		b.waits[i].Seq = seq
	}
	return nil
}

func (b *batch) flush(q *store.Q) error {
	if err := b.numberUnmatched(q); err != nil {
		return err
	}
	if err := b.e.flushNeeds(q, b.needs); err != nil {
		return err
	}
	if err := q.InsertRuns(b.runs); err != nil {
		return err
	}
	if err := q.InsertWaits(b.waits); err != nil {
		return err
	}
	if err := q.RecordWaitPaths(b.waits, pathHash); err != nil {
		return err
	}
	if err := q.InsertEvents(b.events); err != nil {
		return err
	}
	if err := q.InsertDecisions(b.decisions); err != nil {
		return err
	}
	*b = batch{e: b.e}
	return nil
}

// startRuns queues a run of every function the event triggers (one per RunMeta when the
// function fans out) and registers their CancelOn conditions; flow control decided at send
// time (flow_send.go) may delay, drop, skip or fold a start instead. It returns the runs the
// event started and notes on functions whose trigger condition could not be evaluated.
func (e *Engine) startRuns(ctx context.Context, q *store.Q, b *batch, fns []*registered, p preparedEvent, eventID string, now int64) ([]string, []string, error) {
	var ids, notes []string
	for _, r := range fns {
		ok, named, note := e.triggers(r, p)
		if note != "" {
			notes = append(notes, note)
		}
		if !ok {
			if named && !r.internal {
				b.decisions = append(b.decisions, store.Decision{ID: newID(), EventID: eventID, FunctionID: r.fn.ID,
					Action: ActionSkipped, Reason: ReasonIf, CreatedAt: now})
			}
			continue
		}
		metas := []RunMeta{{}}
		if r.fn.Fanout != nil {
			var err error
			if metas, err = r.fn.Fanout(ctx, q.Conn(), p.ev); err != nil {
				return nil, nil, fmt.Errorf("function %q: choose runs for %q: %w", r.fn.ID, p.ev.Name, err)
			}
		}
		for _, meta := range metas {
			if meta.Skip != "" {
				d := store.Decision{ID: newID(), EventID: eventID, FunctionID: r.fn.ID, Action: ActionSkipped,
					Reason: storableText(meta.Skip), CreatedAt: now}
				if meta.WorkflowID != 0 {
					wid := meta.WorkflowID
					d.WorkflowID = &wid
				}
				b.decisions = append(b.decisions, d)
				continue
			}
			f := r.flowFor(meta)
			if !f.decidesAtSend() && p.ev.TS <= now { // the hot path: a plain start
				ids = append(ids, e.queueRun(b, r, p, eventID, meta, now, "", ""))
				continue
			}
			id, err := e.startFlow(ctx, q, b, r, f, p, eventID, meta, now)
			if err != nil {
				return nil, nil, fmt.Errorf("function %q: flow control for %q: %w", r.fn.ID, p.ev.Name, err)
			}
			if id != "" {
				ids = append(ids, id)
			}
		}
	}
	return ids, notes, nil
}

// triggers reports whether one of r's event triggers matches p, whether one has p's name
// (so a false condition is worth recording), and why not when a trigger's condition could
// not be evaluated within its limits (the event page shows it).
func (e *Engine) triggers(r *registered, p preparedEvent) (ok, named bool, note string) {
	for _, t := range r.fn.Triggers {
		if t.Event == "" || (t.Event != "*" && t.Event != p.ev.Name) {
			continue
		}
		if t.Event == "*" && strings.HasPrefix(p.ev.Name, "inkflow/") && r.fn.Fanout == nil {
			continue // catch-all functions do not see the engine's own events unless they choose
		}
		if t.If == "" {
			return true, true, ""
		}
		named = t.Event != "*"
		ok, err := e.exprs.holds(t.If, p.m, nil)
		if ok {
			return true, true, ""
		}
		if err != nil {
			note = fmt.Sprintf("function %s started no run: its trigger's %v", r.fn.ID, err)
		}
	}
	return false, named, note
}

// queueRun adds a queued run of r for the event to b, due now, and returns its id.
func (e *Engine) queueRun(b *batch, r *registered, p preparedEvent, eventID string, meta RunMeta, now int64, parentRun, parentStep string) string {
	id := newID()
	e.queueRunAt(b, r, r.flowFor(meta), p, eventID, meta, id, now, now, parentRun, parentStep)
	return id
}

// queueRunAt adds queued run id of r (under flow f) for the event to b, due at due.
func (e *Engine) queueRunAt(b *batch, r *registered, f *Flow, p preparedEvent, eventID string, meta RunMeta, id string, now, due int64, parentRun, parentStep string) {
	row := runRow{
		ID: id, FunctionID: r.fn.ID, Status: string(StatusQueued), EventID: eventID, EventName: p.ev.Name,
		Event: p.payload, DueAt: due, CreatedAt: now, UpdatedAt: now,
		ParentRunID: parentRun, ParentStepID: parentStep,
	}
	if meta.WorkflowID != 0 {
		wid, ver := meta.WorkflowID, meta.WorkflowVersion
		row.WorkflowID, row.WorkflowVersion = &wid, &ver
	}
	e.applyClaimFlow(&row, b, r, p, meta, max(now, due)) // a start timeout counts from when the run is due
	b.runs = append(b.runs, row)
	b.waits = append(b.waits, cancelRows(f.CancelOn, p, id, now, due)...)
}

// cancelRows are the CancelOn registrations of run runID triggered by p, due to start at
// start: one with a Timeout ends that long after start.
func cancelRows(cancels []CancelOn, p preparedEvent, runID string, now, start int64) []waitRow {
	var rows []waitRow
	for _, c := range cancels {
		w := waitRow{ID: newID(), Kind: waitCancel, RunID: runID, EventName: c.Event, IfExpr: c.If,
			ExpiresAt: never, CreatedAt: now}
		if c.Timeout > 0 {
			w.ExpiresAt = start + c.Timeout.Milliseconds()
		}
		if c.Match != "" {
			v, ok := matchValue(p.m, c.Match)
			if !ok {
				continue // nothing to match on: this condition can never hold
			}
			w.MatchPath, w.MatchValue, w.MatchHash = c.Match, v, matchHash(c.Match, v)
		}
		if c.If != "" {
			w.Trigger = p.payload
		}
		rows = append(rows, w)
	}
	return rows
}

const notifyChannel = "inkflow_runs"

// storedEvent is a prepared event with the id it was stored under.
type storedEvent struct {
	preparedEvent
	id string
}

// resolve delivers events to the runs waiting for them on a match value and cancels the runs
// whose CancelOn they match that way; events that waits without a match value may be waiting
// for are queued for the wait checker (see checkWaits). It looks up only the match paths that
// stored waits use, so any scalar path
// matches however deep or wide the event, and it locks the affected runs in id order before
// touching their waits and steps (the order every writer of a run follows). It returns how
// many runs it woke or cancelled plus how many checks it queued (either wants workers woken).
func (e *Engine) resolve(ctx context.Context, q *store.Q, events []storedEvent, now int64) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	var names []string
	seenName := map[string]bool{}
	for _, ev := range events {
		if !seenName[ev.ev.Name] {
			seenName[ev.ev.Name] = true
			names = append(names, ev.ev.Name)
		}
	}
	sort.Strings(names)
	if err := q.LockEventNames(names, false); err != nil {
		return 0, err
	}
	inUse, err := q.WaitPaths(names)
	if err != nil {
		return 0, err
	}
	if len(inUse) == 0 {
		return 0, nil
	}
	var paths []string
	seenPath := map[string]bool{}
	var unmatched []string // names that waits without a match value may be waiting for
	for _, u := range inUse {
		if u.MatchPath == "" {
			unmatched = append(unmatched, u.EventName)
		} else if !seenPath[u.MatchPath] {
			seenPath[u.MatchPath] = true
			paths = append(paths, u.MatchPath)
		}
	}
	queued, err := e.queueWaitChecks(q, unmatched, events)
	if err != nil {
		return 0, err
	}
	// The keys under which each event could be awaited: hash -> canonical value, per event.
	evKeys := make([]map[string]string, len(events))
	seen := map[string]bool{}
	var keys []string
	for i, ev := range events {
		evKeys[i] = map[string]string{}
		for _, path := range paths {
			if v, ok := matchValue(ev.m, path); ok {
				k := matchHash(path, v)
				evKeys[i][k] = v
				if !seen[k] {
					seen[k] = true
					keys = append(keys, k)
				}
			}
		}
	}
	rows, err := q.MatchingWaits(names, keys)
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return queued, nil
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].CreatedAt < rows[j].CreatedAt })
	// Conditions are evaluated before any run is locked, each wait's trigger decoded once.
	triggers := map[string]map[string]any{}
	type delivery struct {
		w  waitRow
		ev storedEvent
	}
	var todo []delivery
	var ignored []ignoredEvent
	var runIDs []string
	seenRun := map[string]bool{}
	for i, ev := range events {
		for _, w := range rows {
			if w.EventName != ev.ev.Name {
				continue
			}
			if v, ok := evKeys[i][w.MatchHash]; !ok || v != w.MatchValue {
				continue // another value, or (never seen) a hash collision
			}
			if w.IfExpr != "" {
				trig, ok := triggers[w.ID]
				if !ok {
					_ = json.Unmarshal([]byte(w.Trigger), &trig)
					triggers[w.ID] = trig
				}
				ok, err := e.exprs.holds(w.IfExpr, trig, ev.m)
				if err != nil {
					ignored = append(ignored, ignoredEvent{w, ev, err})
					if !seenRun[w.RunID] {
						seenRun[w.RunID] = true
						runIDs = append(runIDs, w.RunID)
					}
				}
				if !ok {
					continue
				}
			}
			todo = append(todo, delivery{w, ev})
			if !seenRun[w.RunID] {
				seenRun[w.RunID] = true
				runIDs = append(runIDs, w.RunID)
			}
		}
	}
	if err := q.LockRuns(runIDs); err != nil {
		return 0, err
	}
	if err := e.noteIgnored(q, ignored); err != nil {
		return 0, err
	}
	n := queued
	var resumed []store.Resume
	for _, d := range todo {
		ok, err := e.deliver(ctx, q, d.w, d.ev, now)
		if err != nil {
			return n, err
		}
		if ok {
			n++
			if d.w.Kind == waitEvent {
				resumed = append(resumed, store.Resume{EventID: d.ev.id, RunID: d.w.RunID, StepID: d.w.StepID, CreatedAt: now})
			}
		}
	}
	return n, q.RecordResumes(resumed)
}

// ignoredEvent is an event a wait or cancel registration did not take because its condition
// could not be evaluated within the limits.
type ignoredEvent struct {
	w   waitRow
	ev  storedEvent
	err error
}

// noteIgnored tells, on the run's page, which events its waits ignored and why: on the
// waiting step, or on the run for a cancel condition. The runs are locked already.
func (e *Engine) noteIgnored(q *store.Q, ignored []ignoredEvent) error {
	for _, ig := range ignored {
		msg := storableText(fmt.Sprintf("ignored event %s (%s): the condition's %v", ig.ev.ev.Name, ig.ev.id, ig.err))
		var err error
		if ig.w.Kind == waitEvent {
			err = q.NoteStepError(ig.w.RunID, ig.w.StepID, StepWaiting, msg)
		} else {
			err = q.NoteRunError(ig.w.RunID, msg)
		}
		if err != nil {
			return err
		}
		e.log.Warn("wait ignored an event", "run_id", ig.w.RunID, "event_id", ig.ev.id, "err", ig.err)
	}
	return nil
}

// deliver applies one event to one wait or cancel registration it matched (name, value and
// condition).
func (e *Engine) deliver(ctx context.Context, q *store.Q, w waitRow, ev storedEvent, now int64) (bool, error) {
	if w.Kind == waitCancel {
		if w.ExpiresAt <= now {
			return false, nil // its cancel.timeout has passed: the registration has ended
		}
		return e.cancelRun(ctx, q, w.RunID, fmt.Sprintf("cancelled by event %s (%s)", ev.ev.Name, ev.id), now)
	}
	return e.completeWait(q, w, ev.payload, now)
}

// completeWait resolves one waiting step with the event payload. The first deliverer to
// delete the step's wait rows wins; a timeout that got there first leaves them gone. The run
// row is updated before the step so that its lock orders this against a worker suspending
// the same run (see suspend).
func (e *Engine) completeWait(q *store.Q, w waitRow, payload string, now int64) (bool, error) {
	won, err := q.TakeWait(w.RunID, w.StepID)
	if err != nil || !won {
		return false, err
	}
	if err := q.WakeRun(w.RunID, now); err != nil {
		return false, err
	}
	if err := q.CompleteStep(w.RunID, w.StepID, payload, now); err != nil {
		return false, err
	}
	return true, nil
}
