package workflow

import (
	"reflect"
	"testing"

	"github.com/inkflow/inkflow/engine"
)

// walkCases are shared by the in-memory planner test here and the engine test in
// runner_test.go, which runs them as real durable runs.
var walkCases = []struct {
	name    string
	json    string
	data    map[string]any
	state   map[string]any
	skipped []string
	batches [][]string // in-memory only: which actions started together, sorted
}{
	{
		name:    "linear chain",
		json:    `{"actions":[{"id":"a","kind":"echo","inputs":{"value":1}},{"id":"b","kind":"echo","inputs":{"value":2}},{"id":"c","kind":"echo","inputs":{"value":3}}],"edges":[{"from":"$source","to":"a"},{"from":"a","to":"b"},{"from":"b","to":"c"}]}`,
		state:   map[string]any{"a": 1.0, "b": 2.0, "c": 3.0},
		batches: [][]string{{"a"}, {"b"}, {"c"}},
	},
	{
		name: "diamond runs branches together then joins once",
		json: `{"actions":[{"id":"a","kind":"echo","inputs":{"value":"a"}},{"id":"b","kind":"echo","inputs":{"text":"b after !ref($.state.a)"}},{"id":"c","kind":"echo","inputs":{"text":"c after !ref($.state.a)"}},
			{"id":"d","kind":"echo","inputs":{"value":["!ref($.state.b)","!ref($.state.c)"]}}],
			"edges":[{"from":"$source","to":"a"},{"from":"a","to":"b"},{"from":"a","to":"c"},{"from":"b","to":"d"},{"from":"c","to":"d"}]}`,
		state:   map[string]any{"a": "a", "b": "b after a", "c": "c after a", "d": []any{"b after a", "c after a"}},
		batches: [][]string{{"a"}, {"b", "c"}, {"d"}},
	},
	{
		name: "if and else branches, skipped branch skips what only it reaches",
		json: `{"actions":[{"id":"check","kind":"builtin:if","inputs":{"condition":{">":["!ref($.event.data.score)",5]}}},
			{"id":"high","kind":"echo","inputs":{"value":"high"}},{"id":"low","kind":"echo","inputs":{"value":"low"}},
			{"id":"after_low","kind":"echo","inputs":{"value":"after low"}},{"id":"end","kind":"echo","inputs":{"value":"end"}}],
			"edges":[{"from":"$source","to":"check"},
			{"from":"check","to":"high","conditional":{"type":"if","ref":"!ref($.output.result)"}},
			{"from":"check","to":"low","conditional":{"type":"else","ref":"!ref($.output.result)"}},
			{"from":"low","to":"after_low"},{"from":"high","to":"end"},{"from":"after_low","to":"end"}]}`,
		data:    map[string]any{"score": 9.0},
		state:   map[string]any{"check": map[string]any{"result": true}, "high": "high", "end": "end"},
		skipped: []string{"low", "after_low"},
		batches: [][]string{{"check"}, {"end"}, {"high"}},
	},
	{
		name: "else branch",
		json: `{"actions":[{"id":"check","kind":"builtin:if","inputs":{"condition":"cel: event.data.score > 5"}},
			{"id":"high","kind":"echo","inputs":{"value":"high"}},{"id":"low","kind":"echo","inputs":{"value":"low"}}],
			"edges":[{"from":"$source","to":"check"},
			{"from":"check","to":"high","conditional":{"type":"if","ref":"!ref($.output.result)"}},
			{"from":"check","to":"low","conditional":{"type":"else","ref":"!ref($.output.result)"}}]}`,
		data:    map[string]any{"score": 1.0},
		state:   map[string]any{"check": map[string]any{"result": false}, "low": "low"},
		skipped: []string{"high"},
		batches: [][]string{{"check"}, {"low"}},
	},
	{
		name: "match edges compare JSON values",
		json: `{"actions":[{"id":"pick","kind":"echo","inputs":{"value":"!ref($.event.data.lang)"}},
			{"id":"en","kind":"echo","inputs":{"value":"en"}},{"id":"pt","kind":"echo","inputs":{"value":"pt"}},
			{"id":"num","kind":"multiply","inputs":{"a":2,"b":"!ref($.event.data.n)"}},
			{"id":"is8","kind":"echo","inputs":{"value":true}},{"id":"is8text","kind":"echo","inputs":{"value":true}}],
			"edges":[{"from":"$source","to":"pick"},{"from":"$source","to":"num"},
			{"from":"pick","to":"en","conditional":{"type":"match","ref":"!ref($.output)","value":"en"}},
			{"from":"pick","to":"pt","conditional":{"type":"match","ref":"!ref($.output)","value":"pt"}},
			{"from":"num","to":"is8","conditional":{"type":"match","ref":"!ref($.output)","value":8}},
			{"from":"num","to":"is8text","conditional":{"type":"match","ref":"!ref($.output)","value":"8"}}]}`,
		data:    map[string]any{"lang": "pt", "n": 4.0},
		state:   map[string]any{"pick": "pt", "pt": "pt", "num": 8.0, "is8": true},
		skipped: []string{"en", "is8text"},
		batches: [][]string{{"is8"}, {"pick", "num"}, {"pt"}},
	},
	{
		name: "refs into event and state keep their types",
		json: `{"actions":[{"id":"user","kind":"echo","inputs":{"value":"!ref($.event.data.user)"}},
			{"id":"greet","kind":"echo","inputs":{"text":"Hi !ref($.state.user.name), you are !ref($.state.user.age) (!ref($.state.user.tags)) !ref($.state.user.missing)."}},
			{"id":"age","kind":"multiply","inputs":{"a":"!ref($.state.user.age)","b":2}},
			{"id":"missing","kind":"echo","inputs":{"value":"!ref($.event.data.nothing.here)"}}],
			"edges":[{"from":"$source","to":"user"},{"from":"user","to":"greet"},{"from":"user","to":"age"},{"from":"$source","to":"missing"}]}`,
		data: map[string]any{"user": map[string]any{"name": "Ana", "age": 30.0, "tags": []any{"a", "b"}}},
		state: map[string]any{
			"user":    map[string]any{"name": "Ana", "age": 30.0, "tags": []any{"a", "b"}},
			"greet":   `Hi Ana, you are 30 (["a","b"]) .`,
			"age":     60.0,
			"missing": nil,
		},
		batches: [][]string{{"greet", "age"}, {"user", "missing"}},
	},
	{
		name: "cel condition on an entry edge",
		json: `{"actions":[{"id":"a","kind":"echo","inputs":{"value":1}},{"id":"b","kind":"echo","inputs":{"value":2}}],
			"edges":[{"from":"$source","to":"a","conditional":{"type":"if","ref":"cel: event.data.go == true"}},
			{"from":"$source","to":"b","conditional":{"type":"if","ref":"cel: output.missing.field"}}]}`,
		data:    map[string]any{"go": true},
		state:   map[string]any{"a": 1.0},
		skipped: []string{"b"},
		batches: [][]string{{"a"}},
	},
}

