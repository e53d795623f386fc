package main

import (
	"context"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/engine"
)

// The benchmark's probe functions are not part of the product: `inkflow serve` and `inkflow
// worker` do not register them (they would show among the functions and runs); `inkflow bench
// worker` and `inkflow bench serve` do.
func TestBenchFunctionsOnlyInBenchProcesses(t *testing.T) {
	cfg := loadConfig(flag.NewFlagSet("t", flag.ContinueOnError))
	cfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "app.db")
	probes := func(more ...func(*gorm.DB) []*engine.Function) int {
		a, err := openApp(context.Background(), cfg, more...)
		if err != nil {
			t.Fatal(err)
		}
		defer a.close()
		n := 0
		for _, fn := range a.engine.Functions() {
			if strings.HasPrefix(fn.ID, "bench-") {
				n++
			}
		}
		return n
	}
	if n := probes(); n != 0 {
		t.Errorf("the product registers %d bench-* functions, want none", n)
	}
	if n := probes(bench.Functions); n != len(bench.Functions(nil)) || n == 0 {
		t.Errorf("bench worker registers %d bench-* functions, want %d", n, len(bench.Functions(nil)))
	}
}
