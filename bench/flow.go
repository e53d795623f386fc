package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/database"
)

// Flow-control probes: a function with a keyed concurrency limit and one with a keyed
// throttle, for the flow scenarios and for tests across processes (limits hold across
// instances: the database is the arbiter). Each run's key is data.key.
const (
	EventKeyed     = "inkflow/bench.keyed"     // data {key, hold_ms}: one step that takes hold_ms
	EventThrottled = "inkflow/bench.throttled" // data {key}: one step
	EventExtra     = "inkflow/bench.extra"     // starts bench-extra, registered with INKFLOW_BENCH_EXTRA=1

	KeyedFunction     = "bench-keyed"
	ThrottledFunction = "bench-throttled"
	ExtraFunction     = "bench-extra"

	// KeyedLimit runs of one key execute at once.
	KeyedLimit = 2
	// ThrottleLimit+ThrottleBurst runs of one key start in any ThrottlePeriod.
	ThrottleLimit  = 20
	ThrottleBurst  = 0
	ThrottlePeriod = time.Second
)

// FlowFunctions returns the flow-control probes, and bench-extra when the environment has
// INKFLOW_BENCH_EXTRA=1 (a process of a newer deploy, for tests of rolling deploys).
func FlowFunctions() []*engine.Function {
	hold := func(ctx context.Context, in *engine.Input) (any, error) {
		d := time.Duration(intOf(in.Event.Data["hold_ms"], 0)) * time.Millisecond
		// The step's output says when it held its slot, by this host's clock (which every
		// process on it shares), for MeasurePeaks.
		return in.Step.Run(ctx, "work", func(ctx context.Context) (any, error) {
			from := time.Now()
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return map[string]any{"key": in.Event.Data["key"], "pid": os.Getpid(), "from_us": from.UnixMicro(), "to_us": time.Now().UnixMicro()}, nil
		})
	}
	fns := []*engine.Function{
		{ID: KeyedFunction, Name: "Benchmark: concurrency key", Triggers: []engine.Trigger{{Event: EventKeyed}},
			Flow:    engine.Flow{Concurrency: []engine.Concurrency{{Limit: KeyedLimit, Key: "event.data.key"}}},
			Handler: hold},
		{ID: ThrottledFunction, Name: "Benchmark: throttle", Triggers: []engine.Trigger{{Event: EventThrottled}},
			Flow:    engine.Flow{Throttle: &engine.Throttle{Limit: ThrottleLimit, Burst: ThrottleBurst, Period: ThrottlePeriod, Key: "event.data.key"}},
			Handler: hold},
	}
	if os.Getenv("INKFLOW_BENCH_EXTRA") == "1" {
		fns = append(fns, &engine.Function{ID: ExtraFunction, Name: "Benchmark: only in newer processes",
			Triggers: []engine.Trigger{{Event: EventExtra}},
			Handler:  func(ctx context.Context, in *engine.Input) (any, error) { return "extra", nil }})
	}
	return fns
}

// Peaks are how closely a function's runs kept to its limits, per key: the most runs that
// executed at once, and the most that started within one throttle period.
type Peaks struct {
	Running map[string]int
	Starts  map[string]int
	Runs    int
	// First and Last are the first start and the last end, for a rate.
	First, Last time.Time
	// Processes is how many runs each process (pid) executed.
	Processes map[int]int
}

// Max is the largest of m's values.
func Max(m map[string]int) int {
	n := 0
	for _, v := range m {
		n = max(n, v)
	}
	return n
}

// MeasurePeaks reads the finished runs of function fn created since since and measures, per
// data.key, the most whose step ran at once (from the times each step's output gives) and
// the most that started within any window of period (from the runs' started_at, the times
// the throttle counts).
func MeasurePeaks(ctx context.Context, db *gorm.DB, fn string, since time.Time, period time.Duration) (Peaks, error) {
	var rows []struct {
		Event     string
		Output    *string
		StartedAt *int64
		EndedAt   *int64
	}
	if err := db.WithContext(ctx).Raw(`SELECT event, output, started_at, ended_at FROM runs WHERE function_id = ? AND created_at >= ?
		AND status IN ('completed', 'failed', 'cancelled')`, fn, since.UnixMilli()).Scan(&rows).Error; err != nil {
		return Peaks{}, fmt.Errorf("read runs of %s: %w", fn, err)
	}
	type span struct{ from, to int64 }
	spans := map[string][]span{}
	starts := map[string][]int64{}
	p := Peaks{Running: map[string]int{}, Starts: map[string]int{}, Runs: len(rows), Processes: map[int]int{}}
	var first, last int64
	for _, r := range rows {
		if r.StartedAt == nil || r.EndedAt == nil {
			continue
		}
		var ev struct {
			Data map[string]any `json:"data"`
		}
		_ = json.Unmarshal([]byte(r.Event), &ev)
		k := fmt.Sprint(ev.Data["key"])
		starts[k] = append(starts[k], *r.StartedAt)
		if first == 0 || *r.StartedAt < first {
			first = *r.StartedAt
		}
		last = max(last, *r.EndedAt)
		var out struct {
			PID  int   `json:"pid"`
			From int64 `json:"from_us"`
			To   int64 `json:"to_us"`
		}
		if r.Output != nil && json.Unmarshal([]byte(*r.Output), &out) == nil && out.From > 0 {
			spans[k] = append(spans[k], span{out.From, out.To})
			p.Processes[out.PID]++
		}
	}
	p.First, p.Last = time.UnixMilli(first), time.UnixMilli(last)
	for k, ss := range spans {
		// Sweep the steps' starts and ends in time order, ends first at a tie.
		type edge struct {
			at   int64
			step int
		}
		edges := make([]edge, 0, 2*len(ss))
		for _, s := range ss {
			edges = append(edges, edge{s.from, 1}, edge{s.to, -1})
		}
		sort.Slice(edges, func(i, j int) bool {
			if edges[i].at != edges[j].at {
				return edges[i].at < edges[j].at
			}
			return edges[i].step < edges[j].step
		})
		n := 0
		for _, e := range edges {
			n += e.step
			p.Running[k] = max(p.Running[k], n)
		}
	}
	for k, st := range starts {
		// Starts within a window (t - period, t] ending at each start.
		sort.Slice(st, func(i, j int) bool { return st[i] < st[j] })
		lo := 0
		for hi, s := range st {
			for st[lo] <= s-period.Milliseconds() {
				lo++
			}
			p.Starts[k] = max(p.Starts[k], hi-lo+1)
		}
	}
	return p, nil
}

