package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inkflow/inkflow/engine/store"
)

// Step is a run's step tool, handed to the handler in Input.Step. Its methods are safe to
// call from the goroutines of Parallel.
type Step struct {
	x *execution

	mu      sync.Mutex
	memo    map[string]*stepRow
	seen    map[string]int
	seq     int
	pending map[string]bool
	labels  map[string]string // display names given by Label (dynamic.go)
}

// StepError is the error a handler gets from a step that failed for good.
type StepError struct {
	StepID   string
	Attempts int
	Message  string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("step %q failed after %d attempt(s): %s", e.StepID, e.Attempts, e.Message)
}

// suspendSignal unwinds a handler whose run must leave the worker (sleep, wait, retry later).
type suspendSignal struct{}

// abortSignal unwinds a handler whose progress cannot be recorded: the run is no longer this
// worker's (leaseLost: cancelled, or taken over), or the database refused a write, in which
// case the run is handed back to be tried again shortly.
type abortSignal struct {
	reason    string
	leaseLost bool
	// permanent: the database refused the write for what it holds (bad text, a value over
	// one of its limits), so trying again would fail the same way: the run fails instead.
	permanent bool
}

type idemKey struct{}

// IdempotencyKey returns "runID:stepID" inside a Step.Run fn ("" elsewhere): a key for side
// effects that must happen once even if fn runs twice.
func IdempotencyKey(ctx context.Context) string {
	v, _ := ctx.Value(idemKey{}).(string)
	return v
}

func newStep(x *execution, rows []stepRow) *Step {
	s := &Step{x: x, memo: map[string]*stepRow{}, seen: map[string]int{}, pending: map[string]bool{}}
	for i := range rows {
		r := rows[i]
		s.memo[r.ID] = &r
		if r.Seq >= s.seq {
			s.seq = r.Seq + 1
		}
	}
	return s
}

// claimID returns the stored id for a call of a step of kind with id: the first use keeps id, the n-th repeat
// in the same run becomes "id:n" (as Inngest does for steps in loops). It also returns the
// memoized row, if any.
func (s *Step) claimID(id, kind string) (string, *stepRow, error) {
	if id == "" {
		return "", nil, NonRetriable(Errorf(EInvalid, "step id is required"))
	}
	if err := checkText("step id", id); err != nil {
		return "", nil, NonRetriable(Errorf(EInvalid, "step %q: %v", id, err))
	}
	if len(id) > MaxStepIDBytes {
		return "", nil, NonRetriable(Errorf(EInvalid, "step %q...: the id is %d bytes; the limit is %d", id[:32], len(id), MaxStepIDBytes))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.seen[id]
	s.seen[id] = n + 1
	if n > 0 {
		id = id + ":" + strconv.Itoa(n)
	}
	rec := s.memo[id]
	if rec != nil && rec.Kind != kind {
		return id, nil, NonRetriable(Errorf(EInvalid, "step id %q is used by a %s step and a %s step; ids must be unique within a run", id, rec.Kind, kind))
	}
	if rec == nil && len(s.memo) >= MaxStepsPerRun {
		return id, nil, NonRetriable(&Error{Code: ETooLarge, Message: fmt.Sprintf("run has more than %d steps", MaxStepsPerRun)})
	}
	return id, rec, nil
}

func (s *Step) nextSeq() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.seq - 1
}

func (s *Step) remember(r stepRow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.memo[r.ID] = &r
	delete(s.pending, r.ID)
}

// park records a step the run waits on and unwinds the handler.
func (s *Step) park(id string) {
	s.mu.Lock()
	s.pending[id] = true
	s.mu.Unlock()
	panic(suspendSignal{})
}

