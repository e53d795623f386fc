package store

import (
	"fmt"
	"strings"
)

var waitCols = []string{"id", "kind", "run_id", "step_id", "event_name", "match_path", "match_value", "match_hash", "if_expr", "trigger", "expires_at", "created_at"}

// InsertWaits stores wait and cancel registrations.
func (q *Q) InsertWaits(waits []Wait) error {
	err := insertRows(q.g, "waits", waitCols, len(waits), func(i int) []any {
		w := &waits[i]
		return []any{w.ID, w.Kind, w.RunID, w.StepID, w.EventName, w.MatchPath, w.MatchValue, w.MatchHash, w.IfExpr, w.Trigger, w.ExpiresAt, w.CreatedAt}
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

// WaitPaths returns the match paths that waits on events named names use or have used (""
// for waits with a condition only), from wait_paths.
func (q *Q) WaitPaths(names []string) ([]string, error) {
	var paths []string
	if err := q.g.Raw(`SELECT DISTINCT match_path FROM wait_paths WHERE event_name IN ?`, names).Scan(&paths).Error; err != nil {
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

// ConditionWaits returns the waits on events named names that match by condition only.
func (q *Q) ConditionWaits(names []string) ([]Wait, error) {
	var rows []Wait
	if err := q.g.Where("event_name IN ? AND match_hash = ''", names).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find waits for %v: %w", names, err)
	}
	return rows, nil
}

// WaitsByHash returns the waits on events named names whose match hash is one of hashes.
func (q *Q) WaitsByHash(names, hashes []string) ([]Wait, error) {
	var rows []Wait
	if err := q.g.Where("event_name IN ? AND match_hash IN ?", names, hashes).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find waits for %v: %w", names, err)
	}
	return rows, nil
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
