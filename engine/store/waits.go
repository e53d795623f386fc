package store

import (
	"fmt"
	"strings"
)

var waitCols = []string{"id", "kind", "run_id", "step_id", "event_name", "match_path", "match_value", "match_hash", "if_expr", "trigger", "expires_at", "created_at", "seq"}

// InsertWaits stores wait and cancel registrations.
func (q *Q) InsertWaits(waits []Wait) error {
	err := insertRows(q.g, "waits", waitCols, len(waits), func(i int) []any {
		w := &waits[i]
		return []any{w.ID, w.Kind, w.RunID, w.StepID, w.EventName, w.MatchPath, w.MatchValue, w.MatchHash, w.IfExpr, w.Trigger, w.ExpiresAt, w.CreatedAt, w.Seq}
	})
	if err != nil {
		return fmt.Errorf("insert waits: %w", err)
	}
	return nil
}

// DeleteWaitsOf deletes every wait and cancel registration of runs.
func (q *Q) DeleteWaitsOf(runIDs []string) error {
	if len(runIDs) == 0 {
		return nil
	}
	if err := q.g.Exec(`DELETE FROM waits WHERE run_id IN ?`, runIDs).Error; err != nil {
		return fmt.Errorf("drop waits: %w", err)
	}
	return nil
}

