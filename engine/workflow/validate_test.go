package workflow

import (
	"reflect"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/engine"
)

func TestValidateRefuses(t *testing.T) {
	const entry = `{"from":"$source","to":"a"}`
	tests := []struct {
		name, json string
		field      string // a key that must be in Fields
		msg        string // text the message must contain
	}{
		{"unknown kind", `{"actions":[{"id":"a","kind":"nope"}],"edges":[` + entry + `]}`, "actions.a.kind", `action "a" has unknown kind "nope"`},
		{"duplicate id", `{"actions":[{"id":"a","kind":"test"},{"id":"a","kind":"test"}],"edges":[` + entry + `]}`, "actions.a.id", `two actions have the id "a"`},
		{"missing id", `{"actions":[{"kind":"test"}],"edges":[]}`, "actions[0].id", `has no id`},
		{"reserved id", `{"actions":[{"id":"$source","kind":"test"}],"edges":[]}`, "actions.$source.id", `reserved`},
		{"edge to missing", `{"actions":[{"id":"a","kind":"test"}],"edges":[` + entry + `,{"from":"a","to":"zz"}]}`, "edges[1].to", `unknown action "zz"`},
		{"edge from missing", `{"actions":[{"id":"a","kind":"test"}],"edges":[` + entry + `,{"from":"zz","to":"a"}]}`, "edges[1].from", `unknown action "zz"`},
		{"repeated edge", `{"actions":[{"id":"a","kind":"test"}],"edges":[` + entry + `,` + entry + `]}`, "edges[1]", `repeats`},
		{"cycle", `{"actions":[{"id":"a","kind":"test"},{"id":"b","kind":"test"}],"edges":[` + entry + `,{"from":"a","to":"b"},{"from":"b","to":"a"}]}`, "actions.a", `cycle (a -> b -> a)`},
		{"no entry", `{"actions":[{"id":"a","kind":"test"}],"edges":[]}`, "edges", `no starting actions (no entry edge)`},
		{"unreachable", `{"actions":[{"id":"a","kind":"test"},{"id":"b","kind":"test"}],"edges":[` + entry + `]}`, "actions.b", `action "b" is disconnected`},
		{"missing required", `{"actions":[{"id":"a","kind":"multiply","inputs":{"a":1}}],"edges":[` + entry + `]}`, "actions.a.inputs.b", `input "b" is required`},
		{"wrong number", `{"actions":[{"id":"a","kind":"multiply","inputs":{"a":"x","b":1}}],"edges":[` + entry + `]}`, "actions.a.inputs.a", `must be a number`},
		{"text ref for number", `{"actions":[{"id":"a","kind":"multiply","inputs":{"a":"n=!ref($.event.data.n)","b":1}}],"edges":[` + entry + `]}`, "actions.a.inputs.a", `must be a number or a single ref`},
		{"wrong boolean", `{"actions":[{"id":"a","kind":"log","inputs":{"message":"m","level":"loud"}}],"edges":[` + entry + `]}`, "actions.a.inputs.level", `must be one of info, warn, error`},
		{"bad duration", `{"actions":[{"id":"a","kind":"sleep","inputs":{"duration":"soon"}}],"edges":[` + entry + `]}`, "actions.a.inputs.duration", `duration "soon"`},
		{"sleep needs one", `{"actions":[{"id":"a","kind":"sleep","inputs":{}}],"edges":[` + entry + `]}`, "actions.a.inputs.duration", `either duration or until`},
		{"empty workflow", `{"actions":[],"edges":[]}`, "actions", `no starting actions`},
		{"no actions, no edges key", `{"actions":[]}`, "actions", `no starting actions`},
		{"bad ref in undeclared input", `{"actions":[{"id":"a","kind":"test","inputs":{"x":"!ref($.state.zz)"}}],"edges":[` + entry + `]}`, "actions.a.inputs.x", `unknown action "zz"`},
		{"ref not upstream", `{"actions":[{"id":"a","kind":"test"},{"id":"b","kind":"echo","inputs":{"value":"!ref($.state.b)"}}],"edges":[` + entry + `,{"from":"a","to":"b"}]}`, "actions.b.inputs.value", `not upstream`},
		{"ref to unknown action", `{"actions":[{"id":"a","kind":"echo","inputs":{"value":"!ref($.state.zz.x)"}}],"edges":[` + entry + `]}`, "actions.a.inputs.value", `unknown action "zz"`},
		{"ref bad root", `{"actions":[{"id":"a","kind":"echo","inputs":{"value":"!ref($.steps.x)"}}],"edges":[` + entry + `]}`, "actions.a.inputs.value", `starts with $.event, $.events or $.state`},
		{"malformed ref", `{"actions":[{"id":"a","kind":"echo","inputs":{"value":{"deep":["!ref(event.data)"]}}}],"edges":[` + entry + `]}`, "actions.a.inputs.value", `bad ref`},
		{"output in input", `{"actions":[{"id":"a","kind":"echo","inputs":{"value":"!ref($.output)"}}],"edges":[` + entry + `]}`, "actions.a.inputs.value", `only defined on edge`},
		{"bad cel edge", `{"actions":[{"id":"a","kind":"test"},{"id":"b","kind":"test"}],"edges":[` + entry + `,{"from":"a","to":"b","conditional":{"type":"if","ref":"cel: output.x +"}}]}`, "edges[1].conditional.ref", `edge 1 ("a" -> "b"): CEL`},
		{"bad cel wait", `{"actions":[{"id":"a","kind":"wait_for_event","inputs":{"event":"x.y","if":"async.data.id =="}}],"edges":[` + entry + `]}`, "actions.a.inputs.if", `CEL`},
		{"bad match path", `{"actions":[{"id":"a","kind":"wait_for_event","inputs":{"event":"x.y","match":"data id"}}],"edges":[` + entry + `]}`, "actions.a.inputs.match", `dotted path`},
		{"bad cel if", `{"actions":[{"id":"a","kind":"builtin:if","inputs":{"condition":"cel: ))"}}],"edges":[` + entry + `]}`, "actions.a.inputs.condition", `CEL`},
		{"bad logic op", `{"actions":[{"id":"a","kind":"builtin:if","inputs":{"condition":{"~~":[1,2]}}}],"edges":[` + entry + `]}`, "actions.a.inputs.condition", `unknown JSON-logic operator`},
		{"bad condition type", `{"actions":[{"id":"a","kind":"test"},{"id":"b","kind":"test"}],"edges":[` + entry + `,{"from":"a","to":"b","conditional":{"type":"unless","ref":"!ref($.output)"}}]}`, "edges[1].conditional.type", `"unless" is not if, else or match`},
		{"match without value", `{"actions":[{"id":"a","kind":"test"},{"id":"b","kind":"test"}],"edges":[` + entry + `,{"from":"a","to":"b","conditional":{"type":"match","ref":"!ref($.output)"}}]}`, "edges[1].conditional.value", `needs a value`},
		{"edge ref downstream", `{"actions":[{"id":"a","kind":"test"},{"id":"b","kind":"test"}],"edges":[` + entry + `,{"from":"a","to":"b","conditional":{"type":"if","ref":"!ref($.state.b)"}}]}`, "edges[1].conditional.ref", `not upstream`},
		{"empty condition", `{"actions":[{"id":"a","kind":"test"},{"id":"b","kind":"test"}],"edges":[` + entry + `,{"from":"a","to":"b","conditional":{"type":"if"}}]}`, "edges[1].conditional.ref", `needs a ref`},
		{"bad timeout", `{"actions":[{"id":"a","kind":"test","timeout":"1 fortnight"}],"edges":[` + entry + `]}`, "actions.a.timeout", `timeout`},
		{"private-looking webhook URL", `{"actions":[{"id":"a","kind":"webhook","inputs":{"url":"ftp://x"}}],"edges":[` + entry + `]}`, "actions.a.inputs.url", `http://`},
		{"send_event data not object", `{"actions":[{"id":"a","kind":"send_event","inputs":{"name":"x.y","data":[1]}}],"edges":[` + entry + `]}`, "actions.a.inputs.data", `JSON object`},
		{"event name with space", `{"actions":[{"id":"a","kind":"send_event","inputs":{"name":"x y"}}],"edges":[` + entry + `]}`, "actions.a.inputs.name", `spaces`},
	}
	reg := testRegistry(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeValidate([]byte(tt.json), reg)
			if err == nil {
				t.Fatal("accepted, want refused")
			}
			if engine.ErrorCode(err) != engine.EInvalid {
				t.Fatalf("code = %s (%v)", engine.ErrorCode(err), err)
			}
			if _, ok := fieldsOf(err)[tt.field]; !ok {
				t.Errorf("fields %v lack %q", fieldsOf(err), tt.field)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q lacks %q", err, tt.msg)
			}
		})
	}
}

