package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// loginPage shows the sign-in form, or sends a fresh install to /setup.
func (s *Server) loginPage(c echo.Context) error {
	if n, err := s.cms.Users.Count(c.Request().Context()); err != nil {
		return err
	} else if n == 0 {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	next := safeNext(c.QueryParam("next"))
	if userOf(c) != nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	f := templates.Form{}
	f.Message = loginErrors[c.QueryParam("error")]
	return s.render(c, http.StatusOK, templates.LoginPage(f, next, s.googleEnabled()))
}

// login checks a password, rate-limits failures per IP and per email, and starts a new
// session (a new id at every sign-in, so a planted session cookie is useless).
func (s *Server) login(c echo.Context) error {
	ctx := c.Request().Context()
	email := strings.ToLower(strings.TrimSpace(c.FormValue("email")))
	next := safeNext(c.FormValue("next"))
	f := templates.Form{Values: map[string]string{"email": email}}
	keys := []string{"ip:" + c.RealIP(), "email:" + email}
	for _, k := range keys {
		if ok, wait := s.logins.Allowed(k); !ok {
			f.Message = "Too many failed sign-ins. Try again in " + wait.Round(time.Minute).String() + "."
			return s.render(c, http.StatusTooManyRequests, templates.LoginPage(f, next, s.googleEnabled()))
		}
	}
	u, err := s.cms.Users.Authenticate(ctx, email, c.FormValue("password"))
	if engine.ErrorCode(err) == engine.EUnauthorized {
		for _, k := range keys {
			s.logins.Fail(k)
		}
		f.Message = engine.ErrorMessage(err)
		return s.render(c, http.StatusUnauthorized, templates.LoginPage(f, next, s.googleEnabled()))
	}
	if err != nil {
		return err
	}
	s.logins.Reset("email:" + email)
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// startSession signs u in on this browser, replacing any session it had.
func (s *Server) startSession(c echo.Context, u *cms.User) error {
	ctx := c.Request().Context()
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		_ = s.cms.Sessions.Revoke(ctx, ck.Value)
	}
	secret, err := s.cms.Sessions.Create(ctx, u.ID, c.Request().UserAgent(), c.RealIP())
	if err != nil {
		return err
	}
	_ = s.cms.Users.TouchLogin(ctx, u.ID)
	s.setSessionCookie(c, secret)
	return nil
}

// logout ends the session server side and clears the cookie.
func (s *Server) logout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := s.cms.Sessions.Revoke(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	s.clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// setupPage shows the first-admin form; once any user exists it is gone (404).
func (s *Server) setupPage(c echo.Context) error {
	if err := s.needsSetup(c); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, templates.SetupPage(templates.Form{}))
}

// setup creates the first admin and signs them in.
func (s *Server) setup(c echo.Context) error {
	if err := s.needsSetup(c); err != nil {
		return err
	}
	in := cms.NewUser{Email: c.FormValue("email"), Name: c.FormValue("name"), Password: c.FormValue("password")}
	u, err := s.cms.Users.CreateFirstAdmin(c.Request().Context(), in)
	if err != nil {
		f := templates.Form{Values: map[string]string{"email": in.Email, "name": in.Name}}
		if !formErrors(err, &f) {
			return err
		}
		return s.render(c, http.StatusUnprocessableEntity, templates.SetupPage(f))
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin")
}

func (s *Server) needsSetup(c echo.Context) error {
	n, err := s.cms.Users.Count(c.Request().Context())
	if err != nil {
		return err
	}
	if n > 0 {
		return echo.ErrNotFound
	}
	return nil
}

// formErrors copies a user-facing error into f (field messages, or the form message) and
// reports whether it was one; other errors are for the error handler.
func formErrors(err error, f *templates.Form) bool {
	var de *engine.Error
	if !errors.As(err, &de) || de.Code == engine.EInternal || de.Code == engine.EUnavailable {
		return false
	}
	if len(de.Fields) > 0 {
		f.Errors = de.Fields
	} else {
		f.Message = de.Message
	}
	if de.Code == engine.EConflict && f.Message == "" {
		f.Message = de.Message
	}
	return true
}

// safeNext keeps a post-sign-in redirect on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/admin"
	}
	return next
}
