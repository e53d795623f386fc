package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// postEventNames are every name the CMS sends, each of which a forger could try.
var postEventNames = append(append([]string{}, cms.PostEvents...), cms.EventPublishScheduled, "blog-post.anything-else")

// integritySnapshot is what a forged decision could change: the post, its review run and
// the events stored.
type integritySnapshot struct {
	status           cms.Status
	markdown, aiRev  string
	updatedAt        time.Time
	runStatus        engine.Status
	runSteps, events int
	postEventsStored int
}

func (rs *reviewServer) snapshot(t *testing.T, postID int64, runID string) integritySnapshot {
	t.Helper()
	ctx := context.Background()
	p := rs.post(t, postID)
	run, err := rs.Eng.GetRun(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	s := integritySnapshot{status: p.Status, markdown: p.Markdown, updatedAt: p.UpdatedAt, runStatus: run.Status, runSteps: len(run.Steps)}
	if p.AIRevision != nil {
		s.aiRev = *p.AIRevision
	}
	for _, name := range postEventNames {
		evs, _, err := rs.Eng.ListEvents(ctx, engine.EventFilter{Name: name, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		s.postEventsStored += len(evs)
	}
	all, _, err := rs.Eng.ListEvents(ctx, engine.EventFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	s.events = len(all)
	return s
}

// Every way to send an event from outside the CMS refuses blog-post.* names, for every role,
// anonymous callers and event keys included, on every route: POST /api/events, POST /e/{key},
// the events page's form and a workflow's send_event. Each refusal names the CMS route to use
// and changes nothing: the waiting review run stays waiting, the post keeps its status and
// text, no event is stored.
func TestPostEventsComeOnlyFromTheCMS(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		rs := newReviewServer(t, db, nil)
		ctx := context.Background()
		p, runID := rs.sendToReview(t, reviewDraft)
		if p.Status != cms.StatusNeedsApproval {
			t.Fatalf("post is %s, want needs_approval", p.Status)
		}
		key, _, err := rs.CMS.EventKeys.Create(ctx, "forger")
		if err != nil {
			t.Fatal(err)
		}
		users := map[string]*cms.User{"viewer": rs.viewer, "editor": rs.editor, "approver": rs.approver, "admin": rs.admin}
		tokens := map[string]string{"anonymous": ""}
		browsers := map[string]*webClient{"anonymous": rs.client(t)}
		for role, u := range users {
			tokens[role] = rs.token(t, u)
			b := rs.client(t)
			b.login(u.Email)
			browsers[role] = b
		}
		tokens["event key"] = key
		before := rs.snapshot(t, p.ID, runID)

		type attempt struct{ who, route, name string }
		refused := func(a attempt, res response, want int) {
			t.Helper()
			if res.Status != want {
				t.Errorf("%s %s %s: %d %.300s, want %d", a.who, a.route, a.name, res.Status, res.Body, want)
				return
			}
			if want == http.StatusUnprocessableEntity && !strings.Contains(res.Body, "/api/posts") {
				t.Errorf("%s %s %s: the refusal does not name the CMS route: %.300s", a.who, a.route, a.name, res.Body)
			}
		}
		for _, name := range postEventNames {
			data := fmt.Sprintf(`{"id": %d, "run_id": %q}`, p.ID, runID)
			body := fmt.Sprintf(`{"name": %q, "data": %s, "user": {"id": %d, "email": %q, "role": "admin"}}`, name, data, rs.admin.ID, rs.admin.Email)
			for who, tok := range tokens {
				want := http.StatusUnprocessableEntity
				switch who {
				case "anonymous":
					want = http.StatusUnauthorized
				case "viewer":
					want = http.StatusForbidden
				}
				refused(attempt{who, "POST /api/events", name}, rs.rawAPI(t, tok, "POST", "/api/events", body), want)
				refused(attempt{who, "POST /api/events (array)", name}, rs.rawAPI(t, tok, "POST", "/api/events", "["+body+"]"), want)
			}
			refused(attempt{"event key", "POST /e/{key}", name}, rs.rawAPI(t, "", "POST", "/e/"+key, body), http.StatusUnprocessableEntity)
			refused(attempt{"event key", "POST /e/{key} (array)", name},
				rs.rawAPI(t, "", "POST", "/e/"+key, `[{"name":"ok.event"},`+body+`]`), http.StatusUnprocessableEntity)
			for who, b := range browsers {
				want := http.StatusUnprocessableEntity
				switch who {
				case "anonymous":
					want = http.StatusUnauthorized
				case "viewer":
					want = http.StatusForbidden
				}
				refused(attempt{who, "POST /admin/events", name}, b.post("/admin/events", url.Values{"name": {name}, "data": {data}}), want)
			}
		}

		// The engine's reserved names are refused on the events page too (an editor's
		// inkflow/retention.requested once deleted every run), for all but admins, as on the API.
		for _, name := range []string{"inkflow/retention.requested", "inngest/function.finished"} {
			for _, who := range []string{"editor", "approver"} {
				res := browsers[who].post("/admin/events", url.Values{"name": {name}, "data": {`{"before": "2100-01-01T00:00:00Z"}`}})
				if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "reserved") {
					t.Errorf("%s sends %s on the events page: %d, want 422 saying it is reserved", who, name, res.Status)
				}
			}
		}

		// A workflow's send_event: refused when saved with the name written in, and at run
		// time when the name comes from a ref.
		admin := tokens["admin"]
		for _, name := range postEventNames {
			wf := fmt.Sprintf(`{"name":"forge","trigger":"forge.now","enabled":true,"workflow":{"actions":[{"id":"send","kind":"send_event","inputs":{"name":%q,"data":{"id":%d}}}],"edges":[{"from":"$source","to":"send"}]}}`, name, p.ID)
			res := rs.rawAPI(t, admin, "POST", "/api/workflows", wf)
			if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "/api/posts") {
				t.Errorf("saving a send_event of %s: %d %.300s, want 422 naming the CMS route", name, res.Status, res.Body)
			}
		}
		wf := `{"name":"forge by ref","trigger":"forge.now","enabled":true,"workflow":{"actions":[{"id":"send","kind":"send_event","inputs":{"name":"!ref($.event.data.name)","data":{"id":"!ref($.event.data.id)"}}}],"edges":[{"from":"$source","to":"send"}]}}`
		if res := rs.rawAPI(t, admin, "POST", "/api/workflows", wf); res.Status != http.StatusCreated {
			t.Fatalf("workflow with a ref name: %d %s", res.Status, res.Body)
		}
		for _, name := range postEventNames {
			res := rs.rawAPI(t, admin, "POST", "/api/events", fmt.Sprintf(`{"name":"forge.now","data":{"name":%q,"id":%d}}`, name, p.ID))
			if res.Status != http.StatusOK {
				t.Fatalf("forge.now: %d %s", res.Status, res.Body)
			}
			runs := decode[engine.SendResult](t, res).Runs
			if len(runs) != 1 {
				t.Fatalf("forge.now started %v", runs)
			}
			run := rs.awaitRun(t, runs[0], engine.StatusFailed)
			if !strings.Contains(run.Error, "/api/posts") {
				t.Errorf("send_event of %s failed with %q, want the refusal naming the CMS route", name, run.Error)
			}
		}

		after := rs.snapshot(t, p.ID, runID)
		if after.postEventsStored != before.postEventsStored {
			t.Errorf("blog-post.* events stored: %d before, %d after", before.postEventsStored, after.postEventsStored)
		}
		after.events, before.events = 0, 0 // forge.now events and the failure notices are expected
		after.postEventsStored = before.postEventsStored
		if after != before {
			t.Errorf("a refused event changed the review:\nbefore %+v\nafter  %+v", before, after)
		}
	})
}