func TestWalkPlanner(t *testing.T) {
	reg := testRegistry(t)
	for _, tt := range walkCases {
		t.Run(tt.name, func(t *testing.T) {
			wf, err := DecodeValidate([]byte(tt.json), reg)
			if err != nil {
				t.Fatal(err)
			}
			res, batches, err := memWalk(t, reg, wf, engine.Event{Name: "test/go", Data: tt.data})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.State, tt.state) {
				t.Errorf("state = %s\nwant    %s", dump(res.State), dump(tt.state))
			}
			if !reflect.DeepEqual(res.Skipped, tt.skipped) {
				t.Errorf("skipped = %v, want %v", res.Skipped, tt.skipped)
			}
			if !reflect.DeepEqual(batches, tt.batches) {
				t.Errorf("batches = %v, want %v", batches, tt.batches)
			}
		})
	}
}

func TestWalkRefusesBadGraphs(t *testing.T) {
	reg := testRegistry(t)
	for name, js := range map[string]string{
		"disconnected": `{"actions":[{"id":"a","kind":"test"},{"id":"b","kind":"test"}],"edges":[{"from":"$source","to":"a"}]}`,
		"cycle":        `{"actions":[{"id":"a","kind":"test"},{"id":"b","kind":"test"}],"edges":[{"from":"$source","to":"a"},{"from":"a","to":"b"},{"from":"b","to":"a"}]}`,
	} {
		if _, err := DecodeValidate([]byte(js), reg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestWalkRuntimeInputErrors(t *testing.T) {
	reg := testRegistry(t)
	wf := mustDecode(t, `{"actions":[{"id":"m","kind":"multiply","inputs":{"a":"!ref($.event.data.a)","b":2}}],"edges":[{"from":"$source","to":"m"}]}`)
	_, _, err := memWalk(t, reg, wf, engine.Event{Name: "x", Data: map[string]any{"a": map[string]any{}}})
	if err == nil || !engine.IsNonRetriable(err) {
		t.Fatalf("err = %v, want a non-retriable input error", err)
	}
	_, _, err = memWalk(t, reg, wf, engine.Event{Name: "x", Data: map[string]any{"a": "21"}})
	if err != nil {
		t.Fatalf("a numeric string should convert: %v", err)
	}
}
