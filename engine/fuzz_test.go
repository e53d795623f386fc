package engine

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for what reaches the engine from outside. Run one with e.g.
// go test ./engine -run '^$' -fuzz FuzzPrepareEvent -fuzztime 30s
// Without -fuzz they run their seeds as ordinary tests.

func FuzzPrepareEvent(f *testing.F) {
	for _, s := range []string{
		`{"name":"blog-post.updated","data":{"id":42}}`,
		`{"name":"","data":{}}`,
		`{"name":"x","data":{"a":[1,{"b":null}],"c":1e308},"user":{"email":"a@b"},"ts":-1}`,
		`{"name":"x","id":"dup","v":"2023-01-01.1"}`,
		`{"name":"` + strings.Repeat("n", 300) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ev Event
		if json.Unmarshal(raw, &ev) != nil {
			return
		}
		p, err := prepare(ev, time.Now().UnixMilli())
		if err != nil {
			if ErrorCode(err) == EInternal && !strings.Contains(err.Error(), "JSON") {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		// What the engine will match on must agree with what it stores.
		var stored map[string]any
		if err := json.Unmarshal([]byte(p.payload), &stored); err != nil {
			t.Fatalf("stored payload is not JSON: %v", err)
		}
		for _, pr := range matchPairs(p.m) {
			if v, ok := matchValue(stored, pr[0]); !ok || v != pr[1] {
				t.Fatalf("path %s: map says %s, stored JSON says %s", pr[0], pr[1], v)
			}
		}
	})
}

func FuzzCron(f *testing.F) {
	for _, s := range []string{"* * * * *", "TZ=Europe/Lisbon 0 4 * * *", "@weekly", "*/0 * * * *", "TZ= 1 2 3 4 5", "61 * * * *", "CRON_TZ=Asia/Tokyo 0 0 1 1 *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseCron(spec)
		if err != nil {
			if ErrorCode(err) != EInvalid {
				t.Fatalf("cron %q: error without a code: %v", spec, err)
			}
			return
		}
		s.Next(time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC)) // must not hang or panic
	})
}

func FuzzCELExpression(f *testing.F) {
	for _, s := range []string{`event.data.id == async.data.id`, `event.data.n > 1`, `size(event.data) > 0 && `, `"a" + 1`, `event.data.x.y.z`, `[1,2,3].map(x, x * 2)[0] == 2`} {
		f.Add(s)
	}
	x, err := newExprs()
	if err != nil {
		f.Fatal(err)
	}
	ev := eventMap(Event{Name: "a", Data: map[string]any{"id": 1, "n": 2.5, "s": "x"}})
	f.Fuzz(func(t *testing.T, src string) {
		if _, err := x.compile(src); err != nil {
			if ErrorCode(err) != EInvalid {
				t.Fatalf("expression %q: error without a code: %v", src, err)
			}
			return
		}
		x.holds(src, ev, ev) // evaluation errors are false, never a panic
	})
}
