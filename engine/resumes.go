package engine

import (
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// An event that resolves a run's wait (on arrival, or found by the wait's look-back) is
// recorded in event_resumes, so the events page and GET /api/events can say which runs an
// event resumed beside the runs it started.

type resumeRow struct {
	EventID   string `gorm:"primaryKey"`
	RunID     string `gorm:"primaryKey"`
	StepID    string `gorm:"primaryKey"`
	CreatedAt int64  `gorm:"autoCreateTime:false"`
}

func (resumeRow) TableName() string { return "event_resumes" }

// recordResumes stores rows in one statement; a repeat (a replayed delivery) is ignored.
func recordResumes(tx *gorm.DB, rows []resumeRow) error {
	if len(rows) == 0 {
		return nil
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return fmt.Errorf("record resumed runs: %w", err)
	}
	return nil
}

// resumedBy returns, for each of eventIDs that resumed a run, the ids of those runs in the
// order they were resumed. One query for the whole page.
func resumedBy(db *gorm.DB, eventIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(eventIDs) == 0 {
		return out, nil
	}
	var rows []resumeRow
	if err := db.Where("event_id IN ?", eventIDs).Order("created_at, run_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("runs resumed by %d events: %w", len(eventIDs), err)
	}
	for _, r := range rows {
		if ids := out[r.EventID]; len(ids) == 0 || ids[len(ids)-1] != r.RunID {
			out[r.EventID] = append(ids, r.RunID)
		}
	}
	return out, nil
}
