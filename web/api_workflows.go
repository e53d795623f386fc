package web

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
)

// workflowRoutes registers the workflow API: viewers read, admins write (DESIGN.md).
func (s *Server) workflowRoutes(viewer, admin echo.MiddlewareFunc) {
	e := s.echo
	e.GET("/api/actions", endpoint(http.StatusOK, s.listActions), viewer)
	e.GET("/api/workflows", endpoint(http.StatusOK, s.listWorkflows), viewer)
	e.POST("/api/workflows", endpoint(http.StatusCreated, s.createWorkflow), admin)
	e.POST("/api/workflows/validate", endpoint(http.StatusOK, s.validateWorkflow), viewer)
	e.POST("/api/workflows/import", endpoint(http.StatusCreated, s.importWorkflow), admin)
	e.GET("/api/workflows/:id", endpoint(http.StatusOK, s.getWorkflow), viewer)
	e.PUT("/api/workflows/:id", endpoint(http.StatusOK, s.updateWorkflow), admin)
	e.DELETE("/api/workflows/:id", endpoint(http.StatusNoContent, s.deleteWorkflow), admin)
	e.GET("/api/workflows/:id/versions", endpoint(http.StatusOK, s.workflowVersions), viewer)
	e.GET("/api/workflows/:id/export", endpoint(http.StatusOK, s.exportWorkflow), viewer)
	e.POST("/api/workflows/:id/enable", endpoint(http.StatusOK, s.enableWorkflow(true)), admin)
	e.POST("/api/workflows/:id/disable", endpoint(http.StatusOK, s.enableWorkflow(false)), admin)
}

type workflowIDReq struct {
	ID int64 `param:"id"`
}

// saveWorkflowReq is the body of POST and PUT /api/workflows: {"name", "description",
// "trigger" | "triggers", "enabled", "concurrency_key", "config", "workflow": {actions, edges},
// "base_version"}.
type saveWorkflowReq struct {
	ID int64 `param:"id"`
	workflow.Draft
}

type listWorkflowsResp struct {
	Workflows []workflow.Record `json:"workflows"`
}

func (s *Server) listWorkflows(c echo.Context, _ *struct{}) (*listWorkflowsResp, error) {
	store, err := s.workflows()
	if err != nil {
		return nil, err
	}
	list, err := store.List(c.Request().Context())
	if err != nil {
		return nil, err
	}
	return &listWorkflowsResp{Workflows: list}, nil
}

func (s *Server) createWorkflow(c echo.Context, req *saveWorkflowReq) (*workflow.Record, error) {
	store, err := s.workflows()
	if err != nil {
		return nil, err
	}
	req.Draft.SavedBy = savedBy(c)
	return store.Create(c.Request().Context(), req.Draft)
}

func (s *Server) getWorkflow(c echo.Context, req *workflowIDReq) (*workflow.Record, error) {
	store, err := s.workflows()
	if err != nil {
		return nil, err
	}
	return store.Get(c.Request().Context(), req.ID)
}

func (s *Server) updateWorkflow(c echo.Context, req *saveWorkflowReq) (*workflow.Record, error) {
	store, err := s.workflows()
	if err != nil {
		return nil, err
	}
	req.Draft.SavedBy = savedBy(c)
	return store.Update(c.Request().Context(), req.ID, req.Draft)
}

func (s *Server) deleteWorkflow(c echo.Context, req *workflowIDReq) (*struct{}, error) {
	store, err := s.workflows()
	if err != nil {
		return nil, err
	}
	return nil, store.Delete(c.Request().Context(), req.ID)
}

type versionsResp struct {
	Versions []workflow.Version `json:"versions"`
}

func (s *Server) workflowVersions(c echo.Context, req *workflowIDReq) (*versionsResp, error) {
	store, err := s.workflows()
	if err != nil {
		return nil, err
	}
	vs, err := store.Versions(c.Request().Context(), req.ID)
	if err != nil {
		return nil, err
	}
	return &versionsResp{Versions: vs}, nil
}

func (s *Server) enableWorkflow(on bool) func(echo.Context, *workflowIDReq) (*workflow.Record, error) {
	return func(c echo.Context, req *workflowIDReq) (*workflow.Record, error) {
		store, err := s.workflows()
		if err != nil {
			return nil, err
		}
		return store.SetEnabled(c.Request().Context(), req.ID, on)
	}
}

