package store

import (
	"context"

	"gorm.io/gorm"
)

// dialect is what differs between PostgreSQL (postgres.go) and SQLite (sqlite.go). SQLite
// runs one connection in one process, so its locks are no-ops: its transactions are serial.
type dialect interface {
	name() string
	// rowLocks: other connections may hold rows, so row locks are worth taking.
	rowLocks() bool
	// forUpdate, skipLocked and forShare add row locking to a SELECT.
	forUpdate(q *gorm.DB) *gorm.DB
	skipLocked(q *gorm.DB) *gorm.DB
	forShare(q *gorm.DB) *gorm.DB
	// lockKey takes a transaction-scoped lock on a name.
	lockKey(tx *gorm.DB, key string) error
	// lockEventNames takes shared or exclusive transaction locks on sorted event names.
	lockEventNames(tx *gorm.DB, sorted []string, exclusive bool) error
	notify(tx *gorm.DB, channel string) error
	listen(ctx context.Context, url, channel string, wake func()) error
	retryable(err error) bool
	// nextWaitSeq draws the next number of the wait order.
	nextWaitSeq(g *gorm.DB) (int64, error)
	// now reads the database's clock, in Unix ms.
	now(g *gorm.DB) (int64, error)
	// permanent reports whether the database refused a write for the data itself (bad text,
	// a value over one of its limits): trying again would fail the same way.
	permanent(err error) bool
}
