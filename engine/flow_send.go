package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/inkflow/inkflow/engine/store"
)

// Flow control decided when an event arrives: delayed events (a future ts), idempotency,
// rateLimit, singleton, debounce and batchEvents. Every decision is the database's: keyed
// limits are rows of flow_keys written with INSERT ... ON CONFLICT (their row lock makes
// concurrent senders of any process take turns), and a debounce or batch that is still
// gathering events is a queued run no worker has claimed yet plus a flow_open row, so a
// process that dies while "holding" one holds nothing: the run is in the database, due at the
// end of its period, and any worker starts it.
//
// Claim-time options (concurrency, throttle, priority, timeouts) are the workers' (worker.go).

// Decision actions (what a function did with an event) and reasons (which option decided).
const (
	ActionStarted   = "started"
	ActionDelayed   = "delayed"
	ActionDropped   = "dropped"
	ActionSkipped   = "skipped"
	ActionDebounced = "debounced"
	ActionBatched   = "batched"

	ReasonRateLimit   = "rateLimit"
	ReasonIdempotency = "idempotency"
	ReasonSingleton   = "singleton"
	ReasonDebounce    = "debounce"
	ReasonBatchEvents = "batchEvents"
	ReasonThrottle    = "throttle"
	ReasonIf          = "if"
	// ReasonTS is a start delayed until the event's own ts, which is in the future.
	ReasonTS = "ts"
)

// IdempotencyWindow is how long a run holds its idempotency key.
const IdempotencyWindow = 24 * time.Hour

// Decision is what one function (for one workflow, when WorkflowID is set) did with an
// event, and why: GET /api/events/{id} and the event's page list them.
type Decision struct {
	Function   string `json:"function"`
	WorkflowID *int64 `json:"workflow_id"`
	Action     string `json:"action"`
	Reason     string `json:"reason"`
	Key        string `json:"key"`
	RunID      string `json:"run_id"`
}

// flowFor is the flow control of a run of r labelled meta: the Fanout's, when it gave one.
func (r *registered) flowFor(meta RunMeta) *Flow {
	if meta.Flow != nil {
		return meta.Flow
	}
	return &r.fn.Flow
}

// decidesAtSend reports whether f has options that decide at send time whether and when a
// run starts. Without them a start is a plain queued run (the hot path).
func (f *Flow) decidesAtSend() bool {
	return f.Idempotency != "" || f.RateLimit != nil || f.Singleton != nil || f.Debounce != nil || f.BatchEvents != nil
}

// startFlow starts (or folds, or refuses) one run of r for the event under flow f, recording
// the decision when it is not a plain start, and returns the run the event itself started
// ("" when it started none of its own: dropped, skipped, debounced or batched).
func (e *Engine) startFlow(ctx context.Context, q *store.Q, b *batch, r *registered, f *Flow, p preparedEvent, eventID string, meta RunMeta, now int64) (string, error) {
	scope := meta.WorkflowID
	decide := func(action, reason, key, runID string) {
		d := store.Decision{ID: newID(), EventID: eventID, FunctionID: r.fn.ID, Action: action, Reason: reason,
			KeyValue: shownKey(key), RunID: runID, CreatedAt: now}
		if scope != 0 {
			wid := scope
			d.WorkflowID = &wid
		}
		b.decisions = append(b.decisions, d)
	}
	runID := newID()
	if f.Idempotency != "" {
		key := e.flowKey(f.Idempotency, p)
		ok, err := q.ClaimIdempotency(store.FlowKey{Kind: ReasonIdempotency, FunctionID: r.fn.ID, Scope: scope, Hash: keyHash(key)},
			runID, now, now+IdempotencyWindow.Milliseconds())
		if err != nil {
			return "", err
		}
		if !ok {
			decide(ActionSkipped, ReasonIdempotency, key, "")
			return "", nil
		}
	}
	if rl := f.RateLimit; rl != nil {
		key := e.flowKey(rl.Key, p)
		period := rl.Period.Milliseconds()
		ok, err := q.TakeRate(store.FlowKey{Kind: ReasonRateLimit, FunctionID: r.fn.ID, Scope: scope, Hash: keyHash(key)},
			now, max(1, period/int64(rl.Limit)), period)
		if err != nil {
			return "", err
		}
		if !ok {
			decide(ActionDropped, ReasonRateLimit, key, "")
			return "", nil
		}
	}
	// Debounce, then batchEvents, then singleton: the first set decides which run the event
	// belongs to, and the others are not applied (docs/flow-control.md).
	if d := f.Debounce; d != nil {
		return "", e.debounce(q, b, r, f, p, eventID, meta, runID, now, decide)
	}
	if be := f.BatchEvents; be != nil {
		return "", e.batchEvent(q, b, r, f, p, eventID, meta, runID, now, decide)
	}
	if s := f.Singleton; s != nil {
		key := e.flowKey(s.Key, p)
		k := store.FlowKey{Kind: ReasonSingleton, FunctionID: r.fn.ID, Scope: scope, Hash: keyHash(key)}
		holder, err := q.ClaimSingleton(k, runID)
		if err != nil {
			return "", err
		}
		if holder != "" {
			if s.Mode != SingletonCancel {
				decide(ActionSkipped, ReasonSingleton, key, holder)
				return "", nil
			}
			if err := q.LockRuns([]string{holder}); err != nil {
				return "", err
			}
			if _, err := e.cancelRun(ctx, q, holder, fmt.Sprintf("cancelled by singleton: event %s (%s) started run %s", p.ev.Name, eventID, runID), now); err != nil {
				return "", err
			}
			if err := q.SetKeyRun(k, runID); err != nil {
				return "", err
			}
			decide(ActionStarted, ReasonSingleton, key, runID)
		}
		// The next sender's ClaimSingleton looks the run up: it must be stored now.
		due, delayed := startAt(p, now)
		if delayed {
			decide(ActionDelayed, ReasonTS, "", runID)
		}
		return runID, e.insertRun(q, b, r, f, p, eventID, meta, runID, now, due)
	}
	due, delayed := startAt(p, now)
	if delayed {
		decide(ActionDelayed, ReasonTS, "", runID)
	}
	e.queueRunAt(b, r, f, p, eventID, meta, runID, now, due, "", "")
	return runID, nil
}

