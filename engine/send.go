package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Send stores events and starts the runs they trigger, in one transaction.
// A transaction PostgreSQL aborted to break a deadlock or a serialization conflict is tried
// again, up to three times in all.
func (e *Engine) Send(ctx context.Context, events ...Event) (SendResult, error) {
	var res SendResult
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		err = e.tx(ctx, func(tx *gorm.DB) error {
			var err error
			res, err = e.SendTx(ctx, tx, events...)
			return err
		})
		if !retryableTx(err) {
			break
		}
	}
	if err != nil {
		return SendResult{}, err
	}
	e.signal()
	return res, nil
}

// retryableTx reports whether PostgreSQL aborted the transaction for a deadlock (40P01) or a
// serialization failure (40001): running it again is safe.
func retryableTx(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// SendTx stores events inside the caller's transaction tx, so that a state change and its
// event commit together or not at all. Runs it starts become visible when tx commits; on
// PostgreSQL workers are notified at commit, elsewhere within the poll interval or at once
// when the caller's process runs the workers.
func (e *Engine) SendTx(ctx context.Context, tx *gorm.DB, events ...Event) (SendResult, error) {
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
	fns := e.all() // once per send, not per event
	var fresh []storedEvent
	for _, p := range prepared {
		id, isNew, err := e.dedup(tx, p, now)
		if err != nil {
			return SendResult{}, err
		}
		res.IDs = append(res.IDs, id)
		if !isNew {
			continue
		}
		fresh = append(fresh, storedEvent{p, id})
		runs, notes, err := e.startRuns(ctx, tx, w, fns, p, id, now)
		if err != nil {
			return SendResult{}, err
		}
		res.Runs = append(res.Runs, runs...)
		w.events = append(w.events, eventRow{ID: id, ClientID: p.clientID, Name: p.ev.Name, Payload: p.payload,
			TS: p.ev.TS, ReceivedAt: now, RunIDs: joinIDs(runs), Notes: storableText(strings.Join(notes, "\n"))})
	}
	if err := w.flush(tx); err != nil {
		return SendResult{}, err
	}
	woke, err := e.resolve(ctx, tx, fresh, now)
	if err != nil {
		return SendResult{}, err
	}
	if len(res.Runs) > 0 || woke > 0 {
		if err := e.notify(tx); err != nil {
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
	for field, v := range map[string]string{"name": ev.Name, "id": ev.ID, "v": ev.V} {
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
	p.ev = ev
	p.payload = string(b)
	p.m = eventMap(ev)
	return p, nil
}

// dedup returns the id to report for p and whether p is new. A client id seen within
// DedupWindow makes the event a duplicate: it is acknowledged and starts nothing.
func (e *Engine) dedup(tx *gorm.DB, p preparedEvent, now int64) (string, bool, error) {
	if p.clientID == "" {
		return p.ev.ID, true, nil // prepare gave the event a fresh engine id
	}
	id := newID()
	var got []string
	err := tx.Raw(`INSERT INTO event_dedup (client_id, event_id, seen_at) VALUES (?, ?, ?)
		ON CONFLICT (client_id) DO UPDATE SET event_id = excluded.event_id, seen_at = excluded.seen_at
		WHERE event_dedup.seen_at < ? RETURNING event_id`,
		p.clientID, id, now, now-DedupWindow.Milliseconds()).Scan(&got).Error
	if err != nil {
		return "", false, fmt.Errorf("deduplicate event %q: %w", p.clientID, err)
	}
	if len(got) == 1 {
		return id, true, nil
	}
	var prev string
	if err := tx.Raw(`SELECT event_id FROM event_dedup WHERE client_id = ?`, p.clientID).Scan(&prev).Error; err != nil {
		return "", false, fmt.Errorf("deduplicate event %q: %w", p.clientID, err)
	}
	return prev, false, nil
}

// batch collects rows so that one send writes each table with one statement.
type batch struct {
	e      *Engine
	events []eventRow
	runs   []runRow
	waits  []waitRow
}

// numberUnmatched gives the batch's cancel registrations without a match value their place
// in the order of sends (see checkWaits): events sent before the run started do not cancel it.
func (b *batch) numberUnmatched(tx *gorm.DB) error {
	var seq int64
	for i := range b.waits {
		if b.waits[i].MatchHash != "" {
			continue
		}
		if seq == 0 {
			var err error
			if seq, err = b.e.nextWaitSeq(tx); err != nil {
				return err
			}
		}
		b.waits[i].Seq = seq
	}
	return nil
}

func (b *batch) flush(tx *gorm.DB) error {
	if err := b.numberUnmatched(tx); err != nil {
		return err
	}
	err := insertRows(tx, "runs", runCols, len(b.runs), func(i int) []any {
		r := &b.runs[i]
		return []any{r.ID, r.FunctionID, r.Status, r.EventID, r.EventName, r.Event, r.WorkflowID, r.WorkflowVersion,
			r.ConcurrencyKey, r.Attempt, r.DueAt, r.LeaseOwner, r.LeaseUntil, r.ParentRunID, r.ParentStepID,
			r.Output, r.Error, r.CreatedAt, r.StartedAt, r.EndedAt, r.UpdatedAt}
	})
	if err != nil {
		return fmt.Errorf("insert runs: %w", err)
	}
	err = insertRows(tx, "waits", waitCols, len(b.waits), func(i int) []any {
		w := &b.waits[i]
		return []any{w.ID, w.Kind, w.RunID, w.StepID, w.EventName, w.MatchPath, w.MatchValue, w.MatchHash, w.IfExpr, w.Trigger, w.ExpiresAt, w.CreatedAt, w.Seq}
	})
	if err != nil {
		return fmt.Errorf("insert cancel registrations: %w", err)
	}
	if err := recordWaitPaths(tx, b.waits); err != nil {
		return err
	}
	err = insertRows(tx, "events", eventCols, len(b.events), func(i int) []any {
		e := &b.events[i]
		return []any{e.ID, e.ClientID, e.Name, e.Payload, e.TS, e.ReceivedAt, e.RunIDs, e.Notes}
	})
	if err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	*b = batch{e: b.e}
	return nil
}

var (
	runCols = []string{"id", "function_id", "status", "event_id", "event_name", "event", "workflow_id", "workflow_version",
		"concurrency_key", "attempt", "due_at", "lease_owner", "lease_until", "parent_run_id", "parent_step_id",
		"output", "error", "created_at", "started_at", "ended_at", "updated_at"}
	waitCols  = []string{"id", "kind", "run_id", "step_id", "event_name", "match_path", "match_value", "match_hash", "if_expr", "trigger", "expires_at", "created_at", "seq"}
	eventCols = []string{"id", "client_id", "name", "payload", "ts", "received_at", "run_ids", "notes"}
)

// insertRows writes n rows with multi-row INSERT statements, without per-row reflection: the
// send path stores thousands of rows a second. Statements stay under the drivers' parameter
// limits.
func insertRows(tx *gorm.DB, table string, cols []string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	perStmt := max(1, 30000/len(cols))
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	for start := 0; start < n; start += perStmt {
		end := min(n, start+perStmt)
		var sql strings.Builder
		sql.WriteString(head)
		args := make([]any, 0, (end-start)*len(cols))
		for i := start; i < end; i++ {
			if i > start {
				sql.WriteString(", ")
			}
			sql.WriteString(one)
			args = append(args, row(i)...)
		}
		if err := tx.Exec(sql.String(), args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// startRuns queues a run of every function the event triggers (one per RunMeta when the
// function fans out) and registers their CancelOn conditions.
func (e *Engine) startRuns(ctx context.Context, tx *gorm.DB, b *batch, fns []*registered, p preparedEvent, eventID string, now int64) ([]string, []string, error) {
	var ids, notes []string
	for _, r := range fns {
		ok, note := e.triggers(r, p)
		if note != "" {
			notes = append(notes, note)
		}
		if !ok {
			continue
		}
		metas := []RunMeta{{}}
		if r.fn.Fanout != nil {
			var err error
			if metas, err = r.fn.Fanout(ctx, tx, p.ev); err != nil {
				return nil, nil, fmt.Errorf("function %q: choose runs for %q: %w", r.fn.ID, p.ev.Name, err)
			}
		}
		for _, meta := range metas {
			id := e.queueRun(b, r, p, eventID, meta, now, "", "")
			ids = append(ids, id)
		}
	}
	return ids, notes, nil
}

// triggers reports whether one of r's event triggers matches p, and why not when a trigger's
// condition could not be evaluated within its limits (the event page shows it).
func (e *Engine) triggers(r *registered, p preparedEvent) (bool, string) {
	var note string
	for _, t := range r.fn.Triggers {
		if t.Event == "" || (t.Event != "*" && t.Event != p.ev.Name) {
			continue
		}
		if t.Event == "*" && strings.HasPrefix(p.ev.Name, "inkflow/") && r.fn.Fanout == nil {
			continue // catch-all functions do not see the engine's own events unless they choose
		}
		if t.If == "" {
			return true, ""
		}
		ok, err := e.exprs.holds(t.If, p.m, nil)
		if ok {
			return true, ""
		}
		if err != nil {
			note = fmt.Sprintf("function %s started no run: its trigger's %v", r.fn.ID, err)
		}
	}
	return false, note
}

// queueRun adds a queued run of r for the event to b and returns its id.
func (e *Engine) queueRun(b *batch, r *registered, p preparedEvent, eventID string, meta RunMeta, now int64, parentRun, parentStep string) string {
	id := newID()
	row := runRow{
		ID: id, FunctionID: r.fn.ID, Status: string(StatusQueued), EventID: eventID, EventName: p.ev.Name,
		Event: p.payload, DueAt: now, CreatedAt: now, UpdatedAt: now,
		ParentRunID: parentRun, ParentStepID: parentStep,
	}
	if meta.WorkflowID != 0 {
		wid, ver := meta.WorkflowID, meta.WorkflowVersion
		row.WorkflowID, row.WorkflowVersion = &wid, &ver
	}
	if meta.ConcurrencyKey != "" {
		row.ConcurrencyKey = meta.ConcurrencyKey
	} else if c := r.fn.Concurrency; c != nil && c.Key != "" {
		if v, err := e.exprs.eval(c.Key, p.m, nil); err == nil {
			row.ConcurrencyKey = fmt.Sprint(v)
		}
	}
	b.runs = append(b.runs, row)
	b.waits = append(b.waits, cancelRows(r, p, id, now)...)
	return id
}

// cancelRows are the CancelOn registrations of run runID of r triggered by p.
func cancelRows(r *registered, p preparedEvent, runID string, now int64) []waitRow {
	var rows []waitRow
	for _, c := range r.fn.CancelOn {
		w := waitRow{ID: newID(), Kind: waitCancel, RunID: runID, EventName: c.Event, IfExpr: c.If,
			ExpiresAt: never, CreatedAt: now}
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

// notify tells other processes at commit that runs are due (PostgreSQL only).
func (e *Engine) notify(tx *gorm.DB) error {
	if !e.pg {
		return nil
	}
	if err := tx.Exec(`SELECT pg_notify(?, '')`, notifyChannel).Error; err != nil {
		return fmt.Errorf("notify workers: %w", err)
	}
	return nil
}

const notifyChannel = "inkflow_runs"

// lockEventNames serialises wait registration against event delivery for the same names on
// PostgreSQL: senders take a shared lock, a registering wait an exclusive one, so a wait never
// misses an event committed while it was being stored (see resolve and Step.WaitForEvent).
func (e *Engine) lockEventNames(tx *gorm.DB, names []string, exclusive bool) error {
	if !e.pg || len(names) == 0 {
		return nil
	}
	fn := "pg_advisory_xact_lock_shared"
	if exclusive {
		fn = "pg_advisory_xact_lock"
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted) // one order for everyone, so two lockers never deadlock
	values := make([]string, len(sorted))
	args := make([]any, len(sorted))
	for i, n := range sorted {
		values[i] = "(?)"
		args[i] = "inkflow-event:" + n
	}
	err := tx.Exec("SELECT "+fn+"(hashtext(n)) FROM (VALUES "+strings.Join(values, ", ")+") AS t(n) ORDER BY n", args...).Error
	if err != nil {
		return fmt.Errorf("lock event names %v: %w", names, err)
	}
	return nil
}

// storedEvent is a prepared event with the id it was stored under.
type storedEvent struct {
	preparedEvent
	id string
}

// resolve delivers events to the runs waiting for them on a match value and cancels the runs
// whose CancelOn they match that way; events that waits without a match value may be waiting
// for are queued for the wait checker (see checkWaits). It looks up only the match paths that stored waits use, so any scalar path
// matches however deep or wide the event, and it locks the affected runs in id order before
// touching their waits and steps (the order every writer of a run follows). It returns how
// many runs it woke or cancelled plus how many checks it queued (either wants workers woken).
func (e *Engine) resolve(ctx context.Context, tx *gorm.DB, events []storedEvent, now int64) (int, error) {
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
	if err := e.lockEventNames(tx, names, false); err != nil {
		return 0, err
	}
	var inUse []struct{ EventName, MatchPath string }
	if err := tx.Raw(`SELECT event_name, match_path FROM wait_paths WHERE event_name IN ?`, names).Scan(&inUse).Error; err != nil {
		return 0, fmt.Errorf("find wait paths for %v: %w", names, err)
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
	queued, err := e.queueWaitChecks(tx, unmatched, events)
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
	var rows []waitRow
	for start := 0; start < len(keys); start += 500 {
		var more []waitRow
		err := tx.Where("event_name IN ? AND match_hash IN ?", names, keys[start:min(len(keys), start+500)]).Find(&more).Error
		if err != nil {
			return 0, fmt.Errorf("find waits for %v: %w", names, err)
		}
		rows = append(rows, more...)
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
	runIDs := map[string]bool{}
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
					runIDs[w.RunID] = true
				}
				if !ok {
					continue
				}
			}
			todo = append(todo, delivery{w, ev})
			runIDs[w.RunID] = true
		}
	}
	if err := e.lockRuns(tx, runIDs); err != nil {
		return 0, err
	}
	if err := e.noteIgnored(tx, ignored); err != nil {
		return 0, err
	}
	n := queued
	var resumed []resumeRow
	for _, d := range todo {
		ok, err := e.deliver(ctx, tx, d.w, d.ev, now)
		if err != nil {
			return n, err
		}
		if ok {
			n++
			if d.w.Kind == waitEvent {
				resumed = append(resumed, resumeRow{EventID: d.ev.id, RunID: d.w.RunID, StepID: d.w.StepID, CreatedAt: now})
			}
		}
	}
	return n, recordResumes(tx, resumed)
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
func (e *Engine) noteIgnored(tx *gorm.DB, ignored []ignoredEvent) error {
	for _, ig := range ignored {
		msg := storableText(fmt.Sprintf("ignored event %s (%s): the condition's %v", ig.ev.ev.Name, ig.ev.id, ig.err))
		var err error
		if ig.w.Kind == waitEvent {
			err = tx.Exec(`UPDATE steps SET error = ? WHERE run_id = ? AND id = ? AND status = ?`, msg, ig.w.RunID, ig.w.StepID, StepWaiting).Error
		} else {
			err = tx.Exec(`UPDATE runs SET error = ? WHERE id = ? AND status NOT IN ('completed', 'failed', 'cancelled')`, msg, ig.w.RunID).Error
		}
		if err != nil {
			return fmt.Errorf("note ignored event on run %s: %w", ig.w.RunID, err)
		}
		e.log.Warn("wait ignored an event", "run_id", ig.w.RunID, "event_id", ig.ev.id, "err", ig.err)
	}
	return nil
}

// lockRuns takes the row locks of runs in id order (PostgreSQL): every transaction that
// changes several runs, or a run and its waits or steps, locks the runs first and in this
// order, so two of them never wait on each other in a circle.
func (e *Engine) lockRuns(tx *gorm.DB, ids map[string]bool) error {
	if !e.pg || len(ids) == 0 {
		return nil
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	var got []string
	if err := tx.Raw(`SELECT id FROM runs WHERE id IN ? ORDER BY id FOR UPDATE`, sorted).Scan(&got).Error; err != nil {
		return fmt.Errorf("lock runs: %w", err)
	}
	return nil
}

// deliver applies one event to one wait or cancel registration it matched (name, value and
// condition).
func (e *Engine) deliver(ctx context.Context, tx *gorm.DB, w waitRow, ev storedEvent, now int64) (bool, error) {
	if w.Kind == waitCancel {
		return e.cancelRun(ctx, tx, w.RunID, fmt.Sprintf("cancelled by event %s (%s)", ev.ev.Name, ev.id), now)
	}
	return e.completeWait(tx, w, ev.payload, now)
}

// completeWait resolves one waiting step with the event payload. The first deliverer to
// delete the step's wait rows wins; a timeout that got there first leaves them gone.
func (e *Engine) completeWait(tx *gorm.DB, w waitRow, payload string, now int64) (bool, error) {
	del := tx.Exec(`DELETE FROM waits WHERE run_id = ? AND step_id = ? AND kind = ?`, w.RunID, w.StepID, waitEvent)
	if del.Error != nil {
		return false, fmt.Errorf("claim wait of run %s: %w", w.RunID, del.Error)
	}
	if del.RowsAffected == 0 {
		return false, nil
	}
	if err := e.wakeRun(tx, w.RunID, now); err != nil {
		return false, err
	}
	err := tx.Exec(`UPDATE steps SET status = ?, output = ?, ended_at = ? WHERE run_id = ? AND id = ?`,
		StepCompleted, payload, now, w.RunID, w.StepID).Error
	if err != nil {
		return false, fmt.Errorf("resolve wait of run %s: %w", w.RunID, err)
	}
	return true, nil
}

// wakeRun makes a run due now. The run row is updated first so that its lock orders this
// against a worker suspending the same run (see suspend).
func (e *Engine) wakeRun(tx *gorm.DB, runID string, now int64) error {
	err := tx.Exec(`UPDATE runs SET due_at = ?, updated_at = ?,
		status = CASE WHEN status IN ('sleeping', 'waiting') THEN 'queued' ELSE status END
		WHERE id = ? AND status NOT IN ('completed', 'failed', 'cancelled')`, now, now, runID).Error
	if err != nil {
		return fmt.Errorf("wake run %s: %w", runID, err)
	}
	return nil
}
