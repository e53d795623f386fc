package workflow

import (
	"reflect"
	"testing"
	"time"
)

func TestInterpolate(t *testing.T) {
	sc := scope{
		RootEvent: map[string]any{"name": "post.updated", "data": map[string]any{"id": 42.0, "title": "Go", "tags": []any{"a", "b"}, "odd key": "x", "n": 1.5, "ok": true}},
		RootState: map[string]any{"toc": map[string]any{"markdown": "# Go", "count": 3.0}, "step-b": "dashed"},
	}
	tests := []struct {
		in   any
		want any
	}{
		{"!ref($.event.data.id)", 42.0},
		{"!ref($.event.data.tags)", []any{"a", "b"}},
		{"!ref($.event.data.tags[1])", "b"},
		{"!ref($.event.data['odd key'])", "x"},
		{"!ref($.state.toc)", map[string]any{"markdown": "# Go", "count": 3.0}},
		{"!ref($.state.step-b)", "dashed"},
		{"!ref($.event.data.nothing)", nil},
		{"!ref($.event.data.tags[9])", nil},
		{"Post !ref($.event.data.id): !ref($.event.data.title)", "Post 42: Go"},
		{"n=!ref($.event.data.n) ok=!ref($.event.data.ok) tags=!ref($.event.data.tags) none=[!ref($.event.data.none)]", `n=1.5 ok=true tags=["a","b"] none=[]`},
		{"!ref($.event.data.id) and !ref($.event.data.title)", "42 and Go"},
		{map[string]any{"a": []any{"!ref($.state.toc.count)", "x !ref($.event.name)"}}, map[string]any{"a": []any{3.0, "x post.updated"}}},
		{7.0, 7.0},
		{"no refs", "no refs"},
	}
	for _, tt := range tests {
		got, err := interpolate(tt.in, sc)
		if err != nil {
			t.Errorf("%v: %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("interpolate(%v) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	// A pure ref hands out a copy: changing it never changes state.
	got, _ := interpolate("!ref($.state.toc)", sc)
	got.(map[string]any)["count"] = 99.0
	if sc[RootState].(map[string]any)["toc"].(map[string]any)["count"] != 3.0 {
		t.Error("interpolation shared state with its result")
	}
}

func TestFindRefsRefusesMalformed(t *testing.T) {
	for _, s := range []string{"!ref(", "!ref($.a", "!ref(event.data)", "!ref($)", "!ref($.a b)", "!ref($.a[x])", "!ref($.a[1)", "!ref($..a)"} {
		if _, err := findRefs(s); err == nil {
			t.Errorf("findRefs(%q) accepted", s)
		}
	}
}

func TestConditions(t *testing.T) {
	sc := scope{RootEvent: map[string]any{"data": map[string]any{"lang": "en"}}, RootState: map[string]any{}, RootOutput: map[string]any{"result": true, "n": 0.0, "list": []any{}, "s": "4158", "num": 4158.0}}
	tests := []struct {
		c    Conditional
		want bool
	}{
		{Conditional{Type: CondIf, Ref: "!ref($.output.result)"}, true},
		{Conditional{Type: CondElse, Ref: "!ref($.output.result)"}, false},
		{Conditional{Type: CondIf, Ref: "!ref($.output.n)"}, false},
		{Conditional{Type: CondIf, Ref: "!ref($.output.list)"}, true},
		{Conditional{Type: CondIf, Ref: "!ref($.output.missing)"}, false},
		{Conditional{Type: CondElse, Ref: "!ref($.output.missing)"}, true},
		{Conditional{Type: CondMatch, Ref: "!ref($.output.num)", Value: []byte("4158")}, true},
		{Conditional{Type: CondMatch, Ref: "!ref($.output.num)", Value: []byte(`"4158"`)}, false},
		{Conditional{Type: CondMatch, Ref: "!ref($.output.s)", Value: []byte(`"4158"`)}, true},
		{Conditional{Type: CondMatch, Ref: "!ref($.output)", Value: []byte(`{"s":"4158","num":4158,"n":0,"list":[],"result":true}`)}, true},
		{Conditional{Type: CondIf, Ref: "cel: output.num > 4000 && event.data.lang == 'en'"}, true},
		{Conditional{Type: CondIf, Ref: "cel: output.nope.deeper"}, false},
		{Conditional{Type: CondElse, Ref: "cel: output.nope.deeper"}, true},
		{Conditional{Type: CondMatch, Ref: "cel: {'a': [1, 2]}", Value: []byte(`{"a":[1,2]}`)}, true},
	}
	for _, tt := range tests {
		got, err := holds(&tt.c, sc)
		if err != nil || got != tt.want {
			t.Errorf("%+v = %v (%v), want %v", tt.c, got, err, tt.want)
		}
	}
}

func TestJSONLogic(t *testing.T) {
	data := map[string]any{"event": map[string]any{"data": map[string]any{"age": 99.0}}}
	tests := []struct {
		logic any
		want  any
	}{
		{map[string]any{"==": []any{42.0, 42.0}}, true},
		{map[string]any{"==": []any{42.0, "42"}}, true},
		{map[string]any{"===": []any{42.0, "42"}}, false},
		{map[string]any{"!=": []any{1.0, 2.0}}, true},
		{map[string]any{"and": []any{true, map[string]any{">": []any{3.0, 2.0}}}}, true},
		{map[string]any{"or": []any{false, 0.0, ""}}, ""},
		{map[string]any{"!": []any{true}}, false},
		{map[string]any{"<": []any{1.0, 2.0, 3.0}}, true},
		{map[string]any{"<": []any{1.0, 3.0, 2.0}}, false},
		{map[string]any{"in": []any{"b", []any{"a", "b"}}}, true},
		{map[string]any{"in": []any{"ell", "hello"}}, true},
		{map[string]any{"var": "event.data.age"}, 99.0},
		{map[string]any{"var": []any{"event.data.nope", "dflt"}}, "dflt"},
		{map[string]any{"if": []any{false, "a", true, "b", "c"}}, "b"},
		{map[string]any{"+": []any{1.0, 2.0, "3"}}, 6.0},
		{map[string]any{"*": []any{7.0, 6.0}}, 42.0},
		{map[string]any{"==": []any{nil, nil}}, true},
		{map[string]any{"==": []any{nil, 0.0}}, false},
		// json-logic-js's truthy: an empty array is falsy in every operator that tests truth.
		{map[string]any{"!": []any{[]any{}}}, true},
		{map[string]any{"!!": []any{[]any{}}}, false},
		{map[string]any{"!": []any{[]any{0.0}}}, false},
		{map[string]any{"!": []any{map[string]any{}}}, false},
		{map[string]any{"!": []any{}}, true},
		{map[string]any{"and": []any{[]any{}, true}}, []any{}},
		{map[string]any{"or": []any{[]any{}, "x"}}, "x"},
		{map[string]any{"if": []any{[]any{}, "a", "b"}}, "b"},
	}
	for _, tt := range tests {
		got, err := applyLogic(tt.logic, data)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %#v (%v), want %#v", dump(tt.logic), got, err, tt.want)
		}
	}
	if err := checkLogic(map[string]any{"and": []any{map[string]any{"bogus": 1.0}}}); err == nil {
		t.Error("unknown operator accepted")
	}
}

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"90s": 90 * time.Second, "1h30m": 90 * time.Minute, "7d": 7 * 24 * time.Hour, "1w": 7 * 24 * time.Hour,
		"1.5h": 90 * time.Minute, "250ms": 250 * time.Millisecond, "2d12h": 60 * time.Hour, " 5m ": 5 * time.Minute,
	}
	for s, want := range good {
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "5", "-5s", "0s", "5 minutes", "1y", "s", "11000d", "1..5s"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q) accepted", s)
		}
	}
}

