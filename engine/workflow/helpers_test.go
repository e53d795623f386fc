package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/inkflow/inkflow/engine"
)

// testRegistry holds the builtins plus the kinds the workflow-kit examples and tests use:
// multiply (as in workflow-kit's execution test), echo, and stand-ins for the blog kinds
// (the real ones live in package actions).
func testRegistry(t testing.TB) *Registry {
	t.Helper()
	reg := NewRegistry()
	if err := RegisterBuiltins(reg, BuiltinConfig{AllowPrivateWebhooks: true}); err != nil {
		t.Fatal(err)
	}
	ident := func(ctx context.Context, in ActionInput) (any, error) {
		return map[string]any{"ran": in.Action.ID}, nil
	}
	reg.MustRegister(
		Kind{Name: "multiply", Title: "Multiply", Inputs: []InputSpec{
			{Name: "a", Type: TypeNumber, Required: true}, {Name: "b", Type: TypeNumber, Required: true},
		}, Handler: func(ctx context.Context, in ActionInput) (any, error) {
			a, _ := in.Number("a")
			b, _ := in.Number("b")
			return a * b, nil
		}},
		Kind{Name: "echo", Inputs: []InputSpec{{Name: "value", Type: TypeJSON}, {Name: "text", Type: TypeText}},
			Handler: func(ctx context.Context, in ActionInput) (any, error) {
				if t, ok := in.Inputs["text"]; ok {
					return t, nil
				}
				return in.Inputs["value"], nil
			}},
		Kind{Name: "send-email", Inputs: []InputSpec{
			{Name: "to", Type: TypeString, Required: true}, {Name: "subject", Type: TypeString}, {Name: "body", Type: TypeText},
		}, Handler: ident},
		Kind{Name: "test", Handler: ident},
		Kind{Name: "add_ToC", Handler: ident},
		Kind{Name: "grammar_review", Handler: ident},
		Kind{Name: "wait_for_approval", Handler: ident},
		Kind{Name: "apply_changes", Handler: ident},
		Kind{Name: "generate_tweet_posts", Handler: ident},
		Kind{Name: "generate_linkedin_posts", Handler: ident},
	)
	return reg
}

// memWalk walks wf in memory: each batch's actions are called directly, in parallel
// goroutines as Step.Parallel would, and the batches are recorded. It exercises the planner;
// the same workflows also run on the real engine in runner_test.go.
func memWalk(t testing.TB, reg *Registry, wf *Workflow, ev engine.Event) (*Result, [][]string, error) {
	t.Helper()
	var batches [][]string
	res, err := walk(context.Background(), wf, ev, func(ctx context.Context, batch []*Action, state map[string]any) ([]any, error) {
		var ids []string
		outs := make([]any, len(batch))
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		for i, a := range batch {
			ids = append(ids, a.ID)
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, ai, err := prepare(reg, a, ev, state)
				if err != nil {
					errs[i] = err
					return
				}
				ai.Workflow = wf
				out, err := k.Handler(ctx, ai)
				outs[i], errs[i] = jsonValue(out), err
			}()
		}
		wg.Wait()
		batches = append(batches, ids)
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
		return outs, nil
	})
	return res, batches, err
}

// eventForFuzz is the trigger the fuzzer walks workflows with.
var eventForFuzz = engine.Event{Name: "fuzz", Data: map[string]any{"n": 2.0, "s": "x", "list": []any{1.0}}}

func mustDecode(t testing.TB, s string) *Workflow {
	t.Helper()
	w, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, s)
	}
	return w
}

// sameJSON reports whether a and b hold equal JSON values.
func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("unmarshal %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func fieldsOf(err error) map[string]string {
	if e, ok := err.(*engine.Error); ok {
		return e.Fields
	}
	return nil
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return fmt.Sprintf("%s", b)
}
