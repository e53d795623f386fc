package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/database"
)

// Result is one scenario's figures, printed as a table row or one JSON object per line.
type Result struct {
	Scenario  string  `json:"scenario"`
	DB        string  `json:"db"`
	Runs      int     `json:"runs"`
	RunsPerS  float64 `json:"runs_per_s"`
	StepsPerS float64 `json:"steps_per_s"`
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
	RSSMB     float64 `json:"rss_mb"`
	// Note says what a figure means where the columns do not (e.g. RSS with and without waits).
	Note string `json:"note,omitempty"`
}

// Sizes sets how much work each scenario does.
type Sizes struct {
	OneStep     int // one-step runs
	TenStep     int // ten-step runs
	LatencyRate int // events per second for the latency scenario
	LatencyFor  time.Duration
	FanOut      int // runs started by one event
	Waits       int // waiting runs resumed
	// FlowRuns and ThrottleRuns size the flow-control scenarios (flow.go).
	FlowRuns     int
	ThrottleRuns int
}

// Full are the sizes the README's figures come from; Quick finishes in seconds.
var (
	Full = Sizes{OneStep: 5000, TenStep: 1000, LatencyRate: 200, LatencyFor: 10 * time.Second, FanOut: 1000, Waits: 10000,
		FlowRuns: 3000, ThrottleRuns: 1000}
	Quick = Sizes{OneStep: 300, TenStep: 50, LatencyRate: 100, LatencyFor: 2 * time.Second, FanOut: 100, Waits: 300,
		FlowRuns: 200, ThrottleRuns: 300}
)

// Scenarios in the order they run.
var Scenarios = []string{"one-step", "ten-step", "latency", "fan-out", "resume-waits"}

// Run measures every scenario on db (migrated, empty) with a fresh engine running workers in
// this process, and reports each result to emit as soon as it is known.
func Run(ctx context.Context, db *gorm.DB, url string, sizes Sizes, emit func(Result)) error {
	e, err := engine.New(engine.Options{DB: db, URL: url, Concurrency: concurrencyFor(db), Logger: quietLogger()})
	if err != nil {
		return err
	}
	if err := e.Register(Functions(db)...); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Start(runCtx) }()
	defer func() { stop(); <-done }()
	b := &bencher{e: e, dialect: string(database.DialectOf(db))}
	for _, s := range []func(context.Context, Sizes) (Result, error){b.oneStep, b.tenStep, b.latency, b.fanOut, b.resumeWaits} {
		r, err := s(ctx, sizes)
		if err != nil {
			return err
		}
		r.DB = b.dialect
		emit(r)
	}
	return nil
}

// concurrencyFor is how many runs the benchmark's engine executes at once. One-step runs
// spend almost all their time waiting on group commits, so PostgreSQL throughput grows with
// the runs in flight (1,024 goroutines cost a few MiB); SQLite, with one connection, does
// best with fewer.
func concurrencyFor(db *gorm.DB) int {
	if database.DialectOf(db) == database.Postgres {
		return 1024
	}
	return 256
}

type bencher struct {
	e       *engine.Engine
	dialect string
}

// sendAll sends events in batches of 500, one transaction each.
func (b *bencher) sendAll(ctx context.Context, events []engine.Event) error {
	for i := 0; i < len(events); i += 500 {
		if _, err := b.e.Send(ctx, events[i:min(i+500, len(events))]...); err != nil {
			return err
		}
	}
	return nil
}

// awaitCount waits until n runs of fn created since since are in status.
func (b *bencher) awaitCount(ctx context.Context, fn string, status engine.Status, since time.Time, n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		counts, err := b.e.CountRuns(ctx, engine.RunFilter{FunctionID: fn, Since: since})
		if err != nil {
			return err
		}
		got := counts[status]
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d of %d runs %s after %s", fn, got, n, status, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (b *bencher) oneStep(ctx context.Context, s Sizes) (Result, error) {
	events := make([]engine.Event, s.OneStep)
	for i := range events {
		events[i] = engine.Event{Name: EventOneStep, Data: map[string]any{"n": i}}
	}
	start := time.Now()
	if err := b.sendAll(ctx, events); err != nil {
		return Result{}, err
	}
	if err := b.awaitCount(ctx, "bench-one-step", engine.StatusCompleted, start.Add(-time.Second), s.OneStep, 10*time.Minute); err != nil {
		return Result{}, err
	}
	secs := time.Since(start).Seconds()
	p50, p99 := b.startLatency(ctx, "bench-one-step", start.Add(-time.Second))
	return Result{Scenario: "one-step", Runs: s.OneStep, RunsPerS: float64(s.OneStep) / secs, StepsPerS: float64(s.OneStep) / secs,
		P50MS: p50, P99MS: p99, RSSMB: rssMB(), Note: "events sent in batches of 500; time from first send to last run completed"}, nil
}

func (b *bencher) tenStep(ctx context.Context, s Sizes) (Result, error) {
	events := make([]engine.Event, s.TenStep)
	for i := range events {
		events[i] = engine.Event{Name: EventSteps, Data: map[string]any{"steps": 10}}
	}
	start := time.Now()
	if err := b.sendAll(ctx, events); err != nil {
		return Result{}, err
	}
	if err := b.awaitCount(ctx, "bench-steps", engine.StatusCompleted, start.Add(-time.Second), s.TenStep, 10*time.Minute); err != nil {
		return Result{}, err
	}
	secs := time.Since(start).Seconds()
	return Result{Scenario: "ten-step", Runs: s.TenStep, RunsPerS: float64(s.TenStep) / secs, StepsPerS: float64(s.TenStep*10) / secs, RSSMB: rssMB()}, nil
}

