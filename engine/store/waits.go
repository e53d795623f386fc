package store

import (
	"fmt"

	"gorm.io/gorm/clause"
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

// MatchPaths returns the match paths the waits on events named names use ("" for waits
// with a condition only).
func (q *Q) MatchPaths(names []string) ([]string, error) {
	var paths []string
	if err := q.g.Raw(`SELECT DISTINCT match_path FROM waits WHERE event_name IN ?`, names).Scan(&paths).Error; err != nil {
		return nil, fmt.Errorf("find waits for %v: %w", names, err)
	}
	return paths, nil
}

// ConditionWaits returns the waits on events named names that match by condition only.
func (q *Q) ConditionWaits(names []string) ([]Wait, error) {
	var rows []Wait
	if err := q.g.Where("event_name IN ? AND match_path = ''", names).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find waits for %v: %w", names, err)
	}
	return rows, nil
}

// MatchingWaits returns the waits on events named names under any of the (path, value) keys.
func (q *Q) MatchingWaits(names []string, keys [][2]string) ([]Wait, error) {
	vals := make([][]any, len(keys))
	for i, k := range keys {
		vals[i] = []any{k[0], k[1]}
	}
	var rows []Wait
	err := q.g.Where("event_name IN ?", names).Where(clause.Expr{SQL: "(match_path, match_value) IN ?", Vars: []any{vals}}).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("find waits for %v: %w", names, err)
	}
	return rows, nil
}
