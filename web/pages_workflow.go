package web

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/static/editor"
	"github.com/inkflow/inkflow/templates"
)

// workflowsPage is /admin/workflows: every workflow, and for admins a form to create one.
func (s *Server) workflowsPage(c echo.Context) error {
	return s.renderWorkflows(c, http.StatusOK, templates.Form{})
}

func (s *Server) renderWorkflows(c echo.Context, status int, f templates.Form) error {
	store, err := s.workflows()
	if err != nil {
		return err
	}
	list, err := store.List(c.Request().Context())
	if err != nil {
		return err
	}
	gallery := []templates.WorkflowTemplate{}
	for _, t := range workflowTemplates() {
		gallery = append(gallery, templates.WorkflowTemplate{ID: t.ID, Name: t.Name, Description: t.Description, Trigger: t.Trigger})
	}
	rows := make([]templates.WorkflowRow, 0, len(list))
	for _, r := range list {
		rows = append(rows, templates.WorkflowRow{
			ID: r.ID, Name: r.Name, Description: r.Description, Trigger: r.Trigger,
			Enabled: r.Enabled, Version: r.Version, UpdatedAt: r.UpdatedAt,
		})
	}
	return s.render(c, status, templates.WorkflowListPage(templates.WorkflowList{Workflows: rows, Templates: gallery, Form: f, Notice: notice(c)}))
}

// createWorkflowPage is the "new workflow" form: an empty, disabled workflow with a name and
// a trigger, or (with "template") a copy of a gallery template, opened in the editor. A
// refused form comes back with its messages.
func (s *Server) createWorkflowPage(c echo.Context) error {
	store, err := s.workflows()
	if err != nil {
		return err
	}
	if id := strings.TrimSpace(c.FormValue("template")); id != "" {
		rec, err := s.importTemplateNamed(c, id, false)
		if err != nil {
			f := templates.Form{Values: map[string]string{}}
			if !formErrors(err, &f) {
				return err
			}
			if f.Message == "" {
				f.Message = "The template could not be used: " + err.Error()
			}
			return s.renderWorkflows(c, statusFor(err), f)
		}
		return seeOther(c, "/admin/workflows/"+strconv.FormatInt(rec.ID, 10)+"/edit")
	}
	name := strings.TrimSpace(c.FormValue("name"))
	trigger := strings.TrimSpace(c.FormValue("trigger"))
	rec, err := store.Create(c.Request().Context(), workflow.Draft{Name: &name, Trigger: &trigger, SavedBy: savedBy(c)})
	if err != nil {
		f := templates.Form{Values: map[string]string{"name": name, "trigger": trigger}}
		if !formErrors(err, &f) {
			return err
		}
		return s.renderWorkflows(c, statusFor(err), f)
	}
	return seeOther(c, "/admin/workflows/"+strconv.FormatInt(rec.ID, 10)+"/edit")
}

// workflowEditorPage is /admin/workflows/{id}/edit: the page that mounts the visual editor,
// which loads the workflow itself through the JSON API.
func (s *Server) workflowEditorPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	store, err := s.workflows()
	if err != nil {
		return err
	}
	rec, err := store.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, templates.WorkflowEditorPage(templates.WorkflowEditor{
		ID: rec.ID, Name: rec.Name, AssetVersion: editorAssetVersion(),
	}))
}

// editorAssetVersion is a short hash of the embedded bundle: the page asks for
// editor.js?v=<hash>, so a new build is never hidden by a browser's cached copy. Hashing
// half a megabyte costs well under a millisecond, on an admin-only page.
func editorAssetVersion() string {
	h := sha256.New()
	for _, name := range []string{"editor.js", "editor.css"} {
		b, _ := fs.ReadFile(editor.FS, name)
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
