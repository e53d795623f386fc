package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/internal/domain"
	"github.com/inkflow/inkflow/templates"
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[domain.Code]int{
	domain.EInvalid:      http.StatusUnprocessableEntity,
	domain.ENotFound:     http.StatusNotFound,
	domain.EConflict:     http.StatusConflict,
	domain.ETooLarge:     http.StatusRequestEntityTooLarge,
	domain.EUnauthorized: http.StatusUnauthorized,
	domain.EForbidden:    http.StatusForbidden,
	domain.EUnavailable:  http.StatusServiceUnavailable,
	domain.EInternal:     http.StatusInternalServerError,
}

// errorBody is every JSON error: {"error": "...", "fields": {...}}.
type errorBody struct {
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields,omitempty"`
}

// badRequest is an error about the request's form (malformed JSON, a path id that is not a
// number): 400 rather than the 422 of a well-formed but invalid value.
type badRequest struct{ e *domain.Error }

func (b badRequest) Error() string { return b.e.Message }

// newBadRequest returns a 400 error naming field (optional).
func newBadRequest(field, msg string) error {
	e := &domain.Error{Code: domain.EInvalid, Message: msg}
	if field != "" {
		e.Fields = map[string]string{field: msg}
	}
	return badRequest{e}
}

// describe turns any error into status, message and fields. Unknown errors become a logged
// "internal error" and are never shown.
func (s *Server) describe(c echo.Context, err error) (int, string, map[string]string) {
	var br badRequest
	if errors.As(err, &br) {
		return http.StatusBadRequest, br.e.Message, br.e.Fields
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, "request body is too large", nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		status, ok := statusOf[de.Code]
		if !ok || status >= 500 {
			s.log.ErrorContext(c.Request().Context(), "request failed", slog.String("path", c.Request().URL.Path), slog.Any("err", err))
		}
		if !ok {
			status = http.StatusInternalServerError
		}
		msg := de.Message
		if status == http.StatusInternalServerError {
			msg = "internal error"
		}
		return status, msg, de.Fields
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			msg = m
		}
		if he.Code == http.StatusNotFound {
			msg = "There is nothing at this address."
		}
		if he.Code >= 500 {
			s.log.ErrorContext(c.Request().Context(), "request failed", slog.String("path", c.Request().URL.Path), slog.Any("err", err))
			msg = "internal error"
		}
		return he.Code, msg, nil
	}
	s.log.ErrorContext(c.Request().Context(), "request failed", slog.String("path", c.Request().URL.Path), slog.Any("err", err))
	return http.StatusInternalServerError, "internal error", nil
}

// handleError is echo's error handler: JSON for API calls, an HTML fragment for htmx, a
// friendly page otherwise.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg, fields := s.describe(c, err)
	var werr error
	switch {
	case isAPI(c):
		werr = c.JSON(status, errorBody{Error: msg, Fields: fields})
	case c.Request().Header.Get("HX-Request") == "true":
		werr = s.render(c, status, templates.ErrorFragment(msg))
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(status)
	default:
		werr = s.render(c, status, templates.ErrorPage(status, msg))
	}
	if werr != nil {
		s.log.ErrorContext(c.Request().Context(), "write error response", slog.Any("err", werr))
	}
}
