// Package testwait waits in tests for a condition to hold, without fixed deadlines: a wait
// lasts until shortly before the test's own deadline (go test -timeout, t.Deadline()), so a
// loaded machine or -race makes a test slower, never red. engine/enginetest builds on it; the
// engine's internal tests, which cannot import enginetest, use it directly.
package testwait

import (
	"testing"
	"time"
)

// Poll is how often For looks again.
const Poll = 20 * time.Millisecond

// For waits until cond holds, looking every Poll, and fails the test (saying what it waited
// for, and detail's words when given) when Deadline passes.
func For(t testing.TB, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	end := Deadline(t)
	for !cond() {
		if time.Now().After(end) {
			msg := "gave up waiting for " + what
			for _, d := range detail {
				msg += ": " + d()
			}
			t.Fatal(msg)
		}
		time.Sleep(Poll)
	}
}

// Deadline is when a wait gives up: shortly before the test's deadline, leaving time for the
// failure to be reported and cleanups to run (a tenth of what is left, at most 30 s), or in
// ten minutes when the test has no deadline (go test -timeout 0).
func Deadline(t testing.TB) time.Time {
	d, ok := t.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return time.Now().Add(10 * time.Minute)
	}
	end, has := d.Deadline()
	if !has {
		return time.Now().Add(10 * time.Minute)
	}
	return end.Add(-min(time.Until(end)/10, 30*time.Second))
}
