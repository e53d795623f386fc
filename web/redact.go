package web

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// Run errors are written for whoever runs the server: "dial tcp 10.0.0.5:443: connect:
// connection refused", `Post "https://llm.internal:4000/v1/chat?key=sk-..."`. Viewers,
// editors and approvers see them with the network addresses, URLs and secrets hidden;
// admins (and the log) see them whole. The rules work on the text alone, so they hold for
// errors from any step: a webhook, the AI client, an SDK app.

const hidden = "[address hidden]"

var redactions = []struct {
	re   *regexp.Regexp
	with string
}{
	// URLs, with their query strings (where keys travel).
	{regexp.MustCompile(`(?i)\b[a-z][a-z0-9+.-]*://[^\s"'<>]*[^\s"'<>.,:;)]`), hidden},
	// What Go's net package names: "dial tcp HOST:PORT", "lookup HOST", "read udp A->B".
	{regexp.MustCompile(`\b(dial|read|write|lookup)\s+(?:(?:tcp|udp|ip|unix)[46]?\s+)?\S*[^\s:]`), "$1 " + hidden},
	// Addresses left: IPv4 (with a port), IPv6 in brackets or with "::", host:port.
	{regexp.MustCompile(`\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b`), hidden},
	{regexp.MustCompile(`\[[0-9a-fA-F:.%]*:[0-9a-fA-F:.%]*\](?::\d{1,5})?`), hidden},
	{regexp.MustCompile(`(?i)(?:\b[0-9a-f]{1,4})?(?::[0-9a-f]{0,4})*::(?:[0-9a-f]{1,4}\b)?(?::[0-9a-f]{1,4}\b)*`), hidden},
	{regexp.MustCompile(`\b[a-zA-Z][a-zA-Z0-9-]*(?:\.[a-zA-Z0-9-]+)*:\d{2,5}\b`), hidden},
	// Secrets outside a URL.
	{regexp.MustCompile(`(?i)\b(api[_-]?key|key|token|secret|password|signature|access_token)=[^\s&"']+`), "$1=[hidden]"},
	{regexp.MustCompile(`(?i)\bbearer\s+[^\s"'()]+`), "Bearer [hidden]"},
	{regexp.MustCompile(`\bsk-[A-Za-z0-9_-]{6,}`), "[key hidden]"},
}

// redactText hides the network addresses, URLs and secrets in an error message.
func redactText(s string) string {
	for _, r := range redactions {
		s = r.re.ReplaceAllString(s, r.with)
	}
	return s
}

// seesInternals reports whether the request's user may read errors whole: admins only.
func seesInternals(ctx context.Context) bool {
	u := templates.ViewerFrom(ctx).User
	return u != nil && u.Role.AtLeast(cms.RoleAdmin)
}

// redactRun hides internals in a run's error, its steps' errors and its trigger event (a run
// of a failure alert carries the failed run's error) for users who may not read them whole.
func redactRun(ctx context.Context, run *engine.Run) {
	if run == nil || seesInternals(ctx) {
		return
	}
	run.Error = redactText(run.Error)
	for i := range run.Steps {
		run.Steps[i].Error = redactText(run.Steps[i].Error)
	}
	if run.EventName == engine.EventRunFailed && len(run.Event) > 0 {
		var ev engine.Event
		if json.Unmarshal(run.Event, &ev) == nil {
			redactEvent(ctx, &ev)
			if b, err := json.Marshal(ev); err == nil {
				run.Event = b
			}
		}
	}
}

// redactRuns is redactRun for each run of a list.
func redactRuns(ctx context.Context, runs []engine.Run) {
	if seesInternals(ctx) {
		return
	}
	for i := range runs {
		redactRun(ctx, &runs[i])
	}
}

// redactEvent hides internals in the error an inkflow/run.failed event carries.
func redactEvent(ctx context.Context, ev *engine.Event) {
	if ev.Name != engine.EventRunFailed || seesInternals(ctx) {
		return
	}
	if msg, ok := ev.Data["error"].(string); ok {
		ev.Data = maps.Clone(ev.Data)
		ev.Data["error"] = redactText(msg)
	}
}

// redactEvents is redactEvent for each event of a list.
func redactEvents(ctx context.Context, evs []engine.StoredEvent) {
	for i := range evs {
		redactEvent(ctx, &evs[i].Event)
	}
}

// latestReview is Posts.LatestReview with the reason hidden as run errors are: a review that
// failed says why with its run's error ("the review run failed: dial tcp ..."), shown on the
// post's page and in the API to everyone who may read the post.
func (s *Server) latestReview(ctx context.Context, postID int64) (*cms.Review, error) {
	r, err := s.cms.Posts.LatestReview(ctx, postID)
	if r != nil && !seesInternals(ctx) {
		r.Reason = redactText(r.Reason)
	}
	return r, err
}
