package web

import (
	"errors"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/engine"
)

// userMessage returns what to tell the user about err on the form that caused it, when err
// is theirs to act on (a refused value, a conflict, a file too large, a rule that forbids
// it); ok is false for every other error, which goes to the error page as before.
func userMessage(err error) (msg string, ok bool) {
	var de *engine.Error
	if !errors.As(err, &de) {
		return "", false
	}
	switch de.Code {
	case engine.EInvalid, engine.EConflict, engine.ETooLarge, engine.EForbidden:
	default:
		return "", false
	}
	if len(de.Fields) == 0 {
		return capitalize(de.Message), true
	}
	msgs := make([]string, 0, len(de.Fields))
	for _, m := range de.Fields {
		msgs = append(msgs, m)
	}
	sort.Strings(msgs)
	return capitalize(strings.Join(msgs, "; ")), true
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// editorSideError shows err on the editor's side form named form ("cover", "schedule",
// "status") with the error's status, instead of a whole error page; errors that are not the
// user's to fix are returned as they are.
func (s *Server) editorSideError(c echo.Context, id int64, form string, err error) error {
	msg, ok := userMessage(err)
	if !ok {
		return err
	}
	p, gerr := s.cms.Posts.Get(c.Request().Context(), id)
	if gerr != nil {
		return err
	}
	return s.renderEditorWith(c, statusFor(err), p, postFormValues(p), "", map[string]string{form: msg})
}
