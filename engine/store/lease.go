package store

import (
	"fmt"

	"gorm.io/gorm"
)

// Claims and leases: how workers take due runs, hold them and give them back.

// Claimable is what a process can claim: runs of the functions it has whose needs (a
// workflow version's action kinds, say) it provides. Other runs wait for another process.
type Claimable struct {
	Functions []string
	Provides  []string
}

// claimable narrows sel to due runs (queued ones, sleeping or waiting ones whose time has
// come, running ones whose lease expired) that c covers and whose deadline has not passed
// (those are the timeout sweep's).
func (c Claimable) where(sel *gorm.DB, now int64) *gorm.DB {
	sel = sel.Where("status IN "+liveStatuses+" AND due_at <= ? AND lease_until < ? AND (deadline_at IS NULL OR deadline_at > ?)", now, now, now).
		Where("function_id IN ?", append([]string{""}, c.Functions...))
	if len(c.Provides) == 0 {
		return sel.Where("needs = ''")
	}
	return sel.Where("(needs = '' OR NOT EXISTS (SELECT 1 FROM run_needs n WHERE n.hash = runs.needs AND n.item NOT IN ?))", c.Provides)
}

// claimSet is the SET list of a claim: running under owner's lease; a first start records
// started_at and, with a finish timeout, the run's deadline (its start deadline is done with).
const claimSet = `status = 'running', lease_owner = ?, lease_until = ?, updated_at = ?,
	deadline_at = CASE WHEN started_at IS NULL THEN (CASE WHEN timeout_finish > 0 THEN timeout_finish + ? END) ELSE deadline_at END,
	started_at = COALESCE(started_at, ?)`

// ClaimDue leases up to n due runs that c covers and no flow control limits (limited = 0) to
// owner until leaseUntil, and returns them. Runs another worker is claiming are skipped.
func (q *Q) ClaimDue(n int, now, leaseUntil int64, owner string, c Claimable) ([]Run, error) {
	pick := c.where(q.g.Table("runs").Select("id"), now).Where("limited = 0").Order("due_at").Limit(n)
	var runs []Run
	err := q.g.Raw(`UPDATE runs SET `+claimSet+` WHERE id IN (?) RETURNING *`,
		owner, leaseUntil, now, now, now, q.d.skipLocked(pick)).Scan(&runs).Error
	if err != nil {
		return nil, fmt.Errorf("claim runs: %w", err)
	}
	return runs, nil
}

// HasLimitedDue reports whether function fn has a due run under flow control that c covers.
func (q *Q) HasLimitedDue(fn string, now int64, c Claimable) (bool, error) {
	var ids []string
	sel := c.where(q.g.Table("runs").Select("id").Where("function_id = ? AND limited = 1", fn), now).Limit(1)
	if err := sel.Pluck("id", &ids).Error; err != nil {
		return false, fmt.Errorf("find due limited runs of %s: %w", fn, err)
	}
	return len(ids) > 0, nil
}

// LockFunction serialises the claims of function id's runs (PostgreSQL): its concurrency
// limits and throttles are counted and filled by one claimer at a time.
func (q *Q) LockFunction(id string) error {
	if err := q.d.lockKey(q.g, "inkflow-concurrency:"+id); err != nil {
		return fmt.Errorf("lock function %s: %w", id, err)
	}
	return nil
}

// Busy is a count of a function's limited runs executing under a live lease, per pair of
// concurrency keys, with the largest limits they carry.
type Busy struct {
	ConcurrencyKey    string
	ConcurrencyLimit  int
	ConcurrencyKey2   string `gorm:"column:concurrency_key2"`
	ConcurrencyLimit2 int    `gorm:"column:concurrency_limit2"`
	N                 int
}

// BusyKeys counts function fn's limited runs executing under a live lease at now, by their
// concurrency keys. A run sleeping or waiting holds no slot.
func (q *Q) BusyKeys(fn string, now int64) ([]Busy, error) {
	var busy []Busy
	if err := q.g.Raw(`SELECT concurrency_key, MAX(concurrency_limit) AS concurrency_limit, concurrency_key2,
		MAX(concurrency_limit2) AS concurrency_limit2, COUNT(*) AS n
		FROM runs WHERE function_id = ? AND limited = 1 AND status = 'running' AND lease_until >= ?
		GROUP BY concurrency_key, concurrency_key2`, fn, now).Scan(&busy).Error; err != nil {
		return nil, fmt.Errorf("count running runs of %s: %w", fn, err)
	}
	return busy, nil
}

// Starts is how many runs of a throttle key started within a window, and the first of them.
type Starts struct {
	ThrottleKey string
	N           int
	First       int64
}

