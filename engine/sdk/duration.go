package sdk

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// units are the duration units the SDKs write, longest names first so "ms" wins over "m".
var units = []struct {
	name string
	d    time.Duration
}{
	{"ns", time.Nanosecond}, {"us", time.Microsecond}, {"µs", time.Microsecond}, {"ms", time.Millisecond},
	{"w", 7 * 24 * time.Hour}, {"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second},
}

// ParseDuration reads a duration as the SDKs write it: a sequence of numbers with units
// (ns, us, ms, s, m, h, d, w), fractions allowed: "2s", "1d", "2h30m10s", "1.5h", "500ms".
func ParseDuration(s string) (time.Duration, error) {
	in := s
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("duration is empty")
	}
	var total float64
	for s != "" {
		i := 0
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("duration %q: expected a number at %q", in, s)
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0, fmt.Errorf("duration %q: %q is not a number", in, s[:i])
		}
		s = s[i:]
		matched := false
		for _, u := range units {
			if strings.HasPrefix(s, u.name) {
				total += n * float64(u.d)
				s = s[len(u.name):]
				matched = true
				break
			}
		}
		if !matched {
			return 0, fmt.Errorf("duration %q: a unit (s, m, h, d, w, ms) must follow each number", in)
		}
	}
	if total > float64(1<<62) {
		return 0, fmt.Errorf("duration %q is too long", in)
	}
	return time.Duration(total), nil
}

// ParseDurationOrDate reads a sleep's end: a duration from now, or an RFC 3339 date (what
// sleepUntil sends).
func ParseDurationOrDate(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s)); err == nil {
		return t, nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return time.Time{}, err
	}
	return now.Add(d), nil
}
