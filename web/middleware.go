package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// middleware installs the chain every request goes through, outermost first.
func (s *Server) middleware() {
	s.echo.Pre(s.recoverPanics)
	s.echo.Use(s.logRequests, s.limitBody, s.securityHeaders, refuseNUL, s.authenticate, s.checkCSRF)
}

// refuseNUL answers 422 for a NUL byte in the path or a query parameter: no legitimate
// request has one, and PostgreSQL refuses it in text (which would otherwise surface as 500).
func refuseNUL(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.ContainsRune(c.Request().URL.Path, 0) {
			return newBadRequest("", "the path contains a NUL byte")
		}
		for name, values := range c.QueryParams() {
			for _, v := range values {
				if strings.ContainsRune(v, 0) || strings.ContainsRune(name, 0) {
					return engine.FieldError(name, "contains a NUL byte")
				}
			}
		}
		return next(c)
	}
}

// recoverPanics turns a panic in a handler into an "internal error" answer and a log line
// with the panic, never a dropped connection.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// loggedPath is a request path fit for the log: the event key in /e/{key} is a secret, so it
// is replaced by a placeholder.
func loggedPath(p string) string {
	if strings.HasPrefix(p, "/e/") {
		return "/e/{key}"
	}
	return p
}

// logRequests writes one slog line per request, after the error handler has answered, so the
// status logged is the status sent.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		r := c.Request()
		attrs := []any{
			slog.String("method", r.Method),
			slog.String("path", loggedPath(r.URL.Path)),
			slog.Int("status", c.Response().Status),
			slog.Int64("bytes", c.Response().Size),
			slog.Duration("duration", time.Since(start)),
			slog.String("ip", c.RealIP()),
		}
		if u := userOf(c); u != nil {
			attrs = append(attrs, slog.Int64("user", u.ID))
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http", toAttrs(attrs)...)
		return nil
	}
}

func toAttrs(xs []any) []slog.Attr {
	out := make([]slog.Attr, 0, len(xs))
	for _, x := range xs {
		out = append(out, x.(slog.Attr))
	}
	return out
}

// uploadPaths are the routes that accept files and get UploadLimit instead of BodyLimit.
var uploadPaths = map[string]bool{"/admin/posts/:id/cover": true, "/admin/uploads": true, "/admin/posts": true}

// limitBody refuses bodies over the limit with 413 before reading them when the length is
// declared, and caps the reader otherwise (decoders then report ETooLarge).
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit := s.cfg.BodyLimit
		if uploadPaths[c.Path()] {
			limit = s.cfg.UploadLimit
		}
		r := c.Request()
		if r.ContentLength > limit {
			return engine.Errorf(engine.ETooLarge, "request body is over %d bytes", limit)
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		}
		return next(c)
	}
}

// contentSecurityPolicy allows only our own scripts; styles may be inline because the
// workflow editor positions nodes with style attributes.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data: https:; connect-src 'self'; font-src 'self'; object-src 'none'; " +
	"base-uri 'self'; form-action 'self' https://accounts.google.com; frame-ancestors 'none'"

// securityHeaders sets every security header in one place.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if strings.HasPrefix(c.Request().URL.Path, "/admin") || strings.HasPrefix(c.Request().URL.Path, "/api") {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// viewer returns the request's Viewer (set by authenticate), creating it if needed.
func (s *Server) viewer(c echo.Context) *templates.Viewer {
	if v, ok := c.Get(viewerKey).(*templates.Viewer); ok {
		return v
	}
	v := &templates.Viewer{Path: c.Request().URL.Path, Site: cms.Site{Title: s.cfg.SiteName, BaseURL: s.cfg.BaseURL},
		ReviewCount: func(ctx context.Context) int64 {
			n, err := s.cms.Posts.NeedApproval(ctx)
			if err != nil {
				return 0 // the count is a hint: a failing query must not break the page
			}
			return n
		}}
	c.Set(viewerKey, v)
	c.SetRequest(c.Request().WithContext(templates.WithViewer(c.Request().Context(), v)))
	return v
}

const viewerKey = "viewer"
