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
		for _, path := range leafPaths(stored, "") {
			got, ok1 := matchValue(p.m, path)
			want, ok2 := matchValue(stored, path)
			if ok1 != ok2 || got != want {
				t.Fatalf("path %s: the event map says %s, the stored JSON says %s", path, got, want)
			}
		}
	})
}

// leafPaths lists the dotted paths of the scalar values in m (the paths a wait can match on).
func leafPaths(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		switch t := v.(type) {
		case map[string]any:
			out = append(out, leafPaths(t, path)...)
		case []any:
		default:
			out = append(out, path)
		}
	}
	return out
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
