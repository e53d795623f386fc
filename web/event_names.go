package web

import (
	"errors"
	"strings"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
)

// reservedPrefixes are event names only the engine sends: a client sending
// "inkflow/run.failed" could fake a failure alert.
var reservedPrefixes = []string{"inkflow/", "inngest/"}

// refusedName is an event name no client may send through this route (422 everywhere,
// the Inngest-shaped intake included).
type refusedName struct{ e *engine.Error }

func (r refusedName) Error() string { return r.e.Message }
func (r refusedName) Unwrap() error { return r.e }

// checkEventName is the one rule for event names sent from outside: blog-post.* names come
// only from the CMS, whoever asks (the message names the CMS route to use); inkflow/* and
// inngest/* are the engine's, and only admins (internalOK) may send them, for a workflow's
// Test run of a schedule. field names the name in the request ("name", "events[3].name").
func checkEventName(field, name string, internalOK bool) error {
	if strings.HasPrefix(name, cms.EventPrefix) {
		return refusedName{engine.FieldError(field, "%s", cms.EventNameRefusal(name))}
	}
	if internalOK {
		return nil
	}
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(name, p) {
			return refusedName{engine.FieldError(field, "%q is reserved for inkflow's own events (admins only)", p)}
		}
	}
	return nil
}

// isRefusedName reports whether err refuses an event name.
func isRefusedName(err error) bool {
	var r refusedName
	return errors.As(err, &r)
}
