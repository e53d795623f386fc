package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// appsPage is /admin/apps: the Inngest SDK apps, their functions and last syncs.
func (s *Server) appsPage(c echo.Context) error {
	v := templates.AppsView{Synced: c.QueryParam("synced"), Removed: c.QueryParam("removed")}
	if n, err := strconv.Atoi(c.QueryParam("cancelled")); err == nil && n > 0 {
		v.Cancelled = n
	}
	return s.renderApps(c, http.StatusOK, v)
}

func (s *Server) renderApps(c echo.Context, status int, v templates.AppsView) error {
	apps, err := s.cfg.Apps.Apps(c.Request().Context())
	if err != nil {
		return err
	}
	v.Mode, v.Apps = s.cfg.Apps.ServerKind(), apps
	return s.render(c, status, templates.AppsPage(v))
}

// removeAppPage is each app's "Remove" (admins): the box saying what removal does must be
// ticked. The app's functions stop triggering and its runs in progress are cancelled.
func (s *Server) removeAppPage(c echo.Context) error {
	u := strings.TrimSpace(c.FormValue("url"))
	var err error
	switch {
	case u == "":
		err = engine.FieldError("url", "is required: the serve URL of the app to remove")
	case c.FormValue("confirm") != "yes":
		err = engine.FieldError("confirm", "tick the box to confirm: the app's functions stop and its runs in progress are cancelled")
	}
	n := 0
	if err == nil {
		n, err = s.cfg.Apps.Remove(c.Request().Context(), u)
	}
	if err == nil {
		return seeOther(c, "/admin/apps?removed="+url.QueryEscape(u)+"&cancelled="+strconv.Itoa(n))
	}
	if engine.ErrorCode(err) == engine.EInternal {
		return err
	}
	return s.renderApps(c, statusFor(err), templates.AppsView{Remove: templates.Form{
		Values: map[string]string{"url": u}, Message: engine.ErrorMessage(err)}})
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
	return s.renderApps(c, status, templates.AppsView{Form: f})
}
