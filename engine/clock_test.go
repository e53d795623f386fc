package engine

import (
	"testing"
	"time"
)

// An offset the measurement cannot tell from zero is taken as zero; a larger one is kept.
func TestSignificantOffset(t *testing.T) {
	for _, c := range []struct {
		offset, half, want time.Duration
	}{
		{0, 0, 0},
		{-3 * time.Millisecond, 5 * time.Millisecond, 0},
		{6 * time.Millisecond, 5 * time.Millisecond, 0},
		{-7 * time.Millisecond, 5 * time.Millisecond, -7 * time.Millisecond},
		{time.Hour, 20 * time.Millisecond, time.Hour},
		{-time.Minute, 0, -time.Minute},
	} {
		if got := significantOffset(c.offset, c.half); got != c.want {
			t.Errorf("significantOffset(%v, %v) = %v, want %v", c.offset, c.half, got, c.want)
		}
	}
}
