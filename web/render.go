package web

import (
	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// render writes a templ component as the HTML response, rendered with the request's context
// so components see the viewer and the CSRF token.
func (s *Server) render(c echo.Context, status int, comp templ.Component) error {
	s.viewer(c) // make sure the context carries a viewer, even on early errors
	s.site(c)   // and the site's settings, for titles and dates
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return comp.Render(c.Request().Context(), c.Response())
}
