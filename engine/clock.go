package engine

import (
	"context"
	"time"
)

// maxLookbackTolerance bounds lookbackTolerance whatever the measured round trips.
const maxLookbackTolerance = 100 * time.Millisecond

// lookbackTolerance widens a wait's look-back to cover what the clock correction cannot: the
// error of each instance's measured offset from the database (at most half the round trip of
// its measurement, counted twice: the sender's and this one's) and the millisecond rounding
// of stored times. An event received up to this long before the run's previous step began
// counts too.
func (e *Engine) lookbackTolerance() time.Duration {
	return min(maxLookbackTolerance, time.Duration(e.clockErr.Load())*2+2*time.Millisecond)
}

// syncClock measures how far the database's clock is from this process's and corrects the
// engine's clock by that much, so that leases, due times and event receipt times written by
// instances with skewed clocks compare as if there were one clock. An injected Options.Now is
// left as it is (tests move it by hand).
func (e *Engine) syncClock(ctx context.Context) error {
	if e.procNow == nil {
		return nil
	}
	if !e.pg {
		// SQLite runs in this process and reads this host's clock: the offset is exact (and
		// zero unless a test skews procNow).
		e.offset.Store(int64(time.Since(e.procNow())))
		e.clockErr.Store(0)
		return nil
	}
	// The sample with the shortest round trip bounds the error best.
	best := time.Duration(-1)
	for range 3 {
		before := e.procNow()
		dbMS, err := e.st.Q(ctx).Now()
		if err != nil {
			return err
		}
		after := e.procNow()
		if rtt := after.Sub(before); best < 0 || rtt < best {
			best = rtt
			e.offset.Store(int64(significantOffset(time.UnixMilli(dbMS).Sub(before.Add(rtt/2)), rtt/2)))
		}
	}
	e.clockErr.Store(int64(best/2) + int64(time.Millisecond))
	return nil
}

// significantOffset is the measured offset, or 0 when it is within the measurement's error
// (half the round trip, plus the millisecond the database's answer was rounded to). Instances
// on one machine, or with synchronised clocks, then keep exactly the database's time instead
// of a noisy estimate of it that jumps at every heartbeat: a time stamped a little early would
// make an effect seem to happen after the step that caused it had ended.
func significantOffset(offset, halfRoundTrip time.Duration) time.Duration {
	if offset.Abs() <= halfRoundTrip+time.Millisecond {
		return 0
	}
	return offset
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
