package web

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"

	"gorm.io/gorm"
)

// loginWindow is the period over which failed sign-ins are counted.
const loginWindow = 15 * time.Minute

// rateLimiter counts failures per key (IP, email) in a sliding window. The counts live in
// the database (login_failures), so the limit holds for all instances together: an attacker
// gets no more tries by spreading them over the cluster.
type rateLimiter struct {
	db     *gorm.DB
	log    *slog.Logger
	scope  string // "login" or "reset": each limiter counts its own failures
	max    int
	window time.Duration
	now    func() time.Time
}

func newRateLimiter(db *gorm.DB, log *slog.Logger, scope string, max int, window time.Duration) *rateLimiter {
	return &rateLimiter{db: db, log: log, scope: scope, max: max, window: window, now: time.Now}
}

func (l *rateLimiter) key(k string) string {
	sum := sha256.Sum256([]byte(l.scope + "\x00" + k))
	return hex.EncodeToString(sum[:])
}

// Allowed reports whether key may try again, and if not, when it may. If the database cannot
// answer, the try is allowed (and logged): sign-in must not depend on the counter.
func (l *rateLimiter) Allowed(key string) (bool, time.Duration) {
	var got struct {
		N     int64
		First *int64
	}
	cut := l.now().Add(-l.window).UnixMilli()
	err := l.db.Raw(`SELECT COUNT(*) AS n, MIN(at) AS first FROM login_failures WHERE key_hash = ? AND at > ?`, l.key(key), cut).Scan(&got).Error
	if err != nil {
		l.log.Error("read sign-in failures", "err", err)
		return true, 0
	}
	if got.N < int64(l.max) || got.First == nil {
		return true, 0
	}
	return false, time.UnixMilli(*got.First).Add(l.window).Sub(l.now())
}

// Fail records a failed attempt for key, and drops this key's attempts older than the window.
func (l *rateLimiter) Fail(key string) {
	k, now := l.key(key), l.now()
	err := l.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM login_failures WHERE key_hash = ? AND at <= ?`, k, now.Add(-l.window).UnixMilli()).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO login_failures (key_hash, at) VALUES (?, ?)`, k, now.UnixMilli()).Error
	})
	if err != nil {
		l.log.Error("record sign-in failure", "err", err)
	}
}

// Reset forgets key's failures (after a successful sign-in).
func (l *rateLimiter) Reset(key string) {
	if err := l.db.Exec(`DELETE FROM login_failures WHERE key_hash = ?`, l.key(key)).Error; err != nil {
		l.log.Error("reset sign-in failures", "err", err)
	}
}
