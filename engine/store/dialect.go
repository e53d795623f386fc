package store

import (
	"context"

	"gorm.io/gorm"
)

// dialect is what differs between PostgreSQL (postgres.go) and SQLite (sqlite.go). SQLite
// runs one connection in one process, so its locks are no-ops: its transactions are serial.
type dialect interface {
	name() string
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
}
