package store

import "fmt"

// Claims and leases: how workers take due runs, hold them and give them back.

// ClaimDue leases up to n due runs to owner until leaseUntil (queued ones, sleeping or
// waiting ones whose time has come, running ones whose lease expired), except runs of the
// functions in skip, and returns them. Runs another worker is claiming are skipped.
func (q *Q) ClaimDue(n int, now, leaseUntil int64, owner string, skip []string) ([]Run, error) {
	pick := q.g.Table("runs").Select("id").
		Where("status IN "+liveStatuses+" AND due_at <= ? AND lease_until < ?", now, now).
		Order("due_at").Limit(n)
	if len(skip) > 0 {
		pick = pick.Where("function_id NOT IN ?", skip)
	}
	var runs []Run
	err := q.g.Raw(`UPDATE runs SET status = 'running', lease_owner = ?, lease_until = ?, updated_at = ?,
		started_at = COALESCE(started_at, ?) WHERE id IN (?) RETURNING *`,
		owner, leaseUntil, now, now, q.d.skipLocked(pick)).Scan(&runs).Error
	if err != nil {
		return nil, fmt.Errorf("claim runs: %w", err)
	}
	return runs, nil
}

// LockFunction serialises the claims of function id's runs (PostgreSQL): its concurrency
// limit is counted and filled by one claimer at a time.
func (q *Q) LockFunction(id string) error {
	if err := q.d.lockKey(q.g, "inkflow-concurrency:"+id); err != nil {
		return fmt.Errorf("lock function %s: %w", id, err)
	}
	return nil
}

// BusyKeys counts function fn's runs executing under a live lease at now, by concurrency key.
func (q *Q) BusyKeys(fn string, now int64) (map[string]int, error) {
	var busy []struct {
		ConcurrencyKey string
		N              int
	}
	if err := q.g.Raw(`SELECT concurrency_key, COUNT(*) AS n FROM runs WHERE function_id = ? AND status = 'running' AND lease_until >= ?
		GROUP BY concurrency_key`, fn, now).Scan(&busy).Error; err != nil {
		return nil, fmt.Errorf("count running runs of %s: %w", fn, err)
	}
	out := make(map[string]int, len(busy))
	for _, b := range busy {
		out[b.ConcurrencyKey] = b.N
	}
	return out, nil
}

// DueOf returns up to limit due runs of function fn (id and concurrency key only) whose key
// is not in full, earliest due first, locking them (runs another worker holds are skipped).
func (q *Q) DueOf(fn string, now int64, full []string, limit int) ([]Run, error) {
	sel := q.g.Select("id, concurrency_key").Where(`function_id = ? AND status IN `+liveStatuses+`
		AND due_at <= ? AND lease_until < ?`, fn, now, now)
	if len(full) > 0 {
		sel = sel.Where("concurrency_key NOT IN ?", full) // saturated keys must not crowd out idle ones
	}
	var cands []Run
	if err := q.d.skipLocked(sel).Order("due_at").Limit(limit).Find(&cands).Error; err != nil {
		return nil, fmt.Errorf("find due runs of %s: %w", fn, err)
	}
	return cands, nil
}

// LeaseRuns leases the runs ids that are still due at now to owner until leaseUntil and
// returns them.
func (q *Q) LeaseRuns(ids []string, now, leaseUntil int64, owner string) ([]Run, error) {
	var runs []Run
	err := q.g.Raw(`UPDATE runs SET status = 'running', lease_owner = ?, lease_until = ?, updated_at = ?,
		started_at = COALESCE(started_at, ?) WHERE id IN ? AND status IN `+liveStatuses+`
		AND due_at <= ? AND lease_until < ? RETURNING *`, owner, leaseUntil, now, now, ids, now, now).Scan(&runs).Error
	if err != nil {
		return nil, fmt.Errorf("lease runs: %w", err)
	}
	return runs, nil
}

// NextDue returns when the earliest queued, sleeping or waiting run due after now is due
// (nil when there is none).
func (q *Q) NextDue(now int64) (*int64, error) {
	var next *int64
	if err := q.g.Raw(`SELECT MIN(due_at) FROM runs WHERE status IN ('queued', 'sleeping', 'waiting') AND due_at > ?`, now).
		Scan(&next).Error; err != nil {
		return nil, fmt.Errorf("find the next due run: %w", err)
	}
	return next, nil
}