// debounce folds the event into its key's debounce: the run still waiting for the period to
// pass takes this event as its trigger and becomes due a period from now (but no later than
// timeout after the debounce's first event); without such a run, a new one waits.
func (e *Engine) debounce(q *store.Q, b *batch, r *registered, f *Flow, p preparedEvent, eventID string, meta RunMeta, runID string, now int64, decide func(action, reason, key, runID string)) error {
	d := f.Debounce
	key := e.flowKey(d.Key, p)
	g, created, err := q.OpenGroupFor(r.fn.ID, meta.WorkflowID, keyHash(key), runID, now)
	if err != nil {
		return err
	}
	due := func(first int64) int64 {
		at := now + d.Period.Milliseconds()
		if d.Timeout > 0 {
			at = min(at, first+d.Timeout.Milliseconds())
		}
		return at
	}
	if !created {
		ok, err := q.RetriggerQueued(g.RunID, &eventRow{ID: eventID, Name: p.ev.Name, Payload: p.payload}, due(g.FirstAt), now)
		if err != nil {
			return err
		}
		if ok {
			decide(ActionDebounced, ReasonDebounce, key, g.RunID)
			return nil
		}
		// Its run has begun: this event starts the next debounce.
		g.RunID, g.FirstAt = runID, now
		if err := q.SetGroup(g); err != nil {
			return err
		}
	}
	decide(ActionDebounced, ReasonDebounce, key, runID)
	return e.insertRun(q, b, r, f, p, eventID, meta, runID, now, due(now))
}

// batchEvent adds the event to its key's open batch, or opens one whose run starts timeout
// from now; a batch that reaches maxSize is closed and its run is due at once.
func (e *Engine) batchEvent(q *store.Q, b *batch, r *registered, f *Flow, p preparedEvent, eventID string, meta RunMeta, runID string, now int64, decide func(action, reason, key, runID string)) error {
	be := f.BatchEvents
	key := e.flowKey(be.Key, p)
	g, created, err := q.OpenGroupFor(r.fn.ID, meta.WorkflowID, keyHash(key), runID, now)
	if err != nil {
		return err
	}
	open := created
	if !created {
		// Still unclaimed? Touching the run also locks it against a claim until commit.
		ok, err := q.RetriggerQueued(g.RunID, nil, g.FirstAt+be.Timeout.Milliseconds(), now)
		if err != nil {
			return err
		}
		if !ok { // its timeout came and a worker took it: this event opens the next batch
			g.RunID, g.FirstAt, g.Size, open = runID, now, 0, true
		}
	}
	if open {
		due := now + be.Timeout.Milliseconds()
		if be.MaxSize == 1 {
			due = now
		}
		if err := e.insertRun(q, b, r, f, p, eventID, meta, runID, now, due); err != nil {
			return err
		}
	}
	if err := q.AddBatchEvents([]store.BatchEvent{{RunID: g.RunID, Seq: g.Size, EventID: eventID, Payload: p.payload}}); err != nil {
		return err
	}
	decide(ActionBatched, ReasonBatchEvents, key, g.RunID)
	g.Size++
	if g.Size >= be.MaxSize {
		if !open { // a new run of maxSize 1 is due at once already
			if _, err := q.RetriggerQueued(g.RunID, nil, now, now); err != nil {
				return err
			}
		}
		return q.CloseGroup(g)
	}
	return q.SetGroup(g)
}

