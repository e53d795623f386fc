package web

import (
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
)

type listRunsReq struct {
	Status   string `query:"status"`
	Function string `query:"function"`
	Event    string `query:"event"`
	Workflow int64  `query:"workflow"`
	Since    string `query:"since"`
	Until    string `query:"until"`
	Limit    int    `query:"limit"`
	Cursor   string `query:"cursor"`
}

// filter turns the query into an engine filter, naming a malformed time field.
func (r *listRunsReq) filter() (engine.RunFilter, error) {
	f := engine.RunFilter{Status: engine.Status(r.Status), FunctionID: r.Function, EventName: r.Event,
		WorkflowID: r.Workflow, Limit: r.Limit, Cursor: r.Cursor}
	for _, t := range []struct {
		field, value string
		into         *time.Time
	}{{"since", r.Since, &f.Since}, {"until", r.Until, &f.Until}} {
		if t.value == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.value)
		if err != nil {
			return f, engine.FieldError(t.field, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
		}
		*t.into = v
	}
	return f, nil
}

type listRunsResp struct {
	Runs   []engine.Run          `json:"runs"`
	Next   string                `json:"next"`
	Counts map[engine.Status]int `json:"counts"`
}

// listRuns is GET /api/runs: a page of runs newest first, with counts per status for the
// same filter (status aside).
func (s *Server) listRuns(c echo.Context, req *listRunsReq) (*listRunsResp, error) {
	f, err := req.filter()
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	runs, next, err := s.eng.ListRuns(ctx, f)
	if err != nil {
		return nil, err
	}
	counts, err := s.eng.CountRuns(ctx, f)
	if err != nil {
		return nil, err
	}
	return &listRunsResp{Runs: runs, Next: next, Counts: counts}, nil
}

type runReq struct {
	ID string `param:"id"`
}

// runDetail is GET /api/runs/{id}: the run with "steps" always present (an empty list for a
// run that has stored none yet; listings leave steps out).
type runDetail struct {
	*engine.Run
	Steps []engine.StepInfo `json:"steps"`
}

func (s *Server) getRun(c echo.Context, req *runReq) (*runDetail, error) {
	run, err := s.eng.GetRun(c.Request().Context(), req.ID)
	if err != nil {
		return nil, err
	}
	steps := run.Steps
	if steps == nil {
		steps = []engine.StepInfo{}
	}
	return &runDetail{Run: run, Steps: steps}, nil
}

func (s *Server) cancelRun(c echo.Context, req *runReq) (*engine.Run, error) {
	if err := s.eng.Cancel(c.Request().Context(), req.ID); err != nil {
		return nil, err
	}
	return s.eng.GetRun(c.Request().Context(), req.ID)
}

type rerunResp struct {
	ID string `json:"id"`
}

func (s *Server) rerunRun(c echo.Context, req *runReq) (*rerunResp, error) {
	id, err := s.eng.Rerun(c.Request().Context(), req.ID)
	if err != nil {
		return nil, err
	}
	return &rerunResp{ID: id}, nil
}
