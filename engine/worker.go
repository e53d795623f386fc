package engine

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
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
	bg.Add(4)
	// Heartbeats outlive the claim loop: runs in hand keep their leases until they finish.
	beatCtx, stopBeats := context.WithCancel(context.WithoutCancel(ctx))
	go func() { defer bg.Done(); e.listen(ctx) }()
	go func() { defer bg.Done(); e.heartbeats(beatCtx) }()
	go func() { defer bg.Done(); e.cronLoop(ctx) }()
	go func() { defer bg.Done(); e.checkLoop(ctx) }()

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
		// Under load, slots free up one by one; claiming each alone would cost a statement per
		// run. Wait until a quarter of the slots are free unless something new arrived.
		if skipSmall && free < max(cap(slots)/4, 1) {
			free = 0
		}
		if free > 0 {
			runs, err := e.claim(ctx, min(free, claimBatch))
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
		}
		timer := time.NewTimer(wait)
		skipSmall = false
		select {
		case <-ctx.Done():
		case <-e.wake:
		case <-freed:
			skipSmall = len(slots) > 0
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
	_ = e.db.Exec(`DELETE FROM workers WHERE id = ?`, e.opts.WorkerID).Error
	return nil
}

// claim leases up to n due runs to this worker: queued ones, sleeping or waiting ones whose
// time has come, and running ones whose worker stopped heartbeating.
func (e *Engine) claim(ctx context.Context, n int) ([]runRow, error) {
	now := ms(e.now())
	lease := now + e.opts.Lease.Milliseconds()
	var limited []string
	for _, r := range e.all() {
		if r.fn.Concurrency != nil {
			limited = append(limited, r.fn.ID)
		}
	}
	var runs []runRow
	err := e.tx(ctx, func(tx *gorm.DB) error {
		pick := tx.Table("runs").Select("id").
			Where("status IN ('queued', 'running', 'sleeping', 'waiting') AND due_at <= ? AND lease_until < ?", now, now).
			Order("due_at").Limit(n)
		if len(limited) > 0 {
			pick = pick.Where("function_id NOT IN ?", limited)
		}
		if e.pg {
			pick = pick.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		if err := e.lease(tx, pick, now, lease, &runs); err != nil {
			return err
		}
		for _, id := range limited {
			if len(runs) >= n {
				break
			}
			more, err := e.claimLimited(tx, e.function(id), n-len(runs), now, lease)
			if err != nil {
				return err
			}
			runs = append(runs, more...)
		}
		return nil
	})
	return runs, err
}

// lease marks the runs that pick selects as this worker's and returns them.
func (e *Engine) lease(tx *gorm.DB, pick *gorm.DB, now, lease int64, out *[]runRow) error {
	return tx.Raw(`UPDATE runs SET status = 'running', lease_owner = ?, lease_until = ?, updated_at = ?,
		started_at = COALESCE(started_at, ?) WHERE id IN (?) RETURNING *`,
		e.opts.WorkerID, lease, now, now, pick).Scan(out).Error
}

// claimLimited claims runs of a function with a concurrency limit, per concurrency key.
func (e *Engine) claimLimited(tx *gorm.DB, r *registered, n int, now, lease int64) ([]runRow, error) {
	if r == nil {
		return nil, nil
	}
	if e.pg {
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(?))`, "inkflow-concurrency:"+r.fn.ID).Error; err != nil {
			return nil, err
		}
	}
	var busy []struct {
		ConcurrencyKey string
		N              int
	}
	if err := tx.Raw(`SELECT concurrency_key, COUNT(*) AS n FROM runs WHERE function_id = ? AND status = 'running' AND lease_until >= ?
		GROUP BY concurrency_key`, r.fn.ID, now).Scan(&busy).Error; err != nil {
		return nil, err
	}
	inUse := map[string]int{}
	for _, b := range busy {
		inUse[b.ConcurrencyKey] = b.N
	}
	var full []string
	keyedOnly := r.fn.Concurrency.KeyedOnly
	for k, n := range inUse {
		if n >= r.fn.Concurrency.Limit && !(keyedOnly && k == "") {
			full = append(full, k)
		}
	}
	q := tx.Select("id, concurrency_key").Where(`function_id = ? AND status IN ('queued', 'running', 'sleeping', 'waiting')
		AND due_at <= ? AND lease_until < ?`, r.fn.ID, now, now)
	if len(full) > 0 {
		q = q.Where("concurrency_key NOT IN ?", full) // saturated keys must not crowd out idle ones
	}
	if e.pg {
		q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
	}
	var cands []runRow
	if err := q.Order("due_at").Limit(claimBatch).Find(&cands).Error; err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range cands {
		unlimited := keyedOnly && c.ConcurrencyKey == ""
		if len(ids) >= n || (!unlimited && inUse[c.ConcurrencyKey] >= r.fn.Concurrency.Limit) {
			continue
		}
		inUse[c.ConcurrencyKey]++
		ids = append(ids, c.ID)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var runs []runRow
	err := tx.Raw(`UPDATE runs SET status = 'running', lease_owner = ?, lease_until = ?, updated_at = ?,
		started_at = COALESCE(started_at, ?) WHERE id IN ? AND status IN ('queued', 'running', 'sleeping', 'waiting')
		AND due_at <= ? AND lease_until < ? RETURNING *`, e.opts.WorkerID, lease, now, now, ids, now, now).Scan(&runs).Error
	return runs, err
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
	var rows []stepRow
	if err := e.db.WithContext(ctx).Where("run_id IN ?", ids).Order("run_id, seq").Find(&rows).Error; err != nil {
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
	if err := e.db.Exec(`UPDATE runs SET lease_owner = '', lease_until = 0 WHERE id IN ? AND lease_owner = ?`, ids, e.opts.WorkerID).Error; err != nil {
		e.log.Warn("release runs", "err", err)
	}
}

// nextDue is when the earliest sleeping, waiting or backing-off run becomes due.
func (e *Engine) nextDue(ctx context.Context) (time.Time, bool) {
	var next *int64
	err := e.db.WithContext(ctx).Raw(`SELECT MIN(due_at) FROM runs WHERE status IN ('queued', 'sleeping', 'waiting') AND due_at > ?`,
		ms(e.now())).Scan(&next).Error
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
	return e.tx(ctx, func(tx *gorm.DB) error {
		if len(ids) > 0 {
			res := tx.Exec(`UPDATE runs SET lease_until = ? WHERE id IN ? AND lease_owner = ? AND status = 'running'`,
				now+e.opts.Lease.Milliseconds(), ids, e.opts.WorkerID)
			if res.Error != nil {
				return fmt.Errorf("extend leases: %w", res.Error)
			}
		}
		err := tx.Exec(`INSERT INTO workers (id, started_at, heartbeat_at, running, capacity) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, running = excluded.running`,
			e.opts.WorkerID, now, now, len(ids), e.opts.Concurrency).Error
		if err != nil {
			return fmt.Errorf("record worker: %w", err)
		}
		return nil
	})
}

// releaseAll hands back every run this worker still holds, due at once for another worker.
func (e *Engine) releaseAll() {
	err := e.db.Exec(`UPDATE runs SET lease_owner = '', lease_until = 0 WHERE lease_owner = ? AND status = 'running'`,
		e.opts.WorkerID).Error
	if err != nil {
		e.log.Warn("release runs at shutdown", "err", err)
	}
}

// listen turns PostgreSQL notifications into wake-ups, reconnecting when the connection drops.
func (e *Engine) listen(ctx context.Context) {
	if !e.pg || e.opts.URL == "" {
		return
	}
	for ctx.Err() == nil {
		if err := e.listenOnce(ctx); err != nil && ctx.Err() == nil {
			e.log.Warn("listen for wake-ups", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (e *Engine) listenOnce(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, e.opts.URL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	e.signal() // anything sent while we were not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		e.signal()
	}
}
