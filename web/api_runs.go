package web

import (
	"context"
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
	redactRuns(ctx, runs)
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
	redactRun(c.Request().Context(), run)
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

// bulkRunsReq is the body of POST /api/runs/cancel and /api/runs/replay: the filters of
// GET /api/runs, "limit" (the most runs the request may act on, 1..1000, default 1000; a
// filter matching more is 422 naming "limit" and nothing is done) and "dry_run".
type bulkRunsReq struct {
	Status   string `json:"status"`
	Function string `json:"function"`
	Event    string `json:"event"`
	Workflow int64  `json:"workflow"`
	Since    string `json:"since"`
	Until    string `json:"until"`
	Limit    int    `json:"limit"`
	DryRun   bool   `json:"dry_run"`
}

func (r *bulkRunsReq) filter() (engine.RunFilter, error) {
	l := listRunsReq{Status: r.Status, Function: r.Function, Event: r.Event, Workflow: r.Workflow,
		Since: r.Since, Until: r.Until, Limit: r.Limit}
	return l.filter()
}

// bulkRuns is POST /api/runs/cancel (unfinished runs only) and POST /api/runs/replay.
func (s *Server) bulkRuns(act func(*engine.Engine, context.Context, engine.RunFilter, bool) (engine.BulkResult, error)) func(echo.Context, *bulkRunsReq) (*engine.BulkResult, error) {
	return func(c echo.Context, req *bulkRunsReq) (*engine.BulkResult, error) {
		f, err := req.filter()
		if err != nil {
			return nil, err
		}
		res, err := act(s.eng, c.Request().Context(), f, req.DryRun)
		if err != nil {
			return nil, err
		}
		return &res, nil
	}
}

type retryResp struct {
	ID     string        `json:"id"`
	Status engine.Status `json:"status"`
}

// retryRun is POST /api/runs/{id}/retry: the same failed run resumes at its failed step.
func (s *Server) retryRun(c echo.Context, req *runReq) (*retryResp, error) {
	ctx := c.Request().Context()
	if err := s.eng.Retry(ctx, req.ID); err != nil {
		return nil, err
	}
	run, err := s.eng.GetRun(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	return &retryResp{ID: run.ID, Status: run.Status}, nil
}