// insertRun stores a queued run at once rather than with the send's other rows: the next
// event of the same send may look it up (a debounce, a batch, a singleton).
func (e *Engine) insertRun(q *store.Q, b *batch, r *registered, f *Flow, p preparedEvent, eventID string, meta RunMeta, runID string, now, due int64) error {
	e.queueRunAt(b, r, f, p, eventID, meta, runID, now, due, "", "")
	last := len(b.runs) - 1
	if err := q.InsertRuns(b.runs[last:]); err != nil {
		return err
	}
	b.runs = b.runs[:last]
	return nil
}

// startAt is when a run for p is due: the event's ts when that is in the future.
func startAt(p preparedEvent, now int64) (int64, bool) {
	if p.ev.TS > now {
		return p.ev.TS, true
	}
	return now, false
}

// flowKey evaluates a key expression over the event. A key that does not evaluate (a field
// the event lacks) is the empty key, which all such events share.
func (e *Engine) flowKey(src string, p preparedEvent) string {
	if src == "" {
		return ""
	}
	v, err := e.exprs.eval(src, p.m, nil)
	if err != nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(normalizeValue(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// keyHash is the stored form of a key's value: any size fits the index.
func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// shownKey is a key's value as a decision shows it: storable text, at most 256 bytes.
func shownKey(key string) string {
	key = storableText(key)
	if len(key) <= 256 {
		return key
	}
	cut := 256
	for cut > 0 && !utf8.RuneStart(key[cut]) {
		cut--
	}
	return key[:cut] + "…"
}

// Decisions returns what each function did with stored event id, in order: plain starts
// (read from the runs the event started) and the decisions flow control recorded.
// ENotFound for an unknown event.
func (e *Engine) Decisions(ctx context.Context, id string) ([]Decision, error) {
	q := e.st.Q(ctx)
	ev, err := q.GetEvent(id)
	if err != nil {
		if err == store.ErrNotFound {
			return nil, Errorf(ENotFound, "event %s not found", id)
		}
		return nil, err
	}
	rows, err := q.DecisionsOf(id)
	if err != nil {
		return nil, err
	}
	explicit := map[string]bool{}
	out := []Decision{}
	for _, d := range rows {
		if d.RunID != "" && (d.Action == ActionStarted || d.Action == ActionDelayed) {
			explicit[d.RunID] = true
		}
	}
	var plain []string
	for _, runID := range splitIDs(ev.RunIDs) {
		if !explicit[runID] {
			plain = append(plain, runID)
		}
	}
	labels, err := q.RunLabels(plain) // runs deleted by retention are left out
	if err != nil {
		return nil, err
	}
	byID := make(map[string]store.RunLabel, len(labels))
	for _, l := range labels {
		byID[l.ID] = l
	}
	for _, runID := range plain { // in the order the event started them
		if l, ok := byID[runID]; ok {
			out = append(out, Decision{Function: l.FunctionID, WorkflowID: l.WorkflowID, Action: ActionStarted, RunID: runID})
		}
	}
	for _, d := range rows {
		out = append(out, Decision{Function: d.FunctionID, WorkflowID: d.WorkflowID, Action: d.Action, Reason: d.Reason,
			Key: d.KeyValue, RunID: d.RunID})
	}
	return out, nil
}

// batchEvents returns the events a run of x sees as Input.Events: a batched run's, in order,
// or just its trigger.
func (x *execution) batchEvents(ctx context.Context, ev Event) ([]Event, error) {
	if x.reg.fn.BatchEvents == nil && x.reg.fn.Fanout == nil {
		return []Event{ev}, nil // no run of this function can be batched
	}
	rows, err := x.e.st.Q(ctx).BatchEventsOf(x.run.ID)
	if err != nil || len(rows) == 0 {
		return []Event{ev}, err
	}
	out := make([]Event, 0, len(rows))
	for _, r := range rows {
		var one Event
		if err := json.Unmarshal([]byte(r.Payload), &one); err != nil {
			return nil, fmt.Errorf("batched event %s is not valid JSON: %w", r.EventID, err)
		}
		out = append(out, one)
	}
	return out, nil
}
