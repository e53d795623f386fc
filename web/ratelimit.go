package web

import (
	"sync"
	"time"
)

// loginWindow is the period over which failed sign-ins are counted.
const loginWindow = 15 * time.Minute

// rateLimiter counts failures per key (IP, email) in a sliding window. It lives in memory:
// with several instances an attacker gets a few more tries per instance, which is fine for
// slowing down password guessing.
type rateLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
	now    func() time.Time
}

func newRateLimiter(max int, window time.Duration) *rateLimiter {
	return &rateLimiter{max: max, window: window, fails: map[string][]time.Time{}, now: time.Now}
}

// Allowed reports whether key may try again, and if not, when it may.
func (l *rateLimiter) Allowed(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := l.recent(key)
	if len(ts) < l.max {
		return true, 0
	}
	return false, ts[0].Add(l.window).Sub(l.now())
}

// Fail records a failed attempt for key.
func (l *rateLimiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fails[key] = append(l.recent(key), l.now())
	if len(l.fails) > 100_000 { // bound memory under a spray of keys
		l.fails = map[string][]time.Time{}
	}
}

// Reset forgets key's failures (after a successful sign-in).
func (l *rateLimiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.fails, key)
}

func (l *rateLimiter) recent(key string) []time.Time {
	cut := l.now().Add(-l.window)
	ts := l.fails[key]
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
	}
	return ts
}
