package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/inkflow/inkflow/engine/store"
)

// Claim-time flow control: concurrency (up to two keyed limits), throttle, priority and
// timeouts. What a claim needs is kept on each run's row when it is queued (runs of one
// function may carry different limits: each workflow's config), so any process can claim
// any run and the database is the only arbiter: a function's limited runs are counted and
// leased by one claimer at a time (LockFunction), never by per-process counters.

// Priority bounds, in seconds, as Inngest's: values outside are clamped.
const (
	minPriority = -600
	maxPriority = 600
)

// maxKeyBytes bounds a stored key value; longer values are stored as their SHA-256.
const maxKeyBytes = 256

// limitedBatch bounds the candidates one round of a limited claim reads: saturated keys are
// left out already, so the first few are the ones that can start.
const limitedBatch = 100

// slotCoalesce is how long the claim loop lets runs end, once one has, before it claims for
// runs waiting on concurrency slots: each claim then fills several freed slots at once
// instead of one (a claim of limited runs costs a handful of statements).
const slotCoalesce = 10 * time.Millisecond

// deadlineBatch bounds how many timed-out runs one sweep cancels.
const deadlineBatch = 100

// claimable is what this process can claim: its functions and what their handlers provide.
func (e *Engine) claimable(fns []*registered) store.Claimable {
	c := store.Claimable{Functions: make([]string, 0, len(fns))}
	seen := map[string]bool{}
	for _, r := range fns {
		c.Functions = append(c.Functions, r.fn.ID)
		if r.fn.Provides == nil {
			continue
		}
		for _, p := range r.fn.Provides() {
			if !seen[p] {
				seen[p] = true
				c.Provides = append(c.Provides, p)
			}
		}
	}
	sort.Strings(c.Provides)
	return c
}

// mayLimit reports whether runs of r can be under claim-time flow control: its own, or a
// Fanout's per-run flow.
func (r *registered) mayLimit() bool {
	return len(r.fn.Concurrency) > 0 || r.fn.Throttle != nil || r.fn.Fanout != nil
}

// claim leases up to n due runs to this worker: queued ones, sleeping or waiting ones whose
// time has come, and running ones whose worker stopped heartbeating; only runs of functions
// this process has, and within their limits. It also returns when a throttled key admits
// its next start (Unix ms, 0 when none waits), for the claim loop to look again then, and
// whether due runs were left waiting for a concurrency slot.
func (e *Engine) claim(ctx context.Context, n int) ([]runRow, int64, bool, error) {
	now := ms(e.now())
	lease := now + e.opts.Lease.Milliseconds()
	fns := e.all()
	c := e.claimable(fns)
	var limited []string
	for _, r := range fns {
		if r.mayLimit() {
			limited = append(limited, r.fn.ID)
		}
	}
	var runs []runRow
	var wake int64
	var held bool
	err := e.st.Tx(ctx, func(q *store.Q) error {
		runs, wake, held = nil, 0, false
		var err error
		if runs, err = q.ClaimDue(n, now, lease, e.opts.WorkerID, c); err != nil {
			return err
		}
		for _, id := range limited {
			if len(runs) >= n {
				break
			}
			more, at, full, err := e.claimLimited(q, id, c, n-len(runs), now, lease)
			if err != nil {
				return err
			}
			wake, held = earliest(wake, at), held || full
			runs = append(runs, more...)
		}
		return nil
	})
	return runs, wake, held, err
}