func (s *Step) pendingIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.pending))
	for id := range s.pending {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Run executes fn once and stores its JSON result; on replay it returns the stored result
// without calling fn. A failing fn is retried with backoff; NonRetriable fails the run at
// once; RetryAfter sets the delay. A repeated id within one run gets a ":N" suffix.
// After the last attempt the handler receives a *StepError (wrapped as non-retriable).
func (s *Step) Run(ctx context.Context, id string, fn func(ctx context.Context) (any, error), opts ...StepOption) (json.RawMessage, error) {
	var o stepOptions
	for _, opt := range opts {
		opt(&o)
	}
	id, rec, err := s.claimID(id, KindRun)
	if err != nil {
		return nil, err
	}
	now := s.x.e.now()
	attempt := 1
	row := stepRow{RunID: s.x.run.ID, ID: id, Name: id, Kind: KindRun}
	if rec != nil {
		switch rec.Status {
		case StepCompleted:
			return json.RawMessage(deref(rec.Output)), nil
		case StepFailed:
			return nil, NonRetriable(&StepError{StepID: id, Attempts: rec.Attempts, Message: rec.Error})
		case StepRetrying:
			if rec.WakeAt != nil && *rec.WakeAt > ms(now) {
				s.park(id)
			}
		}
		row = *rec
		attempt = rec.Attempts + 1
	} else {
		row.Seq = s.nextSeq()
	}
	if o.name != "" {
		row.Name = strings.ToValidUTF8(strings.ReplaceAll(o.name, "\x00", ""), "\uFFFD") // a label: shown, never refused
	}
	if o.input != nil && row.Input == nil {
		if b, err := json.Marshal(o.input); err == nil {
			row.Input = strPtr(string(b))
		}
	}
	started := ms(now)
	row.StartedAt = &started
	out, callErr := s.call(ctx, id, fn, o.timeout)
	var b []byte
	if callErr == nil {
		b, callErr = encodeOutput(id, out)
	}
	ended := ms(s.x.e.now())
	row.Attempts = attempt
	row.EndedAt = &ended
	if callErr == nil {
		row.Status, row.Output, row.Error, row.WakeAt = StepCompleted, strPtr(string(b)), "", nil
		s.x.commitStep(&row, nil)
		s.remember(row)
		return b, nil
	}
	retries := s.x.reg.retries
	if o.retries != nil {
		retries = *o.retries
	}
	row.Error = callErr.Error()
	if IsNonRetriable(callErr) || attempt > retries {
		row.Status, row.WakeAt = StepFailed, nil
		s.x.commitStep(&row, nil)
		s.remember(row)
		return nil, NonRetriable(&StepError{StepID: id, Attempts: attempt, Message: callErr.Error()})
	}
	wake := ended + s.x.e.backoff(attempt, callErr).Milliseconds()
	row.Status, row.WakeAt = StepRetrying, &wake
	s.x.commitStep(&row, nil)
	s.remember(row)
	s.park(id)
	return nil, nil // unreachable: park unwinds
}

// call runs fn with the idempotency key and timeout, turning a panic into an error with its
// stack so a broken step never takes the worker down.
func (s *Step) call(ctx context.Context, id string, fn func(ctx context.Context) (any, error), timeout time.Duration) (out any, err error) {
	ctx = context.WithValue(ctx, idemKey{}, s.x.run.ID+":"+id)
	ctx = withLog(ctx, Log(ctx).With("step_id", id))
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if timeout <= 0 {
		return callFn(ctx, fn)
	}
	// With a timeout the fn runs aside, so that one which ignores its context is abandoned at
	// the deadline (its goroutine ends whenever fn returns) and the step fails and is retried.
	type result struct {
		out any
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := callFn(ctx, fn)
		done <- result{out, err}
	}()
	select {
	case r := <-done:
		if r.err == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			r.err = fmt.Errorf("step timed out after %s", timeout)
		}
		return r.out, r.err
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("step timed out after %s", timeout)
		}
		return nil, fmt.Errorf("step interrupted: %w", ctx.Err())
	}
}

// callFn calls fn, turning a panic into an error carrying its stack.
func callFn(ctx context.Context, fn func(ctx context.Context) (any, error)) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			switch r.(type) {
			case suspendSignal, abortSignal:
				err = NonRetriable(errors.New("steps cannot be called inside a step's fn"))
				return
			}
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return fn(ctx)
}

