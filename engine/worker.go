package engine

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/inkflow/inkflow/engine/store"
)

// ShutdownGrace is how long Start waits, after its context ends, for runs in hand to finish
// before it cancels their contexts and hands them back.
const ShutdownGrace = 20 * time.Second

// claimBatch bounds how many runs one claim statement takes.
const claimBatch = 500

// Start runs workers, the cron scheduler and the wake-up listener until ctx is done, then
// stops claiming, lets runs in hand finish (up to ShutdownGrace) or releases them, and
// returns nil.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.heartbeat(ctx, true); err != nil {
		return err
	}
	var bg sync.WaitGroup
	bg.Add(5)
	// Heartbeats outlive the claim loop: runs in hand keep their leases until they finish.
	beatCtx, stopBeats := context.WithCancel(context.WithoutCancel(ctx))
	go func() { defer bg.Done(); e.listen(ctx) }()
	go func() { defer bg.Done(); e.heartbeats(beatCtx) }()
	go func() { defer bg.Done(); e.cronLoop(ctx) }()
	go func() { defer bg.Done(); e.checkLoop(ctx) }()
	go func() { defer bg.Done(); e.deadlineLoop(ctx) }()

	// The group commit outlives the executions: they need it to record how they ended.
	commitCtx, stopCommits := context.WithCancel(context.WithoutCancel(ctx))
	committers := 1
	if e.pg {
		committers = 2
	}
	var commitLoops sync.WaitGroup
	for range committers {
		commitLoops.Add(1)
		go func() { defer commitLoops.Done(); e.commits.loop(commitCtx) }()
	}
	defer func() { stopCommits(); commitLoops.Wait() }()

	execCtx, cancelExec := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelExec()
	var running sync.WaitGroup
	slots := make(chan struct{}, e.opts.Concurrency)
	freed := make(chan struct{}, 1)
	skipSmall := false
	for ctx.Err() == nil {
		free := cap(slots) - len(slots)
		claimed := 0
		var wake int64 // when a throttled key admits its next start
		held := false  // due runs wait for concurrency slots
		// Under load, slots free up one by one; claiming each alone would cost a statement per
		// run. Wait until a quarter of the slots are free unless something new arrived.
		if skipSmall && free < max(cap(slots)/4, 1) {
			free = 0
		}
		if free > 0 {
			runs, at, full, err := e.claim(ctx, min(free, claimBatch))
			wake, held = at, full
			if err != nil && ctx.Err() == nil {
				e.log.Warn("claim runs", "err", err)
			}
			claimed = len(runs)
			steps, err := e.loadSteps(ctx, runs)
			if err != nil {
				e.log.Warn("load steps of claimed runs", "err", err)
				e.releaseRuns(runs)
				runs, claimed = nil, 0 // wait for the next signal rather than spin
			}
			for _, r := range runs {
				if _, busy := e.inflight.Load(r.ID); busy {
					// Our own run, still executing here, whose lease lapsed while the database
					// was away: the claim renewed it; a second execution would repeat steps.
					continue
				}
				slots <- struct{}{}
				running.Add(1)
				go func() {
					defer func() {
						<-slots
						running.Done()
						select {
						case freed <- struct{}{}:
						default:
						}
					}()
					e.execute(execCtx, r, steps[r.ID])
				}()
			}
		}
		if claimed > 0 && claimed == min(free, claimBatch) {
			continue // there may be more due right now
		}
		wait := e.opts.Poll
		if free > 0 {
			if next, ok := e.nextDue(ctx); ok {
				if d := next.Sub(e.now()); d < wait {
					wait = max(d, time.Millisecond)
				}
			}
			if wake > 0 {
				if d := fromMS(wake).Sub(e.now()); d < wait {
					wait = max(d, time.Millisecond)
				}
			}
		}
		timer := time.NewTimer(wait)
		skipSmall = false
		select {
		case <-ctx.Done():
		case <-e.wake:
		case <-freed:
			skipSmall = len(slots) > 0
			if held {
				coalesce := time.NewTimer(slotCoalesce)
				select {
				case <-ctx.Done():
				case <-coalesce.C:
				}
				coalesce.Stop()
			}
		case <-timer.C:
		}
		timer.Stop()
	}

	done := make(chan struct{})
	go func() { running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(ShutdownGrace):
		cancelExec()
		<-done
	}
	stopBeats()
	e.releaseAll()
	bg.Wait()
	_ = e.st.Q(context.Background()).DeleteWorker(e.opts.WorkerID)
	return nil
}

