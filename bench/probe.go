package bench

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
)

// Event names that start the probe functions.
const (
	EventOneStep = "inkflow/bench.one-step"
	EventSteps   = "inkflow/bench.steps"   // data {steps: N, effects: bool, sleep_ms: M}
	EventFanOut  = "inkflow/bench.fan-out" // data {runs: N}: one step sends N one-step events
	EventWait    = "inkflow/bench.wait"    // data {id}: waits for EventResume with the same id
	EventResume  = "inkflow/bench.resume"

	// Flow-control probes (the multi-process and crash tests of reliability/ use them): each
	// function's option is keyed by data.key (data.id for the singleton).
	EventRateLimit = "inkflow/bench.rate-limit" // at most 5 starts an hour per key
	EventSingleton = "inkflow/bench.singleton"  // one run in progress per data.id (skip); waits for EventResume
	EventDebounce  = "inkflow/bench.debounce"   // one run 3 s after a key's last event; output: its data.n
	EventBatch     = "inkflow/bench.batch"      // up to 1,000 events a run, 3 s after the first; output: their data.n
)

// Functions returns the probe functions. db is where steps with effects record each
// execution of their fn (table probe_effects), outside the run's own transactions, the way a
// real side effect escapes them.
func Functions(db *gorm.DB) []*engine.Function {
	return append([]*engine.Function{
		{ID: "bench-one-step", Name: "Benchmark: one step", Triggers: []engine.Trigger{{Event: EventOneStep}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.Run(ctx, "only", func(ctx context.Context) (any, error) { return in.Event.Data["n"], nil })
			}},
		{ID: "bench-steps", Name: "Benchmark: N steps", Triggers: []engine.Trigger{{Event: EventSteps}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) { return steps(ctx, db, in) }},
		{ID: "bench-fan-out", Name: "Benchmark: fan-out", Triggers: []engine.Trigger{{Event: EventFanOut}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				n := intOf(in.Event.Data["runs"], 1000)
				events := make([]engine.Event, n)
				for i := range events {
					events[i] = engine.Event{Name: EventOneStep, Data: map[string]any{"n": i, "batch": in.Event.Data["batch"]}}
				}
				return in.Step.SendEvent(ctx, "fan-out", events...)
			}},
		{ID: "bench-wait", Name: "Benchmark: wait for event", Triggers: []engine.Trigger{{Event: EventWait}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				ev, err := in.Step.WaitForEvent(ctx, "resume", engine.Wait{Event: EventResume, Match: "data.id", Timeout: 24 * time.Hour})
				if err != nil || ev == nil {
					return nil, err
				}
				return ev.Data["id"], nil
			}},
	}, flowProbes()...)
}

// flowProbes are the flow-control probe functions (see EventRateLimit and the rest).
func flowProbes() []*engine.Function {
	nOf := func(ev engine.Event) any { return ev.Data["n"] }
	return []*engine.Function{
		{ID: "bench-rate-limit", Name: "Benchmark: rate limit", Triggers: []engine.Trigger{{Event: EventRateLimit}},
			Flow:    engine.Flow{RateLimit: &engine.RateLimit{Limit: 5, Period: time.Hour, Key: "event.data.key"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) { return nOf(in.Event), nil }},
		{ID: "bench-singleton", Name: "Benchmark: singleton", Triggers: []engine.Trigger{{Event: EventSingleton}},
			Flow: engine.Flow{Singleton: &engine.Singleton{Key: "event.data.id", Mode: engine.SingletonSkip}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				_, err := in.Step.WaitForEvent(ctx, "resume", engine.Wait{Event: EventResume, Match: "data.id", Timeout: 24 * time.Hour})
				return nOf(in.Event), err
			}},
		{ID: "bench-debounce", Name: "Benchmark: debounce", Triggers: []engine.Trigger{{Event: EventDebounce}},
			Flow:    engine.Flow{Debounce: &engine.Debounce{Period: 3 * time.Second, Key: "event.data.key"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) { return nOf(in.Event), nil }},
		{ID: "bench-batch", Name: "Benchmark: batch", Triggers: []engine.Trigger{{Event: EventBatch}},
			Flow: engine.Flow{BatchEvents: &engine.BatchEvents{MaxSize: 1000, Timeout: 3 * time.Second, Key: "event.data.key"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				ns := make([]any, len(in.Events))
				for i, ev := range in.Events {
					ns[i] = nOf(ev)
				}
				return ns, nil
			}},
	}
}

// steps runs data.steps steps; with data.effects each fn records its execution first, and
// with data.sleep_ms it then takes that long (giving a crash test a window to kill in).
func steps(ctx context.Context, db *gorm.DB, in *engine.Input) (any, error) {
	n := intOf(in.Event.Data["steps"], 10)
	effects, _ := in.Event.Data["effects"].(bool)
	pause := time.Duration(intOf(in.Event.Data["sleep_ms"], 0)) * time.Millisecond
	sum := 0
	for i := range n {
		id := fmt.Sprintf("step-%d", i)
		v, err := engine.RunT(ctx, in.Step, id, func(ctx context.Context) (int, error) {
			if effects {
				err := db.WithContext(ctx).Exec(`INSERT INTO probe_effects (run_id, step_id, at) VALUES (?, ?, ?)`,
					in.Run.ID, id, time.Now().UnixMilli()).Error
				if err != nil {
					return 0, err
				}
			}
			if pause > 0 {
				select {
				case <-time.After(pause):
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}
			return i, nil
		})
		if err != nil {
			return nil, err
		}
		sum += v
	}
	return sum, nil
}

func intOf(v any, def int) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case int:
		return n
	case int64:
		return int(n)
	}
	return def
}
