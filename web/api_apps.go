package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/sdk"
)

// Inngest SDK apps over HTTP: POST /fn/register (what the SDKs call when they sync, answered
// as Inngest does) and the apps API (GET|POST|DELETE /api/apps).

// fnRegisterAnswer is /fn/register's answer, shaped as Inngest's.
type fnRegisterAnswer struct {
	OK       bool   `json:"ok,omitempty"`
	Modified bool   `json:"modified"`
	Error    string `json:"error,omitempty"`
}

// fnRegister is POST /fn/register. In signed mode the SDK's bearer must be the hashed
// signing key (checked by the registry); every URL it names must be allowed.
func (s *Server) fnRegister(c echo.Context) error {
	if s.cfg.Apps == nil {
		return c.JSON(http.StatusServiceUnavailable, fnRegisterAnswer{Error: "this server does not serve Inngest SDK apps"})
	}
	r := c.Request()
	var req sdk.RegisterRequest
	body, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return c.JSON(http.StatusRequestEntityTooLarge, fnRegisterAnswer{Error: "the register request is too large"})
		}
		return c.JSON(http.StatusBadRequest, fnRegisterAnswer{Error: "the register request is not valid JSON: " + err.Error()})
	}
	modified, err := s.cfg.Apps.Register(r.Context(), req, sdk.RegisterAuth{
		Authorization:      r.Header.Get("Authorization"),
		ExpectedServerKind: r.Header.Get(sdk.HeaderExpectedServerKind),
	})
	if err != nil {
		status := statusFor(err)
		if status >= 500 {
			s.log.Error("fn/register", "err", err)
		}
		return c.JSON(status, fnRegisterAnswer{Error: engine.ErrorMessage(err)})
	}
	return c.JSON(http.StatusOK, fnRegisterAnswer{OK: true, Modified: modified})
}

type appsList struct {
	Apps []sdk.App `json:"apps"`
	// Mode is "dev" or "cloud" (signed).
	Mode string `json:"mode"`
}

type listAppsReq struct{}

// listApps is GET /api/apps.
func (s *Server) listApps(c echo.Context, _ *listAppsReq) (*appsList, error) {
	apps, err := s.cfg.Apps.Apps(c.Request().Context())
	if err != nil {
		return nil, err
	}
	return &appsList{Apps: apps, Mode: s.cfg.Apps.ServerKind()}, nil
}

type syncAppReq struct {
	URL string `json:"url"`
}

func (r *syncAppReq) Validate() error {
	if r.URL == "" {
		return engine.FieldError("url", "is required: the app's serve URL, such as http://app:3000/api/inngest")
	}
	return nil
}

// syncApp is POST /api/apps: sync the app at url now and answer it with its functions.
func (s *Server) syncApp(c echo.Context, req *syncAppReq) (*sdk.App, error) {
	a, err := s.cfg.Apps.Sync(c.Request().Context(), req.URL)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

type removeAppReq struct {
	URL string `query:"url"`
}

func (r *removeAppReq) Validate() error {
	if r.URL == "" {
		return engine.FieldError("url", "is required: the serve URL of the app to remove, as GET /api/apps lists it")
	}
	return nil
}

type removedApp struct {
	URL string `json:"url"`
	// Cancelled is how many of the app's runs in progress were cancelled.
	Cancelled int `json:"cancelled"`
}

// removeApp is DELETE /api/apps?url=: forget the app; its functions stop triggering and its
// runs in progress are cancelled, saying why. 404 when no app is at url.
func (s *Server) removeApp(c echo.Context, req *removeAppReq) (*removedApp, error) {
	n, err := s.cfg.Apps.Remove(c.Request().Context(), req.URL)
	if err != nil {
		return nil, err
	}
	return &removedApp{URL: req.URL, Cancelled: n}, nil
}

// needApps answers 503 on a server built without the apps registry.
func (s *Server) needApps(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.cfg.Apps == nil {
			return engine.Errorf(engine.EUnavailable, "this server does not serve Inngest SDK apps")
		}
		return next(c)
	}
}

// runBatch is GET /v0/runs/{id}/batch: the run's events, for an inngest-js app that was sent
// a call without them (ctx.use_api). The SDK's bearer is checked by the registry.
func (s *Server) runBatch(c echo.Context) error {
	if s.cfg.Apps == nil {
		return c.JSON(http.StatusServiceUnavailable, fnRegisterAnswer{Error: "this server does not serve Inngest SDK apps"})
	}
	events, err := s.cfg.Apps.RunEvents(c.Request().Context(), c.Param("id"), c.Request().Header.Get("Authorization"))
	if err != nil {
		return s.v0Error(c, err)
	}
	return c.JSON(http.StatusOK, events)
}

// runActions is GET /v0/runs/{id}/actions: the memo of the run's steps (ctx.use_api).
func (s *Server) runActions(c echo.Context) error {
	if s.cfg.Apps == nil {
		return c.JSON(http.StatusServiceUnavailable, fnRegisterAnswer{Error: "this server does not serve Inngest SDK apps"})
	}
	steps, err := s.cfg.Apps.RunSteps(c.Request().Context(), c.Param("id"), c.Request().Header.Get("Authorization"))
	if err != nil {
		return s.v0Error(c, err)
	}
	return c.JSON(http.StatusOK, steps)
}

// v0Error answers as Inngest's API does: {"error", "status"}.
func (s *Server) v0Error(c echo.Context, err error) error {
	status := statusFor(err)
	if status >= 500 {
		s.log.Error("v0 runs API", "err", err)
	}
	return c.JSON(status, map[string]any{"error": engine.ErrorMessage(err), "status": status})
}
