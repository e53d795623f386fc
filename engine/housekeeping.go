package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// lockFreeRows locks what a query selects, skipping rows other transactions hold (PostgreSQL).
var lockFreeRows = clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}

// Housekeeping: what the retention functions (ops/) and the reports read and delete, so that
// no package outside the engine touches its tables.

// RowKey is a position in a retention walk: finished runs are walked in (ended_at, id) order
// (At is ended_at in Unix ms), events in id order (ids are time-ordered UUIDv7; At is unused).
type RowKey struct {
	At int64  `json:"at,omitempty"`
	ID string `json:"id"`
}

// FinishedRunKey returns the key of the run offset places past after (nil: from the start)
// among the runs that ended before cutoff, or nil when there are not that many.
func (e *Engine) FinishedRunKey(ctx context.Context, cutoff time.Time, after *RowKey, offset int) (*RowKey, error) {
	sql, args := `SELECT ended_at AS at, id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ?`, []any{ms(cutoff)}
	if after != nil {
		sql += ` AND (ended_at > ? OR (ended_at = ? AND id > ?))`
		args = append(args, after.At, after.At, after.ID)
	}
	return e.keyAt(ctx, sql+` ORDER BY ended_at, id LIMIT 1 OFFSET ?`, append(args, offset))
}

// EventKey returns the key of the event offset places past after (nil: from the start) among
// the events stored before cutoff, or nil when there are not that many.
func (e *Engine) EventKey(ctx context.Context, cutoff time.Time, after *RowKey, offset int) (*RowKey, error) {
	sql, args := `SELECT 0 AS at, id FROM events WHERE id < ?`, []any{idPrefix(ms(cutoff) + 1)}
	if after != nil {
		sql += ` AND id > ?`
		args = append(args, after.ID)
	}
	return e.keyAt(ctx, sql+` ORDER BY id LIMIT 1 OFFSET ?`, append(args, offset))
}

func (e *Engine) keyAt(ctx context.Context, sql string, args []any) (*RowKey, error) {
	var keys []RowKey
	if err := e.db.WithContext(ctx).Raw(sql, args...).Scan(&keys).Error; err != nil {
		return nil, fmt.Errorf("walk old rows: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	return &keys[0], nil
}

// DeleteFinished deletes the runs that finished before cutoff whose keys lie in (from, to]
// (nil: no bound), with their steps and waits, and returns the ids it deleted. It locks the
// runs first, in id order, and checks their status again under the lock, so a run that Retry
// brings back meanwhile is left whole. A run another transaction holds is skipped (the next
// clean-up takes it): housekeeping never waits on the hot path, so it cannot deadlock with it.
func (e *Engine) DeleteFinished(ctx context.Context, cutoff time.Time, from, to *RowKey) ([]string, error) {
	var ids []string
	err := e.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Table("runs").Where("status IN ('completed', 'failed', 'cancelled') AND ended_at IS NOT NULL AND ended_at < ?", ms(cutoff))
		if from != nil {
			q = q.Where("(ended_at > ? OR (ended_at = ? AND id > ?))", from.At, from.At, from.ID)
		}
		if to != nil {
			q = q.Where("(ended_at < ? OR (ended_at = ? AND id <= ?))", to.At, to.At, to.ID)
		}
		q = q.Order("id")
		if e.pg {
			q = q.Clauses(lockFreeRows)
		}
		if err := q.Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("select old runs: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		for _, stmt := range []string{`DELETE FROM waits WHERE run_id IN ?`, `DELETE FROM steps WHERE run_id IN ?`, `DELETE FROM runs WHERE id IN ?`} {
			if err := tx.Exec(stmt, ids).Error; err != nil {
				return fmt.Errorf("delete old runs: %w", err)
			}
		}
		return nil
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
	err = e.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Table("events").Where("id < ? AND received_at < ?", idPrefix(ms(cutoff)+1), ms(cutoff))
		if from != nil {
			q = q.Where("id > ?", from.ID)
		}
		if to != nil {
			q = q.Where("id <= ?", to.ID)
		}
		var ids []string
		if err := q.Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("select old events: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		var live []string
		if err := tx.Raw(`SELECT DISTINCT event_id FROM runs WHERE status IN ('queued', 'running', 'sleeping', 'waiting') AND event_id IN ?`, ids).
			Scan(&live).Error; err != nil {
			return fmt.Errorf("find events of live runs: %w", err)
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
		if err := tx.Exec(`DELETE FROM event_resumes WHERE event_id IN ?`, doomed).Error; err != nil {
			return fmt.Errorf("delete old events' resumed runs: %w", err)
		}
		del := tx.Exec(`DELETE FROM events WHERE id IN ?`, doomed)
		if del.Error != nil {
			return fmt.Errorf("delete old events: %w", del.Error)
		}
		deleted = int(del.RowsAffected)
		return nil
	})
	return deleted, kept, err
}

// PruneDedup forgets the client event ids seen before before (they dedupe for DedupWindow)
// and returns how many it dropped.
func (e *Engine) PruneDedup(ctx context.Context, before time.Time) (int64, error) {
	res := e.db.WithContext(ctx).Exec(`DELETE FROM event_dedup WHERE seen_at < ?`, ms(before))
	if res.Error != nil {
		return 0, fmt.Errorf("prune event ids: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// PruneCronTicks drops the records of cron ticks before before and returns how many. The
// scheduler looks back Options.CronCatchUp: keep at least that.
func (e *Engine) PruneCronTicks(ctx context.Context, before time.Time) (int64, error) {
	res := e.db.WithContext(ctx).Exec(`DELETE FROM cron_ticks WHERE tick < ?`, ms(before))
	if res.Error != nil {
		return 0, fmt.Errorf("prune cron ticks: %w", res.Error)
	}
	return res.RowsAffected, nil
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
	var outputs []string
	// Run ids are UUIDv7, so the run range is a primary-key range; only outputs that mention
	// tokens are read.
	err := e.db.WithContext(ctx).Raw(`SELECT s.output FROM runs r JOIN steps s ON s.run_id = r.id
		WHERE r.id >= ? AND s.kind = 'run' AND s.output LIKE '%"total_tokens"%'`, idPrefix(ms(since))).Scan(&outputs).Error
	if err != nil {
		return nil, fmt.Errorf("read AI usage: %w", err)
	}
	var out []Usage
	for _, o := range outputs {
		if u, ok := ParseUsage(o); ok {
			out = append(out, u)
		}
	}
	return out, nil
}