// RunFlow measures the flow-control scenarios on db with an engine of their own that has
// only the flow probes, so the plain scenarios' engine is the same as before.
func RunFlow(ctx context.Context, db *gorm.DB, url string, sizes Sizes, emit func(Result)) error {
	e, err := engine.New(engine.Options{DB: db, URL: url, Concurrency: concurrencyFor(db), Logger: quietLogger()})
	if err != nil {
		return err
	}
	if err := e.Register(FlowFunctions()...); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Start(runCtx) }()
	defer func() { stop(); <-done }()
	b := &bencher{e: e, dialect: string(database.DialectOf(db))}
	for _, s := range []func(context.Context, *gorm.DB, Sizes) (Result, error){b.concurrencyKey, b.throttle} {
		r, err := s(ctx, db, sizes)
		if err != nil {
			return err
		}
		r.DB = b.dialect
		emit(r)
	}
	return nil
}

// FlowScenarios are RunFlow's, in the order they run.
var FlowScenarios = []string{"concurrency-key", "throttle"}

// flowKeys is how many keys the flow scenarios spread their runs over.
const flowKeys = 10

// concurrencyKey sends runs of ten keys whose one step takes 20 ms under a limit of two per
// key: at best 1,000 runs/s.
func (b *bencher) concurrencyKey(ctx context.Context, db *gorm.DB, s Sizes) (Result, error) {
	const holdMS = 20
	since := time.Now().Add(-time.Second)
	events := make([]engine.Event, s.FlowRuns)
	for i := range events {
		events[i] = engine.Event{Name: EventKeyed, Data: map[string]any{"key": fmt.Sprint("k", i%flowKeys), "hold_ms": holdMS}}
	}
	start := time.Now()
	if err := b.sendAll(ctx, events); err != nil {
		return Result{}, err
	}
	if err := b.awaitCount(ctx, KeyedFunction, engine.StatusCompleted, since, s.FlowRuns, 10*time.Minute); err != nil {
		return Result{}, err
	}
	secs := time.Since(start).Seconds()
	p, err := MeasurePeaks(ctx, db, KeyedFunction, since, ThrottlePeriod)
	if err != nil {
		return Result{}, err
	}
	ideal := float64(flowKeys*KeyedLimit) * 1000 / holdMS
	return Result{Scenario: "concurrency-key", Runs: s.FlowRuns, RunsPerS: float64(s.FlowRuns) / secs, StepsPerS: float64(s.FlowRuns) / secs, RSSMB: rssMB(),
		Note: fmt.Sprintf("%d keys, limit %d per key, one %d ms step: at most %.0f runs/s; peak %d running per key (limit held: %v)",
			flowKeys, KeyedLimit, holdMS, ideal, Max(p.Running), Max(p.Running) <= KeyedLimit)}, nil
}

// throttle sends runs of ten keys throttled to 20 starts per second each: at best 200
// runs/s once the first window's starts are spent.
func (b *bencher) throttle(ctx context.Context, db *gorm.DB, s Sizes) (Result, error) {
	since := time.Now().Add(-time.Second)
	events := make([]engine.Event, s.ThrottleRuns)
	for i := range events {
		events[i] = engine.Event{Name: EventThrottled, Data: map[string]any{"key": fmt.Sprint("k", i%flowKeys)}}
	}
	start := time.Now()
	if err := b.sendAll(ctx, events); err != nil {
		return Result{}, err
	}
	if err := b.awaitCount(ctx, ThrottledFunction, engine.StatusCompleted, since, s.ThrottleRuns, 10*time.Minute); err != nil {
		return Result{}, err
	}
	secs := time.Since(start).Seconds()
	p, err := MeasurePeaks(ctx, db, ThrottledFunction, since, ThrottlePeriod)
	if err != nil {
		return Result{}, err
	}
	limit := ThrottleLimit + ThrottleBurst
	ideal := float64(flowKeys*ThrottleLimit) / ThrottlePeriod.Seconds()
	return Result{Scenario: "throttle", Runs: s.ThrottleRuns, RunsPerS: float64(s.ThrottleRuns) / secs, StepsPerS: float64(s.ThrottleRuns) / secs, RSSMB: rssMB(),
		Note: fmt.Sprintf("%d keys, %d starts per %s per key: at most %.0f runs/s; peak %d starts in one %s per key (limit held: %v)",
			flowKeys, limit, ThrottlePeriod, ideal, Max(p.Starts), ThrottlePeriod, Max(p.Starts) <= limit)}, nil
}
