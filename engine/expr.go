package engine

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"

	"cel.dev/cel-go/cel"

	"github.com/inkflow/inkflow/engine/expr"
)

// exprs evaluates the engine's CEL expressions through the process's one bounded program
// cache, under its cost limit and deadline (package expr). Expressions see `event` (the
// triggering event as a JSON object) and `async` (the candidate event, for waits and
// cancellation), both dynamic maps.
type exprs struct {
	env   *expr.Env
	evals atomic.Int64 // evaluations so far, for tests of where the work happens
}

func newExprs() (*exprs, error) {
	env, err := expr.NewEnv("engine",
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("async", cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		return nil, err
	}
	return &exprs{env: env}, nil
}

// compile checks src, or returns an EInvalid error that names it.
func (x *exprs) compile(src string) (cel.Program, error) {
	p, err := x.env.Compile(src)
	if err != nil {
		return nil, Errorf(EInvalid, "%v", err)
	}
	return p, nil
}

// eval runs src over the two events and returns its value as a Go value.
func (x *exprs) eval(src string, event, async map[string]any) (any, error) {
	x.evals.Add(1)
	if async == nil {
		async = map[string]any{}
	}
	out, err := x.env.Eval(context.Background(), src, map[string]any{"event": event, "async": async})
	if err != nil {
		return nil, err
	}
	return out.Value(), nil
}

// holds evaluates a boolean expression. An evaluation error from the input (a missing field,
// say) is false; an expression stopped at its cost limit or deadline is false with that error,
// for the caller to show where the expression lives.
func (x *exprs) holds(src string, event, async map[string]any) (bool, error) {
	v, err := x.eval(src, event, async)
	if err != nil {
		if expr.IsOverLimit(err) {
			return false, err
		}
		return false, nil
	}
	b, ok := v.(bool)
	return ok && b, nil
}

// eventMap turns an event into the map CEL and match paths see: the event as its stored JSON
// would decode (numbers as float64, JSON field names), built without a JSON round trip.
func eventMap(ev Event) map[string]any {
	data := ev.Data
	if data == nil {
		data = map[string]any{}
	}
	m := map[string]any{"id": ev.ID, "name": ev.Name, "data": normalizeValue(data), "ts": float64(ev.TS)}
	if ev.User != nil {
		m["user"] = normalizeValue(ev.User)
	}
	if ev.V != "" {
		m["v"] = ev.V
	}
	return m
}

// normalizeValue returns v as encoding/json would decode its JSON: float64 numbers,
// map[string]any objects, []any arrays. Common types are converted directly; anything else
// (a struct, say) takes the JSON round trip.
func normalizeValue(v any) any {
	switch t := v.(type) {
	case nil, bool, string, float64:
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = normalizeValue(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = normalizeValue(x)
		}
		return out
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case int32:
		return float64(t)
	case float32:
		return float64(t)
	case uint:
		return float64(t)
	case uint64:
		return float64(t)
	case json.Number:
		f, _ := t.Float64()
		return f
	case []string:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = x
		}
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// lookup returns the value at a dotted path ("data.post.id") in m.
func lookup(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, part := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = obj[part]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// matchValue is the canonical text of the value at path, as stored in waits.match_value.
func matchValue(m map[string]any, path string) (string, bool) {
	v, ok := lookup(m, path)
	if !ok {
		return "", false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false
	}
	return string(b), true
}
