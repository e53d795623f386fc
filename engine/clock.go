package engine

import (
	"context"
	"time"
)

// lookbackTolerance widens a wait's look-back to cover what the clock correction cannot: the
// error of each instance's measured offset from the database (half a round trip) and the
// millisecond rounding of stored times. An event received up to this long before the run's
// previous step began counts too.
const lookbackTolerance = 100 * time.Millisecond

// syncClock measures how far the database's clock is from this process's and corrects the
// engine's clock by that much, so that leases, due times and event receipt times written by
// instances with skewed clocks compare as if there were one clock. An injected Options.Now is
// left as it is (tests move it by hand).
func (e *Engine) syncClock(ctx context.Context) error {
	if e.procNow == nil {
		return nil
	}
	before := e.procNow()
	dbMS, err := e.st.Q(ctx).Now()
	if err != nil {
		return err
	}
	after := e.procNow()
	mid := before.Add(after.Sub(before) / 2)
	e.offset.Store(int64(time.UnixMilli(dbMS).Sub(mid)))
	return nil
}

// dbClockNow is the process's clock corrected by the last measured offset.
func (e *Engine) dbClockNow() time.Time {
	return e.procNow().Add(time.Duration(e.offset.Load())).UTC()
}

// idClock is the clock that stamps new ids (UUIDv7 takes this process's time), for code that
// turns a window of time into a range of ids.
func (e *Engine) idClock() time.Time {
	if e.procNow != nil {
		return time.Now()
	}
	return e.now()
}
