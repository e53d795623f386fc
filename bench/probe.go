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
)

// Functions returns the probe functions. db is where steps with effects record each
// execution of their fn (table probe_effects), outside the run's own transactions, the way a
// real side effect escapes them.
func Functions(db *gorm.DB) []*engine.Function {
	return []*engine.Function{
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
