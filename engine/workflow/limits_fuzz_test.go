package workflow

import (
	"encoding/json"
	"testing"
)

// FuzzJSONLogic: any JSON as a builtin:if condition is refused or evaluated, never a panic,
// and evaluation of what checkLogic accepts ends.
func FuzzJSONLogic(f *testing.F) {
	for _, s := range []string{`{"==":[1,1]}`, `{"and":[true,{"var":"event.data.x"}]}`, `{"in":["a",["a","b"]]}`,
		`{"if":[false,1,{"%":[7,0]}]}`, `{"nope":1}`, `[[[[{"!":[[]]}]]]]`, `{"var":""}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var c any
		if json.Unmarshal(raw, &c) != nil || checkLogic(c) != nil {
			return
		}
		_, _ = applyLogic(c, map[string]any{RootEvent: map[string]any{"data": map[string]any{"x": 1.0}}, RootState: map[string]any{}})
	})
}

// FuzzDuration: a workflow duration parses or is refused, never a panic or a negative span.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"1h", "30m", "7d", "1w", "2h30m", "-1s", "9999999999999d", "1.5h", "", "P1D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDuration(s); err == nil && d < 0 {
			t.Fatalf("ParseDuration(%q) = %s", s, d)
		}
	})
}
