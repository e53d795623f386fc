package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/database"
)

func cmdBench(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 && (args[0] == "worker" || args[0] == "serve") {
		return cmdBenchProcess(ctx, args[0], args[1:], out)
	}
	fs := flags("bench", out)
	quick := fs.Bool("quick", false, "small sizes that finish in seconds")
	asJSON := fs.Bool("json", false, "one JSON object per scenario per line")
	pg := fs.String("postgres", os.Getenv("DATABASE_URL"), "PostgreSQL URL to benchmark too (a scratch schema is created and dropped); default DATABASE_URL")
	sdkApp := fs.String("sdk-app", os.Getenv("INKFLOW_BENCH_SDK_APP"), "the inngestgo app binary for the sdk-* scenarios (env INKFLOW_BENCH_SDK_APP; default: built from ./e2e/sdkapps/go when the go tool is there; 'none' skips them)")
	if err := parse(fs, args); err != nil {
		return err
	}
	sizes := bench.Full
	if *quick {
		sizes = bench.Quick
	}
	var results []bench.Result
	emit := func(r bench.Result) {
		results = append(results, r)
		if *asJSON {
			b, _ := json.Marshal(r)
			fmt.Fprintln(out, string(b))
		}
	}
	dir, err := os.MkdirTemp("", "inkflow-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	app, note := sdkAppBinary(*sdkApp, dir)
	if err := benchOn(ctx, "sqlite://"+filepath.Join(dir, "bench.db"), "", sizes, app, emit); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if database.IsPostgres(*pg) {
		if err := benchPostgres(ctx, *pg, sizes, app, emit); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
	}
	if note != "" && !*asJSON {
		fmt.Fprintln(out, note)
	}
	if !*asJSON {
		bench.WriteTable(out, results)
	}
	return nil
}

// benchPostgres benchmarks in a scratch schema of base's database, dropped afterwards.
func benchPostgres(ctx context.Context, base string, sizes bench.Sizes, sdkApp string, emit func(bench.Result)) error {
	admin, err := database.Open(base)
	if err != nil {
		return err
	}
	defer func() {
		if s, err := admin.DB(); err == nil {
			s.Close()
		}
	}()
	schema := fmt.Sprintf("inkflow_bench_%d", os.Getpid())
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		return err
	}
	defer admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	url, err := database.WithSearchPath(base, schema)
	if err != nil {
		return err
	}
	return benchOn(ctx, url, url, sizes, sdkApp, emit)
}

func benchOn(ctx context.Context, url, listenURL string, sizes bench.Sizes, sdkApp string, emit func(bench.Result)) error {
	db, err := database.Open(url)
	if err != nil {
		return err
	}
	defer func() {
		if s, err := db.DB(); err == nil {
			s.Close()
		}
	}()
	if err := database.Migrate(ctx, db); err != nil {
		return err
	}
	if err := bench.Run(ctx, db, listenURL, sizes, emit); err != nil {
		return err
	}
	if err := bench.RunFlow(ctx, db, listenURL, sizes, emit); err != nil {
		return err
	}
	if sdkApp == "" {
		return nil
	}
	// The SDK scenarios run on an engine of their own that has only the app's functions.
	return bench.RunSDK(ctx, db, listenURL, []string{sdkApp}, sizes, emit)
}

// sdkAppBinary is the inngestgo app to benchmark: flag as given, or built from the source
// tree when it is at hand; "" (with a note saying why) skips the sdk-* scenarios.
func sdkAppBinary(flag, dir string) (string, string) {
	switch flag {
	case "none":
		return "", ""
	case "":
	default:
		return flag, ""
	}
	src := filepath.Join("e2e", "sdkapps", "go")
	if _, err := os.Stat(filepath.Join(src, "go.mod")); err != nil {
		return "", "sdk-* scenarios skipped: no ./e2e/sdkapps/go here (run from the source tree or pass --sdk-app)"
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", "sdk-* scenarios skipped: the go tool is not installed (pass --sdk-app)"
	}
	bin := filepath.Join(dir, "goapp")
	if out, err := exec.Command(goBin, "-C", src, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Sprintf("sdk-* scenarios skipped: building %s failed: %v: %s", src, err, out)
	}
	return bin, ""
}

// cmdBenchProcess is `inkflow worker` or `inkflow serve` with the benchmark's probe functions
// (bench-*, the flow-control ones too) registered beside the product's: the only processes
// besides `inkflow bench` that run them, for the crash, shutdown and restart tests and
// benchmarks across processes. Other processes sharing the database leave the probe runs to
// them. With INKFLOW_BENCH_EXTRA=1 the process also has bench-extra, as a newer deploy would.
func cmdBenchProcess(ctx context.Context, kind string, args []string, out io.Writer) error {
	fns := func(db *gorm.DB) []*engine.Function { return append(bench.Functions(db), bench.FlowFunctions()...) }
	if kind == "serve" {
		return runServe(ctx, "bench serve", args, out, fns)
	}
	return runWorker(ctx, "bench worker", args, out, fns)
}
