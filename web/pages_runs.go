package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/templates"
)

// runsPageSize is how many runs one page of /admin/runs shows.
const runsPageSize = 50

// How often live pages look for changes: a run page follows its run closely; the list, which
// counts every run, less often.
const (
	runPoll  = 300 * time.Millisecond
	listPoll = 2 * time.Second
)

// runsPage is /admin/runs: runs filtered by status, function, workflow, event name and time,
// newest first, with counts per status. A malformed filter is shown next to its field (422).
func (s *Server) runsPage(c echo.Context) error {
	l, err := s.runList(c.Request().Context(), runQuery(c))
	l.Notice = bulkNotice(c.QueryParam("done"))
	if err != nil {
		if !formErrors(err, &l.Form) {
			return err
		}
		return s.render(c, statusFor(err), templates.RunsPage(l))
	}
	return s.render(c, http.StatusOK, templates.RunsPage(l))
}

// runsStream is /admin/runs/stream: the runs list's live fragment as Server-Sent Events.
func (s *Server) runsStream(c echo.Context) error {
	q := runQuery(c)
	return s.stream(c, listPoll, func(ctx context.Context) (templ.Component, bool, error) {
		l, err := s.runList(ctx, q)
		return templates.RunsLive(l), false, err
	})
}

func runQuery(c echo.Context) templates.RunQuery {
	return templates.RunQuery{Status: c.QueryParam("status"), Function: strings.TrimSpace(c.QueryParam("function")),
		Workflow: strings.TrimSpace(c.QueryParam("workflow")), Event: strings.TrimSpace(c.QueryParam("event")),
		Since: c.QueryParam("since"), Until: c.QueryParam("until"), Cursor: c.QueryParam("cursor")}
}

// runList loads one page of runs for q. On a filter error the list comes back with
// everything but the runs, so the page can show the form again.
func (s *Server) runList(ctx context.Context, q templates.RunQuery) (templates.RunList, error) {
	l := templates.RunList{Query: q, Counts: map[engine.Status]int{}}
	for _, fn := range s.eng.Functions() {
		l.Functions = append(l.Functions, fn.ID)
	}
	if s.cfg.Workflows != nil {
		list, err := s.cfg.Workflows.List(ctx)
		if err != nil {
			return l, err
		}
		l.Workflows = make([]templates.WorkflowOption, 0, len(list))
		for _, w := range list {
			l.Workflows = append(l.Workflows, templates.WorkflowOption{ID: w.ID, Name: w.Name})
		}
	}
	f, err := runFilter(q)
	if err != nil {
		return l, err
	}
	if l.Runs, l.Next, err = s.eng.ListRuns(ctx, f); err != nil {
		return l, err
	}
	redactRuns(ctx, l.Runs)
	names := map[int64]string{}
	for _, w := range l.Workflows {
		names[w.ID] = w.Name
	}
	if l.Labels, err = s.runLabels(ctx, l.Runs, names); err != nil {
		return l, err
	}
	l.Counts, err = s.eng.CountRuns(ctx, f)
	return l, err
}

// runFilter turns the form's text into an engine filter, naming the field of a bad value.
func runFilter(q templates.RunQuery) (engine.RunFilter, error) {
	f := engine.RunFilter{Status: engine.Status(q.Status), FunctionID: q.Function, EventName: q.Event,
		Cursor: q.Cursor, Limit: runsPageSize}
	if q.Workflow != "" {
		id, err := strconv.ParseInt(q.Workflow, 10, 64)
		if err != nil || id <= 0 {
			return f, engine.FieldError("workflow", "must be a workflow id")
		}
		f.WorkflowID = id
	}
	var err error
	if f.Since, err = formInstant("since", q.Since); err != nil {
		return f, err
	}
	if f.Until, err = formInstant("until", q.Until); err != nil {
		return f, err
	}
	return f, nil
}

// formInstant reads a datetime-local value (taken as UTC) or an RFC 3339 time.
func formInstant(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, engine.FieldError(field, "must be a date and time such as 2026-01-02T15:04")
}