// exportWorkflow answers the current version's workflow-kit JSON, as a download.
func (s *Server) exportWorkflow(c echo.Context, req *workflowIDReq) (*json.RawMessage, error) {
	store, err := s.workflows()
	if err != nil {
		return nil, err
	}
	out, err := store.Export(c.Request().Context(), req.ID)
	if err != nil {
		return nil, err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="workflow-%d.json"`, req.ID))
	raw := json.RawMessage(out)
	return &raw, nil
}

// rawWorkflowReq takes the whole body as it is: bare workflow-kit JSON, or an object with a
// "workflow" field; the query may add name, trigger and enabled.
type rawWorkflowReq struct {
	Name    string `query:"name"`
	Trigger string `query:"trigger"`
	Enabled bool   `query:"enabled"`
	Body    json.RawMessage
}

// UnmarshalJSON keeps the body verbatim for the workflow decoder, which names fields itself.
func (r *rawWorkflowReq) UnmarshalJSON(b []byte) error {
	r.Body = append(json.RawMessage(nil), b...)
	return nil
}

func (r *rawWorkflowReq) required() error {
	if len(r.Body) == 0 {
		return engine.FieldError("workflow", "send the workflow JSON as the request body")
	}
	return nil
}

func (s *Server) importWorkflow(c echo.Context, req *rawWorkflowReq) (*workflow.Record, error) {
	store, err := s.workflows()
	if err != nil {
		return nil, err
	}
	if err := req.required(); err != nil {
		return nil, err
	}
	d := workflow.Draft{SavedBy: savedBy(c)}
	if req.Name != "" {
		d.Name = &req.Name
	}
	if req.Trigger != "" {
		d.Trigger = &req.Trigger
	}
	if req.Enabled {
		d.Enabled = &req.Enabled
	}
	return store.Import(c.Request().Context(), req.Body, d)
}

type validateResp struct {
	Valid    bool               `json:"valid"`
	Workflow *workflow.Workflow `json:"workflow,omitempty"`
	Config   *workflow.Config   `json:"config,omitempty"`
}

// validateWorkflow is the dry run: 200 with the normalized workflow, or 422 naming the action
// or the field. The body is the workflow itself or {"workflow": {...}, "trigger" | "triggers",
// "config"}, each part sent checked as saving checks it. A body of only "config" and/or
// "triggers" checks just those: the editor's Settings panel checks keys as they are typed.
func (s *Server) validateWorkflow(c echo.Context, req *rawWorkflowReq) (*validateResp, error) {
	store, err := s.workflows()
	if err != nil {
		return nil, err
	}
	if err := req.required(); err != nil {
		return nil, err
	}
	body := req.Body
	out := &validateResp{Valid: true}
	var probe map[string]json.RawMessage
	if json.Unmarshal(body, &probe) == nil {
		_, bare := probe["actions"]
		inner, wrapped := probe["workflow"]
		if wrapped && !bare {
			body = inner
		}
		// A trigger sent along is checked as saving checks it (a cron string saving refuses
		// was called valid here).
		d := workflow.Draft{Triggers: probe["triggers"]}
		if raw, ok := probe["trigger"]; ok {
			var trigger string
			if json.Unmarshal(raw, &trigger) != nil {
				return nil, engine.FieldError("trigger", "must be text")
			}
			d.Trigger = &trigger
		}
		if err := workflow.CheckDraftTriggers(d); err != nil {
			return nil, err
		}
		if raw, ok := probe["config"]; ok {
			cfg, err := workflow.ParseConfig(raw)
			if err != nil {
				return nil, err
			}
			out.Config = &cfg
		}
		if !bare && !wrapped && (probe["config"] != nil || probe["triggers"] != nil) {
			return out, nil
		}
	}
	wf, err := store.Validate(body)
	if err != nil {
		return nil, err
	}
	var cfg workflow.Config
	if out.Config != nil {
		cfg = *out.Config
	}
	if err := workflow.CheckEventsRefs(wf, cfg); err != nil {
		return nil, err
	}
	out.Workflow = wf
	return out, nil
}

// savedBy is the signed-in user's id, recorded on the versions they save.
func savedBy(c echo.Context) *int64 {
	if u := userOf(c); u != nil {
		id := u.ID
		return &id
	}
	return nil
}