func TestCheckTrigger(t *testing.T) {
	good := map[string]string{
		"blog-post.updated": "blog-post.updated", " app/user.created ": "app/user.created", "": "",
		"cron: 0 4 * * *": "cron: 0 4 * * *", "cron:TZ=Europe/Lisbon 0 4 * * 1": "cron: TZ=Europe/Lisbon 0 4 * * 1", "cron: @hourly": "cron: @hourly",
	}
	for in, want := range good {
		if got, err := CheckTrigger(in); err != nil || got != want {
			t.Errorf("CheckTrigger(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"two words", "*", ScheduledEvent, "cron: 99 * * * *", "cron: TZ=Nowhere/City 0 4 * * *", "cron: * * *"} {
		if _, err := CheckTrigger(in); err == nil {
			t.Errorf("CheckTrigger(%q) accepted", in)
		}
	}
}

func TestRegistryRefusesBadKinds(t *testing.T) {
	h := func(ctx2 any) {}
	_ = h
	ok := func(k Kind) Kind {
		k.Handler = testRegistry(t).kinds["test"].Handler
		return k
	}
	bad := []Kind{
		{Name: "nohandler"},
		ok(Kind{Name: "has space"}),
		ok(Kind{Name: "e", Inputs: []InputSpec{{Name: "x", Type: "color"}}}),
		ok(Kind{Name: "e", Inputs: []InputSpec{{Name: "x", Type: TypeEnum}}}),
		ok(Kind{Name: "e", Inputs: []InputSpec{{Name: "x", Type: TypeNumber, Default: "three"}}}),
		ok(Kind{Name: "e", Inputs: []InputSpec{{Name: "x", Type: TypeString}, {Name: "x", Type: TypeString}}}),
		ok(Kind{Name: "test"}),
	}
	reg := testRegistry(t)
	for _, k := range bad {
		if err := reg.Register(k); err == nil {
			t.Errorf("registered %+v", k)
		}
	}
	if err := reg.Register(ok(Kind{Name: "fine", Inputs: []InputSpec{{Name: "n", Type: TypeNumber, Default: 3}}})); err != nil {
		t.Fatal(err)
	}
	k, _ := reg.Kind("fine")
	if k.Inputs[0].Default != 3.0 {
		t.Errorf("default not normalized: %#v", k.Inputs[0].Default)
	}
}