func encodeOutput(id string, out any) ([]byte, error) {
	if raw, ok := out.(json.RawMessage); ok && json.Valid(raw) {
		out = raw
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, NonRetriable(fmt.Errorf("step %q: result is not JSON: %w", id, err))
	}
	if len(b) > MaxStepOutputBytes {
		return nil, NonRetriable(&Error{Code: ETooLarge, Message: fmt.Sprintf("step %q: result is %d bytes; the limit is %d", id, len(b), MaxStepOutputBytes)})
	}
	return b, nil
}

// Sleep suspends the run for d, counted from the first time this step is reached.
func (s *Step) Sleep(ctx context.Context, id string, d time.Duration) error {
	return s.sleep(id, func(now time.Time) time.Time { return now.Add(d) })
}

// SleepUntil suspends the run until t.
func (s *Step) SleepUntil(ctx context.Context, id string, t time.Time) error {
	return s.sleep(id, func(time.Time) time.Time { return t })
}

func (s *Step) sleep(id string, until func(now time.Time) time.Time) error {
	id, rec, err := s.claimID(id, KindSleep)
	if err != nil {
		return err
	}
	now := s.x.e.now()
	if rec != nil && rec.Status == StepCompleted {
		return nil
	}
	var row stepRow
	if rec != nil {
		row = *rec
	} else {
		if u := until(now); u.Sub(now) > MaxSleep {
			return NonRetriable(Errorf(EInvalid, "sleep %q: until %s is more than 10 years away", id, u.UTC().Format(time.RFC3339)))
		}
		wake := ms(until(now))
		started := ms(now)
		row = stepRow{RunID: s.x.run.ID, ID: id, Seq: s.nextSeq(), Name: s.label(id), Kind: KindSleep, Status: StepSleeping, WakeAt: &wake, StartedAt: &started}
	}
	if *row.WakeAt <= ms(now) {
		ended := ms(now)
		row.Status, row.EndedAt, row.Attempts = StepCompleted, &ended, 1
		s.x.commitStep(&row, nil)
		s.remember(row)
		return nil
	}
	if rec == nil {
		s.x.commitStep(&row, nil)
		s.remember(row)
	}
	s.park(id)
	return nil
}

// WaitForEvent suspends the run until a matching event arrives (returned) or the timeout
// passes (nil, nil). A Timeout of zero waits without end. Events received since the run's
// previous step began (or since it was queued) count, so an event sent in answer to that step
// (an approval clicked the moment a post asks for it) is not lost; the event that started
// the run and events consumed by its earlier waits do not.
func (s *Step) WaitForEvent(ctx context.Context, id string, w Wait) (*Event, error) {
	id, rec, err := s.claimID(id, KindWait)
	if err != nil {
		return nil, err
	}
	if w.Event == "" {
		return nil, NonRetriable(Errorf(EInvalid, "wait %q: event name is required", id))
	}
	for _, n := range append([]string{w.Event, w.Match, w.If}, w.OrEvents...) {
		if err := checkText("wait", n); err != nil {
			return nil, NonRetriable(Errorf(EInvalid, "wait %q: %v", id, err))
		}
	}
	if w.If != "" {
		if _, err := s.x.e.exprs.compile(w.If); err != nil {
			return nil, NonRetriable(fmt.Errorf("wait %q: %w", id, err))
		}
	}
	now := s.x.e.now()
	if rec != nil {
		return s.resumeWait(id, rec, now)
	}
	return s.startWait(ctx, id, w, now)
}

