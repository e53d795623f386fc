package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

func TestCronFiresEachTickOnceAcrossInstances(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clk := enginetest.NewClock(time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC))
		noop := func(ctx context.Context, in *engine.Input) (any, error) { return nil, nil }
		newEngine := func() *engine.Engine {
			e := enginetest.New(t, db, engine.Options{Now: clk.Now, CronCatchUp: time.Hour},
				&engine.Function{ID: "report", Triggers: []engine.Trigger{{Cron: "*/10 * * * *"}}, Handler: noop})
			return e
		}
		a, b := newEngine(), newEngine()
		ctx := context.Background()
		count := func() int {
			runs, _, err := a.ListRuns(ctx, engine.RunFilter{FunctionID: "report", Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			return len(runs)
		}
		// First sight starts from now: nothing fires for ticks before the schedule existed.
		next, err := a.RunCron(ctx)
		if err != nil || count() != 0 {
			t.Fatalf("first sight fired %d runs (err %v)", count(), err)
		}
		if want := time.Date(2026, 3, 1, 12, 10, 0, 0, time.UTC); !next.Equal(want) {
			t.Errorf("next tick %s, want %s", next, want)
		}
		clk.Add(10 * time.Minute) // 12:10:30: one tick due
		for range 3 {
			if _, err := a.RunCron(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := b.RunCron(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := count(); n != 1 {
			t.Fatalf("two instances fired %d runs for one tick", n)
		}
		// Down for 3 ticks: each missed tick fires once on restart.
		clk.Add(30 * time.Minute)
		if _, err := b.RunCron(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 4 {
			t.Fatalf("after 3 missed ticks: %d runs, want 4", n)
		}
		// Down for 5 hours: only the catch-up window (1h, 6 ticks) fires.
		clk.Add(5 * time.Hour)
		if _, err := a.RunCron(ctx); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 10 {
			t.Fatalf("after a long outage: %d runs, want 4+6", n)
		}
		runs, _, _ := a.ListRuns(ctx, engine.RunFilter{FunctionID: "report", Limit: 1})
		if runs[0].EventName != engine.EventCron {
			t.Errorf("cron run event %q", runs[0].EventName)
		}
	})
}

func TestCronTimeZones(t *testing.T) {
	clk := enginetest.NewClock(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
	db := testdb.SQLite(t)
	e := enginetest.New(t, db, engine.Options{Now: clk.Now},
		&engine.Function{ID: "nightly", Triggers: []engine.Trigger{{Cron: "TZ=Europe/Lisbon 0 4 * * *"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) { return nil, nil }})
	// Lisbon is UTC+1 in July: 04:00 there is 03:00 UTC.
	if got := e.NextCron("nightly"); len(got) != 1 || !got[0].Equal(time.Date(2026, 7, 1, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("next fire %v", got)
	}
	for _, bad := range []string{"not a cron", "TZ=Mars/Olympus 0 4 * * *", "61 * * * *"} {
		err := e.Register(&engine.Function{ID: "bad-" + bad, Triggers: []engine.Trigger{{Cron: bad}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) { return nil, nil }})
		if engine.ErrorCode(err) != engine.EInvalid {
			t.Errorf("cron %q: %v, want invalid", bad, err)
		}
	}
}

// TestCronTicksFollowTheScheduleNotItsPosition: a new version of a function lists its cron
// triggers in another order (an app re-synced, a workflow edited). Each schedule keeps its
// own ticks: none fires again and none is skipped. Before ticks were keyed by the trigger's
// position, the reordered schedules swapped their last ticks.
func TestCronTicksFollowTheScheduleNotItsPosition(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clk := enginetest.NewClock(time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC))
		noop := func(ctx context.Context, in *engine.Input) (any, error) { return nil, nil }
		ctx := context.Background()
		version := func(specs ...string) *engine.Engine {
			var tr []engine.Trigger
			for _, s := range specs {
				tr = append(tr, engine.Trigger{Cron: s})
			}
			return enginetest.New(t, db, engine.Options{Now: clk.Now, CronCatchUp: time.Hour},
				&engine.Function{ID: "digest", Triggers: tr, Handler: noop})
		}
		runs := func(e *engine.Engine) int {
			counts, err := e.CountRuns(ctx, engine.RunFilter{FunctionID: "digest"})
			if err != nil {
				t.Fatal(err)
			}
			return counts[engine.StatusQueued]
		}
		cron := func(e *engine.Engine) {
			if _, err := e.RunCron(ctx); err != nil {
				t.Fatal(err)
			}
		}
		const every10, every15 = "*/10 * * * *", "*/15 * * * *"
		v1 := version(every10, every15)
		cron(v1)                  // first sight
		clk.Add(15 * time.Minute) // 12:15:30: every10 ticks at 12:10, every15 at 12:15
		cron(v1)
		if n := runs(v1); n != 2 {
			t.Fatalf("v1: %d runs, want 2", n)
		}
		v2 := version(every15, every10, every10) // reordered, one listed twice
		cron(v2)
		if n := runs(v2); n != 2 {
			t.Fatalf("reordered triggers fired %d runs at the same time, want none more than 2", n)
		}
		clk.Add(15 * time.Minute) // 12:30:30: every10 at 12:20 and 12:30, every15 at 12:30
		cron(v2)
		if n := runs(v2); n != 5 {
			t.Errorf("after the reorder: %d runs, want 2+3 (no tick skipped, none twice)", n)
		}
	})
}

// TestCronUpgradeFromIndexKeys: ticks recorded under the old key (function id + "#" + the
// trigger's index) are taken as the schedule's last tick once, so the first start after the
// upgrade catches up on what it missed instead of starting over.
func TestCronUpgradeFromIndexKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		clk := enginetest.NewClock(time.Date(2026, 3, 1, 12, 0, 30, 0, time.UTC))
		e := enginetest.New(t, db, engine.Options{Now: clk.Now, CronCatchUp: time.Hour},
			&engine.Function{ID: "legacy", Triggers: []engine.Trigger{{Cron: "*/10 * * * *"}},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) { return nil, nil }})
		// What the version before recorded: the 11:50 tick, under "legacy#0".
		if err := db.Exec(`INSERT INTO cron_ticks (function_id, tick, run_id) VALUES ('legacy#0', ?, 'r')`,
			time.Date(2026, 3, 1, 11, 50, 0, 0, time.UTC).UnixMilli()).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := e.RunCron(context.Background()); err != nil {
			t.Fatal(err)
		}
		counts, err := e.CountRuns(context.Background(), engine.RunFilter{FunctionID: "legacy"})
		if err != nil {
			t.Fatal(err)
		}
		if counts[engine.StatusQueued] != 1 {
			t.Errorf("after the upgrade %v runs, want the missed 12:00 tick alone", counts)
		}
	})
}
