package workflow

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzRefPath feeds arbitrary text to the "!ref($.path)" parser and resolver. Parsing may
// refuse but never panics; every ref it accepts is the exact text between its offsets and
// parses again to the same path; resolving against a scope with objects, arrays and scalars
// never panics, and a pure ref resolves to a JSON-encodable value.
// Seeds: below plus testdata/fuzz/FuzzRefPath.
func FuzzRefPath(f *testing.F) {
	for _, s := range []string{
		"!ref($.event.data.id)", "!ref($.state.grammar.markdown)", "!ref($.output)",
		"Hello !ref($.event.data.name), you have !ref($.state.count) posts",
		"!ref($.event.data.items[0].title)", "!ref($.event.data['a key'])", `!ref($.event.data["x"])`,
		"!ref($.event.data.items[-1])", "!ref($.event.data.items[99999999999999999999])",
		"!ref($)", "!ref(", "!ref($.)", "!ref($.a", "!ref($.a[)", "!ref($.a[']')", "!ref($.a)!ref($.b)",
		"!ref(!ref($.a))", "no refs at all", "",
	} {
		f.Add(s)
	}
	sc := scope{
		"event": map[string]any{"name": "blog-post.updated", "data": map[string]any{
			"id": float64(42), "name": "Ann", "a key": true, "items": []any{map[string]any{"title": "t"}, nil, "x"},
		}},
		"state":  map[string]any{"grammar": map[string]any{"markdown": "# hi"}, "count": float64(3)},
		"output": []any{float64(1), "two"},
	}
	f.Fuzz(func(t *testing.T, s string) {
		spans, err := findRefs(s)
		if err == nil {
			for _, sp := range spans {
				if sp.start < 0 || sp.end > len(s) || sp.start >= sp.end || s[sp.start:sp.end] != sp.Text {
					t.Fatalf("span [%d,%d) %q does not match the text %q", sp.start, sp.end, sp.Text, s)
				}
				again, ok := pureRef(sp.Text)
				if !ok || !reflect.DeepEqual(again.Path, sp.Path) {
					t.Fatalf("ref %q parses to %v, then %v (ok %v)", sp.Text, sp.Path, again.Path, ok)
				}
			}
		}
		v, ierr := interpolate(s, sc)
		if (ierr == nil) != (err == nil) {
			t.Fatalf("findRefs error %v but interpolate error %v for %q", err, ierr, s)
		}
		if ierr != nil {
			return
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatalf("resolved %q to %#v, not JSON: %v", s, v, err)
		}
		if _, ok := pureRef(s); !ok && len(spans) > 0 {
			if _, isText := v.(string); !isText {
				t.Fatalf("text with refs %q resolved to a %T", s, v)
			}
		}
	})
}