func (s *Step) resumeWait(id string, rec *stepRow, now time.Time) (*Event, error) {
	switch rec.Status {
	case StepCompleted:
		return decodeEvent(rec.Output)
	case StepWaiting:
	default:
		return nil, NonRetriable(fmt.Errorf("wait %q: unexpected state %q", id, rec.Status))
	}
	if rec.WakeAt != nil && *rec.WakeAt > ms(now) {
		s.park(id)
	}
	// Timed out, unless an event got there first: whoever deletes the wait rows wins.
	row := *rec
	var won bool
	s.x.commitStep(&row, func(q *store.Q) error {
		var err error
		if won, err = q.TakeWait(row.RunID, id); err != nil {
			return err
		}
		if !won {
			stored, err := q.GetStep(row.RunID, id)
			if err != nil {
				return err
			}
			row = *stored
			return nil
		}
		ended := ms(now)
		row.Status, row.Output, row.EndedAt = StepCompleted, strPtr("null"), &ended
		return nil
	})
	s.remember(row)
	if row.Status != StepCompleted {
		s.park(id)
	}
	return decodeEvent(row.Output)
}

func (s *Step) startWait(ctx context.Context, id string, w Wait, now time.Time) (*Event, error) {
	names := append([]string{w.Event}, w.OrEvents...)
	trig := s.x.trigger
	expires := never
	if w.Timeout > 0 {
		expires = ms(now.Add(w.Timeout))
	}
	started := ms(now)
	row := stepRow{RunID: s.x.run.ID, ID: id, Seq: s.nextSeq(), Name: s.label(id), Kind: KindWait, Status: StepWaiting,
		WakeAt: &expires, StartedAt: &started, Attempts: 1}
	if b, err := json.Marshal(waitInput(w)); err == nil {
		row.Input = strPtr(string(b))
	}
	var matchVal string
	if w.Match != "" {
		raw, _ := lookup(trig, w.Match)
		switch raw.(type) {
		case map[string]any, []any:
			return nil, NonRetriable(Errorf(EInvalid, "wait %q: %s is an object or a list; match on a single value", id, w.Match))
		}
		v, ok := matchValue(trig, w.Match)
		if !ok {
			return nil, NonRetriable(Errorf(EInvalid, "wait %q: the triggering event has no %s to match", id, w.Match))
		}
		matchVal = v
	}
	if hook := s.x.e.beforeWaitStored; hook != nil {
		hook()
	}
	lockNames := func(q *store.Q) error { return q.LockEventNames(names, true) }
	s.x.commitStepAfter(&row, lockNames, func(q *store.Q) error {
		// Events that arrived since the run's latest step began count (or since it was
		// queued), unless one of its earlier waits took them: the step before a wait often
		// announces it (a post marked "needs approval"), and an approval clicked that very
		// moment must not be lost.
		since, taken := s.lookbackFrom()
		since -= s.x.e.lookbackTolerance().Milliseconds()
		candidates, err := q.EventsSince(names, since)
		if err != nil {
			return err
		}
		for _, c := range candidates {
			var m map[string]any
			if json.Unmarshal([]byte(c.Payload), &m) != nil {
				continue
			}
			if id, _ := m["id"].(string); taken[id] {
				continue
			}
			if w.Match != "" {
				if v, ok := matchValue(m, w.Match); !ok || v != matchVal {
					continue
				}
			}
			if w.If != "" {
				ok, err := s.x.e.exprs.holds(w.If, trig, m)
				if err != nil {
					row.Error = storableText(fmt.Sprintf("ignored event %s (%s): the condition's %v", c.Name, c.ID, err))
				}
				if !ok {
					continue
				}
			}
			row.Status, row.Output, row.EndedAt, row.WakeAt = StepCompleted, strPtr(c.Payload), &started, nil
			return q.RecordResumes([]store.Resume{{EventID: c.ID, RunID: row.RunID, StepID: id, CreatedAt: started}})
		}
		var seq int64
		if w.Match == "" { // checked by the wait checker: order it against sends
			var err error
			if seq, err = q.NextWaitSeq(); err != nil {
				return err
			}
		}
		rows := make([]waitRow, 0, len(names))
		for _, n := range names {
			wr := waitRow{ID: newID(), Kind: waitEvent, RunID: row.RunID, StepID: id, EventName: n,
				MatchPath: w.Match, MatchValue: matchVal, MatchHash: matchHash(w.Match, matchVal), IfExpr: w.If,
				ExpiresAt: expires, CreatedAt: started, Seq: seq}
			if w.If != "" {
				wr.Trigger = s.x.run.Event
			}
			rows = append(rows, wr)
		}
		if err := q.InsertWaits(rows); err != nil {
			return err
		}
		return q.RecordWaitPaths(rows, pathHash)
	})
	s.remember(row)
	if row.Status == StepCompleted {
		return decodeEvent(row.Output)
	}
	s.park(id)
	return nil, nil
}

