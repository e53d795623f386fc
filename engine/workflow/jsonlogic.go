package workflow

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// This file evaluates the JSON-logic subset that workflow-kit's builtin:if conditions use.
// An object with exactly one key that names an operator is an operation; other values are
// literals. Refs are resolved before evaluation, so {"==": ["!ref($.state.a)", 42]} arrives
// as {"==": [42, 42]}; "var" reads dotted paths over {event, state} as well.

var logicOps = map[string]bool{
	"==": true, "===": true, "!=": true, "!==": true, "!": true, "!!": true,
	"and": true, "or": true, "<": true, "<=": true, ">": true, ">=": true,
	"if": true, "?:": true, "in": true, "var": true, "+": true, "-": true, "*": true, "/": true, "%": true,
}

// Limits of a JSON-logic condition as saved. It is interpreted, not compiled, and has no
// loops, so an evaluation's work is linear in the condition's size once its refs are filled
// in (which the event's and state's own limits bound).
const (
	MaxLogicNodes = 10_000
	MaxLogicDepth = 64
)

// checkLogic refuses an operation with an unknown operator, or a condition over the limits,
// before anything runs.
func checkLogic(v any) error {
	nodes := 0
	return walkLogic(v, 0, &nodes)
}

func walkLogic(v any, depth int, nodes *int) error {
	*nodes++
	if *nodes > MaxLogicNodes {
		return fmt.Errorf("the JSON-logic condition has more than %d values; simplify it", MaxLogicNodes)
	}
	if depth > MaxLogicDepth {
		return fmt.Errorf("the JSON-logic condition is nested more than %d deep", MaxLogicDepth)
	}
	switch t := v.(type) {
	case map[string]any:
		if op, args, ok := operation(t); ok {
			if !logicOps[op] {
				return fmt.Errorf("unknown JSON-logic operator %q", op)
			}
			return walkLogic(args, depth+1, nodes)
		}
		for _, k := range sortedKeys(t) {
			if err := walkLogic(t[k], depth+1, nodes); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range t {
			if err := walkLogic(x, depth+1, nodes); err != nil {
				return err
			}
		}
	}
	return nil
}

func operation(m map[string]any) (string, any, bool) {
	if len(m) != 1 {
		return "", nil, false
	}
	for k, v := range m {
		return k, v, true
	}
	return "", nil, false
}

// logicTruthy is json-logic-js's truthy: JavaScript's, except that an empty array is falsy
// (so {"!": [[]]} is true there and here). Edge conditions keep plain JavaScript truthiness,
// as workflow-kit's engine does.
func logicTruthy(v any) bool {
	if list, ok := v.([]any); ok {
		return len(list) > 0
	}
	return truthy(v)
}

// applyLogic evaluates a JSON-logic value against data.
func applyLogic(v any, data map[string]any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		op, raw, ok := operation(t)
		if !ok || !logicOps[op] {
			if ok {
				return nil, fmt.Errorf("unknown JSON-logic operator %q", op)
			}
			return t, nil
		}
		args, isList := raw.([]any)
		if !isList {
			args = []any{raw}
		}
		return applyOp(op, args, data)
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			r, err := applyLogic(x, data)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func applyOp(op string, args []any, data map[string]any) (any, error) {
	// and, or and if evaluate lazily, as JSON-logic does.
	switch op {
	case "and", "or":
		var last any = op == "and"
		for _, a := range args {
			v, err := applyLogic(a, data)
			if err != nil {
				return nil, err
			}
			last = v
			if logicTruthy(v) != (op == "and") {
				return v, nil
			}
		}
		return last, nil
	case "if", "?:":
		for i := 0; i+1 < len(args); i += 2 {
			c, err := applyLogic(args[i], data)
			if err != nil {
				return nil, err
			}
			if logicTruthy(c) {
				return applyLogic(args[i+1], data)
			}
		}
		if len(args)%2 == 1 {
			return applyLogic(args[len(args)-1], data)
		}
		return nil, nil
	}
	vals := make([]any, len(args))
	for i, a := range args {
		v, err := applyLogic(a, data)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	arg := func(i int) any {
		if i < len(vals) {
			return vals[i]
		}
		return nil
	}
	switch op {
	case "==":
		return looseEqual(arg(0), arg(1)), nil
	case "!=":
		return !looseEqual(arg(0), arg(1)), nil
	case "===":
		return jsonEqual(arg(0), arg(1)), nil
	case "!==":
		return !jsonEqual(arg(0), arg(1)), nil
	case "!":
		return !logicTruthy(arg(0)), nil
	case "!!":
		return logicTruthy(arg(0)), nil
	case "<", "<=", ">", ">=":
		return compareChain(op, vals), nil
	case "in":
		return inOp(arg(0), arg(1)), nil
	case "var":
		path, _ := arg(0).(string)
		v, ok := lookup(data, dotted(path))
		if !ok {
			return arg(1), nil
		}
		return v, nil
	case "+", "*":
		acc := 0.0
		if op == "*" {
			acc = 1
		}
		for _, v := range vals {
			if op == "+" {
				acc += toNumber(v)
			} else {
				acc *= toNumber(v)
			}
		}
		return acc, nil
	case "-":
		if len(vals) == 1 {
			return -toNumber(arg(0)), nil
		}
		return toNumber(arg(0)) - toNumber(arg(1)), nil
	case "/":
		return toNumber(arg(0)) / toNumber(arg(1)), nil
	case "%":
		return math.Mod(toNumber(arg(0)), toNumber(arg(1))), nil
	}
	return nil, fmt.Errorf("unknown JSON-logic operator %q", op)
}

func dotted(path string) []any {
	if path == "" {
		return nil
	}
	var segs []any
	for _, s := range strings.Split(path, ".") {
		if n, err := strconv.Atoi(s); err == nil {
			segs = append(segs, n)
			continue
		}
		segs = append(segs, s)
	}
	return segs
}

// looseEqual is JavaScript's == for JSON values: numbers, numeric strings and booleans
// compare as numbers; null equals only null; objects compare by content.
func looseEqual(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	as, aStr := a.(string)
	bs, bStr := b.(string)
	if aStr && bStr {
		return as == bs
	}
	if isScalar(a) && isScalar(b) {
		x, y := toNumber(a), toNumber(b)
		return x == y
	}
	return jsonEqual(a, b)
}

func isScalar(v any) bool {
	switch v.(type) {
	case string, float64, bool:
		return true
	}
	return false
}

// toNumber converts as JavaScript's Number(): NaN for what does not convert.
func toNumber(v any) float64 {
	switch t := v.(type) {
	case float64:
		return t
	case bool:
		if t {
			return 1
		}
		return 0
	case string:
		s := strings.TrimSpace(t)
		if s == "" {
			return 0
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case nil:
		return 0
	}
	return math.NaN()
}

func compareChain(op string, vals []any) bool {
	if len(vals) < 2 {
		return false
	}
	for i := 0; i+1 < len(vals); i++ {
		var ok bool
		as, aStr := vals[i].(string)
		bs, bStr := vals[i+1].(string)
		if aStr && bStr {
			ok = map[string]bool{"<": as < bs, "<=": as <= bs, ">": as > bs, ">=": as >= bs}[op]
		} else {
			x, y := toNumber(vals[i]), toNumber(vals[i+1])
			ok = map[string]bool{"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
		}
		if !ok {
			return false
		}
	}
	return true
}

func inOp(needle, hay any) bool {
	switch h := hay.(type) {
	case string:
		s, ok := needle.(string)
		return ok && strings.Contains(h, s)
	case []any:
		for _, x := range h {
			if jsonEqual(x, needle) {
				return true
			}
		}
	}
	return false
}
