package workflow

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxDuration bounds durations in inputs (sleeps, timeouts): about ten years.
const MaxDuration = 10 * 365 * 24 * time.Hour

var durationUnits = map[string]time.Duration{
	"ns": time.Nanosecond,
	"us": time.Microsecond,
	"µs": time.Microsecond,
	"ms": time.Millisecond,
	"s":  time.Second,
	"m":  time.Minute,
	"h":  time.Hour,
	"d":  24 * time.Hour,
	"w":  7 * 24 * time.Hour,
}

// ParseDuration parses Go and Inngest style durations: a sequence of numbers with units ns,
// us, ms, s, m, h, d (24h) and w (7d), as in "90s", "1h30m", "7d", "1.5h". It refuses a bare
// number, a negative or zero duration, and anything over MaxDuration.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration")
	}
	var total float64
	rest := in
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("duration %q: expected a number at %q", s, rest)
		}
		n, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: bad number %q", s, rest[:i])
		}
		j := i
		for j < len(rest) && !(rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		unit, ok := durationUnits[rest[i:j]]
		if !ok {
			return 0, fmt.Errorf("duration %q: unit %q is not one of ms, s, m, h, d, w", s, rest[i:j])
		}
		total += n * float64(unit)
		if total > float64(MaxDuration) {
			return 0, fmt.Errorf("duration %q is longer than 10 years", s)
		}
		rest = rest[j:]
	}
	if total < 1 {
		return 0, fmt.Errorf("duration %q must be positive", s)
	}
	return time.Duration(total), nil
}
