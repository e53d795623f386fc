package actions

import (
	"fmt"
	"math"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
)

// intInput reads a whole-number input within [lo, hi], def when absent. A ref that resolved
// to something else fails the step at once, naming the input.
func intInput(in workflow.ActionInput, name string, def, lo, hi int) (int, error) {
	f, ok := in.Number(name)
	if !ok {
		if _, set := in.Inputs[name]; set && in.Inputs[name] != nil {
			return 0, engine.NonRetriable(engine.FieldError("inputs."+name, "must be a number"))
		}
		return def, nil
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, engine.NonRetriable(engine.FieldError("inputs."+name, "must be a whole number from %d to %d, got %v", lo, hi, f))
	}
	return int(f), nil
}

// validateNumber checks a literal number input at save time (refs are checked when they
// resolve, by intInput).
func validateNumber(name string, lo, hi int) func(workflow.Action) map[string]string {
	return func(a workflow.Action) map[string]string {
		f, ok := a.Inputs[name].(float64)
		if !ok {
			return nil
		}
		if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
			return map[string]string{name: fmt.Sprintf("must be a whole number from %d to %d", lo, hi)}
		}
		return nil
	}
}

// revisionShape is the output shape of a revising kind, plus its own list field.
func revisionShape(list string, listShape *workflow.Shape) *workflow.Shape {
	return &workflow.Shape{Type: "object", Fields: map[string]*workflow.Shape{
		"markdown":   {Type: "string", Description: "the AI working copy after this action"},
		"base":       {Type: "string", Description: "digest of the post markdown the run started from"},
		"generation": {Type: "number"},
		list:         listShape,
		"provider":   {Type: "string", Description: "openai or offline"},
		"usage":      usageShape(),
	}}
}

func usageShape() *workflow.Shape {
	return &workflow.Shape{Type: "object", Fields: map[string]*workflow.Shape{
		"provider":          {Type: "string"},
		"model":             {Type: "string"},
		"prompt_tokens":     {Type: "number"},
		"completion_tokens": {Type: "number"},
		"total_tokens":      {Type: "number"},
	}}
}