func earliest(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// claimLimited claims due runs of function fn that are under flow control, within their
// concurrency limits (each key of each limit must have room) and throttles (a throttled
// key's runs start in order, at most limit+burst per period). It returns when a throttled
// key admits its next start, and whether runs were left waiting for a concurrency slot.
func (e *Engine) claimLimited(q *store.Q, fn string, c store.Claimable, n int, now, lease int64) ([]runRow, int64, bool, error) {
	if ok, err := q.HasLimitedDue(fn, now, c); err != nil || !ok {
		return nil, 0, false, err
	}
	if err := q.LockFunction(fn); err != nil {
		return nil, 0, false, err
	}
	busy, err := q.BusyKeys(fn, now)
	if err != nil {
		return nil, 0, false, err
	}
	used1, used2 := map[string]int{}, map[string]int{}
	lim1, lim2 := map[string]int{}, map[string]int{}
	for _, b := range busy {
		if b.ConcurrencyLimit > 0 {
			used1[b.ConcurrencyKey] += b.N
			lim1[b.ConcurrencyKey] = max(lim1[b.ConcurrencyKey], b.ConcurrencyLimit)
		}
		if b.ConcurrencyLimit2 > 0 {
			used2[b.ConcurrencyKey2] += b.N
			lim2[b.ConcurrencyKey2] = max(lim2[b.ConcurrencyKey2], b.ConcurrencyLimit2)
		}
	}
	var full store.Full
	inFull := map[string]bool{}
	addFull := func(list *[]string, kind, key string) {
		if !inFull[kind+"\x00"+key] {
			inFull[kind+"\x00"+key] = true
			*list = append(*list, key)
		}
	}
	for k, u := range used1 {
		if u >= lim1[k] {
			addFull(&full.Concurrency, "c1", k)
		}
	}
	for k, u := range used2 {
		if u >= lim2[k] {
			addFull(&full.Concurrency2, "c2", k)
		}
	}
	starts := map[string]*store.Starts{}
	chosen := map[string]bool{}
	var ids []string
	var wake int64
	var throttled []runRow // held back by their throttle: noted on their events
	// held: runs were left for want of a slot (keys found full before the candidates were
	// read count too, when such runs are due).
	held := len(full.Concurrency)+len(full.Concurrency2) > 0
	// A batch of candidates all of saturated keys would hide the idle keys behind them: look
	// again, leaving out the keys found full, a few times at most.
	for round := 0; round < 3 && len(ids) < n; round++ {
		cands, err := q.DueLimited(fn, now, c, full, limitedBatch)
		if err != nil {
			return nil, 0, false, err
		}
		if err := countStarts(q, fn, cands, starts, now); err != nil {
			return nil, 0, false, err
		}
		skipped := false
		for _, cd := range cands {
			if len(ids) >= n {
				break
			}
			if chosen[cd.ID] {
				continue
			}
			if cd.ConcurrencyLimit > 0 && used1[cd.ConcurrencyKey] >= cd.ConcurrencyLimit {
				addFull(&full.Concurrency, "c1", cd.ConcurrencyKey)
				skipped, held = true, true
				continue
			}
			if cd.ConcurrencyLimit2 > 0 && used2[cd.ConcurrencyKey2] >= cd.ConcurrencyLimit2 {
				addFull(&full.Concurrency2, "c2", cd.ConcurrencyKey2)
				skipped, held = true, true
				continue
			}
			if cd.ThrottleLimit > 0 && cd.StartedAt == nil {
				s := starts[cd.ThrottleKey]
				if s.N >= cd.ThrottleLimit {
					// The window admits another start when its first start leaves it.
					wake = earliest(wake, s.First+cd.ThrottlePeriod)
					addFull(&full.Throttle, "t", cd.ThrottleKey)
					skipped = true
					if len(throttled) < maxThrottleNotes {
						throttled = append(throttled, cd)
					}
					continue
				}
				if s.N == 0 {
					s.First = now
				}
				s.N++
			}
			if cd.ConcurrencyLimit > 0 {
				used1[cd.ConcurrencyKey]++
			}
			if cd.ConcurrencyLimit2 > 0 {
				used2[cd.ConcurrencyKey2]++
			}
			chosen[cd.ID] = true
			ids = append(ids, cd.ID)
		}
		if !skipped || len(cands) < limitedBatch {
			break
		}
	}
	if err := e.noteThrottled(q, throttled, now); err != nil {
		return nil, 0, false, err
	}
	if len(ids) == 0 {
		return nil, wake, held, nil
	}
	runs, err := q.LeaseRuns(ids, now, lease, e.opts.WorkerID)
	return runs, wake, held, err
}

// maxThrottleNotes bounds how many held-back runs one claim pass notes on their events.
const maxThrottleNotes = 64

// noteThrottled records on each run's event that its start was delayed by its throttle
// (DESIGN: every delayed start is shown on the event). A run is held back by many claim
// passes, of many processes: the decision's id is the run's, so it is stored once, and the
// engine remembers the last runs it noted to spare the statement.
func (e *Engine) noteThrottled(q *store.Q, runs []runRow, now int64) error {
	var rows []store.Decision
	e.throttleMu.Lock()
	for _, r := range runs {
		if _, done := e.throttleNoted[r.ID]; done {
			continue
		}
		rows = append(rows, store.Decision{ID: "throttle:" + r.ID, EventID: r.EventID, FunctionID: r.FunctionID,
			WorkflowID: r.WorkflowID, Action: ActionDelayed, Reason: ReasonThrottle, KeyValue: r.ThrottleKey, RunID: r.ID, CreatedAt: now})
	}
	e.throttleMu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	if err := q.NoteDecisions(rows); err != nil {
		return err
	}
	e.throttleMu.Lock()
	if len(e.throttleNoted) > 10_000 {
		e.throttleNoted = map[string]struct{}{} // a bound, not a cache to keep: forgetting costs one no-op insert
	}
	for _, d := range rows {
		e.throttleNoted[d.RunID] = struct{}{}
	}
	e.throttleMu.Unlock()
	return nil
}

// countStarts fills starts with the throttle windows of the candidates' keys not counted yet:
// how many runs of each key started within its period before now.
func countStarts(q *store.Q, fn string, cands []runRow, starts map[string]*store.Starts, now int64) error {
	byPeriod := map[int64][]string{}
	for _, cd := range cands {
		if cd.ThrottleLimit == 0 || cd.StartedAt != nil {
			continue
		}
		if _, ok := starts[cd.ThrottleKey]; !ok {
			starts[cd.ThrottleKey] = &store.Starts{ThrottleKey: cd.ThrottleKey}
			byPeriod[cd.ThrottlePeriod] = append(byPeriod[cd.ThrottlePeriod], cd.ThrottleKey)
		}
	}
	for period, keys := range byPeriod {
		rows, err := q.ThrottleStarts(fn, keys, now-period)
		if err != nil {
			return err
		}
		for _, r := range rows {
			s := starts[r.ThrottleKey]
			s.N, s.First = r.N, r.First
		}
	}
	return nil
}

// applyClaimFlow sets a new run's claim-time flow control from the flow that applies to it
// (the function's, or its Fanout's RunMeta.Flow) evaluated over its event p: concurrency
// keys and limits, throttle, priority (due earlier or later), timeouts and needs. Keys of a
// run with its own flow are scoped to its workflow, so two workflows never share a limit.
func (e *Engine) applyClaimFlow(row *runRow, b *batch, r *registered, p preparedEvent, meta RunMeta, now int64) {
	f, scope := &r.fn.Flow, ""
	if meta.Flow != nil {
		f = meta.Flow
		if meta.WorkflowID != 0 {
			scope = fmt.Sprintf("wf%d:", meta.WorkflowID)
		}
	}
	key := func(src string) string {
		if src == "" {
			return scope
		}
		v, err := e.exprs.eval(src, p.m, nil)
		if err != nil {
			return scope // a key the event cannot give is the empty value: still limited, with its peers
		}
		return scope + boundedKey(fmt.Sprint(v))
	}
	for i, c := range f.Concurrency {
		if i > 1 || c.Limit <= 0 {
			continue
		}
		k, keyed := key(c.Key), c.Key != ""
		if i == 0 && meta.ConcurrencyKey != "" {
			k, keyed = boundedKey(meta.ConcurrencyKey), true
		}
		if c.KeyedOnly && !keyed {
			continue // runs without a key are not limited
		}
		if i == 0 {
			row.ConcurrencyKey, row.ConcurrencyLimit = k, c.Limit
		} else {
			row.ConcurrencyKey2, row.ConcurrencyLimit2 = k, c.Limit
		}
	}
	if t := f.Throttle; t != nil && t.Limit > 0 && t.Period > 0 {
		row.ThrottleKey, row.ThrottleLimit, row.ThrottlePeriod = key(t.Key), t.Limit+max(t.Burst, 0), t.Period.Milliseconds()
	}
	if row.ConcurrencyLimit > 0 || row.ConcurrencyLimit2 > 0 || row.ThrottleLimit > 0 {
		row.Limited = 1
	}
	if pr := f.Priority; pr != nil && pr.Run != "" {
		if v, err := e.exprs.eval(pr.Run, p.m, nil); err == nil {
			// Claimed as if queued p seconds earlier; a negative p waits that long (as Inngest).
			row.DueAt -= priorityOf(v) * 1000
		}
	}
	if t := f.Timeouts; t != nil {
		if t.Start > 0 {
			d := now + t.Start.Milliseconds()
			row.DeadlineAt = &d
		}
		row.TimeoutFinish = t.Finish.Milliseconds()
	}
	if len(meta.Needs) > 0 {
		row.Needs = b.need(meta.Needs)
	}
}

// priorityOf is a priority expression's value in whole seconds, clamped to -600..600 (a value
// that is not a number is 0).
func priorityOf(v any) int64 {
	var f float64
	switch t := v.(type) {
	case int64:
		f = float64(t)
	case uint64:
		f = float64(t)
	case float64:
		f = t
	case int:
		f = float64(t)
	default:
		return 0
	}
	if math.IsNaN(f) {
		return 0
	}
	return int64(math.Max(minPriority, math.Min(maxPriority, math.Trunc(f))))
}

// boundedKey keeps a key value storable and indexable: long values become their SHA-256.
func boundedKey(v string) string {
	if len(v) <= maxKeyBytes && checkText("key", v) == nil {
		return v
	}
	sum := sha256.Sum256([]byte(v))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// needsHash names a set of needs: the same set, in any order, has the same name.
func needsHash(items []string) (string, []string) {
	sorted := append([]string(nil), items...)
	sort.Strings(sorted)
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(out, "\x00")))
	return "n" + hex.EncodeToString(sum[:12]), out
}

