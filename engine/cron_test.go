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