// ThrottleStarts counts the starts since since (exclusive) of function fn's runs under each
// of the throttle keys.
func (q *Q) ThrottleStarts(fn string, keys []string, since int64) ([]Starts, error) {
	var out []Starts
	if err := q.g.Raw(`SELECT throttle_key, COUNT(*) AS n, MIN(started_at) AS first FROM runs
		WHERE function_id = ? AND throttle_limit > 0 AND throttle_key IN ? AND started_at > ? GROUP BY throttle_key`,
		fn, keys, since).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("count throttled starts of %s: %w", fn, err)
	}
	return out, nil
}

// Full lists the keys whose limits are used up, to leave their runs out of a claim's
// candidates (a saturated key must not crowd out idle ones).
type Full struct {
	Concurrency, Concurrency2, Throttle []string
}

// DueLimited returns up to limit due runs of function fn under flow control that c covers
// (their limits and keys only), earliest due first, leaving out the keys in full. It locks no
// row: the caller holds the function's lock (LockFunction), which every claimer of these runs
// takes, and LeaseRuns leases only runs still due (locking hundreds of candidates to lease a
// few cost PostgreSQL a heap write each).
func (q *Q) DueLimited(fn string, now int64, c Claimable, full Full, limit int) ([]Run, error) {
	sel := c.where(q.g.Select(`id, function_id, event_id, workflow_id, concurrency_key, concurrency_limit, concurrency_key2, concurrency_limit2,
		throttle_key, throttle_limit, throttle_period, started_at, due_at`).Where("function_id = ? AND limited = 1", fn), now)
	if len(full.Concurrency) > 0 {
		sel = sel.Where("NOT (concurrency_limit > 0 AND concurrency_key IN ?)", full.Concurrency)
	}
	if len(full.Concurrency2) > 0 {
		sel = sel.Where("NOT (concurrency_limit2 > 0 AND concurrency_key2 IN ?)", full.Concurrency2)
	}
	if len(full.Throttle) > 0 {
		sel = sel.Where("NOT (throttle_limit > 0 AND started_at IS NULL AND throttle_key IN ?)", full.Throttle)
	}
	var cands []Run
	if err := sel.Order("due_at").Limit(limit).Find(&cands).Error; err != nil {
		return nil, fmt.Errorf("find due runs of %s: %w", fn, err)
	}
	return cands, nil
}

// LeaseRuns leases the runs ids that are still due at now to owner until leaseUntil and
// returns them.
func (q *Q) LeaseRuns(ids []string, now, leaseUntil int64, owner string) ([]Run, error) {
	var runs []Run
	err := q.g.Raw(`UPDATE runs SET `+claimSet+` WHERE id IN ? AND status IN `+liveStatuses+`
		AND due_at <= ? AND lease_until < ? RETURNING *`, owner, leaseUntil, now, now, now, ids, now, now).Scan(&runs).Error
	if err != nil {
		return nil, fmt.Errorf("lease runs: %w", err)
	}
	return runs, nil
}

// PastDeadline returns up to limit live runs whose deadline (a start or finish timeout) is
// at or before now, earliest first.
func (q *Q) PastDeadline(now int64, limit int) ([]string, error) {
	var ids []string
	if err := q.g.Table("runs").Where("deadline_at IS NOT NULL AND deadline_at <= ? AND status IN "+liveStatuses, now).
		Order("deadline_at").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("find runs past their deadline: %w", err)
	}
	return ids, nil
}

// RecordNeeds stores the items of needs hash (idempotent).
func (q *Q) RecordNeeds(hash string, items []string) error {
	for _, it := range items {
		if err := q.g.Exec(`INSERT INTO run_needs (hash, item) VALUES (?, ?) ON CONFLICT DO NOTHING`, hash, it).Error; err != nil {
			return fmt.Errorf("record run needs: %w", err)
		}
	}
	return nil
}

// HasNeeds reports whether needs hash is stored.
func (q *Q) HasNeeds(hash string) (bool, error) {
	var n int64
	if err := q.g.Table("run_needs").Where("hash = ?", hash).Count(&n).Error; err != nil {
		return false, fmt.Errorf("find run needs: %w", err)
	}
	return n > 0, nil
}

// Needs returns the items of needs hash.
func (q *Q) Needs(hash string) ([]string, error) {
	var items []string
	if err := q.g.Table("run_needs").Where("hash = ?", hash).Order("item").Pluck("item", &items).Error; err != nil {
		return nil, fmt.Errorf("read run needs: %w", err)
	}
	return items, nil
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
