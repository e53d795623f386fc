package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

const (
	sessionCookie = "inkflow_session"
	bearerKey     = "bearer"
)

// authenticate finds who is calling: a Bearer token (API calls and event keys) or the
// session cookie. It never refuses a request itself; requireRole does, per route. A bad
// bearer token leaves the request anonymous so that routes accepting event keys can check it.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		v := s.viewer(c)
		ctx := c.Request().Context()
		if tok, ok := bearerToken(c.Request()); ok {
			c.Set(bearerKey, tok)
			if u, err := s.cms.Tokens.Authenticate(ctx, tok); err == nil {
				v.User = u
			} else if engine.ErrorCode(err) != engine.EUnauthorized {
				return err
			}
			return next(c)
		}
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
			u, err := s.cms.Sessions.Lookup(ctx, ck.Value)
			switch {
			case err == nil:
				v.User = u
			case engine.ErrorCode(err) == engine.EUnauthorized:
				s.clearSessionCookie(c)
			default:
				return err
			}
		}
		return next(c)
	}
}

// bearerToken returns the token of an "Authorization: Bearer X" header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}

// userOf returns the signed-in user, or nil.
func userOf(c echo.Context) *cms.User {
	if v, ok := c.Get(viewerKey).(*templates.Viewer); ok {
		return v.User
	}
	return nil
}

// requireRole lets the request through only for a signed-in user with at least role.
// Anonymous: 401 on /api, a redirect to /login for pages. Too low a role: 403.
func (s *Server) requireRole(role cms.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			u := userOf(c)
			if u == nil {
				if isAPI(c) || c.Request().Method != http.MethodGet {
					return engine.Errorf(engine.EUnauthorized, "sign in first")
				}
				login := "/login?next=" + url.QueryEscape(c.Request().URL.RequestURI())
				if c.Request().Header.Get("HX-Request") == "true" {
					// An htmx fragment (a polling list, say): send the whole page to sign-in
					// rather than swapping the sign-in form into the fragment.
					c.Response().Header().Set("HX-Redirect", "/login")
					return engine.Errorf(engine.EUnauthorized, "sign in first")
				}
				return c.Redirect(http.StatusSeeOther, login)
			}
			if !u.Role.AtLeast(role) {
				return engine.Errorf(engine.EForbidden, "this needs the %s role; you are %s", role, u.Role)
			}
			return next(c)
		}
	}
}

// setSessionCookie gives the browser its session secret.
func (s *Server) setSessionCookie(c echo.Context, secret string) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true,
		Secure: s.secureRequest(c), SameSite: http.SameSiteLaxMode, MaxAge: 30 * 24 * 3600})
}

func (s *Server) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true,
		Secure: s.secureRequest(c), SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// secureRequest reports whether cookies must be Secure: configured, or served over TLS.
func (s *Server) secureRequest(c echo.Context) bool {
	return s.secure || c.Request().TLS != nil
}

// isAPI reports whether the request is for a JSON endpoint.
func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return strings.HasPrefix(p, "/api/") || p == "/api" || strings.HasPrefix(p, "/e/") ||
		p == "/healthz" || p == "/readyz"
}
