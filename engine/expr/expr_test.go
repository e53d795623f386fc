package expr

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"cel.dev/cel-go/cel"
)

func testEnv(t *testing.T) *Env {
	t.Helper()
	env, err := NewEnv("test-"+t.Name(), cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)))
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// The cache holds at most MaxPrograms programs however many distinct expressions arrive, and
// the heap does not keep the rest (20 requests of 500 conditions once kept 600 MiB).
func TestCacheIsBounded(t *testing.T) {
	env := testEnv(t)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := 3 * MaxPrograms
	for i := range n {
		if _, err := env.Compile(fmt.Sprintf("event.data.n == %d && event.data.s.startsWith('x%d')", i, i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := Cached(); got > MaxPrograms {
		t.Fatalf("cache holds %d programs after %d distinct expressions; the bound is %d", got, n, MaxPrograms)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap grew %d KiB for %d cached programs", grown>>10, Cached())
	if grown > 256<<20 {
		t.Fatalf("heap grew %d MiB", grown>>20)
	}
}

// The expression over a 131 KB event stops at the cost limit with an error that names
// it, instead of taking seconds of a worker.
func TestCostLimitStopsAQuadraticExpression(t *testing.T) {
	env := testEnv(t)
	var tags, allowed []any
	for i := range 6000 { // every tag is allowed, found at the far end: 18 million comparisons
		tags = append(tags, fmt.Sprintf("t%05d", i))
		allowed = append(allowed, fmt.Sprintf("t%05d", 5999-i))
	}
	src := "event.data.tags.all(t, event.data.allowed.exists(a, a == t))"
	_, err := env.Eval(context.Background(), src, map[string]any{"event": map[string]any{"data": map[string]any{"tags": tags, "allowed": allowed}}})
	if !IsOverLimit(err) || !strings.Contains(err.Error(), "event.data.tags.all") {
		t.Fatalf("err = %v; want a cost-limit error naming the expression", err)
	}
}

// An evaluation whose context has ended is interrupted (the deadline's mechanism).
func TestEvaluationIsInterrupted(t *testing.T) {
	env := testEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	list := make([]any, 10*checkEvery)
	for i := range list {
		list[i] = float64(i)
	}
	_, err := env.Eval(ctx, "event.data.l.map(x, x * 2).size() > 0", map[string]any{"event": map[string]any{"data": map[string]any{"l": list}}})
	if !IsOverLimit(err) {
		t.Fatalf("err = %v; want an interrupted evaluation", err)
	}
}

// Source over MaxSourceBytes is refused before compiling, naming it.
func TestLongSourceIsRefused(t *testing.T) {
	env := testEnv(t)
	_, err := env.Compile("event.x == '" + strings.Repeat("a", MaxSourceBytes) + "'")
	if err == nil || !strings.Contains(err.Error(), "limit") || !strings.Contains(err.Error(), `"event.x ==`) {
		t.Fatalf("err = %v", err)
	}
}

// Ordinary conditions still evaluate.
func TestEval(t *testing.T) {
	env := testEnv(t)
	out, err := env.Eval(context.Background(), "event.data.n > 1", map[string]any{"event": map[string]any{"data": map[string]any{"n": 2.0}}})
	if err != nil || out.Value() != true {
		t.Fatalf("got %v, %v", out, err)
	}
}

// FuzzEval: any source compiles or is refused, and any that compiles evaluates within the
// limits (or stops at them) over a sizeable event, never a panic.
func FuzzEval(f *testing.F) {
	for _, s := range []string{"event.data.n > 1", "event.data.l.all(x, event.data.l.exists(y, y == x))",
		"[1,2,3].map(x, [1,2,3].map(y, x * y))", "'a' * 3", "event.data.s.matches('(a+)+$')", "size(event)"} {
		f.Add(s)
	}
	env, err := NewEnv("fuzz", cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)))
	if err != nil {
		f.Fatal(err)
	}
	list := make([]any, 2000)
	for i := range list {
		list[i] = float64(i)
	}
	vars := map[string]any{"event": map[string]any{"data": map[string]any{"n": 2.0, "l": list, "s": strings.Repeat("a", 5000) + "!"}}}
	f.Fuzz(func(t *testing.T, src string) {
		_, _ = env.Eval(context.Background(), src, vars)
		if Cached() > MaxPrograms {
			t.Fatalf("cache holds %d", Cached())
		}
	})
}
