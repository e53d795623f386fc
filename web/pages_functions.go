package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/templates"
)

// statsSample is how many of a function's latest runs the functions page summarises. The
// engine keeps no running totals, so the page reads them (one indexed query per function):
// cheap, and recent enough to show a function going bad.
const statsSample = 200

// functionsPage is /admin/functions.
func (s *Server) functionsPage(c echo.Context) error {
	ctx := c.Request().Context()
	fns := s.eng.Functions()
	rows := make([]templates.FunctionRow, 0, len(fns))
	for _, fn := range fns {
		row := functionRow(fn, s.eng.NextCron(fn.ID))
		stats, err := s.functionStats(ctx, fn.ID)
		if err != nil {
			return err
		}
		row.Stats = stats
		rows = append(rows, row)
	}
	workflows, err := s.workflowTriggers(ctx)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, templates.FunctionsPage(rows, workflows, statsSample))
}

// workflowTriggers lists the stored workflows with their triggers (none without a store).
func (s *Server) workflowTriggers(ctx context.Context) ([]templates.WorkflowTrigger, error) {
	if s.cfg.Workflows == nil {
		return nil, nil
	}
	list, err := s.cfg.Workflows.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]templates.WorkflowTrigger, 0, len(list))
	for _, w := range list {
		wt := templates.WorkflowTrigger{ID: w.ID, Name: w.Name, Enabled: w.Enabled, Trigger: w.Trigger}
		first := true
		for _, t := range w.Triggers {
			if first && t.Legacy() == w.Trigger && t.If == "" {
				first = false // the one shown as the trigger
				continue
			}
			switch {
			case t.Cron != "":
				wt.Others = append(wt.Others, "cron "+t.Cron)
			case t.If != "":
				wt.Others = append(wt.Others, "event "+t.Event+" if "+t.If)
			default:
				wt.Others = append(wt.Others, "event "+t.Event)
			}
		}
		if rest, ok := strings.CutPrefix(w.Trigger, workflow.CronPrefix); ok {
			spec, loc := cronZone(rest)
			wt.Cron = &templates.FunctionCron{Spec: spec, Zone: loc.String()}
			if sched, err := engine.ParseCron(rest); err == nil {
				wt.Cron.Next = sched.Next(time.Now()).In(loc)
			}
		}
		out = append(out, wt)
	}
	return out, nil
}

// functionRow describes fn; next are its cron triggers' next fire times, in trigger order.
func functionRow(fn *engine.Function, next []time.Time) templates.FunctionRow {
	row := templates.FunctionRow{ID: fn.ID, Name: fn.Name, Retries: engine.DefaultRetries}
	if fn.Retries != nil {
		row.Retries = *fn.Retries
	}
	for i, c := range fn.Concurrency {
		if i > 0 {
			row.Concurrency += "; "
		}
		row.Concurrency += "at most " + strconv.Itoa(c.Limit) + " at once"
		if c.Key != "" {
			row.Concurrency += " per " + c.Key
		}
	}
	for _, co := range fn.CancelOn {
		row.CancelOn = append(row.CancelOn, co.Event)
	}
	i := 0
	for _, t := range fn.Triggers {
		if t.Cron == "" {
			row.Events = append(row.Events, templates.FunctionEvent{Event: t.Event, If: t.If})
			continue
		}
		spec, loc := cronZone(t.Cron)
		fc := templates.FunctionCron{Spec: spec, Zone: loc.String()}
		if i < len(next) {
			fc.Next = next[i].In(loc)
		}
		i++
		row.Crons = append(row.Crons, fc)
	}
	return row
}

// cronZone splits a "TZ=Area/City " (or "CRON_TZ=") prefix off a schedule; without one, or
// with a zone this system does not know, the schedule runs in UTC.
func cronZone(spec string) (string, *time.Location) {
	spec = strings.TrimSpace(spec)
	for _, p := range []string{"TZ=", "CRON_TZ="} {
		if rest, ok := strings.CutPrefix(spec, p); ok {
			name, sched, _ := strings.Cut(rest, " ")
			if loc, err := time.LoadLocation(name); err == nil {
				return strings.TrimSpace(sched), loc
			}
			return strings.TrimSpace(sched), time.UTC
		}
	}
	return spec, time.UTC
}

// functionStats summarises the latest statsSample runs of function id: the success rate of
// those that finished and the p50/p95 wall time of those that completed.
func (s *Server) functionStats(ctx context.Context, id string) (templates.FunctionStats, error) {
	runs, _, err := s.eng.ListRuns(ctx, engine.RunFilter{FunctionID: id, Limit: statsSample})
	if err != nil {
		return templates.FunctionStats{}, err
	}
	st := templates.FunctionStats{Sampled: len(runs)}
	var durations []time.Duration
	for _, r := range runs {
		switch r.Status {
		case engine.StatusCompleted:
			st.Completed++
			if r.EndedAt != nil {
				start := r.CreatedAt
				if r.StartedAt != nil {
					start = *r.StartedAt
				}
				durations = append(durations, r.EndedAt.Sub(start))
			}
		case engine.StatusFailed:
			st.Failed++
		}
		if r.Status.Finished() {
			st.Finished++
		}
	}
	st.P50, st.P95 = percentile(durations, 50), percentile(durations, 95)
	return st, nil
}

// percentile is the nearest-rank p-th percentile of ds (0 for none).
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}