// runPage is /admin/runs/{id}.
func (s *Server) runPage(c echo.Context) error {
	d, err := s.runDetail(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	d.Notice = runNotices[c.QueryParam("done")]
	return s.render(c, http.StatusOK, templates.RunPage(d))
}

// runEvents is /admin/runs/{id}/events: the run page's live fragment as Server-Sent Events,
// checked every runPoll and ended once the finished run has been sent.
func (s *Server) runEvents(c echo.Context) error {
	id := c.Param("id")
	return s.stream(c, runPoll, func(ctx context.Context) (templ.Component, bool, error) {
		d, err := s.runDetail(ctx, id)
		if err != nil {
			return nil, false, err
		}
		return templates.RunLive(d), d.Run.Status.Finished(), nil
	})
}

var runNotices = map[string]string{
	"cancelled": "Cancelled: a sleeping or waiting run stops at once, a running one at its next step.",
	"rerun":     "This run was started again from the same event.",
	"retry":     "Resumed at the failed step: completed steps keep their results.",
}

// runDetail loads a run with its steps and, for a workflow run, its graph.
func (s *Server) runDetail(ctx context.Context, id string) (templates.RunDetail, error) {
	run, err := s.eng.GetRun(ctx, id)
	if err != nil {
		return templates.RunDetail{}, err
	}
	redactRun(ctx, run)
	d := templates.RunDetail{Run: run}
	posts, err := s.cms.Posts.RunPosts(ctx, []string{run.ID})
	if err != nil {
		return d, err
	}
	if p, ok := posts[run.ID]; ok {
		d.Post = templates.RunLabel{PostID: p.PostID, PostTitle: p.Title}
	}
	if run.WorkflowID == nil {
		return d, nil
	}
	d.WorkflowName = "workflow #" + strconv.FormatInt(*run.WorkflowID, 10)
	if s.cfg.Workflows == nil {
		d.GraphNote = "This server has no workflow store, so the graph cannot be shown."
		return d, nil
	}
	if rec, err := s.cfg.Workflows.Get(ctx, *run.WorkflowID); err == nil {
		d.WorkflowName = rec.Name
	} else if engine.ErrorCode(err) != engine.ENotFound {
		return d, err
	}
	if run.WorkflowVersion == nil {
		d.GraphNote = "The run does not record its workflow version."
		return d, nil
	}
	v, err := s.cfg.Workflows.Version(ctx, *run.WorkflowID, *run.WorkflowVersion)
	switch {
	case engine.ErrorCode(err) == engine.ENotFound:
		d.GraphNote = "The workflow version this run used has been deleted."
		return d, nil
	case err != nil:
		return d, err
	}
	g := runGraph(v.Workflow, run)
	d.Graph = &g
	nameSteps(v.Workflow, run)
	return d, nil
}

// nameSteps gives steps that carry only their id (waits, sleeps) their action's name, so the
// waterfall and the graph speak of the same things.
func nameSteps(wf *workflow.Workflow, run *engine.Run) {
	for i, st := range run.Steps {
		if st.Name != st.ID {
			continue
		}
		if id, own := workflow.StepAction(wf, st.ID); own && wf.Action(id).Name != "" {
			run.Steps[i].Name = wf.Action(id).Name
		}
	}
}

// needEngine answers 503 on the dashboard's routes when the server runs without an engine.
func (s *Server) needEngine(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.eng == nil {
			return engine.Errorf(engine.EUnavailable, "this server runs without the engine")
		}
		return next(c)
	}
}

// cancelRunPage is the Cancel button.
func (s *Server) cancelRunPage(c echo.Context) error {
	id := c.Param("id")
	if err := s.eng.Cancel(c.Request().Context(), id); err != nil {
		return err
	}
	return seeOther(c, "/admin/runs/"+id+"?done=cancelled")
}

// retryRunPage resumes a failed run at its failed step (same run, completed steps kept).
func (s *Server) retryRunPage(c echo.Context) error {
	id := c.Param("id")
	if err := s.eng.Retry(c.Request().Context(), id); err != nil {
		return err
	}
	return seeOther(c, "/admin/runs/"+id+"?done=retry")
}

// rerunPage starts a new run from the same event (and workflow version) and opens it.
func (s *Server) rerunPage(done string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := s.eng.Rerun(c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		return seeOther(c, "/admin/runs/"+id+"?done="+done)
	}
}