// waitInput is how a wait shows on the dashboard: JSON names and a readable timeout.
func waitInput(w Wait) map[string]any {
	in := map[string]any{"event": w.Event}
	if len(w.OrEvents) > 0 {
		in["or_events"] = w.OrEvents
	}
	if w.Match != "" {
		in["match"] = w.Match
	}
	if w.If != "" {
		in["if"] = w.If
	}
	if w.Timeout > 0 {
		in["timeout"] = w.Timeout.String()
	}
	return in
}

// lookbackFrom returns when the run's latest step began (or when it was queued) and the
// stored ids of the events its earlier waits consumed.
func (s *Step) lookbackFrom() (int64, map[string]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	since := s.x.run.CreatedAt
	taken := map[string]bool{}
	if id, ok := s.x.trigger["id"].(string); ok {
		taken[id] = true // a run never resumes on the event that started it
	}
	for _, r := range s.memo {
		if r.StartedAt != nil && *r.StartedAt > since {
			since = *r.StartedAt
		}
		if r.Kind == KindWait && r.Output != nil && *r.Output != "null" {
			var ev struct {
				ID string `json:"id"`
			}
			if json.Unmarshal([]byte(*r.Output), &ev) == nil {
				taken[ev.ID] = true
			}
		}
	}
	return since, taken
}

func decodeEvent(out *string) (*Event, error) {
	if out == nil || *out == "null" || *out == "" {
		return nil, nil
	}
	var ev Event
	if err := json.Unmarshal([]byte(*out), &ev); err != nil {
		return nil, NonRetriable(fmt.Errorf("decode stored event: %w", err))
	}
	return &ev, nil
}

// SendEvent sends events once: on replay it returns the ids stored the first time. The events
// and the step's record commit together.
func (s *Step) SendEvent(ctx context.Context, id string, events ...Event) ([]string, error) {
	id, rec, err := s.claimID(id, KindSend)
	if err != nil {
		return nil, err
	}
	if rec != nil && rec.Status == StepCompleted {
		return sentIDs(rec.Output), nil
	}
	now := ms(s.x.e.now())
	row := stepRow{RunID: s.x.run.ID, ID: id, Seq: s.nextSeq(), Name: id, Kind: KindSend, Status: StepCompleted,
		Attempts: 1, StartedAt: &now, EndedAt: &now}
	if rec != nil {
		row.Seq = rec.Seq
	}
	err = s.x.commitStep(&row, func(q *store.Q) error {
		res, err := s.x.e.send(ctx, q, events)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(sentOutput{IDs: res.IDs})
		row.Output = strPtr(string(b))
		return nil
	})
	if err != nil {
		return nil, NonRetriable(fmt.Errorf("step %q: %w", id, err))
	}
	s.remember(row)
	return sentIDs(row.Output), nil
}

// sentOutput is what a send step stores and shows: {"ids": [...]}, as Inngest's sendEvent
// returns and as a workflow's send_event action's refs read it.
type sentOutput struct {
	IDs []string `json:"ids"`
}

// sentIDs reads a send step's stored output; rows written before it was an object hold a
// bare array of ids.
func sentIDs(out *string) []string {
	raw := []byte(deref(out))
	var o sentOutput
	if json.Unmarshal(raw, &o) == nil {
		return o.IDs
	}
	var ids []string
	_ = json.Unmarshal(raw, &ids)
	return ids
}

