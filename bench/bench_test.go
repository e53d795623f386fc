package bench

import (
	"context"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// The go test -bench set: each scenario on SQLite and, with TEST_DATABASE_URL, PostgreSQL.
// `inkflow bench` prints the same scenarios as a table.
//
//	go test ./bench -run '^$' -bench . -benchtime 2000x

func eachDB(b *testing.B, fn func(b *testing.B, bn *bencher)) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var db *testdb.DB
			if name == "sqlite" {
				db = testdb.SQLite(b)
			} else {
				db = testdb.Postgres(b)
			}
			e, err := engine.New(engine.Options{DB: db.DB, URL: db.URL, Concurrency: concurrencyFor(db.DB), Logger: quietLogger()})
			if err != nil {
				b.Fatal(err)
			}
			if err := e.Register(Functions(db.DB)...); err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- e.Start(ctx) }()
			defer func() { cancel(); <-done }()
			fn(b, &bencher{e: e, dialect: name})
		})
	}
}

func BenchmarkOneStepRuns(b *testing.B) {
	eachDB(b, func(b *testing.B, bn *bencher) {
		b.ResetTimer()
		r, err := bn.oneStep(context.Background(), Sizes{OneStep: b.N})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.RunsPerS, "runs/s")
	})
}

func BenchmarkTenStepRuns(b *testing.B) {
	eachDB(b, func(b *testing.B, bn *bencher) {
		b.ResetTimer()
		r, err := bn.tenStep(context.Background(), Sizes{TenStep: b.N})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.StepsPerS, "steps/s")
	})
}

func BenchmarkResumeWaits(b *testing.B) {
	eachDB(b, func(b *testing.B, bn *bencher) {
		b.ResetTimer()
		r, err := bn.resumeWaits(context.Background(), Sizes{Waits: b.N})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.RunsPerS, "resumes/s")
	})
}

func BenchmarkEventToStartLatency(b *testing.B) {
	eachDB(b, func(b *testing.B, bn *bencher) {
		b.ResetTimer()
		r, err := bn.latency(context.Background(), Sizes{LatencyRate: 200, LatencyFor: time.Duration(b.N) * 5 * time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.P50MS, "p50-ms")
		b.ReportMetric(r.P99MS, "p99-ms")
	})
}

// The flow scenarios run and their limits hold: never more than the limit of a key's runs
// at once, nor more than limit+burst of its starts in one period.
func TestFlowScenarios(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var got []Result
		since := time.Now().Add(-time.Second)
		if err := RunFlow(context.Background(), db.DB, db.URL, Sizes{FlowRuns: 400, ThrottleRuns: 250}, func(r Result) { got = append(got, r) }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(FlowScenarios) {
			t.Fatalf("%d results for %d scenarios", len(got), len(FlowScenarios))
		}
		for i, r := range got {
			if r.Scenario != FlowScenarios[i] || r.Runs == 0 || r.RunsPerS <= 0 {
				t.Errorf("result %d: %+v", i, r)
			}
			t.Logf("%s: %.0f runs/s; %s", r.Scenario, r.RunsPerS, r.Note)
		}
		keyed, err := MeasurePeaks(context.Background(), db.DB, KeyedFunction, since, ThrottlePeriod)
		if err != nil {
			t.Fatal(err)
		}
		if n := Max(keyed.Running); n > KeyedLimit || n == 0 {
			t.Errorf("peak %d runs of a key at once, limit %d: %v", n, KeyedLimit, keyed.Running)
		}
		throttled, err := MeasurePeaks(context.Background(), db.DB, ThrottledFunction, since, ThrottlePeriod)
		if err != nil {
			t.Fatal(err)
		}
		if n := Max(throttled.Starts); n > ThrottleLimit+ThrottleBurst || n == 0 {
			t.Errorf("peak %d starts of a key in %s, limit %d: %v", n, ThrottlePeriod, ThrottleLimit+ThrottleBurst, throttled.Starts)
		}
	})
}

// TestQuickScenarios runs every scenario once at small sizes, so the benchmark code itself
// is exercised by the test suite (the figures are not asserted: speed lives in benchmarks).
func TestQuickScenarios(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var got []Result
		sizes := Sizes{OneStep: 50, TenStep: 10, LatencyRate: 50, LatencyFor: 200 * time.Millisecond, FanOut: 20, Waits: 50}
		if err := Run(context.Background(), db.DB, db.URL, sizes, func(r Result) { got = append(got, r) }); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(Scenarios) {
			t.Fatalf("%d results for %d scenarios", len(got), len(Scenarios))
		}
		for i, r := range got {
			if r.Scenario != Scenarios[i] || r.Runs == 0 || r.RunsPerS <= 0 {
				t.Errorf("result %d: %+v", i, r)
			}
		}
	})
}
