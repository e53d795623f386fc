package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// dashboard is /admin.
func (s *Server) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	d := templates.Dashboard{PostCounts: map[cms.Status]int64{}}
	for _, st := range cms.Statuses {
		_, n, err := s.cms.Posts.List(ctx, cms.PostFilter{Status: st, Limit: 1})
		if err != nil {
			return err
		}
		d.PostCounts[st] = n
	}
	recent, _, err := s.cms.Posts.List(ctx, cms.PostFilter{Limit: 10})
	if err != nil {
		return err
	}
	d.Recent = recent
	if counts, err := s.countRuns(c); err == nil {
		d.RunCounts = counts
	}
	return s.render(c, http.StatusOK, templates.DashboardPage(d))
}

// countRuns asks the engine for runs per status.
func (s *Server) countRuns(c echo.Context) (map[string]int, error) {
	if s.eng == nil {
		return nil, engine.Errorf(engine.EUnavailable, "no engine")
	}
	m, err := s.eng.CountRuns(c.Request().Context(), engine.RunFilter{})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for k, v := range m {
		out[string(k)] = v
	}
	return out, nil
}
