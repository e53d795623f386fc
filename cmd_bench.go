package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/inkflow/inkflow/bench"
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
	if err := benchOn(ctx, "sqlite://"+filepath.Join(dir, "bench.db"), "", sizes, emit); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if database.IsPostgres(*pg) {
		if err := benchPostgres(ctx, *pg, sizes, emit); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
	}
	if !*asJSON {
		bench.WriteTable(out, results)
	}
	return nil
}

// benchPostgres benchmarks in a scratch schema of base's database, dropped afterwards.
func benchPostgres(ctx context.Context, base string, sizes bench.Sizes, emit func(bench.Result)) error {
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
	return benchOn(ctx, url, url, sizes, emit)
}

func benchOn(ctx context.Context, url, listenURL string, sizes bench.Sizes, emit func(bench.Result)) error {
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
	return bench.Run(ctx, db, listenURL, sizes, emit)
}

// cmdBenchProcess is `inkflow worker` or `inkflow serve` with the benchmark's probe functions
// (bench-*) registered beside the product's: the only processes besides `inkflow bench` that
// run them, for the crash, shutdown and restart tests and benchmarks across processes. Every
// process sharing the database must be one of them, or the others fail the probe runs they
// claim as functions they do not know.
func cmdBenchProcess(ctx context.Context, kind string, args []string, out io.Writer) error {
	if kind == "serve" {
		return runServe(ctx, "bench serve", args, out, bench.Functions)
	}
	return runWorker(ctx, "bench worker", args, out, bench.Functions)
}
