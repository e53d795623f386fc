package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types/ref"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/expr"
)

// celPrefix marks a condition (or builtin:if input) written in CEL instead of as a ref.
const celPrefix = "cel:"

// holds reports whether an edge's condition holds for output, the output of the edge's From
// action (nil for $source). An edge without a condition always holds.
func holds(c *Conditional, sc scope) (bool, error) {
	if c == nil {
		return true, nil
	}
	v, err := conditionValue(c.Ref, sc)
	if err != nil {
		return false, err
	}
	switch c.Type {
	case CondIf:
		return truthy(v), nil
	case CondElse:
		return !truthy(v), nil
	case CondMatch:
		var want any
		if len(c.Value) > 0 {
			if err := json.Unmarshal(c.Value, &want); err != nil {
				return false, fmt.Errorf("match value: %w", err)
			}
		}
		return jsonEqual(v, want), nil
	}
	return false, fmt.Errorf("unknown condition type %q", c.Type)
}

// conditionValue evaluates a condition's ref: a CEL expression after "cel:", a single ref, or
// text with refs (which then compares as a string).
func conditionValue(ref string, sc scope) (any, error) {
	if src, ok := strings.CutPrefix(strings.TrimSpace(ref), celPrefix); ok {
		return evalCEL(src, sc)
	}
	return interpolate(ref, sc)
}

// truthy follows JavaScript, as workflow-kit does: false, 0, "", null are falsy; everything
// else (including empty objects and arrays) is truthy.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case float64:
		return t != 0 && t == t
	case string:
		return t != ""
	case int, int64:
		return t != 0
	}
	return true
}

// jsonEqual compares two values as JSON (workflow-kit compares JSON.stringify outputs): 4158
// and "4158" differ; objects compare by content, not key order.
func jsonEqual(a, b any) bool {
	return reflect.DeepEqual(jsonValue(a), jsonValue(b))
}

// celEnv is the environment of workflow CEL expressions: `event`, `state` and `output`. Its
// programs live in the process's one bounded cache and run under its limits (engine/expr).
var celEnv = sync.OnceValues(func() (*expr.Env, error) {
	return expr.NewEnv("workflow",
		cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("state", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("output", cel.DynType),
	)
})

// compileCEL compiles src, or returns an error that names it.
func compileCEL(src string) (cel.Program, error) {
	env, err := celEnv()
	if err != nil {
		return nil, err
	}
	return env.Compile(src)
}

// evalCEL evaluates src over the scope. A runtime error (a missing field, say) yields null, so
// "if" edges do not hold and "else" edges do, as the engine treats a failing `if`; an
// expression stopped at its cost limit or deadline is an error that names it.
func evalCEL(src string, sc scope) (any, error) {
	env, err := celEnv()
	if err != nil {
		return nil, err
	}
	vars := map[string]any{"event": asMap(sc[RootEvent]), "state": asMap(sc[RootState]), "output": sc[RootOutput]}
	out, err := env.Eval(context.Background(), src, vars)
	if err != nil {
		if expr.IsOverLimit(err) {
			return nil, engine.NonRetriable(err)
		}
		return nil, nil
	}
	return celJSON(out), nil
}

// celJSON converts a CEL value to JSON values (maps, slices, float64...) through its
// protobuf JSON form; what does not convert (a type, say) is null.
func celJSON(v ref.Val) any {
	native, err := v.ConvertToNative(reflect.TypeOf(&structpb.Value{}))
	if err != nil {
		return nil
	}
	b, err := protojson.Marshal(native.(*structpb.Value))
	if err != nil {
		return nil
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}

func asMap(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}