// TakeWait deletes the wait rows of step stepID of run runID and reports whether there were
// any: whoever deletes them (an event, or the timeout) resolves the wait.
func (q *Q) TakeWait(runID, stepID string) (bool, error) {
	res := q.g.Exec(`DELETE FROM waits WHERE run_id = ? AND step_id = ? AND kind = ?`, runID, stepID, WaitEvent)
	if res.Error != nil {
		return false, fmt.Errorf("claim wait of run %s: %w", runID, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// EventWaitsOf returns the event waits of run runID, oldest first.
func (q *Q) EventWaitsOf(runID string) ([]Wait, error) {
	var rows []Wait
	if err := q.g.Where("run_id = ? AND kind = ?", runID, WaitEvent).Order("created_at").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load waits of run %s: %w", runID, err)
	}
	return rows, nil
}

// WaitPath is an (event name, match path) pair in use by waits; MatchPath "" stands for
// waits without a match value (checked by the engine's wait checker).
type WaitPath struct{ EventName, MatchPath string }

// WaitPaths returns the (event name, match path) pairs recorded in wait_paths for names.
func (q *Q) WaitPaths(names []string) ([]WaitPath, error) {
	var paths []WaitPath
	if err := q.g.Raw(`SELECT event_name, match_path FROM wait_paths WHERE event_name IN ?`, names).Scan(&paths).Error; err != nil {
		return nil, fmt.Errorf("find wait paths for %v: %w", names, err)
	}
	return paths, nil
}

// RecordWaitPaths notes the (event name, match path) pairs of waits in wait_paths, the list a
// send consults to know which paths of an event to look up; pathHash keys a path whatever
// its length. Rows are never removed while the engine runs: a path no wait uses any more
// costs one index probe per event.
func (q *Q) RecordWaitPaths(waits []Wait, pathHash func(string) string) error {
	type key struct{ name, path string }
	seen := map[key]bool{}
	var args []any
	var places []string
	for _, w := range waits {
		k := key{w.EventName, w.MatchPath}
		if seen[k] {
			continue
		}
		seen[k] = true
		places = append(places, "(?, ?, ?)")
		args = append(args, w.EventName, pathHash(w.MatchPath), w.MatchPath)
	}
	if len(places) == 0 {
		return nil
	}
	err := q.g.Exec(`INSERT INTO wait_paths (event_name, path_hash, match_path) VALUES `+strings.Join(places, ", ")+
		` ON CONFLICT DO NOTHING`, args...).Error
	if err != nil {
		return fmt.Errorf("record wait paths: %w", err)
	}
	return nil
}

// MatchingWaits returns the waits on events named names under any of the match hashes (the
// caller compares match_value too: a hash collision must not deliver).
func (q *Q) MatchingWaits(names []string, hashes []string) ([]Wait, error) {
	var rows []Wait
	for start := 0; start < len(hashes); start += 500 {
		var more []Wait
		err := q.g.Where("event_name IN ? AND match_hash IN ?", names, hashes[start:min(len(hashes), start+500)]).Find(&more).Error
		if err != nil {
			return nil, fmt.Errorf("find waits for %v: %w", names, err)
		}
		rows = append(rows, more...)
	}
	return rows, nil
}

// HasUnmatchedWaits reports whether any wait without a match value waits for events named name.
func (q *Q) HasUnmatchedWaits(name string) (bool, error) {
	var found []int
	if err := q.g.Raw(`SELECT 1 FROM waits WHERE event_name = ? AND match_hash = '' LIMIT 1`, name).Scan(&found).Error; err != nil {
		return false, fmt.Errorf("find waits for %s: %w", name, err)
	}
	return len(found) > 0, nil
}

// UnmatchedWaits returns up to limit waits without a match value on events named name that
// were stored before seq (numbered lower), with ids after after, in id order.
func (q *Q) UnmatchedWaits(name string, beforeSeq int64, after string, limit int) ([]Wait, error) {
	var ws []Wait
	err := q.g.Where("event_name = ? AND match_hash = '' AND seq < ? AND id > ?", name, beforeSeq, after).
		Order("id").Limit(limit).Find(&ws).Error
	if err != nil {
		return nil, fmt.Errorf("find waits for %s: %w", name, err)
	}
	return ws, nil
}

// NextWaitSeq returns the next number of the order between sends and wait registrations.
// Callers hold the event-name lock (shared for a send, exclusive for a wait), which is what
// makes the numbers order the two.
func (q *Q) NextWaitSeq() (int64, error) {
	n, err := q.d.nextWaitSeq(q.g)
	if err != nil {
		return 0, fmt.Errorf("number wait order: %w", err)
	}
	return n, nil
}

// WaitCheck is a row of wait_checks: an event still to check against the waits without a
// match value.
type WaitCheck struct {
	EventID    string `gorm:"primaryKey"`
	EventName  string
	Seq        int64
	LeaseUntil int64
}

func (WaitCheck) TableName() string { return "wait_checks" }

// QueueWaitChecks queues events to check.
func (q *Q) QueueWaitChecks(rows []WaitCheck) error {
	if len(rows) == 0 {
		return nil
	}
	if err := q.g.CreateInBatches(rows, 500).Error; err != nil {
		return fmt.Errorf("queue wait checks: %w", err)
	}
	return nil
}

// ClaimWaitChecks leases up to n queued checks whose lease lapsed before now until leaseUntil
// and returns them (checks another checker holds are skipped).
func (q *Q) ClaimWaitChecks(now, leaseUntil int64, n int) ([]WaitCheck, error) {
	pick := q.g.Table("wait_checks").Select("event_id").Where("lease_until < ?", now).Order("seq, event_id").Limit(n)
	var checks []WaitCheck
	err := q.g.Raw(`UPDATE wait_checks SET lease_until = ? WHERE event_id IN (?) RETURNING *`, leaseUntil, q.d.skipLocked(pick)).Scan(&checks).Error
	if err != nil {
		return nil, fmt.Errorf("claim wait checks: %w", err)
	}
	return checks, nil
}

// DeleteWaitChecks removes the checks of events ids (done).
func (q *Q) DeleteWaitChecks(ids []string) error {
	if err := q.g.Exec(`DELETE FROM wait_checks WHERE event_id IN ?`, ids).Error; err != nil {
		return fmt.Errorf("remove wait checks: %w", err)
	}
	return nil
}

// UnhashedWaits returns the waits stored before match hashes existed (id and match only).
func (q *Q) UnhashedWaits() ([]Wait, error) {
	var rows []Wait
	if err := q.g.Select("id, event_name, match_path, match_value").Where("match_hash IS NULL").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find unhashed waits: %w", err)
	}
	return rows, nil
}

// SetWaitHash sets the match hash of wait id.
func (q *Q) SetWaitHash(id, hash string) error {
	if err := q.g.Exec(`UPDATE waits SET match_hash = ? WHERE id = ?`, hash, id).Error; err != nil {
		return fmt.Errorf("hash wait %s: %w", id, err)
	}
	return nil
}
