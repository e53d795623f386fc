package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// maxBulkSelected bounds the runs one "selected" bulk action names (a page shows 50).
const maxBulkSelected = 200

// bulkRunsPage is POST /admin/runs/bulk (admins): cancel or replay the selected runs, or every
// run the filter matches. Without confirm=1 it only counts (a dry run) and asks; with it, it
// acts and returns to the list saying what was done. "All matching" goes through the engine's
// bulk calls (one transaction, at most engine.MaxBulkRuns runs, else 422 naming limit).
func (s *Server) bulkRunsPage(c echo.Context) error {
	ctx := c.Request().Context()
	action, scope, ok := strings.Cut(c.FormValue("do"), "-")
	if !ok || (action != "cancel" && action != "replay") || (scope != "selected" && scope != "matching") {
		return engine.FieldError("do", "must be cancel-selected, replay-selected, cancel-matching or replay-matching")
	}
	// The filter comes in the form body (the bulk form carries the list's filter).
	q := templates.RunQuery{Status: c.FormValue("status"), Function: strings.TrimSpace(c.FormValue("function")),
		Workflow: strings.TrimSpace(c.FormValue("workflow")), Event: strings.TrimSpace(c.FormValue("event")),
		Since: c.FormValue("since"), Until: c.FormValue("until")}
	confirm := c.FormValue("confirm") == "1"
	b := templates.BulkConfirm{Action: action, Scope: scope, Query: q}
	var done []string
	if scope == "matching" {
		f, err := runFilter(q)
		if err != nil {
			return err
		}
		f.Limit = 0 // every match, up to the engine's bulk limit
		run := s.eng.BulkReplay
		if action == "cancel" {
			run = s.eng.BulkCancel
		}
		res, err := run(ctx, f, !confirm)
		if err != nil {
			return err
		}
		b.IDs, done = res.IDs, res.IDs
	} else {
		form, err := c.FormParams()
		if err != nil {
			return err
		}
		ids := form["id"]
		if len(ids) == 0 {
			return engine.FieldError("id", "select at least one run")
		}
		if len(ids) > maxBulkSelected {
			return engine.FieldError("id", "at most %d runs at once; use \"all matching\" with a filter", maxBulkSelected)
		}
		for _, id := range ids {
			run, err := s.eng.GetRun(ctx, id)
			if err != nil {
				return err
			}
			if action == "cancel" && run.Status.Finished() {
				b.Skipped++
				continue
			}
			b.IDs = append(b.IDs, id)
		}
		if confirm {
			if done, err = s.actOnRuns(c, action, b.IDs); err != nil {
				return err
			}
		}
	}
	if !confirm {
		return s.render(c, http.StatusOK, templates.RunsBulkConfirm(b))
	}
	v, _ := url.ParseQuery(q.Encode())
	v.Set("done", fmt.Sprintf("%s-%d", action, len(done)))
	return seeOther(c, "/admin/runs?"+v.Encode())
}

// actOnRuns cancels or replays the chosen runs one by one; a run that finished meanwhile is
// not an error for cancel (it is left as it is).
func (s *Server) actOnRuns(c echo.Context, action string, ids []string) ([]string, error) {
	ctx := c.Request().Context()
	var done []string
	for _, id := range ids {
		var err error
		if action == "cancel" {
			err = s.eng.Cancel(ctx, id)
			if engine.ErrorCode(err) == engine.EConflict {
				continue
			}
		} else {
			_, err = s.eng.Rerun(ctx, id)
		}
		if err != nil {
			return done, fmt.Errorf("%s run %s: %w", action, id, err)
		}
		done = append(done, id)
	}
	return done, nil
}

// bulkNotice is the runs page's notice after a bulk action (?done=cancel-3).
func bulkNotice(done string) string {
	action, n, ok := strings.Cut(done, "-")
	if !ok || strings.Trim(n, "0123456789") != "" || len(n) > 6 {
		return ""
	}
	switch action {
	case "cancel":
		return "Cancelled " + n + " runs."
	case "replay":
		return "Replayed " + n + " runs: each new run started from the same event."
	}
	return ""
}
