package store

import (
	"fmt"
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

// MatchPaths returns the match paths recorded in wait_paths for events named names. (The
// engine's send.go runs this statement itself today; see engine/match.go and checks.go for
// the other wait statements still to move here.)
func (q *Q) MatchPaths(names []string) ([]WaitPath, error) {
	var paths []WaitPath
	if err := q.g.Raw(`SELECT event_name, match_path FROM wait_paths WHERE event_name IN ?`, names).Scan(&paths).Error; err != nil {
		return nil, fmt.Errorf("find wait paths for %v: %w", names, err)
	}
	return paths, nil
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
