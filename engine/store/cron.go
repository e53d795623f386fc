package store

import "fmt"

// LastCronTick returns the latest recorded tick of cron key (nil when none is recorded).
func (q *Q) LastCronTick(key string) (*int64, error) {
	var last *int64
	if err := q.g.Raw(`SELECT MAX(tick) FROM cron_ticks WHERE function_id = ?`, key).Scan(&last).Error; err != nil {
		return nil, fmt.Errorf("cron %s: last tick: %w", key, err)
	}
	return last, nil
}

// RecordCronTick records tick of cron key and reports whether it was new: each tick fires
// once, whichever instance records it first.
func (q *Q) RecordCronTick(key string, tick int64) (bool, error) {
	res := q.g.Exec(`INSERT INTO cron_ticks (function_id, tick, run_id) VALUES (?, ?, '') ON CONFLICT DO NOTHING`, key, tick)
	if res.Error != nil {
		return false, fmt.Errorf("cron %s: record tick: %w", key, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// SetCronTickRuns records the runs tick of cron key started (comma separated).
func (q *Q) SetCronTickRuns(key string, tick int64, runIDs string) error {
	if err := q.g.Exec(`UPDATE cron_ticks SET run_id = ? WHERE function_id = ? AND tick = ?`, runIDs, key, tick).Error; err != nil {
		return fmt.Errorf("cron %s: record runs: %w", key, err)
	}
	return nil
}

// PruneCronTicks drops the records of ticks before before and returns how many.
func (q *Q) PruneCronTicks(before int64) (int64, error) {
	res := q.g.Exec(`DELETE FROM cron_ticks WHERE tick < ?`, before)
	if res.Error != nil {
		return 0, fmt.Errorf("prune cron ticks: %w", res.Error)
	}
	return res.RowsAffected, nil
}