func TestValidateCollectsEveryProblem(t *testing.T) {
	w := mustDecode(t, `{"actions":[{"id":"a","kind":"nope"},{"id":"b","kind":"multiply","inputs":{"a":"x"}}],"edges":[{"from":"$source","to":"a"},{"from":"a","to":"b"}]}`)
	err := Validate(w, testRegistry(t))
	for _, f := range []string{"actions.a.kind", "actions.b.inputs.a", "actions.b.inputs.b"} {
		if _, ok := fieldsOf(err)[f]; !ok {
			t.Errorf("fields %v lack %s", fieldsOf(err), f)
		}
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := map[string]string{
		"refs everywhere": `{"actions":[{"id":"a","kind":"echo","inputs":{"value":{"x":["!ref($.event.data.list[0])","!ref($.event.data['odd key'])"]}}},
			{"id":"b","kind":"multiply","inputs":{"a":"!ref($.state.a.x[0])","b":2}}],
			"edges":[{"from":"$source","to":"a"},{"from":"a","to":"b","conditional":{"type":"match","ref":"!ref($.state.a.x)","value":[1]}}]}`,
		"cel on entry edge":      `{"actions":[{"id":"a","kind":"test"}],"edges":[{"from":"$source","to":"a","conditional":{"type":"if","ref":"cel: event.data.n > 2"}}]}`,
		"defaults fill required": `{"actions":[{"id":"w","kind":"wait_for_event","inputs":{"event":"blog-post.approved","match":"data.id"}}],"edges":[{"from":"$source","to":"w"}]}`,
		"ref in enum":            `{"actions":[{"id":"l","kind":"log","inputs":{"message":"m","level":"!ref($.event.data.level)"}}],"edges":[{"from":"$source","to":"l"}]}`,
		"retries and timeout":    `{"actions":[{"id":"a","kind":"test","retries":2,"timeout":"1m30s"}],"edges":[{"from":"$source","to":"a"}]}`,
		"undeclared input":       `{"actions":[{"id":"a","kind":"test","inputs":{"x":1,"old":"!ref($.event.data.id)"}}],"edges":[{"from":"$source","to":"a"}]}`,
	}
	reg := testRegistry(t)
	for name, js := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodeValidate([]byte(js), reg); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// An input the kind does not declare (left by an older version of the kind) is kept through a
// save and listed for the editor's warning, as workflow-kit keeps it.
func TestUndeclaredInputsAreKeptAndListed(t *testing.T) {
	reg := testRegistry(t)
	_, err := DecodeValidate([]byte(`{"actions":[{"id":"l","kind":"log","inputs":{"message":"m","colour":"red"}},{"id":"z","kind":"nope","inputs":{"q":1}}],
		"edges":[{"from":"$source","to":"l"}]}`), reg)
	if err == nil {
		t.Fatal("unknown kind accepted")
	}
	if _, ok := fieldsOf(err)["actions.l.inputs.colour"]; ok {
		t.Errorf("the undeclared input is refused: %v", err)
	}
	w, err := DecodeValidate([]byte(`{"actions":[{"id":"l","kind":"log","inputs":{"message":"m","colour":"red"}}],"edges":[{"from":"$source","to":"l"}]}`), reg)
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Action("l").Inputs["colour"]; got != "red" {
		t.Errorf("colour = %v after a save, want it kept", got)
	}
	want := map[string]string{"actions.l.inputs.colour": `action "l": kind "log" has no input "colour"; it is kept but not used`}
	if got := UndeclaredInputs(w, reg); !reflect.DeepEqual(got, want) {
		t.Errorf("UndeclaredInputs = %v, want %v", got, want)
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct{ name, json, field string }{
		{"not json", `{"actions":`, "workflow"},
		{"array", `[]`, "workflow"},
		{"actions not array", `{"actions":{}}`, "actions"},
		{"id not string", `{"actions":[{"id":1,"kind":"x"}]}`, "actions[0].id"},
		{"inputs not object", `{"actions":[{"id":"a","kind":"x","inputs":[1]}]}`, "actions[0].inputs"},
		{"retries negative", `{"actions":[{"id":"a","kind":"x","retries":-1}]}`, "actions[0].retries"},
		{"conditional not object", `{"edges":[{"from":"a","to":"b","conditional":"yes"}]}`, "edges[0].conditional"},
		{"deep inputs", `{"actions":[{"id":"a","kind":"x","inputs":{"v":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}}]}`, "actions[0].inputs.v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.json))
			if _, ok := fieldsOf(err)[tt.field]; !ok {
				t.Fatalf("err = %v (fields %v), want field %s", err, fieldsOf(err), tt.field)
			}
		})
	}
	if _, err := Decode(make([]byte, MaxWorkflowBytes+1)); engine.ErrorCode(err) != engine.ETooLarge {
		t.Errorf("oversized: %v", err)
	}
}

func TestRoundTripKeepsUnknownFields(t *testing.T) {
	in := `{"name":"n","x-top":{"a":[1,2]},"metadata":{"m":1},"actions":[{"id":"a","kind":"test","inputs":{},"ui":{"x":1},"retries":3}],
		"edges":[{"id":"e1","from":"$source","to":"a","conditional":{"type":"match","ref":"!ref($.event.data.v)","value":null,"extra":true}}]}`
	w := mustDecode(t, in)
	out, err := w.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, out, []byte(in)) {
		t.Errorf("round trip:\n in: %s\nout: %s", in, out)
	}
}
