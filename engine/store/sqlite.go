package store

import (
	"context"

	"gorm.io/gorm"
)

// sqlite is the single-process dialect: one connection serialises every transaction, so row
// and advisory locks are not needed, and workers are woken in process.
type sqlite struct{}

func (sqlite) rowLocks() bool                                       { return false }
func (sqlite) name() string                                         { return "sqlite" }
func (sqlite) forUpdate(q *gorm.DB) *gorm.DB                        { return q }
func (sqlite) skipLocked(q *gorm.DB) *gorm.DB                       { return q }
func (sqlite) forShare(q *gorm.DB) *gorm.DB                         { return q }
func (sqlite) lockKey(*gorm.DB, string) error                       { return nil }
func (sqlite) lockEventNames(*gorm.DB, []string, bool) error        { return nil }
func (sqlite) notify(*gorm.DB, string) error                        { return nil }
func (sqlite) listen(context.Context, string, string, func()) error { return nil }
func (sqlite) retryable(error) bool                                 { return false }

func (sqlite) now(g *gorm.DB) (int64, error) {
	var v int64
	err := g.Raw(`SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)`).Scan(&v).Error
	return v, err
}

func (sqlite) permanent(error) bool { return false }

func (sqlite) nextWaitSeq(g *gorm.DB) (int64, error) {
	var n int64
	err := g.Raw(`UPDATE wait_seq SET n = n + 1 RETURNING n`).Scan(&n).Error
	return n, err
}
