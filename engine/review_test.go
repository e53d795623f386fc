package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Regression tests for bugs a review of the engine found.

// A step whose write the database refuses (here a fan-out that fails once) hands its run
// back; it used to stay "running" for as long as the worker lived.
func TestRefusedWriteHandsTheRunBack(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var calls, childRuns atomic.Int32
		h := start(t, db, []*engine.Function{
			{ID: "child", Triggers: []engine.Trigger{{Event: "rv/child"}},
				Fanout: func(ctx context.Context, tx engine.Tx, ev engine.Event) ([]engine.RunMeta, error) {
					if calls.Add(1) == 1 {
						return nil, errors.New("transient")
					}
					return []engine.RunMeta{{}}, nil
				},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) { childRuns.Add(1); return nil, nil }},
			{ID: "sender", Triggers: []engine.Trigger{{Event: "rv/start"}},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					_, err := in.Step.SendEvent(ctx, "send", engine.Event{Name: "rv/child"})
					return "sent", err
				}},
		})
		h.await(oneRun(t, h.send("rv/start", nil)), engine.StatusCompleted)
		if calls.Load() < 2 {
			t.Errorf("fan-out called %d times", calls.Load())
		}
	})
}

// A wait matches on any scalar path, however deep, and events with many fields still reach it.
func TestWaitMatchesDeepPathsAndWideEvents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		h := start(t, db, []*engine.Function{
			{ID: "deep", Triggers: []engine.Trigger{{Event: "rv/deep"}},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					ev, err := in.Step.WaitForEvent(ctx, "w", engine.Wait{Event: "rv/deep-done", Match: "data.a.b.c.d", Timeout: time.Hour})
					if err != nil || ev == nil {
						return nil, err
					}
					return "ok", nil
				}},
		})
		deep := map[string]any{"a": map[string]any{"b": map[string]any{"c": map[string]any{"d": 7}}}}
		id := oneRun(t, h.send("rv/deep", deep))
		h.await(id, engine.StatusWaiting)
		wide := map[string]any{"a": deep["a"]}
		for i := range 400 {
			wide[fmt.Sprint("f", i)] = i
		}
		h.send("rv/deep-done", wide)
		h.await(id, engine.StatusCompleted)
	})
}

// One Send of thousands of events while waits exist does not exceed the drivers' limits.
func TestLargeBatchSendWithWaits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		h := start(t, db, []*engine.Function{
			{ID: "waiter", Triggers: []engine.Trigger{{Event: "rv/wait"}},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					return in.Step.WaitForEvent(ctx, "w", engine.Wait{Event: "rv/many", Match: "data.id", Timeout: time.Hour})
				}},
		})
		id := oneRun(t, h.send("rv/wait", map[string]any{"id": 5999}))
		h.await(id, engine.StatusWaiting)
		events := make([]engine.Event, 6000)
		for i := range events {
			events[i] = engine.Event{Name: "rv/many", Data: map[string]any{"id": i, "x": "y"}}
		}
		if _, err := h.e.Send(h.ctx, events...); err != nil {
			t.Fatal(err)
		}
		h.await(id, engine.StatusCompleted)
	})
}

// Runs of a saturated concurrency key do not hold back the runs of another key.
func TestSaturatedKeyDoesNotStarveOthers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		release := make(chan struct{})
		h := start(t, db, []*engine.Function{
			{ID: "keyed", Triggers: []engine.Trigger{{Event: "rv/keyed"}}, Flow: engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1, Key: "event.data.k"}}},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					if in.Event.Data["k"] == "busy" {
						<-release // the busy key's first run holds its only slot
					}
					return nil, nil
				}},
		})
		defer close(release)
		events := make([]engine.Event, 150)
		for i := range events {
			events[i] = engine.Event{Name: "rv/keyed", Data: map[string]any{"k": "busy"}}
		}
		if _, err := h.e.Send(h.ctx, events...); err != nil {
			t.Fatal(err)
		}
		h.await(oneRun(t, h.send("rv/keyed", map[string]any{"k": "idle"})), engine.StatusCompleted)
	})
}

