package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// ErrNotFound is returned by the methods that read one row when there is none.
var ErrNotFound = errors.New("not found")

// ErrLockOrder is a transaction asking for a lock out of the lock order (a bug).
var ErrLockOrder = errors.New("lock order")

// Store is the engine's storage: a database (PostgreSQL or SQLite) and its dialect.
type Store struct {
	db *gorm.DB
	d  dialect
}

// New returns the store over db (migrated).
func New(db *gorm.DB) *Store {
	var d dialect = sqlite{}
	if db.Dialector.Name() == "postgres" {
		d = postgres{}
	}
	return &Store{db: db, d: d}
}

// Postgres reports whether the store is on PostgreSQL: several workers may share it, row
// locks matter and LISTEN/NOTIFY wakes workers.
func (s *Store) Postgres() bool { return s.d.name() == "postgres" }

// Q returns a handle that runs each statement on its own (no transaction).
func (s *Store) Q(ctx context.Context) *Q { return &Q{g: s.db.WithContext(ctx), d: s.d} }

// Tx runs fn in a transaction of its own.
func (s *Store) Tx(ctx context.Context, fn func(q *Q) error) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return fn(&Q{g: tx, d: s.d, tx: true}) })
}

// Conn is a transaction the caller opened, as database/sql runs statements: a *sql.Tx, or
// gorm's tx.Statement.ConnPool inside db.Transaction (the same four methods as gorm.ConnPool).
// The engine writes into it with SendTx, so that a change and the events it sends commit
// together or not at all.
type Conn interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// In returns a handle on the caller's open transaction conn.
func (s *Store) In(ctx context.Context, conn Conn) *Q {
	g := s.db.Session(&gorm.Session{NewDB: true, Context: ctx})
	g.Statement.ConnPool = conn
	return &Q{g: g, d: s.d, tx: true}
}

// Retryable reports whether err is the database aborting a transaction that can simply be
// run again (a deadlock or a serialization failure on PostgreSQL).
func (s *Store) Retryable(err error) bool { return s.d.retryable(err) }

// Permanent reports whether the database refused a write for the data itself (bad text, a
// value over one of its limits), which no retry can fix.
func (s *Store) Permanent(err error) bool { return s.d.permanent(err) }

// Now reads the database's clock (Unix ms).
func (q *Q) Now() (int64, error) {
	v, err := q.d.now(q.g)
	if err != nil {
		return 0, fmt.Errorf("read the database's clock: %w", err)
	}
	return v, nil
}

// Listen calls wake for every notification on channel until ctx ends or the connection
// drops (PostgreSQL; elsewhere it returns at once). It calls wake once when listening begins.
func (s *Store) Listen(ctx context.Context, url, channel string, wake func()) error {
	return s.d.listen(ctx, url, channel, wake)
}

// Q runs the engine's statements, each method one statement (or one multi-row statement
// split to fit the drivers' parameter limits), on the pool or inside one transaction.
//
// Lock order: writers that touch several rows lock event names first (LockEventNames), then
// runs in id order (LockRuns), then the runs' waits and steps. Q enforces the first half for
// the lock that can close a circle: a transaction that has locked runs cannot take an
// exclusive event-name lock (a wait registering). A shared one it may: a run's end announces
// itself (EventRunFailed, EventRunCancelled) from inside deliveries and cancellations.
type Q struct {
	g  *gorm.DB
	d  dialect
	tx bool
	// runsLocked is set once the transaction holds run row locks.
	runsLocked bool
}

// Conn is the handle's connection: inside a transaction, the transaction.
func (q *Q) Conn() Conn { return q.g.Statement.ConnPool }

// LockEventNames serialises wait registration against event delivery for the same names on
// PostgreSQL: senders take a shared lock, a registering wait an exclusive one, so a wait never
// misses an event committed while it was being stored. Names are locked in one order for
// everyone, so two lockers never deadlock.
func (q *Q) LockEventNames(names []string, exclusive bool) error {
	if len(names) == 0 {
		return nil
	}
	if exclusive && q.runsLocked {
		return fmt.Errorf("%w: event names %v after runs", ErrLockOrder, names)
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	if err := q.d.lockEventNames(q.g, sorted, exclusive); err != nil {
		return fmt.Errorf("lock event names %v: %w", names, err)
	}
	return nil
}

// LockRuns takes the row locks of runs in id order (PostgreSQL): every transaction that
// changes several runs, or a run and its waits or steps, locks the runs first and in this
// order, so two of them never wait on each other in a circle.
func (q *Q) LockRuns(ids []string) error {
	q.runsLocked = q.tx && len(ids) > 0
	if len(ids) == 0 || !q.d.rowLocks() {
		return nil
	}
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	var got []string
	if err := q.d.forUpdate(q.g.Table("runs").Where("id IN ?", sorted).Order("id")).Pluck("id", &got).Error; err != nil {
		return fmt.Errorf("lock runs: %w", err)
	}
	return nil
}

// Notify tells other processes at commit that runs are due (PostgreSQL only).
func (q *Q) Notify(channel string) error {
	if err := q.d.notify(q.g, channel); err != nil {
		return fmt.Errorf("notify workers: %w", err)
	}
	return nil
}

// insertRows writes n rows with multi-row INSERT statements, without per-row reflection: the
// send path stores thousands of rows a second. Statements stay under the drivers' parameter
// limits.
func insertRows(g *gorm.DB, table string, cols []string, n int, row func(i int) []any) error {
	if n == 0 {
		return nil
	}
	perStmt := max(1, 30000/len(cols))
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	for start := 0; start < n; start += perStmt {
		end := min(n, start+perStmt)
		var sql strings.Builder
		sql.WriteString(head)
		args := make([]any, 0, (end-start)*len(cols))
		for i := start; i < end; i++ {
			if i > start {
				sql.WriteString(", ")
			}
			sql.WriteString(one)
			args = append(args, row(i)...)
		}
		if err := g.Exec(sql.String(), args...).Error; err != nil {
			return err
		}
	}
	return nil
}
