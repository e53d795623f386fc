package store

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// postgres is the shared dialect: workers in many processes take runs with FOR UPDATE SKIP
// LOCKED, order deliveries with advisory locks and wake each other with LISTEN/NOTIFY.
type postgres struct{}

func (postgres) name() string   { return "postgres" }
func (postgres) rowLocks() bool { return true }

func (postgres) forUpdate(q *gorm.DB) *gorm.DB {
	return q.Clauses(clause.Locking{Strength: "UPDATE"})
}

func (postgres) skipLocked(q *gorm.DB) *gorm.DB {
	return q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
}

func (postgres) forShare(q *gorm.DB) *gorm.DB {
	return q.Clauses(clause.Locking{Strength: "SHARE"})
}

func (postgres) lockKey(tx *gorm.DB, key string) error {
	return tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(?))`, key).Error
}

func (postgres) lockEventNames(tx *gorm.DB, sorted []string, exclusive bool) error {
	fn := "pg_advisory_xact_lock_shared"
	if exclusive {
		fn = "pg_advisory_xact_lock"
	}
	values := make([]string, len(sorted))
	args := make([]any, len(sorted))
	for i, n := range sorted {
		values[i] = "(?)"
		args[i] = "inkflow-event:" + n
	}
	return tx.Exec("SELECT "+fn+"(hashtext(n)) FROM (VALUES "+strings.Join(values, ", ")+") AS t(n) ORDER BY n", args...).Error
}

func (postgres) notify(tx *gorm.DB, channel string) error {
	return tx.Exec(`SELECT pg_notify(?, '')`, channel).Error
}

func (postgres) listen(ctx context.Context, url, channel string, wake func()) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	wake() // anything sent while we were not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		wake()
	}
}

// retryable: PostgreSQL aborted the transaction for a deadlock (40P01) or a serialization
// failure (40001): running it again is safe.
func (postgres) retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

func (postgres) now(g *gorm.DB) (int64, error) {
	var v int64
	err := g.Raw(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint`).Scan(&v).Error
	return v, err
}

// permanent: class 22 (bad text or value) or 54 (a value over a limit, such as an index
// entry too large).
func (postgres) permanent(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "54"))
}

func (postgres) nextWaitSeq(g *gorm.DB) (int64, error) {
	var n int64
	err := g.Raw(`SELECT nextval('wait_seq')`).Scan(&n).Error
	return n, err
}