// A Fanout can give each run its own concurrency key; with KeyedOnly, runs without one are
// not limited at all.
func TestFanoutConcurrencyKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		var active, peak, unkeyedPeak, unkeyed atomic.Int32
		gate := make(chan struct{})
		h := start(t, db, []*engine.Function{
			{ID: "fk", Triggers: []engine.Trigger{{Event: "rv/fk"}}, Flow: engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1, KeyedOnly: true}}},
				Fanout: func(ctx context.Context, tx engine.Tx, ev engine.Event) ([]engine.RunMeta, error) {
					if k, _ := ev.Data["k"].(string); k != "" {
						return []engine.RunMeta{{ConcurrencyKey: "wf:" + k}}, nil
					}
					return []engine.RunMeta{{}}, nil
				},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					_, err := in.Step.Run(ctx, "work", func(ctx context.Context) (any, error) {
						if in.Event.Data["k"] == nil {
							n := unkeyed.Add(1)
							for {
								if p := unkeyedPeak.Load(); n <= p || unkeyedPeak.CompareAndSwap(p, n) {
									break
								}
							}
							<-gate // both unkeyed runs must be able to wait here at once
							unkeyed.Add(-1)
							return nil, nil
						}
						n := active.Add(1)
						for {
							if p := peak.Load(); n <= p || peak.CompareAndSwap(p, n) {
								break
							}
						}
						time.Sleep(5 * time.Millisecond)
						active.Add(-1)
						return nil, nil
					})
					return nil, err
				}},
		})
		var keyed []string
		for range 6 {
			keyed = append(keyed, oneRun(t, h.send("rv/fk", map[string]any{"k": "same"})))
		}
		u1 := oneRun(t, h.send("rv/fk", nil))
		u2 := oneRun(t, h.send("rv/fk", nil))
		enginetest.Eventually(t, "two unkeyed runs to run at once", func() bool { return unkeyed.Load() >= 2 })
		close(gate)
		for _, id := range append(keyed, u1, u2) {
			h.await(id, engine.StatusCompleted)
		}
		if peak.Load() != 1 {
			t.Errorf("runs with the same key ran %d at once, limit 1", peak.Load())
		}
	})
}

// A step fn that ignores its context is abandoned at its timeout and retried; the run does
// not hang.
func TestStepIgnoringItsContextIsAbandonedAtTimeout(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		stuck := make(chan struct{})
		defer close(stuck) // let the abandoned goroutines end with the test
		var calls atomic.Int32
		h := start(t, db, []*engine.Function{
			{ID: "hangs", Triggers: []engine.Trigger{{Event: "rv/hang"}}, Flow: engine.Flow{Retries: engine.Retries(1)},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					return in.Step.Run(ctx, "hang", func(ctx context.Context) (any, error) {
						calls.Add(1)
						<-stuck // ignores ctx
						return nil, nil
					}, engine.WithTimeout(50*time.Millisecond))
				}},
		})
		run := h.await(oneRun(t, h.send("rv/hang", nil)), engine.StatusFailed)
		if calls.Load() != 2 || run.Steps[0].Attempts != 2 || !strings.Contains(run.Error, "timed out after 50ms") {
			t.Errorf("calls %d, attempts %d, error %q", calls.Load(), run.Steps[0].Attempts, run.Error)
		}
	})
}

// Cancelling a run cancels the runs it invoked; an invoke that times out cancels its child.
func TestInvokedRunsEndWithTheirCaller(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		h := start(t, db, []*engine.Function{
			{ID: "slow-child", Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return nil, in.Step.Sleep(ctx, "long", time.Hour)
			}},
			{ID: "caller", Triggers: []engine.Trigger{{Event: "rv/invoke"}}, Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				timeout := time.Hour
				if in.Event.Data["short"] == true {
					timeout = 100 * time.Millisecond
				}
				return in.Step.Invoke(ctx, "call", "slow-child", nil, timeout)
			}},
		})
		cancelled := oneRun(t, h.send("rv/invoke", nil))
		h.await(cancelled, engine.StatusWaiting)
		timedOut := oneRun(t, h.send("rv/invoke", map[string]any{"short": true}))
		if err := h.e.Cancel(h.ctx, cancelled); err != nil {
			t.Fatal(err)
		}
		h.await(timedOut, engine.StatusFailed)
		var live int64
		if err := db.DB.Table("runs").Where("function_id = 'slow-child' AND status NOT IN ('completed', 'failed', 'cancelled')").Count(&live).Error; err != nil {
			t.Fatal(err)
		}
		var ended int64
		db.DB.Table("runs").Where("function_id = 'slow-child' AND status = 'cancelled'").Count(&ended)
		if live != 0 || ended != 2 {
			t.Errorf("children: %d still live, %d cancelled (want 0 and 2)", live, ended)
		}
	})
}
