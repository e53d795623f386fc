package web

import (
	"errors"
	"strings"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
)

// refusedName is an event name no client may send through this route (422 everywhere,
// the Inngest-shaped intake included).
type refusedName struct{ e *engine.Error }

func (r refusedName) Error() string { return r.e.Message }
func (r refusedName) Unwrap() error { return r.e }

// checkEventName is the one rule for event names sent from outside (cms.CheckSentName):
// blog-post.* names come only from the CMS, whoever asks (the message names the CMS route to
// use); inkflow/* and inngest/* are the engine's, and only admins (internalOK) may send them,
// for a workflow's Test run of a schedule. Prefixes are compared without case. field names
// the name in the request ("name", "events[3].name").
func checkEventName(field, name string, internalOK bool) error {
	err := cms.CheckSentName(name, internalOK)
	if err == nil {
		return nil
	}
	return refusedName{engine.FieldError(field, "%s", strings.TrimPrefix(engine.ErrorMessage(err), "name: "))}
}

// isRefusedName reports whether err refuses an event name.
func isRefusedName(err error) bool {
	var r refusedName
	return errors.As(err, &r)
}
