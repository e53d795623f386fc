package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// middleware installs the chain every request goes through, outermost first.
func (s *Server) middleware() {
	s.echo.Pre(s.recoverPanics)
	s.echo.Use(s.logRequests, s.limitBody, s.securityHeaders, checkText, s.authenticate, s.checkCSRF)
}

// checkText is the one text check of every request: invalid UTF-8 or a NUL in the path, a
// query parameter, a form field or a string of a JSON body is refused (422, naming the field)
// before any handler sees it. No legitimate request has one, PostgreSQL refuses both in text
// (which surfaced as 500s), and SQLite would store what PostgreSQL refuses. A form body over
// the limit is 413 here, rather than a handler seeing the fields it could read.
func checkText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if textOK("path", r.URL.Path) != nil {
			return newBadRequest("", "the path is not valid UTF-8 text or contains a NUL byte")
		}
		if err := valuesOK(c.QueryParams()); err != nil {
			return err
		}
		ct := r.Header.Get(echo.HeaderContentType)
		switch {
		case r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead:
		case c.Path() == "/e/:key":
			// The Inngest intake answers in Inngest's shape (400 naming the field); the engine
			// refuses NUL in every event, whichever route sent it.
		case strings.HasPrefix(ct, echo.MIMEApplicationForm):
			if err := r.ParseForm(); err != nil {
				return bodyError(err)
			}
			if err := valuesOK(r.PostForm); err != nil {
				return err
			}
		case strings.HasPrefix(ct, echo.MIMEMultipartForm):
			if err := r.ParseMultipartForm(32 << 20); err != nil {
				return bodyError(err)
			}
			if err := valuesOK(r.MultipartForm.Value); err != nil {
				return err
			}
		default:
			// Any other type is read as JSON if it parses: the event routes decode JSON whatever
			// the Content-Type (the Inngest SDKs' clients vary), so text/plain must not skip this.
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return bodyError(err)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			if len(body) == 0 || !json.Valid(body) {
				break // the handler answers for JSON that does not parse
			}
			if !utf8.Valid(body) {
				return engine.FieldError("body", "is not valid UTF-8")
			}
			if bytes.Contains(body, []byte(`\u0000`)) {
				var v any
				if json.Unmarshal(body, &v) == nil {
					if field := engine.NULField(v, ""); field != "" || isNULString(v) {
						if field == "" {
							field = "body"
						}
						return engine.FieldError(field, "contains a NUL character")
					}
				}
			}
		}
		return next(c)
	}
}

// bodyError is the answer for a body that could not be read: 413 past the limit.
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return engine.Errorf(engine.ETooLarge, "request body is over %d bytes", tooBig.Limit)
	}
	return newBadRequest("", "the request body cannot be read")
}

func textOK(field, v string) error {
	if !utf8.ValidString(v) {
		return engine.FieldError(field, "is not valid UTF-8")
	}
	if strings.IndexByte(v, 0) >= 0 {
		return engine.FieldError(field, "contains a NUL character")
	}
	return nil
}

func valuesOK(vals map[string][]string) error {
	for name, values := range vals {
		field := name
		if !utf8.ValidString(name) || strings.IndexByte(name, 0) >= 0 {
			field = strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "?")
			return engine.FieldError(field, "has a name that is not text")
		}
		for _, v := range values {
			if err := textOK(field, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// isNULString reports whether a whole JSON body is one string holding a NUL.
func isNULString(v any) bool {
	str, ok := v.(string)
	return ok && strings.IndexByte(str, 0) >= 0
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