// loadSteps reads the stored steps of claimed runs with one query, ordered for replay.
func (e *Engine) loadSteps(ctx context.Context, runs []runRow) (map[string][]stepRow, error) {
	out := make(map[string][]stepRow, len(runs))
	if len(runs) == 0 {
		return out, nil
	}
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	rows, err := e.st.Q(ctx).StepsOf(ids)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.RunID] = append(out[r.RunID], r)
	}
	return out, nil
}

// releaseRuns hands claimed runs back untouched.
func (e *Engine) releaseRuns(runs []runRow) {
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	if err := e.st.Q(context.Background()).ReleaseRuns(ids, e.opts.WorkerID); err != nil {
		e.log.Warn("release runs", "err", err)
	}
}

// nextDue is when the earliest sleeping, waiting or backing-off run becomes due.
func (e *Engine) nextDue(ctx context.Context) (time.Time, bool) {
	next, err := e.st.Q(ctx).NextDue(ms(e.now()))
	if err != nil || next == nil {
		return time.Time{}, false
	}
	return fromMS(*next), true
}

// heartbeats extends the leases of the runs in hand and records this worker as alive.
func (e *Engine) heartbeats(ctx context.Context) {
	t := time.NewTicker(e.opts.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.heartbeat(ctx, false); err != nil && ctx.Err() == nil {
				e.log.Warn("heartbeat", "err", err)
			}
		}
	}
}

func (e *Engine) heartbeat(ctx context.Context, first bool) error {
	if err := e.syncClock(ctx); err != nil {
		e.log.Warn("heartbeat", "err", err) // keep the last offset; the lease update matters more
	}
	now := ms(e.now())
	var ids []string
	e.inflight.Range(func(k, _ any) bool { ids = append(ids, k.(string)); return true })
	sort.Strings(ids) // lock rows in id order, as deliveries do
	// The registry is written when it changed (functions synced, say), not at every beat.
	var reg *string
	e.peers.mu.Lock()
	if s := e.registryJSON(); first || s != e.peers.written {
		reg = &s
	}
	e.peers.mu.Unlock()
	err := e.st.Tx(ctx, func(q *store.Q) error {
		if err := q.ExtendLeases(ids, e.opts.WorkerID, now+e.opts.Lease.Milliseconds()); err != nil {
			return err
		}
		return q.RecordWorker(e.opts.WorkerID, now, len(ids), e.opts.Concurrency, reg)
	})
	if err == nil {
		e.peers.mu.Lock()
		if reg != nil {
			e.peers.written = *reg
		}
		e.peers.mu.Unlock()
	}
	return err
}

// releaseAll hands back every run this worker still holds, due at once for another worker.
func (e *Engine) releaseAll() {
	if err := e.st.Q(context.Background()).ReleaseAll(e.opts.WorkerID); err != nil {
		e.log.Warn("release runs at shutdown", "err", err)
	}
}

// listen turns PostgreSQL notifications into wake-ups, reconnecting when the connection drops.
func (e *Engine) listen(ctx context.Context) {
	if !e.pg || e.opts.URL == "" {
		return
	}
	for ctx.Err() == nil {
		if err := e.st.Listen(ctx, e.opts.URL, notifyChannel, e.signal); err != nil && ctx.Err() == nil {
			e.log.Warn("listen for wake-ups", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}
