package web

import (
	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
)

type listActionsResp struct {
	Actions []*workflow.Kind `json:"actions"`
}

// listActions is GET /api/actions: every registered action kind with its input schema, output
// shape and edge presets, so an editor can render forms and offer refs.
func (s *Server) listActions(c echo.Context, _ *struct{}) (*listActionsResp, error) {
	store, err := s.workflows()
	if err != nil {
		return nil, err
	}
	return &listActionsResp{Actions: store.Registry().Kinds()}, nil
}

// workflows returns the workflow store, or EUnavailable when the server runs without one.
func (s *Server) workflows() (*workflow.Store, error) {
	if s.cfg.Workflows == nil {
		return nil, engine.Errorf(engine.EUnavailable, "workflows are not enabled on this server")
	}
	return s.cfg.Workflows, nil
}
