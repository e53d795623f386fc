package store

import (
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// UpsertSteps stores step records, replacing earlier records of the same steps.
func (q *Q) UpsertSteps(steps []Step) error {
	if len(steps) == 0 {
		return nil
	}
	if err := q.g.Clauses(clause.OnConflict{UpdateAll: true}).Create(&steps).Error; err != nil {
		return fmt.Errorf("store steps: %w", err)
	}
	return nil
}

// GetStep reads one step; ErrNotFound if there is none.
func (q *Q) GetStep(runID, id string) (*Step, error) {
	var s Step
	if err := q.g.Where("run_id = ? AND id = ?", runID, id).Take(&s).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("load step %s of run %s: %w", id, runID, err)
	}
	return &s, nil
}

// StepsOf returns the steps of runs, ordered by run and then as the run stored them.
func (q *Q) StepsOf(runIDs []string) ([]Step, error) {
	if len(runIDs) == 0 {
		return nil, nil
	}
	var rows []Step
	if err := q.g.Where("run_id IN ?", runIDs).Order("run_id, seq").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load steps: %w", err)
	}
	return rows, nil
}

// StepsByID returns the steps ids of run runID.
func (q *Q) StepsByID(runID string, ids []string) ([]Step, error) {
	var rows []Step
	if err := q.g.Where("run_id = ? AND id IN ?", runID, ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load steps of run %s: %w", runID, err)
	}
	return rows, nil
}

// EndStep ends step id of run runID with status, output and error, if it is still in state
// from ("" for any state), and reports whether it did.
func (q *Q) EndStep(runID, id, from, status string, output *string, errMsg string, now int64) (bool, error) {
	sql := `UPDATE steps SET status = ?, output = ?, error = ?, ended_at = ? WHERE run_id = ? AND id = ?`
	args := []any{status, output, errMsg, now, runID, id}
	if from != "" {
		sql += ` AND status = ?`
		args = append(args, from)
	}
	res := q.g.Exec(sql, args...)
	if res.Error != nil {
		return false, fmt.Errorf("end step %s of run %s: %w", id, runID, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// FailStep fails step id of run runID if it is still in state from, keeping its output.
func (q *Q) FailStep(runID, id, from, errMsg string, now int64) (bool, error) {
	res := q.g.Exec(`UPDATE steps SET status = 'failed', error = ?, ended_at = ? WHERE run_id = ? AND id = ? AND status = ?`,
		errMsg, now, runID, id, from)
	if res.Error != nil {
		return false, fmt.Errorf("fail step %s of run %s: %w", id, runID, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// DropStepsForRetry deletes what a retry of run runID declares afresh: failed invoke steps
// (a retry starts a new child) and waiting steps (their registrations ended with the run).
func (q *Q) DropStepsForRetry(runID string) error {
	err := q.g.Exec(`DELETE FROM steps WHERE run_id = ? AND ((status = 'failed' AND kind = 'invoke') OR status = 'waiting')`, runID).Error
	if err != nil {
		return fmt.Errorf("reset steps of run %s: %w", runID, err)
	}
	return nil
}

// RetryFailedSteps gives the failed steps of run runID a fresh set of attempts, due now.
func (q *Q) RetryFailedSteps(runID string, now int64) error {
	err := q.g.Exec(`UPDATE steps SET status = 'retrying', attempts = 0, error = '', wake_at = ?, ended_at = NULL WHERE run_id = ? AND status = 'failed'`,
		now, runID).Error
	if err != nil {
		return fmt.Errorf("reset steps of run %s: %w", runID, err)
	}
	return nil
}

// CompleteStep resolves step id of run runID with output (a wait's event).
func (q *Q) CompleteStep(runID, id string, output string, now int64) error {
	err := q.g.Exec(`UPDATE steps SET status = 'completed', output = ?, ended_at = ? WHERE run_id = ? AND id = ?`, output, now, runID, id).Error
	if err != nil {
		return fmt.Errorf("resolve wait of run %s: %w", runID, err)
	}
	return nil
}

// UpsertStep stores one step record, replacing an earlier record of the step.
func (q *Q) UpsertStep(s *Step) error {
	if err := q.g.Clauses(clause.OnConflict{UpdateAll: true}).Create(s).Error; err != nil {
		return fmt.Errorf("store step %s: %w", s.ID, err)
	}
	return nil
}

// NoteStepError sets the error shown on step id of run runID while it is in state status
// (an event its wait ignored, and why).
func (q *Q) NoteStepError(runID, id, status, msg string) error {
	if err := q.g.Exec(`UPDATE steps SET error = ? WHERE run_id = ? AND id = ? AND status = ?`, msg, runID, id, status).Error; err != nil {
		return fmt.Errorf("note on step %s of run %s: %w", id, runID, err)
	}
	return nil
}
