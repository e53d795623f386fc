package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/inkflow/inkflow/engine/store"
)

// cronLoop fires cron triggers at their ticks until ctx is done.
func (e *Engine) cronLoop(ctx context.Context) {
	for ctx.Err() == nil {
		next, err := e.RunCron(ctx)
		if err != nil && ctx.Err() == nil {
			e.log.Warn("cron", "err", err)
			next = e.now().Add(5 * time.Second)
		}
		if next.IsZero() {
			// No cron triggers yet: wait until functions change (dynamic.go).
			select {
			case <-ctx.Done():
			case <-e.cronKicks():
			}
			continue
		}
		timer := time.NewTimer(max(next.Sub(e.now()), 10*time.Millisecond))
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-e.cronKicks(): // a new schedule may be due sooner
		}
		timer.Stop()
	}
}

// RunCron fires every tick of every cron trigger that is due at the engine's clock and has not
// fired yet (each tick fires once however many instances run, recorded in cron_ticks), and
// returns when the next tick is due (zero without cron triggers). After a restart, ticks
// missed within Options.CronCatchUp fire once each; a schedule seen for the first time
// starts from now. Start calls it; tests call it with an injected clock.
func (e *Engine) RunCron(ctx context.Context) (time.Time, error) {
	now := e.now()
	var next time.Time
	for _, r := range e.all() {
		for _, c := range r.crons {
			if err := e.fireDue(ctx, r, c, now); err != nil {
				return time.Time{}, err
			}
			if n := c.schedule.Next(now); next.IsZero() || n.Before(next) {
				next = n
			}
		}
	}
	return next, nil
}

func (e *Engine) fireDue(ctx context.Context, r *registered, c cronSchedule, now time.Time) error {
	last, err := e.st.Q(ctx).LastCronTick(c.key)
	if err != nil {
		return err
	}
	if last == nil && c.legacyKey != "" {
		if last, err = e.st.Q(ctx).LastCronTick(c.legacyKey); err != nil {
			return err
		}
		if last != nil {
			if _, err := e.st.Q(ctx).RecordCronTick(c.key, *last); err != nil {
				return err
			}
		}
	}
	if last == nil {
		// First sight: remember it so a restart can tell missed ticks from new schedules.
		_, err := e.st.Q(ctx).RecordCronTick(c.key, ms(now))
		return err
	}
	from := fromMS(*last)
	if floor := now.Add(-e.opts.CronCatchUp); from.Before(floor) {
		from = floor
	}
	for t, n := c.schedule.Next(from), 0; !t.After(now) && n < 100; t, n = c.schedule.Next(t), n+1 {
		if err := e.fire(ctx, r, c, t); err != nil {
			return err
		}
	}
	return nil
}

// fire starts the run of one tick, unless another instance already did.
func (e *Engine) fire(ctx context.Context, r *registered, c cronSchedule, tick time.Time) error {
	now := ms(e.now())
	err := e.st.Tx(ctx, func(q *store.Q) error {
		if fresh, err := q.RecordCronTick(c.key, ms(tick)); err != nil || !fresh {
			return err
		}
		p, err := prepare(Event{Name: EventCron, Data: map[string]any{
			"cron": c.spec, "function_id": r.fn.ID, "tick": tick.UTC().Format(time.RFC3339),
		}}, now)
		if err != nil {
			return err
		}
		b := &batch{e: e}
		eventID := newID()
		runs := []string{}
		metas := []RunMeta{{}}
		if r.fn.Fanout != nil {
			if metas, err = r.fn.Fanout(ctx, q.Conn(), p.ev); err != nil {
				return err
			}
		}
		if len(metas) == 0 {
			return nil // nothing to run this tick: the tick is recorded, no event is stored
		}
		for _, m := range metas {
			runs = append(runs, e.queueRun(b, r, p, eventID, m, now, "", ""))
		}
		b.events = append(b.events, eventRow{ID: eventID, Name: p.ev.Name, Payload: p.payload, TS: p.ev.TS, ReceivedAt: now, RunIDs: joinIDs(runs)})
		if err := b.flush(q); err != nil {
			return err
		}
		if err := q.SetCronTickRuns(c.key, ms(tick), joinIDs(runs)); err != nil {
			return err
		}
		return q.Notify(notifyChannel)
	})
	if err != nil {
		return fmt.Errorf("cron %s tick %s: %w", c.key, tick.Format(time.RFC3339), err)
	}
	e.signal()
	return nil
}
