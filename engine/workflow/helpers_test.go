package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"strings"
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

// memWalk walks wf in memory: actions are called directly and parallel groups run in
// goroutines, as Step.Parallel would; the groups started together are returned, sorted. It
// exercises the planner; the same workflows also run on the real engine in runner_test.go.
func memWalk(t testing.TB, reg *Registry, wf *Workflow, ev engine.Event) (*Result, [][]string, error) {
	t.Helper()
	var mu sync.Mutex
	var groups [][]string
	res, err := walk(context.Background(), wf, ev, memExecutor{reg: reg, wf: wf, ev: ev}, func(ids []string) {
		mu.Lock()
		groups = append(groups, ids)
		mu.Unlock()
	})
	sort.Slice(groups, func(i, j int) bool { return strings.Join(groups[i], ",") < strings.Join(groups[j], ",") })
	return res, groups, err
}

type memExecutor struct {
	reg *Registry
	wf  *Workflow
	ev  engine.Event
}

func (memExecutor) batch() []engine.Event { return nil }

func (x memExecutor) run(ctx context.Context, a *Action, state map[string]any) (any, error) {
	k, ai, err := prepare(x.reg, a, x.ev, nil, state)
	if err != nil {
		return nil, err
	}
	ai.Workflow = x.wf
	out, err := k.Handler(ctx, ai)
	return jsonValue(out), err
}

func (x memExecutor) parallel(ctx context.Context, fns ...func(ctx context.Context) error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(ctx)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
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
	return string(b)
}
