package web

import (
	"net/http"
	"sort"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/database"
	"github.com/inkflow/inkflow/ops"
	"github.com/inkflow/inkflow/templates"
)

// systemPage is /admin/system (admins): the workers with their last heartbeat, the queue and
// when each cron trigger fires next. Figures are read from the database, so every instance
// shows the same page.
func (s *Server) systemPage(c echo.Context) error {
	if s.eng == nil {
		return engine.Errorf(engine.EUnavailable, "the engine is not configured")
	}
	ctx := c.Request().Context()
	workers, err := s.eng.Workers(ctx)
	if err != nil {
		return err
	}
	q, err := s.eng.Queue(ctx)
	if err != nil {
		return err
	}
	counts, err := s.eng.CountRuns(ctx, engine.RunFilter{})
	if err != nil {
		return err
	}
	d := templates.System{Now: time.Now(), Database: string(database.DialectOf(s.cfg.DB)), QueueDepth: q.Depth, OldestDue: q.OldestDue,
		Runs: map[string]int{}, Crons: s.cronFires()}
	for _, t := range ops.Templates() {
		d.Templates = append(d.Templates, templates.SystemTemplate{ID: t.ID, Name: t.Name, Description: t.Description})
	}
	for st, n := range counts {
		d.Runs[string(st)] = n
	}
	for _, w := range workers {
		d.Workers = append(d.Workers, templates.SystemWorker{ID: w.ID, StartedAt: w.StartedAt, HeartbeatAt: w.HeartbeatAt,
			Running: w.Running, Capacity: w.Capacity, Alive: w.Alive})
	}
	return s.render(c, http.StatusOK, templates.SystemPage(d))
}

// cronFires lists every cron trigger of the registered functions with its next fire, soonest
// first.
func (s *Server) cronFires() []templates.SystemCron {
	var out []templates.SystemCron
	for _, fn := range s.eng.Functions() {
		var specs []string
		for _, t := range fn.Triggers {
			if t.Cron != "" {
				specs = append(specs, t.Cron)
			}
		}
		for i, next := range s.eng.NextCron(fn.ID) {
			if i < len(specs) {
				out = append(out, templates.SystemCron{Function: fn.ID, Name: fn.Name, Schedule: specs[i], Next: next})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Next.Before(out[j].Next) })
	return out
}
