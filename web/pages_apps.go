package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// appsPage is /admin/apps: the Inngest SDK apps, their functions and last syncs.
func (s *Server) appsPage(c echo.Context) error {
	return s.renderApps(c, http.StatusOK, templates.Form{}, c.QueryParam("synced"))
}

func (s *Server) renderApps(c echo.Context, status int, f templates.Form, synced string) error {
	apps, err := s.cfg.Apps.Apps(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, status, templates.AppsPage(templates.AppsView{Mode: s.cfg.Apps.ServerKind(), Apps: apps, Form: f, Synced: synced}))
}

// syncAppPage is the "Sync an app" form and each app's "Sync now" (admins). A refused URL or
// a failed sync is shown on the page with its reason; the failure is also kept on the app.
func (s *Server) syncAppPage(c echo.Context) error {
	u := strings.TrimSpace(c.FormValue("url"))
	f := templates.Form{Values: map[string]string{"url": u}}
	var err error
	if u == "" {
		err = engine.FieldError("url", "is required: the app's serve URL, such as http://app:3000/api/inngest")
	} else {
		_, err = s.cfg.Apps.Sync(c.Request().Context(), u)
	}
	if err == nil {
		return seeOther(c, "/admin/apps?synced="+url.QueryEscape(u))
	}
	status := statusFor(err)
	switch engine.ErrorCode(err) {
	case engine.EInternal:
		return err
	case engine.EUnavailable:
		status = http.StatusBadGateway // the app, not inkflow, is what failed
	}
	if !formErrors(err, &f) {
		f.Message = engine.ErrorMessage(err)
	}
	return s.renderApps(c, status, f, "")
}