// Invoke starts a run of function functionID with data as its event's data and waits for
// its result. A failed child or a timeout (zero: none) fails the step without retry.
func (s *Step) Invoke(ctx context.Context, id string, functionID string, data map[string]any, timeout time.Duration) (json.RawMessage, error) {
	id, rec, err := s.claimID(id, KindInvoke)
	if err != nil {
		return nil, err
	}
	now := s.x.e.now()
	if rec != nil {
		return s.resumeInvoke(id, rec, now)
	}
	target := s.x.e.function(functionID)
	if target == nil {
		return nil, NonRetriable(Errorf(ENotFound, "invoke %q: no function %q", id, functionID))
	}
	p, err := prepare(Event{Name: EventInvoked, Data: data}, ms(now))
	if err != nil {
		return nil, NonRetriable(fmt.Errorf("invoke %q: %w", id, err))
	}
	expires := never
	if timeout > 0 {
		expires = ms(now.Add(timeout))
	}
	started := ms(now)
	row := stepRow{RunID: s.x.run.ID, ID: id, Seq: s.nextSeq(), Name: s.label(id), Kind: KindInvoke, Status: StepWaiting,
		WakeAt: &expires, StartedAt: &started, Attempts: 1, Input: strPtr(p.payload)}
	s.x.commitStep(&row, func(q *store.Q) error {
		b := &batch{e: s.x.e}
		eventID := newID()
		runID := s.x.e.queueRun(b, target, p, eventID, RunMeta{}, started, row.RunID, id)
		b.events = append(b.events, eventRow{ID: eventID, Name: p.ev.Name, Payload: p.payload, TS: p.ev.TS, ReceivedAt: started, RunIDs: runID})
		if err := b.flush(q); err != nil {
			return err
		}
		return q.Notify(notifyChannel)
	})
	s.x.e.signal()
	s.remember(row)
	s.park(id)
	return nil, nil
}

func (s *Step) resumeInvoke(id string, rec *stepRow, now time.Time) (json.RawMessage, error) {
	row := *rec
	if row.Status == StepWaiting && row.WakeAt != nil && *row.WakeAt <= ms(now) {
		s.x.commitStep(&row, func(q *store.Q) error {
			ended := ms(now)
			failed, err := q.FailStep(row.RunID, id, StepWaiting, "invoked function did not finish in time", ended)
			if err != nil {
				return err
			}
			if failed {
				if err := s.x.e.cancelChildren(context.Background(), q, row.RunID, id, "the invoking step timed out", ended); err != nil {
					return err
				}
			}
			stored, err := q.GetStep(row.RunID, id)
			if err != nil {
				return err
			}
			row = *stored
			return nil
		})
		s.remember(row)
	}
	switch row.Status {
	case StepCompleted:
		return json.RawMessage(deref(row.Output)), nil
	case StepFailed:
		return nil, NonRetriable(&StepError{StepID: id, Attempts: 1, Message: row.Error})
	}
	s.park(id)
	return nil, nil
}

// Parallel runs fns concurrently (each typically calls Step methods with distinct ids) and
// returns when all have returned or suspended. If any suspended, the run suspends after the
// others finish; otherwise the errors are joined.
func (s *Step) Parallel(ctx context.Context, fns ...func(ctx context.Context) error) error {
	errs := make([]error, len(fns))
	sigs := make([]any, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					switch r.(type) {
					case suspendSignal, abortSignal:
						sigs[i] = r
					default:
						errs[i] = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
					}
				}
			}()
			errs[i] = fn(ctx)
		}()
	}
	wg.Wait()
	for _, sig := range sigs {
		if a, ok := sig.(abortSignal); ok {
			panic(a)
		}
	}
	for _, sig := range sigs {
		if sig != nil {
			panic(sig)
		}
	}
	return errors.Join(errs...)
}

func deref(s *string) string {
	if s == nil {
		return "null"
	}
	return *s
}
