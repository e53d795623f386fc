package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
)

const (
	csrfCookie = "inkflow_csrf"
	csrfHeader = "X-CSRF-Token"
	csrfField  = "_csrf"
)

// checkCSRF protects every unsafe request made with the browser's cookies: the token in the
// inkflow_csrf cookie must come back in the X-CSRF-Token header (htmx sends it, see
// templates.Base) or the _csrf form field (templates.CSRFField). This is the double-submit
// pattern: another site can make the browser send our cookie but cannot read it to copy it.
// Calls with Authorization: Bearer carry no ambient credentials and are exempt, as is the
// event intake under /e/ (authenticated by its key in the path). An API call with no session
// cookie has no ambient credentials to abuse either.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// /fn/register is called by SDKs, never with the session: it uses no cookie.
		if _, ok := c.Get(bearerKey).(string); ok || strings.HasPrefix(c.Request().URL.Path, "/e/") || c.Request().URL.Path == "/fn/register" {
			return next(c)
		}
		if _, err := c.Cookie(sessionCookie); err != nil && isAPI(c) {
			return next(c) // an API call with no credentials at all: it gets 401, not a CSRF error
		}
		token := ""
		if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
			token = ck.Value
		}
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			sent := c.Request().Header.Get(csrfHeader)
			if sent == "" {
				sent = c.FormValue(csrfField)
			}
			if token == "" || subtle.ConstantTimeCompare([]byte(token), []byte(sent)) != 1 {
				return engine.Errorf(engine.EForbidden, "the form expired or came from another site (missing or wrong CSRF token); reload the page and try again")
			}
		}
		if token == "" {
			token = newCSRFToken()
			c.SetCookie(&http.Cookie{Name: csrfCookie, Value: token, Path: "/", HttpOnly: true,
				Secure: s.secureRequest(c), SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
		}
		s.viewer(c).CSRF = token
		return next(c)
	}
}

func newCSRFToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