// ExtendLeases extends to until the leases owner holds on the running runs ids.
func (q *Q) ExtendLeases(ids []string, owner string, until int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := q.g.Exec(`UPDATE runs SET lease_until = ? WHERE id IN ? AND lease_owner = ? AND status = 'running'`, until, ids, owner).Error
	if err != nil {
		return fmt.Errorf("extend leases: %w", err)
	}
	return nil
}

// ExtendLease extends owner's lease on running run id to until, and reports whether owner
// still held it: proof of ownership for a step that has more to write.
func (q *Q) ExtendLease(id, owner string, now, until int64) (bool, error) {
	res := q.g.Exec(`UPDATE runs SET updated_at = ?, lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`,
		now, until, id, owner)
	if res.Error != nil {
		return false, fmt.Errorf("extend lease of run %s: %w", id, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// ReleaseRuns hands runs ids that owner holds back untouched, due at once.
func (q *Q) ReleaseRuns(ids []string, owner string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := q.g.Exec(`UPDATE runs SET lease_owner = '', lease_until = 0 WHERE id IN ? AND lease_owner = ?`, ids, owner).Error; err != nil {
		return fmt.Errorf("release runs: %w", err)
	}
	return nil
}

// ReleaseRunning hands back the running run id that owner holds, untouched.
func (q *Q) ReleaseRunning(id, owner string) error {
	err := q.g.Exec(`UPDATE runs SET lease_owner = '', lease_until = 0 WHERE id = ? AND lease_owner = ? AND status = 'running'`, id, owner).Error
	if err != nil {
		return fmt.Errorf("release run %s: %w", id, err)
	}
	return nil
}

// ReleaseAll hands back every running run owner holds.
func (q *Q) ReleaseAll(owner string) error {
	if err := q.g.Exec(`UPDATE runs SET lease_owner = '', lease_until = 0 WHERE lease_owner = ? AND status = 'running'`, owner).Error; err != nil {
		return fmt.Errorf("release runs: %w", err)
	}
	return nil
}

// HandBack gives the running run id owner holds back, due at due, with why as its error
// (shown until the run moves on).
func (q *Q) HandBack(id, owner string, due int64, why string) error {
	err := q.g.Exec(`UPDATE runs SET lease_owner = '', lease_until = 0, due_at = ?, error = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`,
		due, why, id, owner).Error
	if err != nil {
		return fmt.Errorf("hand back run %s: %w", id, err)
	}
	return nil
}

// RetryRunLater queues the running run id owner holds again for attempt at due, with errMsg.
func (q *Q) RetryRunLater(id, owner string, attempt int, errMsg string, due, now int64) error {
	err := q.g.Exec(`UPDATE runs SET status = 'queued', attempt = ?, error = ?, due_at = ?, lease_owner = '', lease_until = 0, updated_at = ?
		WHERE id = ? AND lease_owner = ? AND status = 'running'`, attempt, errMsg, due, now, id, owner).Error
	if err != nil {
		return fmt.Errorf("requeue run %s: %w", id, err)
	}
	return nil
}

// SuspendRun hands the running run id owner holds back in status (queued, sleeping or
// waiting) until due.
func (q *Q) SuspendRun(id, owner, status string, due, now int64) error {
	err := q.g.Exec(`UPDATE runs SET status = ?, due_at = ?, lease_owner = '', lease_until = 0, updated_at = ?
		WHERE id = ? AND lease_owner = ? AND status = 'running'`, status, due, now, id, owner).Error
	if err != nil {
		return fmt.Errorf("suspend run %s: %w", id, err)
	}
	return nil
}

// EndRun ends the running run id owner holds with status, output and error, and reports
// whether owner still held it.
func (q *Q) EndRun(id, owner, status string, output *string, errMsg string, now int64) (bool, error) {
	res := q.g.Exec(`UPDATE runs SET status = ?, output = ?, error = ?, ended_at = ?, updated_at = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ? AND status = 'running'`, status, output, errMsg, now, now, id, owner)
	if res.Error != nil {
		return false, fmt.Errorf("end run %s: %w", id, res.Error)
	}
	return res.RowsAffected > 0, nil
}