// need records that the batch's runs need items and returns the set's name.
func (b *batch) need(items []string) string {
	h, set := needsHash(items)
	if b.needs == nil {
		b.needs = map[string][]string{}
	}
	b.needs[h] = set
	return h
}

// flushNeeds stores the needs sets of the batch not known to be stored already.
func (e *Engine) flushNeeds(q *store.Q, needs map[string][]string) error {
	for h, items := range needs {
		if _, ok := e.storedNeeds.Load(h); ok {
			continue
		}
		// Remembered only once seen committed: a rolled-back send must not leave a set unstored.
		ok, err := q.HasNeeds(h)
		if err != nil {
			return err
		}
		if ok {
			e.storedNeeds.Store(h, true)
			continue
		}
		if err := q.RecordNeeds(h, items); err != nil {
			return err
		}
	}
	return nil
}

// deadlineLoop cancels runs whose start or finish timeout has passed until ctx ends.
func (e *Engine) deadlineLoop(ctx context.Context) {
	t := time.NewTicker(e.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for ctx.Err() == nil {
			n, err := e.sweepDeadlines(ctx)
			if err != nil && ctx.Err() == nil {
				e.log.Warn("cancel timed-out runs", "err", err)
			}
			if err != nil || n < deadlineBatch {
				break
			}
		}
	}
}

