package bench

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
)

// Effect is one execution of a probe step's fn, as recorded in probe_effects (the benchmark's
// own table): the side effect that escaped the run's transactions.
type Effect struct {
	RunID, StepID string
	At            int64 // unix ms
}

// Effects returns every recorded execution of a probe step's fn.
func Effects(ctx context.Context, db *gorm.DB) ([]Effect, error) {
	var out []Effect
	if err := db.WithContext(ctx).Raw(`SELECT run_id, step_id, at FROM probe_effects ORDER BY run_id, step_id, at`).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("read probe effects: %w", err)
	}
	return out, nil
}

// CountEffects counts the recorded executions of probe steps' fns.
func CountEffects(ctx context.Context, db *gorm.DB) (int, error) {
	var n int64
	if err := db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM probe_effects`).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("count probe effects: %w", err)
	}
	return int(n), nil
}

// EffectAudit compares the probe steps' executions with their commits.
type EffectAudit struct {
	// Effects is every recorded execution; Steps the committed steps of bench-steps runs.
	Effects, Steps int
	// Late are executions after their step committed: a committed step ran again, which the
	// engine promises never happens.
	Late []Effect
	// Missing are committed steps with no recorded execution.
	Missing []string
}

// AuditEffects checks every execution of a bench-steps step against its step's commit.
func AuditEffects(ctx context.Context, e *engine.Engine, db *gorm.DB) (EffectAudit, error) {
	effects, err := Effects(ctx, db)
	if err != nil {
		return EffectAudit{}, err
	}
	steps, err := e.StepRecords(ctx, engine.StepRecordFilter{FunctionID: "bench-steps"})
	if err != nil {
		return EffectAudit{}, err
	}
	a := EffectAudit{Effects: len(effects)}
	ended := map[string]int64{}
	ran := map[string]bool{}
	for _, ef := range effects {
		ran[ef.RunID+"\x00"+ef.StepID] = true
	}
	for _, s := range steps {
		key := s.RunID + "\x00" + s.StepID
		if !ran[key] {
			a.Missing = append(a.Missing, s.RunID+":"+s.StepID)
		}
		if s.Status == engine.StepCompleted && s.EndedAt != nil {
			a.Steps++
			ended[key] = s.EndedAt.UnixMilli()
		}
	}
	for _, ef := range effects {
		if end, ok := ended[ef.RunID+"\x00"+ef.StepID]; ok && ef.At > end {
			a.Late = append(a.Late, ef)
		}
	}
	return a, nil
}
