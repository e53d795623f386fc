package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Waits without a match value (an `if` condition over the event, or any event of a name) can
// be many for one name, and each event must be tried against each of them. That work is
// done here, after the sender's transaction and outside any lock, in batches of
// checkBatchEvents events and checkBatchWaits waits at a time (each condition under the CEL
// cost limit), instead of inside the send: senders and unrelated requests never wait on it.
const (
	checkBatchEvents = 50
	checkBatchWaits  = 200
)

// waitCheckRow is an event still to check against the waits without a match value.
type waitCheckRow struct {
	EventID    string `gorm:"primaryKey"`
	EventName  string
	Seq        int64
	LeaseUntil int64
}

func (waitCheckRow) TableName() string { return "wait_checks" }

// nextWaitSeq returns the next number of the order between sends and wait registrations.
// Callers hold the event-name lock (shared for a send, exclusive for a wait), which is what
// makes the numbers order the two.
func (e *Engine) nextWaitSeq(tx *gorm.DB) (int64, error) {
	var n int64
	sql := `UPDATE wait_seq SET n = n + 1 RETURNING n`
	if e.pg {
		sql = `SELECT nextval('wait_seq')`
	}
	if err := tx.Raw(sql).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("number wait order: %w", err)
	}
	return n, nil
}

// queueWaitChecks records, in the sender's transaction, the events of names that waits
// without a match value are waiting for, and returns how many it queued.
func (e *Engine) queueWaitChecks(tx *gorm.DB, names []string, events []storedEvent) (int, error) {
	live := map[string]bool{}
	for _, n := range names {
		var found []int
		if err := tx.Raw(`SELECT 1 FROM waits WHERE event_name = ? AND match_hash = '' LIMIT 1`, n).Scan(&found).Error; err != nil {
			return 0, fmt.Errorf("find waits for %s: %w", n, err)
		}
		live[n] = len(found) > 0
	}
	var rows []waitCheckRow
	for _, ev := range events {
		if live[ev.ev.Name] {
			rows = append(rows, waitCheckRow{EventID: ev.id, EventName: ev.ev.Name})
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	seq, err := e.nextWaitSeq(tx)
	if err != nil {
		return 0, err
	}
	for i := range rows {
		rows[i].Seq = seq
	}
	if err := tx.CreateInBatches(rows, 500).Error; err != nil {
		return 0, fmt.Errorf("queue wait checks: %w", err)
	}
	return len(rows), nil
}

// checkLoop checks queued events against the waits without a match value until ctx ends.
func (e *Engine) checkLoop(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := e.checkWaits(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("check waits", "err", err)
		}
		if n == checkBatchEvents && err == nil {
			continue // more may be queued
		}
		timer := time.NewTimer(e.opts.Poll)
		select {
		case <-ctx.Done():
		case <-e.checkWake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// checkWaits takes up to checkBatchEvents queued events, evaluates the waits without a match
// value against them outside any transaction, and delivers what matched in one transaction
// that also removes the checks. A wait sees only events sent after it was stored (a lower
// seq); the ones sent before, it found itself by looking back. It returns how many events it
// took.
func (e *Engine) checkWaits(ctx context.Context) (int, error) {
	now := ms(e.now())
	var checks []waitCheckRow
	err := e.tx(ctx, func(tx *gorm.DB) error {
		pick := tx.Table("wait_checks").Select("event_id").Where("lease_until < ?", now).Order("seq, event_id").Limit(checkBatchEvents)
		if e.pg {
			pick = pick.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		return tx.Raw(`UPDATE wait_checks SET lease_until = ? WHERE event_id IN (?) RETURNING *`,
			now+e.opts.Lease.Milliseconds(), pick).Scan(&checks).Error
	})
	if err != nil || len(checks) == 0 {
		return 0, err
	}
	sort.Slice(checks, func(i, j int) bool {
		if checks[i].Seq != checks[j].Seq {
			return checks[i].Seq < checks[j].Seq
		}
		return checks[i].EventID < checks[j].EventID
	})
	ids := make([]string, len(checks))
	for i, c := range checks {
		ids[i] = c.EventID
	}
	var stored []eventRow
	if err := e.db.WithContext(ctx).Where("id IN ?", ids).Find(&stored).Error; err != nil {
		return 0, fmt.Errorf("load checked events: %w", err)
	}
	byID := map[string]storedEvent{}
	for _, r := range stored {
		var ev Event
		if json.Unmarshal([]byte(r.Payload), &ev) != nil {
			continue
		}
		byID[r.ID] = storedEvent{preparedEvent{ev: ev, payload: r.Payload, m: eventMap(ev)}, r.ID}
	}
	type candidate struct {
		seq int64
		ev  storedEvent
	}
	perName := map[string][]candidate{}
	var names []string
	for _, c := range checks {
		ev, ok := byID[c.EventID]
		if !ok {
			continue // deleted since (retention): nothing to deliver
		}
		if perName[c.EventName] == nil {
			names = append(names, c.EventName)
		}
		perName[c.EventName] = append(perName[c.EventName], candidate{c.Seq, ev})
	}
	type delivery struct {
		w  waitRow
		ev storedEvent
	}
	var todo []delivery
	var ignored []ignoredEvent
	for _, name := range names {
		cands := perName[name]
		maxSeq := cands[len(cands)-1].seq
		after := ""
		for {
			var ws []waitRow
			err := e.db.WithContext(ctx).Where("event_name = ? AND match_hash = '' AND seq < ? AND id > ?", name, maxSeq, after).
				Order("id").Limit(checkBatchWaits).Find(&ws).Error
			if err != nil {
				return 0, fmt.Errorf("find waits for %s: %w", name, err)
			}
			for _, w := range ws {
				var trig map[string]any
				if w.IfExpr != "" {
					_ = json.Unmarshal([]byte(w.Trigger), &trig)
				}
				for _, c := range cands { // in the order they were sent: the first that holds wins
					if c.seq <= w.Seq {
						continue
					}
					ok := w.IfExpr == ""
					if !ok {
						var err error
						if ok, err = e.exprs.holds(w.IfExpr, trig, c.ev.m); err != nil {
							ignored = append(ignored, ignoredEvent{w, c.ev, err})
						}
					}
					if ok {
						todo = append(todo, delivery{w, c.ev})
						break
					}
				}
			}
			if len(ws) < checkBatchWaits {
				break
			}
			after = ws[len(ws)-1].ID
		}
	}
	woke := 0
	err = e.tx(ctx, func(tx *gorm.DB) error {
		woke = 0
		runIDs := map[string]bool{}
		for _, d := range todo {
			runIDs[d.w.RunID] = true
		}
		for _, ig := range ignored {
			runIDs[ig.w.RunID] = true
		}
		if err := e.lockRuns(tx, runIDs); err != nil {
			return err
		}
		if err := e.noteIgnored(tx, ignored); err != nil {
			return err
		}
		sort.SliceStable(todo, func(i, j int) bool { return todo[i].w.CreatedAt < todo[j].w.CreatedAt })
		now := ms(e.now())
		var resumed []resumeRow
		for _, d := range todo {
			ok, err := e.deliver(ctx, tx, d.w, d.ev, now)
			if err != nil {
				return err
			}
			if ok {
				woke++
				if d.w.Kind == waitEvent {
					resumed = append(resumed, resumeRow{EventID: d.ev.id, RunID: d.w.RunID, StepID: d.w.StepID, CreatedAt: now})
				}
			}
		}
		if err := recordResumes(tx, resumed); err != nil {
			return err
		}
		if err := tx.Exec(`DELETE FROM wait_checks WHERE event_id IN ?`, ids).Error; err != nil {
			return fmt.Errorf("remove wait checks: %w", err)
		}
		if woke > 0 {
			return e.notify(tx)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if woke > 0 {
		e.signal()
	}
	return len(checks), nil
}
