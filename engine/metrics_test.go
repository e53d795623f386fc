package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// gather scrapes reg and returns each sample's value by name and labels ("name{k=v,...}";
// histograms report their count).
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			key := f.GetName() + labelString(m.GetLabel())
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Histogram != nil:
				out[key] = float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return out
}

func labelString(ls []*dto.LabelPair) string {
	if len(ls) == 0 {
		return ""
	}
	s := "{"
	for i, l := range ls {
		if i > 0 {
			s += ","
		}
		s += l.GetName() + "=" + l.GetValue()
	}
	return s + "}"
}

func TestMetricsCountWhatTheDatabaseHolds(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ok := &engine.Function{ID: "m-ok", Triggers: []engine.Trigger{{Event: "m/ok"}},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				if _, err := in.Step.Run(ctx, "plain", func(ctx context.Context) (any, error) { return 1, nil }); err != nil {
					return nil, err
				}
				return in.Step.Run(ctx, "ai", func(ctx context.Context) (any, error) {
					return map[string]any{"text": "hi", "usage": map[string]any{"provider": "openai", "model": "m1",
						"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}}, nil
				})
			}}
		bad := &engine.Function{ID: "m-fail", Triggers: []engine.Trigger{{Event: "m/fail"}}, Flow: engine.Flow{Retries: engine.Retries(0)},
			Handler: func(ctx context.Context, in *engine.Input) (any, error) {
				return in.Step.Run(ctx, "boom", func(ctx context.Context) (any, error) { return nil, errors.New("boom") })
			}}
		eng := enginetest.New(t, db, engine.Options{Lease: 3 * time.Second},
			ok, bad)
		m := engine.NewMetrics(eng)
		m.Lag = 0
		reg := prometheus.NewRegistry()
		reg.MustRegister(m)
		ctx := context.Background()
		var runs []string
		for _, name := range []string{"m/ok", "m/ok", "m/ok", "m/fail"} {
			res, err := eng.Send(ctx, engine.Event{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, res.Runs...)
		}

		// No worker yet: everything is queued and due.
		before := gather(t, reg)
		for key, want := range map[string]float64{
			"inkflow_runs{status=queued}": 4, "inkflow_queue_depth": 4, "inkflow_workers_alive": 0,
			"inkflow_runs_started_total{function=m-ok}": 3, "inkflow_events_received_total": 4,
		} {
			if before[key] != want {
				t.Errorf("before workers: %s = %v, want %v", key, before[key], want)
			}
		}

		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- eng.Start(runCtx) }()
		defer func() { stop(); <-done }()
		for _, id := range runs {
			enginetest.AwaitRun(t, eng, id, "end", func(r *engine.Run) bool { return r.Status.Finished() })
		}
		var stored int64
		db.DB.Table("events").Count(&stored)
		after := gather(t, reg)
		for key, want := range map[string]float64{
			"inkflow_runs{status=queued}":                                       0,
			"inkflow_queue_depth":                                               0,
			"inkflow_queue_oldest_due_seconds":                                  0,
			"inkflow_workers_alive":                                             1,
			"inkflow_worker_slots":                                              256,             // the default Options.Concurrency
			"inkflow_events_received_total":                                     float64(stored), // the failure event too
			"inkflow_runs_started_total{function=m-ok}":                         3,
			"inkflow_runs_finished_total{function=m-ok,status=completed}":       3,
			"inkflow_runs_finished_total{function=m-fail,status=failed}":        1,
			"inkflow_step_duration_seconds{function=m-ok}":                      6,
			"inkflow_ai_tokens_total{kind=prompt,model=m1,provider=openai}":     30,
			"inkflow_ai_tokens_total{kind=completion,model=m1,provider=openai}": 12,
		} {
			if after[key] != want {
				t.Errorf("after the runs: %s = %v, want %v", key, after[key], want)
			}
		}
		if stored < 5 {
			t.Errorf("%d events stored; the failed run should have sent %s", stored, engine.EventRunFailed)
		}
		// A second scrape counts nothing twice.
		again := gather(t, reg)
		if again["inkflow_runs_finished_total{function=m-ok,status=completed}"] != 3 {
			t.Errorf("second scrape: %v", again["inkflow_runs_finished_total{function=m-ok,status=completed}"])
		}
	})
}
