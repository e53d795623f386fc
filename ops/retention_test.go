package ops

import (
	"context"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

func TestParseRetention(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"", DefaultRetention, false}, {"30d", 30 * 24 * time.Hour, false}, {"720h", 720 * time.Hour, false},
		{"90m", 90 * time.Minute, false}, {"0d", 0, true}, {"-1h", 0, true}, {"soon", 0, true},
	} {
		got, err := ParseRetention(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseRetention(%q) = %v, %v", tc.in, got, err)
		}
	}
	db := testdb.SQLite(t)
	eng := enginetest.New(t, db, engine.Options{})
	if _, err := RetentionFunctions(RetentionConfig{Engine: eng, DB: db.DB, TZ: "Mars/Olympus"}); err == nil {
		t.Error("an unknown time zone is accepted")
	}
	fns, err := RetentionFunctions(RetentionConfig{Engine: eng, DB: db.DB, TZ: "Europe/Paris"})
	if err != nil || fns[0].Triggers[0].Cron != "TZ=Europe/Paris 30 3 * * *" {
		t.Errorf("schedule: %v %v", fns[0].Triggers, err)
	}
}

// Retention deletes finished runs (with their steps) and events from before the cutoff, in
// batches fanned out as events, and never touches a waiting run or what it needs: the run
// waits on and completes after the clean-up.
func TestRetentionKeepsWhatLiveRunsNeed(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		quick := &engine.Function{ID: "quick", Triggers: []engine.Trigger{{Event: "t/quick"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.Run(ctx, "one", func(ctx context.Context) (any, error) { return 1, nil })
			}}
		waiter := &engine.Function{ID: "waiter", Triggers: []engine.Trigger{{Event: "t/wait"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				if _, err := in.Step.Run(ctx, "before", func(ctx context.Context) (any, error) { return "ready", nil }); err != nil {
					return nil, err
				}
				ev, err := in.Step.WaitForEvent(ctx, "approval", engine.Wait{Event: "t/resume", Match: "data.id", Timeout: 60 * 24 * time.Hour})
				if err != nil || ev == nil {
					return nil, err
				}
				return "approved", nil
			}}
		eng := enginetest.New(t, db, engine.Options{})
		fns, err := RetentionFunctions(RetentionConfig{Engine: eng, DB: db.DB, BatchSize: 2, TZ: "Europe/Paris"})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Register(append(fns, quick, waiter)...); err != nil {
			t.Fatal(err)
		}
		enginetest.StartWorkers(t, eng)

		send := func(name string, data map[string]any) engine.SendResult {
			t.Helper()
			res, err := eng.Send(ctx, engine.Event{Name: name, Data: data})
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		// Old: five finished runs, one waiting run, three events that started nothing.
		var oldRuns []string
		for range 5 {
			oldRuns = append(oldRuns, send("t/quick", nil).Runs...)
		}
		wait := send("t/wait", map[string]any{"id": 7})
		waitRun := wait.Runs[0]
		for range 3 {
			send("t/nobody", nil)
		}
		for _, id := range oldRuns {
			enginetest.Await(t, eng, id, engine.StatusCompleted)
		}
		enginetest.Await(t, eng, waitRun, engine.StatusWaiting)
		cutoff := time.Now().UnixMilli()
		for time.Now().UnixMilli() <= cutoff+1 {
			time.Sleep(time.Millisecond) // let the clock pass the cutoff: nothing to wait on but time
		}
		// Recent: two finished runs.
		recent := append(send("t/quick", nil).Runs, send("t/quick", nil).Runs...)
		for _, id := range recent {
			enginetest.Await(t, eng, id, engine.StatusCompleted)
		}

		// A match path no wait uses any more (its waits finished) is bookkeeping to drop.
		if err := db.DB.Exec(`INSERT INTO wait_paths (event_name, path_hash, match_path) VALUES ('t/gone', 'h', 'data.id')`).Error; err != nil {
			t.Fatal(err)
		}
		plan := send(EventRetentionRequested, map[string]any{"before": cutoff})
		run := enginetest.Await(t, eng, plan.Runs[0], engine.StatusCompleted)
		var batches []string
		batchRuns, err := eng.AllRuns(context.Background(), engine.RunFilter{FunctionID: RetentionBatchFunctionID})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range batchRuns {
			batches = append(batches, r.ID)
		}
		if len(batches) < 4 { // 5 old runs in batches of 2 -> 3, and the old events -> more
			t.Fatalf("%d batches fanned out (plan output %s)", len(batches), run.Output)
		}
		for _, id := range batches {
			enginetest.Await(t, eng, id, engine.StatusCompleted)
		}

		count := func(table, where string, args ...any) int64 {
			var n int64
			if err := db.DB.Table(table).Where(where, args...).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count("runs", "id IN ?", oldRuns); n != 0 {
			t.Errorf("%d old finished runs left", n)
		}
		if n := count("steps", "run_id IN ?", oldRuns); n != 0 {
			t.Errorf("%d steps of old runs left", n)
		}
		if n := count("events", "name = 't/nobody'"); n != 0 {
			t.Errorf("%d old events left", n)
		}
		if n := count("events", "name = 't/quick' AND received_at < ?", cutoff); n != 0 {
			t.Errorf("%d old events of finished runs left", n)
		}
		if n := count("runs", "id IN ?", recent); n != 2 {
			t.Errorf("%d of 2 recent runs left", n)
		}
		if n := count("events", "name = 't/quick'"); n != 2 {
			t.Errorf("%d of 2 recent events left", n)
		}
		if n := count("wait_paths", "event_name = 't/gone'"); n != 0 {
			t.Errorf("the unused wait path was kept")
		}
		if n := count("wait_paths", "event_name = 't/resume'"); n != 1 {
			t.Errorf("the waiting run's match path was dropped (%d rows)", n)
		}
		if n := count("runs", "id = ? AND status = 'waiting'", waitRun); n != 1 {
			t.Errorf("the waiting run is gone")
		}
		if n := count("steps", "run_id = ?", waitRun); n == 0 {
			t.Errorf("the waiting run's steps are gone")
		}
		if n := count("waits", "run_id = ?", waitRun); n == 0 {
			t.Errorf("the waiting run's wait is gone")
		}
		if n := count("events", "id = ?", wait.IDs[0]); n != 1 {
			t.Errorf("the waiting run's event is gone")
		}

		// The waiting run still resumes and completes.
		send("t/resume", map[string]any{"id": 7})
		if r := enginetest.Await(t, eng, waitRun, engine.StatusCompleted); string(r.Output) != `"approved"` {
			t.Errorf("resumed run output %s", r.Output)
		}
	})
}
