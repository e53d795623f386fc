package store

import (
	"fmt"

	"gorm.io/gorm/clause"
)

// Resume is a row of event_resumes: an event that resolved a run's wait (on arrival, or
// found by the wait's look-back), so pages can say which runs an event resumed.
type Resume struct {
	EventID   string `gorm:"primaryKey"`
	RunID     string `gorm:"primaryKey"`
	StepID    string `gorm:"primaryKey"`
	CreatedAt int64  `gorm:"autoCreateTime:false"`
}

func (Resume) TableName() string { return "event_resumes" }

// RecordResumes stores resumes in one statement; a repeat (a replayed delivery) is ignored.
func (q *Q) RecordResumes(rows []Resume) error {
	if len(rows) == 0 {
		return nil
	}
	if err := q.g.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return fmt.Errorf("record resumed runs: %w", err)
	}
	return nil
}

// ResumesOf returns what events eventIDs resumed, oldest first.
func (q *Q) ResumesOf(eventIDs []string) ([]Resume, error) {
	if len(eventIDs) == 0 {
		return nil, nil
	}
	var rows []Resume
	if err := q.g.Where("event_id IN ?", eventIDs).Order("created_at, run_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("runs resumed by %d events: %w", len(eventIDs), err)
	}
	return rows, nil
}
