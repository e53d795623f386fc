package engine

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/inkflow/inkflow/engine/store"
)

// Housekeeping: what the retention functions (ops/) and the reports read and delete, so that
// no package outside the engine touches its tables.

// RowKey is a position in a retention walk: finished runs are walked in (ended_at, id) order
// (At is ended_at in Unix ms), events in id order (ids are time-ordered UUIDv7; At is unused).
type RowKey struct {
	At int64  `json:"at,omitempty"`
	ID string `json:"id"`
}

func (k *RowKey) stored() *store.Key {
	if k == nil {
		return nil
	}
	return &store.Key{At: k.At, ID: k.ID}
}

func rowKey(k *store.Key) *RowKey {
	if k == nil {
		return nil
	}
	return &RowKey{At: k.At, ID: k.ID}
}

// FinishedRunKey returns the key of the run offset places past after (nil: from the start)
// among the runs that ended before cutoff, or nil when there are not that many.
func (e *Engine) FinishedRunKey(ctx context.Context, cutoff time.Time, after *RowKey, offset int) (*RowKey, error) {
	k, err := e.st.Q(ctx).FinishedRunKey(ms(cutoff), after.stored(), offset)
	return rowKey(k), err
}

// EventKey returns the key of the event offset places past after (nil: from the start) among
// the events stored before cutoff, or nil when there are not that many.
func (e *Engine) EventKey(ctx context.Context, cutoff time.Time, after *RowKey, offset int) (*RowKey, error) {
	k, err := e.st.Q(ctx).EventKey(idPrefix(ms(cutoff)+1), after.stored(), offset)
	return rowKey(k), err
}

// DeleteFinished deletes the runs that finished before cutoff whose keys lie in (from, to]
// (nil: no bound), with their steps and waits, and returns the ids it deleted. It locks the
// runs first, in id order, and checks their status again under the lock, so a run that Retry
// brings back meanwhile is left whole. A run another transaction holds is skipped (the next
// clean-up takes it): housekeeping never waits on the hot path, so it cannot deadlock with it.
func (e *Engine) DeleteFinished(ctx context.Context, cutoff time.Time, from, to *RowKey) ([]string, error) {
	var ids []string
	err := e.st.Tx(ctx, func(q *store.Q) error {
		var err error
		if ids, err = q.LockFinishedRuns(ms(cutoff), from.stored(), to.stored()); err != nil || len(ids) == 0 {
			return err
		}
		if err := q.DeleteWaitsOf(ids); err != nil {
			return err
		}
		if err := q.DeleteStepsOf(ids); err != nil {
			return err
		}
		if err := q.DeleteBatchEventsOf(ids); err != nil {
			return err
		}
		return q.DeleteRuns(ids)
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// DeleteEvents deletes the events stored before cutoff whose keys lie in (from, to], except
// those a live run points at (its trigger stays visible for as long as the run lives). It
// returns how many it deleted and how many it kept for live runs.
func (e *Engine) DeleteEvents(ctx context.Context, cutoff time.Time, from, to *RowKey) (deleted, kept int, err error) {
	err = e.st.Tx(ctx, func(q *store.Q) error {
		ids, err := q.EventIDs(idPrefix(ms(cutoff)+1), ms(cutoff), from.stored(), to.stored())
		if err != nil || len(ids) == 0 {
			return err
		}
		live, err := q.LiveEventIDs(ids)
		if err != nil {
			return err
		}
		keep := map[string]bool{}
		for _, id := range live {
			keep[id] = true
		}
		doomed := ids[:0:0]
		for _, id := range ids {
			if !keep[id] {
				doomed = append(doomed, id)
			}
		}
		kept = len(ids) - len(doomed)
		if len(doomed) == 0 {
			return nil
		}
		if err := q.DeleteResumesOf(doomed); err != nil {
			return err
		}
		if err := q.DeleteDecisionsOf(doomed); err != nil {
			return err
		}
		n, err := q.DeleteEvents(doomed)
		deleted = int(n)
		return err
	})
	return deleted, kept, err
}

// PruneDedup forgets the client event ids seen before before (they dedupe for DedupWindow),
// the idempotency and rate-limit keys that decide nothing any more and the debounce, batch
// and singleton rows whose run has begun or ended, and returns how many client ids it dropped.
func (e *Engine) PruneDedup(ctx context.Context, before time.Time) (int64, error) {
	n, err := e.st.Q(ctx).PruneClientIDs(ms(before))
	if err != nil {
		return n, err
	}
	// A key's time is when it frees (idempotency) or its limit is whole again (rateLimit):
	// both are past by now for every key last used before before.
	if _, err = e.st.Q(ctx).PruneFlowKeys(ms(e.now()) - 1); err != nil {
		return n, err
	}
	_, err = e.st.Q(ctx).PruneFlowHolders()
	return n, err
}

// PruneCronTicks drops the records of cron ticks before before and returns how many. The
// scheduler looks back Options.CronCatchUp: keep at least that.
func (e *Engine) PruneCronTicks(ctx context.Context, before time.Time) (int64, error) {
	return e.st.Q(ctx).PruneCronTicks(ms(before))
}

// Usage is the model usage an AI step records in its output, {"usage": {"provider", "model",
// "prompt_tokens", "completion_tokens", "total_tokens"}}: the shape the blog's AI actions write.
type Usage struct {
	Provider         string `json:"provider"`
	Model            string `json:"model"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
	TotalTokens      int64  `json:"total_tokens"`
}

// ParseUsage reads the usage a step's output records, if it records one.
func ParseUsage(output string) (Usage, bool) {
	var out struct {
		Usage *Usage `json:"usage"`
	}
	if json.Unmarshal([]byte(output), &out) != nil || out.Usage == nil {
		return Usage{}, false
	}
	return *out.Usage, true
}

// UsageSince returns the usage recorded by the Run steps of the runs created since since, one
// entry per step that recorded one.
func (e *Engine) UsageSince(ctx context.Context, since time.Time) ([]Usage, error) {
	outputs, err := e.st.Q(ctx).UsageOutputs(idPrefix(ms(since)))
	if err != nil {
		return nil, err
	}
	var out []Usage
	for _, o := range outputs {
		if u, ok := ParseUsage(o); ok {
			out = append(out, u)
		}
	}
	return out, nil
}

// PruneWaitPaths forgets the (event name, match path) pairs no wait uses any more, and
// returns how many. Sends look up every recorded path of an event's name, so paths of
// finished waits would otherwise cost an index probe per event for ever, and the table would
// grow with every distinct path ever used. Registrations are held off for at most a short
// lock timeout per batch; if they hold the table longer, the rest waits for the next run.
func (e *Engine) PruneWaitPaths(ctx context.Context) (int64, error) {
	const batch = 500
	var total int64
	for {
		names, err := e.st.Q(ctx).StaleWaitNames(batch)
		if err != nil || len(names) == 0 {
			return total, err
		}
		var n int64
		err = e.st.Tx(ctx, func(q *store.Q) error {
			n, err = q.DeleteStaleWaitPaths(names)
			return err
		})
		if errors.Is(err, store.ErrBusy) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
		total += n
		if n == 0 || len(names) < batch {
			return total, nil
		}
	}
}
