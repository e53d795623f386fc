package store

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// StaleWaitNames returns up to limit event names that have a wait_paths row no wait uses
// any more (read without locks: DeleteStaleWaitPaths checks again under one).
func (q *Q) StaleWaitNames(limit int) ([]string, error) {
	var names []string
	err := q.g.Raw(`SELECT DISTINCT p.event_name FROM wait_paths p
		WHERE NOT EXISTS (SELECT 1 FROM waits w WHERE w.event_name = p.event_name AND w.match_path = p.match_path)
		ORDER BY p.event_name LIMIT ?`, limit).Scan(&names).Error
	if err != nil {
		return nil, fmt.Errorf("find unused wait paths: %w", err)
	}
	return names, nil
}

// ErrBusy is DeleteStaleWaitPaths giving up on its lock: the transaction is spoiled, nothing
// was done, and the next clean-up tries again.
var ErrBusy = errors.New("wait paths are busy")

// DeleteStaleWaitPaths deletes the wait_paths rows of names that no wait uses, and returns
// how many; ErrBusy when registrations held the table past a short lock timeout. It must run
// in a transaction.
//
// A wait registers its path in its own transaction with ON CONFLICT DO NOTHING, which locks
// nothing when the row is there: without a lock a clean-up could delete the row while that
// wait commits, and sends would then never look its path up. On PostgreSQL the table is
// locked EXCLUSIVE first (plain reads go on; inserts wait): a registration that already wrote
// commits before the lock is granted and its wait is seen, one that comes later inserts the
// row again. SQLite's transactions are serial anyway.
func (q *Q) DeleteStaleWaitPaths(names []string) (int64, error) {
	if len(names) == 0 {
		return 0, nil
	}
	if !q.tx {
		return 0, errors.New("DeleteStaleWaitPaths needs a transaction")
	}
	if q.d.rowLocks() {
		if err := q.g.Exec(`SET LOCAL lock_timeout = '500ms'`).Error; err != nil {
			return 0, fmt.Errorf("set lock timeout: %w", err)
		}
		if err := q.g.Exec(`LOCK TABLE wait_paths IN EXCLUSIVE MODE`).Error; err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "55P03" {
				return 0, ErrBusy
			}
			return 0, fmt.Errorf("lock wait paths: %w", err)
		}
	}
	res := q.g.Exec(`DELETE FROM wait_paths WHERE event_name IN ?
		AND NOT EXISTS (SELECT 1 FROM waits w WHERE w.event_name = wait_paths.event_name AND w.match_path = wait_paths.match_path)`, names)
	if res.Error != nil {
		return 0, fmt.Errorf("delete unused wait paths: %w", res.Error)
	}
	return res.RowsAffected, nil
}
