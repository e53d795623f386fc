package cms

import (
	"strings"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/domain"
)

// EventPrefix starts the name of every event the CMS sends. Only the CMS may send such
// events: a blog-post.approve-ai-suggestions from anyone else would be a forged decision.
const EventPrefix = "blog-post."

// cmsRoutes names the route that sends each post event, for the message that refuses it.
var cmsRoutes = map[string]string{
	EventCreated:          "POST /api/posts",
	EventUpdated:          "POST /api/posts/{id}/review",
	EventPublished:        "POST /api/posts/{id}/publish",
	EventUnpublished:      "POST /api/posts/{id}/unpublish",
	EventApproved:         "POST /api/posts/{id}/approve",
	EventRejected:         "POST /api/posts/{id}/reject",
	EventPublishScheduled: `POST /api/posts/{id}/publish with {"publish_at"}`,
}

// CheckEventName refuses a name the CMS alone sends (blog-post.*, in any case: "Blog-Post.x"
// reads as the CMS's), for every sender outside the CMS: the event API, the intake, the
// events page, the CLI, a workflow's send_event. The error is EInvalid on field "name" and
// names the CMS route that makes the change and sends the event.
func CheckEventName(name string) error {
	if !engine.HasPrefixFold(name, EventPrefix) {
		return nil
	}
	return domain.FieldError("name", "%s", EventNameRefusal(name))
}

// CheckSentName is the whole rule for a name sent from outside the CMS and the engine:
// CheckEventName, then the engine's reserved prefixes (inkflow/*, inngest/*, in any case).
// internal lets an admin (or the operator's CLI) send the engine's exact names, for a
// workflow's Test run of a schedule; a variant in another case is refused for everyone,
// since it is nobody's event and only looks like one.
func CheckSentName(name string, internal bool) error {
	if err := CheckEventName(name); err != nil {
		return err
	}
	p := engine.ReservedPrefix(name)
	if p == "" || internal && strings.HasPrefix(name, p) {
		return nil
	}
	return domain.FieldError("name", "%q is reserved for inkflow's own events (admins only, in lower case)", p)
}

// EventNameRefusal is the sentence that refuses a blog-post.* name, naming the route to use.
func EventNameRefusal(name string) string {
	route, ok := cmsRoutes[name]
	if !ok {
		route = "the post's actions under /api/posts/{id}"
	}
	return "blog-post.* events come only from the CMS, with the acting user: use " + route
}

// actorOf is the event.user the CMS stamps on the events it sends: who acted, as the server
// knows them (never what a client claims).
func actorOf(u *User) map[string]any {
	if u == nil {
		return nil
	}
	return map[string]any{"id": u.ID, "email": u.Email, "role": string(u.Role)}
}
