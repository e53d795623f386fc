package store

import "fmt"

// Key is a position in a retention walk: finished runs in (ended_at, id) order, events in id
// order (At unused).
type Key struct {
	At int64
	ID string
}

// FinishedRunKey returns the key of the run offset places past after (nil: from the start)
// among the runs that ended before cutoff, or nil.
func (q *Q) FinishedRunKey(cutoff int64, after *Key, offset int) (*Key, error) {
	sql, args := `SELECT ended_at AS at, id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ?`, []any{cutoff}
	if after != nil {
		sql += ` AND (ended_at > ? OR (ended_at = ? AND id > ?))`
		args = append(args, after.At, after.At, after.ID)
	}
	return q.keyAt(sql+` ORDER BY ended_at, id LIMIT 1 OFFSET ?`, append(args, offset))
}

// EventKey returns the key of the event offset places past after (nil: from the start)
// among the events whose ids sort below idBelow, or nil.
func (q *Q) EventKey(idBelow string, after *Key, offset int) (*Key, error) {
	sql, args := `SELECT 0 AS at, id FROM events WHERE id < ?`, []any{idBelow}
	if after != nil {
		sql += ` AND id > ?`
		args = append(args, after.ID)
	}
	return q.keyAt(sql+` ORDER BY id LIMIT 1 OFFSET ?`, append(args, offset))
}

func (q *Q) keyAt(sql string, args []any) (*Key, error) {
	var keys []Key
	if err := q.g.Raw(sql, args...).Scan(&keys).Error; err != nil {
		return nil, fmt.Errorf("walk old rows: %w", err)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	return &keys[0], nil
}

// LockFinishedRuns locks, in id order, the runs that finished before cutoff whose keys lie in
// (from, to] (nil: no bound) and returns their ids. Runs another transaction holds are
// skipped: housekeeping never waits on the hot path, so it cannot deadlock with it.
func (q *Q) LockFinishedRuns(cutoff int64, from, to *Key) ([]string, error) {
	sel := q.g.Table("runs").Where("status IN "+finishedStatuses+" AND ended_at IS NOT NULL AND ended_at < ?", cutoff)
	if from != nil {
		sel = sel.Where("(ended_at > ? OR (ended_at = ? AND id > ?))", from.At, from.At, from.ID)
	}
	if to != nil {
		sel = sel.Where("(ended_at < ? OR (ended_at = ? AND id <= ?))", to.At, to.At, to.ID)
	}
	q.runsLocked = q.tx
	var ids []string
	if err := q.d.skipLocked(sel.Order("id")).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("select old runs: %w", err)
	}
	return ids, nil
}

// DeleteStepsOf deletes the steps of runs.
func (q *Q) DeleteStepsOf(runIDs []string) error {
	if err := q.g.Exec(`DELETE FROM steps WHERE run_id IN ?`, runIDs).Error; err != nil {
		return fmt.Errorf("delete steps: %w", err)
	}
	return nil
}

// DeleteRuns deletes runs (their steps and waits first: see DeleteStepsOf, DeleteWaitsOf).
func (q *Q) DeleteRuns(ids []string) error {
	if err := q.g.Exec(`DELETE FROM runs WHERE id IN ?`, ids).Error; err != nil {
		return fmt.Errorf("delete runs: %w", err)
	}
	return nil
}

// EventIDs returns the ids of the events whose keys lie in (from, to] (nil: no bound) among
// those with ids below idBelow received before receivedBefore.
func (q *Q) EventIDs(idBelow string, receivedBefore int64, from, to *Key) ([]string, error) {
	sel := q.g.Table("events").Where("id < ? AND received_at < ?", idBelow, receivedBefore)
	if from != nil {
		sel = sel.Where("id > ?", from.ID)
	}
	if to != nil {
		sel = sel.Where("id <= ?", to.ID)
	}
	var ids []string
	if err := sel.Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("select old events: %w", err)
	}
	return ids, nil
}

// LiveEventIDs returns which of the events ids a live run points at.
func (q *Q) LiveEventIDs(ids []string) ([]string, error) {
	var live []string
	if err := q.g.Raw(`SELECT DISTINCT event_id FROM runs WHERE status IN `+liveStatuses+` AND event_id IN ?`, ids).Scan(&live).Error; err != nil {
		return nil, fmt.Errorf("find events of live runs: %w", err)
	}
	return live, nil
}

// DeleteEvents deletes events and returns how many.
func (q *Q) DeleteEvents(ids []string) (int64, error) {
	res := q.g.Exec(`DELETE FROM events WHERE id IN ?`, ids)
	if res.Error != nil {
		return 0, fmt.Errorf("delete old events: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// PruneClientIDs forgets the client event ids recorded before before and returns how many.
func (q *Q) PruneClientIDs(before int64) (int64, error) {
	res := q.g.Exec(`DELETE FROM event_dedup WHERE seen_at < ?`, before)
	if res.Error != nil {
		return 0, fmt.Errorf("prune event ids: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// UsageOutputs returns the outputs of the Run steps of the runs with ids from runsFrom on
// that mention tokens: the AI steps' usage records.
func (q *Q) UsageOutputs(runsFrom string) ([]string, error) {
	var outputs []string
	err := q.g.Raw(`SELECT s.output FROM runs r JOIN steps s ON s.run_id = r.id
		WHERE r.id >= ? AND s.kind = 'run' AND s.output LIKE '%"total_tokens"%'`, runsFrom).Scan(&outputs).Error
	if err != nil {
		return nil, fmt.Errorf("read AI usage: %w", err)
	}
	return outputs, nil
}

// DeleteResumesOf deletes the records of the runs events resumed.
func (q *Q) DeleteResumesOf(eventIDs []string) error {
	if err := q.g.Exec(`DELETE FROM event_resumes WHERE event_id IN ?`, eventIDs).Error; err != nil {
		return fmt.Errorf("delete old events' resumed runs: %w", err)
	}
	return nil
}
