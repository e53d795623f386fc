package engine

import (
	"encoding/json"
	"reflect"
	"testing"
)

// eventMap must see an event exactly as its stored JSON decodes, or a wait registered from a
// Go-built event would never match the same event read back from storage.
func TestEventMapMatchesStoredJSON(t *testing.T) {
	type custom struct {
		A int    `json:"a"`
		B string `json:"b,omitempty"`
	}
	events := []Event{
		{ID: "1", Name: "n", Data: map[string]any{"id": 42, "i64": int64(-7), "f": 1.5, "s": "x", "b": true, "nil": nil}, TS: 1700000000000},
		{ID: "2", Name: "n", Data: map[string]any{"nested": map[string]any{"list": []any{1, "two", 3.0}, "strs": []string{"a"}}}, User: map[string]any{"email": "a@b"}},
		{ID: "3", Name: "n", Data: map[string]any{"struct": custom{A: 1}, "num": json.Number("12.5"), "u": uint(9), "f32": float32(0.5)}, V: "2"},
		{ID: "4", Name: "n"},
	}
	for _, ev := range events {
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]any
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if want["data"] == nil {
			want["data"] = map[string]any{}
		}
		if got := eventMap(ev); !reflect.DeepEqual(got, want) {
			t.Errorf("event %s:\n got %#v\nwant %#v", ev.ID, got, want)
		}
	}
}
