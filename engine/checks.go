package engine

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/inkflow/inkflow/engine/store"
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

// queueWaitChecks records, in the sender's transaction, the events of names that waits
// without a match value are waiting for, and returns how many it queued.
func (e *Engine) queueWaitChecks(q *store.Q, names []string, events []storedEvent) (int, error) {
	live := map[string]bool{}
	for _, n := range names {
		var err error
		if live[n], err = q.HasUnmatchedWaits(n); err != nil {
			return 0, err
		}
	}
	var rows []store.WaitCheck
	for _, ev := range events {
		if live[ev.ev.Name] {
			rows = append(rows, store.WaitCheck{EventID: ev.id, EventName: ev.ev.Name})
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	seq, err := q.NextWaitSeq()
	if err != nil {
		return 0, err
	}
	for i := range rows {
		rows[i].Seq = seq
	}
	if err := q.QueueWaitChecks(rows); err != nil {
		return 0, err
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
	var checks []store.WaitCheck
	err := e.st.Tx(ctx, func(q *store.Q) error {
		var err error
		checks, err = q.ClaimWaitChecks(now, now+e.opts.Lease.Milliseconds(), checkBatchEvents)
		return err
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
	stored, err := e.st.Q(ctx).EventsByID(ids)
	if err != nil {
		return 0, err
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
			ws, err := e.st.Q(ctx).UnmatchedWaits(name, maxSeq, after, checkBatchWaits)
			if err != nil {
				return 0, err
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
	err = e.st.Tx(ctx, func(q *store.Q) error {
		woke = 0
		runIDs := make([]string, 0, len(todo))
		for _, d := range todo {
			runIDs = append(runIDs, d.w.RunID)
		}
		for _, ig := range ignored {
			runIDs = append(runIDs, ig.w.RunID)
		}
		if err := q.LockRuns(runIDs); err != nil {
			return err
		}
		if err := e.noteIgnored(q, ignored); err != nil {
			return err
		}
		sort.SliceStable(todo, func(i, j int) bool { return todo[i].w.CreatedAt < todo[j].w.CreatedAt })
		now := ms(e.now())
		var resumed []store.Resume
		for _, d := range todo {
			ok, err := e.deliver(ctx, q, d.w, d.ev, now)
			if err != nil {
				return err
			}
			if ok {
				woke++
				if d.w.Kind == waitEvent {
					resumed = append(resumed, store.Resume{EventID: d.ev.id, RunID: d.w.RunID, StepID: d.w.StepID, CreatedAt: now})
				}
			}
		}
		if err := q.RecordResumes(resumed); err != nil {
			return err
		}
		if err := q.DeleteWaitChecks(ids); err != nil {
			return err
		}
		if woke > 0 {
			return q.Notify(notifyChannel)
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
