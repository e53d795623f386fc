package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/ops"
)

// Workflow templates: the blog's (actions.Templates: the editorial review, social posts) and
// the operators' (ops.Templates: the weekly editorial report, the failure alert), offered by
// the "New workflow" gallery and the API, the operators' also on the System page. An imported
// template is an ordinary workflow, disabled until an admin enables it.

// galleryOrder is the order the gallery shows templates in: the everyday flows first.
var galleryOrder = []string{"review-flow", "social-posts", "weekly-report", "failure-alert"}

// workflowTemplates lists every template, in gallery order (templates not in galleryOrder
// last, by id).
func workflowTemplates() []workflow.Template {
	all := append(actions.Templates(), ops.Templates()...)
	rank := func(id string) int {
		if i := slices.Index(galleryOrder, id); i >= 0 {
			return i
		}
		return len(galleryOrder)
	}
	slices.SortStableFunc(all, func(a, b workflow.Template) int {
		if d := rank(a.ID) - rank(b.ID); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	return all
}

// templateOut is a template as GET /api/templates lists it.
type templateOut struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Body        json.RawMessage `json:"body"` // what POST /api/workflows/import takes
}

type templatesResp struct {
	Templates []templateOut `json:"templates"`
}

type emptyReq struct{}

// listTemplates is GET /api/templates (admins).
func (s *Server) listTemplates(c echo.Context, _ *emptyReq) (*templatesResp, error) {
	out := &templatesResp{Templates: []templateOut{}}
	for _, t := range workflowTemplates() {
		out.Templates = append(out.Templates, templateOut{ID: t.ID, Name: t.Name, Description: t.Description, Body: t.JSON})
	}
	return out, nil
}

type importTemplateReq struct {
	ID      string `param:"id"`
	Enabled bool   `query:"enabled"`
}

// importTemplate is POST /api/templates/:id/import (admins): 201 with the new workflow.
func (s *Server) importTemplate(c echo.Context, req *importTemplateReq) (*workflow.Record, error) {
	return s.importTemplateNamed(c, req.ID, req.Enabled)
}

// importTemplatePage is the System page's import button: it imports the template disabled
// and opens it in the editor.
func (s *Server) importTemplatePage(c echo.Context) error {
	rec, err := s.importTemplateNamed(c, c.Param("id"), false)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/workflows/"+strconv.FormatInt(rec.ID, 10)+"/edit")
}

func (s *Server) importTemplateNamed(c echo.Context, id string, enabled bool) (*workflow.Record, error) {
	store, err := s.workflows()
	if err != nil {
		return nil, err
	}
	for _, t := range workflowTemplates() {
		if t.ID == id {
			d := workflow.Draft{SavedBy: savedBy(c)}
			if enabled {
				d.Enabled = &enabled
			}
			return store.Import(c.Request().Context(), t.JSON, d)
		}
	}
	return nil, engine.Errorf(engine.ENotFound, "no workflow template %q", id)
}
