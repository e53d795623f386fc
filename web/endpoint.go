package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
)

// validator is implemented by request types that check themselves after decoding; return
// engine.FieldError values so the answer names the field.
type validator interface{ Validate() error }

// endpoint adapts a typed JSON handler to echo, in the spirit of riverui's apiendpoint: the
// request is decoded from path parameters (`param:"id"` tags), query (`query:"limit"`) and
// the JSON body, validated, handed to fn, and fn's result is written with status (204 when
// fn returns a nil result). Every error goes through the one error table, so a handler
// cannot forget a return or write twice.
func endpoint[Req, Resp any](status int, fn func(c echo.Context, req *Req) (*Resp, error)) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := new(Req)
		if err := decodeRequest(c, req); err != nil {
			return err
		}
		if v, ok := any(req).(validator); ok {
			if err := v.Validate(); err != nil {
				return err
			}
		}
		resp, err := fn(c, req)
		if err != nil {
			return err
		}
		if resp == nil {
			return c.NoContent(http.StatusNoContent)
		}
		return c.JSON(status, resp)
	}
}

// decodeRequest fills req from the path, the query string and a JSON body.
func decodeRequest(c echo.Context, req any) error {
	if err := (&echo.DefaultBinder{}).BindPathParams(c, req); err != nil {
		return bindError(req, "param", func(name string) string { return c.Param(name) })
	}
	if err := (&echo.DefaultBinder{}).BindQueryParams(c, req); err != nil {
		return bindError(req, "query", c.QueryParam)
	}
	r := c.Request()
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		return nil
	}
	if r.Body == nil || r.ContentLength == 0 {
		return nil
	}
	if ct := r.Header.Get(echo.HeaderContentType); ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return newBadRequest("", "send the body as application/json")
	}
	return decodeJSON(r.Body, req)
}

// decodeJSON decodes one JSON value, naming the field of a type mismatch.
func decodeJSON(body io.Reader, v any) error {
	err := json.NewDecoder(body).Decode(v)
	if err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return engine.Errorf(engine.ETooLarge, "request body is over %d bytes", mbe.Limit)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return newBadRequest(te.Field, fmt.Sprintf("must be %s, not %s", jsonKind(te.Type.Kind().String()), te.Value))
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return newBadRequest("", fmt.Sprintf("%q is not a time: send RFC 3339, such as 2026-01-02T15:04:05Z", pe.Value))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return newBadRequest("", fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se))
	}
	return newBadRequest("", "invalid JSON: "+err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	default:
		return "a number"
	}
}

// bindError names the path or query parameter that did not fit its number type, without the
// parser's own wording ("strconv.ParseInt: ..."): echo's binder does not say which it was.
func bindError(req any, tag string, value func(name string) string) error {
	t := reflect.TypeOf(req).Elem()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get(tag)
		if name == "" {
			continue
		}
		v := value(name)
		switch f.Type.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if _, err := strconv.ParseInt(v, 10, 64); v != "" && err != nil {
				return newBadRequest(name, "must be a whole number")
			}
		case reflect.Bool:
			if _, err := strconv.ParseBool(v); v != "" && err != nil {
				return newBadRequest(name, "must be true or false")
			}
		}
	}
	return newBadRequest("", "a "+map[string]string{"param": "path", "query": "query"}[tag]+" parameter has the wrong type")
}