// sweepDeadlines cancels up to deadlineBatch live runs past their deadline, each with the
// timeout that ended it as its reason, and returns how many it looked at.
func (e *Engine) sweepDeadlines(ctx context.Context) (int, error) {
	now := ms(e.now())
	ids, err := e.st.Q(ctx).PastDeadline(now, deadlineBatch)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	cancelled := 0
	err = e.st.Tx(ctx, func(q *store.Q) error {
		cancelled = 0
		if err := q.LockRuns(ids); err != nil {
			return err
		}
		for _, id := range ids {
			run, err := q.GetRun(id)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if Status(run.Status).Finished() || run.DeadlineAt == nil || *run.DeadlineAt > now {
				continue // finished, started or moved on since
			}
			ok, err := e.cancelRun(ctx, q, id, timeoutReason(run), now)
			if err != nil {
				return err
			}
			if ok {
				cancelled++
			}
		}
		if cancelled > 0 {
			return q.Notify(notifyChannel)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if cancelled > 0 {
		e.signal()
	}
	return len(ids), nil
}

// timeoutReason says which timeout cancelled run.
func timeoutReason(run *runRow) string {
	if run.StartedAt == nil {
		d := time.Duration(*run.DeadlineAt-run.CreatedAt) * time.Millisecond
		return fmt.Sprintf("cancelled by timeouts.start: not started within %s of being queued", d)
	}
	d := time.Duration(run.TimeoutFinish) * time.Millisecond
	return fmt.Sprintf("cancelled by timeouts.finish: not finished within %s of starting", d)
}