// latency sends single events at a steady rate and reports event-to-start latency.
func (b *bencher) latency(ctx context.Context, s Sizes) (Result, error) {
	since := time.Now().Add(-time.Millisecond)
	n := int(float64(s.LatencyRate) * s.LatencyFor.Seconds())
	tick := time.NewTicker(time.Second / time.Duration(s.LatencyRate))
	defer tick.Stop()
	errs := make(chan error, n)
	for i := range n {
		<-tick.C
		go func() {
			_, err := b.e.Send(ctx, engine.Event{Name: EventOneStep, Data: map[string]any{"n": i, "latency": true}})
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			return Result{}, err
		}
	}
	if err := b.awaitCount(ctx, "bench-one-step", engine.StatusCompleted, since, n, 5*time.Minute); err != nil {
		return Result{}, err
	}
	p50, p99 := b.startLatency(ctx, "bench-one-step", since)
	return Result{Scenario: "latency", Runs: n, RunsPerS: float64(s.LatencyRate), P50MS: p50, P99MS: p99, RSSMB: rssMB(),
		Note: fmt.Sprintf("steady %d events/s, one event per request; p50/p99 from event stored to run started", s.LatencyRate)}, nil
}

func (b *bencher) fanOut(ctx context.Context, s Sizes) (Result, error) {
	start := time.Now()
	if _, err := b.e.Send(ctx, engine.Event{Name: EventFanOut, Data: map[string]any{"runs": s.FanOut}}); err != nil {
		return Result{}, err
	}
	if err := b.awaitCount(ctx, "bench-one-step", engine.StatusCompleted, start, s.FanOut, 10*time.Minute); err != nil {
		return Result{}, err
	}
	secs := time.Since(start).Seconds()
	return Result{Scenario: "fan-out", Runs: s.FanOut, RunsPerS: float64(s.FanOut) / secs, StepsPerS: float64(s.FanOut) / secs, RSSMB: rssMB(),
		Note: fmt.Sprintf("one event, one step sending %d events, until every run completed", s.FanOut)}, nil
}

func (b *bencher) resumeWaits(ctx context.Context, s Sizes) (Result, error) {
	runtime.GC()
	before := rssMB()
	since := time.Now().Add(-time.Millisecond)
	events := make([]engine.Event, s.Waits)
	for i := range events {
		events[i] = engine.Event{Name: EventWait, Data: map[string]any{"id": i}}
	}
	if err := b.sendAll(ctx, events); err != nil {
		return Result{}, err
	}
	if err := b.awaitCount(ctx, "bench-wait", engine.StatusWaiting, since, s.Waits, 10*time.Minute); err != nil {
		return Result{}, err
	}
	runtime.GC()
	waiting := rssMB()
	for i := range events {
		events[i] = engine.Event{Name: EventResume, Data: map[string]any{"id": i}}
	}
	start := time.Now()
	if err := b.sendAll(ctx, events); err != nil {
		return Result{}, err
	}
	if err := b.awaitCount(ctx, "bench-wait", engine.StatusCompleted, since, s.Waits, 10*time.Minute); err != nil {
		return Result{}, err
	}
	secs := time.Since(start).Seconds()
	return Result{Scenario: "resume-waits", Runs: s.Waits, RunsPerS: float64(s.Waits) / secs, RSSMB: waiting,
		Note: fmt.Sprintf("RSS %.1f MiB before the waits, %.1f MiB with %d runs waiting (+%.1f); rate = resumes/s from first resume event to last run completed",
			before, waiting, s.Waits, waiting-before)}, nil
}

// startLatency returns p50 and p99 of (started_at - created_at) in ms for fn's runs since.
func (b *bencher) startLatency(ctx context.Context, fn string, since time.Time) (float64, float64) {
	var lat []int64
	for cursor := ""; ; {
		runs, next, err := b.e.ListRuns(ctx, engine.RunFilter{FunctionID: fn, Since: since, Limit: 1000, Cursor: cursor})
		if err != nil {
			return 0, 0
		}
		for _, r := range runs {
			if r.StartedAt != nil {
				lat = append(lat, r.StartedAt.Sub(r.CreatedAt).Milliseconds())
			}
		}
		if cursor = next; next == "" {
			break
		}
	}
	if len(lat) == 0 {
		return 0, 0
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pick := func(q float64) float64 { return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) }
	return pick(0.50), pick(0.99)
}

// rssMB reads this process's resident set size from /proc (0 where there is none).
func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}

// WriteTable prints results as an aligned table.
func WriteTable(w io.Writer, rs []Result) {
	fmt.Fprintf(w, "%-13s %-9s %7s %10s %11s %8s %8s %8s\n", "scenario", "db", "runs", "runs/s", "steps/s", "p50 ms", "p99 ms", "RSS MiB")
	for _, r := range rs {
		fmt.Fprintf(w, "%-13s %-9s %7d %10.0f %11.0f %8.1f %8.1f %8.1f\n", r.Scenario, r.DB, r.Runs, r.RunsPerS, r.StepsPerS, r.P50MS, r.P99MS, r.RSSMB)
	}
	for _, r := range rs {
		if r.Note != "" {
			fmt.Fprintf(w, "  %s/%s: %s\n", r.Scenario, r.DB, r.Note)
		}
	}
}
