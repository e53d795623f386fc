package web

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/ops"
)

// Workflow templates for operators (ops.Templates: the weekly editorial report, the failure
// alert), importable from the System page or the API. An imported template is an ordinary
// workflow, disabled until an admin enables it.

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
	for _, t := range ops.Templates() {
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
	for _, t := range ops.Templates() {
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
