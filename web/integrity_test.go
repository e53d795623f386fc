package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
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

// Every other path that could resume, skip or forge a decision is refused and changes
// nothing: deciding or publishing as a role that may not (anonymous, viewer, editor) or as
// an approver who wrote the text, on the API and the pages; editing the text while it is
// reviewed (API, editor form, autosave, restoring a revision); publishing or scheduling
// without an approval; a rerun of the review run. Then the legitimate paths: a re-sent post
// supersedes its older run and one approval resumes exactly one run; a cancelled run puts
// the post back to draft and approving it then is 409; a schedule is checked again when it
// fires.
func TestDecisionPathsAreRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		rs := newReviewServer(t, db, nil)
		ctx := context.Background()
		writer := rs.mustUser(t, "writer@example.com", cms.RoleApprover) // an approver who writes
		markdown := reviewDraft
		title := "Written by an approver"
		p, err := rs.CMS.Posts.Create(ctx, writer, cms.PostInput{Title: &title, Markdown: &markdown})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rs.CMS.Posts.SendToReview(ctx, writer, p.ID); err != nil {
			t.Fatal(err)
		}
		runID := rs.reviewRun(t, p.ID)
		rs.awaitRun(t, runID, engine.StatusWaiting)
		p = rs.post(t, p.ID)
		revs, _ := rs.CMS.Posts.Revisions(ctx, p.ID)
		before := rs.snapshot(t, p.ID, runID)

		callers := map[string]*cms.User{"anonymous": nil, "viewer": rs.viewer, "editor": rs.editor, "the writer (approver)": writer}
		id := fmt.Sprint(p.ID)
		for who, u := range callers {
			tok, b := "", rs.client(t)
			if u != nil {
				tok = rs.token(t, u)
				b.login(u.Email)
			}
			want := http.StatusForbidden
			if u == nil {
				want = http.StatusUnauthorized
			}
			refused := func(status int) bool {
				// The writer may publish nothing that is not approved: 409 says it is not, 403
				// that they may not (asserted below once it is approved).
				return status == want || (u == writer && status == http.StatusConflict)
			}
			for _, c := range []struct{ path, body string }{
				{"/api/posts/" + id + "/approve", `{}`},
				{"/api/posts/" + id + "/approve", `{"accept": ["toc"], "comment": "fine"}`},
				{"/api/posts/" + id + "/reject", `{}`},
				{"/api/posts/" + id + "/publish", `{}`},
				{"/api/posts/" + id + "/publish", `{"publish_at": "2099-01-01T10:00:00Z"}`},
			} {
				if res := rs.rawAPI(t, tok, "POST", c.path, c.body); !refused(res.Status) {
					t.Errorf("%s POST %s %s = %d %.200s, want %d", who, c.path, c.body, res.Status, res.Body, want)
				}
			}
			for _, path := range []string{"approve", "reject", "publish", "schedule"} {
				form := url.Values{"decide": {"1"}, "accept": {"toc"}, "publish_at": {"2099-01-01T10:00"}}
				if res := b.post("/admin/posts/"+id+"/"+path, form); !refused(res.Status) {
					t.Errorf("%s POST /admin/posts/{id}/%s = %d, want %d", who, path, res.Status, want)
				}
			}
		}

		// Edits of the text while it is reviewed: 409 offering to withdraw, for every editor.
		for _, u := range []*cms.User{rs.editor, rs.approver, writer, rs.admin} {
			tok, b := rs.token(t, u), rs.client(t)
			b.login(u.Email)
			stamp := p.UpdatedAt.Format(time.RFC3339Nano)
			res := rs.rawAPI(t, tok, "PUT", "/api/posts/"+id, fmt.Sprintf(`{"markdown": "rewritten", "updated_at": %q}`, stamp))
			if res.Status != http.StatusConflict || !strings.Contains(res.Body, "/withdraw") {
				t.Errorf("%s PUT during review = %d %.200s, want 409 offering withdraw", u.Email, res.Status, res.Body)
			}
			form := url.Values{"title": {p.Title}, "markdown": {"rewritten"}, "updated_at": {stamp}}
			if res := b.post("/admin/posts/"+id, form); res.Status != http.StatusConflict || len(findTestID(t, res.Body, "action-withdraw")) != 1 {
				t.Errorf("%s saves the editor during review = %d, want 409 with the withdraw button", u.Email, res.Status)
			}
			if res := b.post("/admin/posts/"+id+"/autosave", form); res.Status != http.StatusConflict {
				t.Errorf("%s autosaves during review = %d, want 409", u.Email, res.Status)
			}
			if res := b.post(fmt.Sprintf("/admin/posts/%d/revisions/%d/restore", p.ID, revs[len(revs)-1].ID), nil); res.Status != http.StatusConflict {
				t.Errorf("%s restores a revision during review = %d, want 409", u.Email, res.Status)
			}
		}

		// A rerun of the review run is not the post's review: it neither waits nor acts.
		admin := rs.token(t, rs.admin)
		res := rs.rawAPI(t, admin, "POST", "/api/runs/"+runID+"/rerun", "")
		if res.Status != http.StatusAccepted {
			t.Fatalf("rerun: %d %s", res.Status, res.Body)
		}
		rerun := decode[struct{ ID string }](t, res).ID
		rs.awaitRun(t, rerun, engine.StatusCompleted)

		after := rs.snapshot(t, p.ID, runID)
		after.events, before.events = 0, 0 // the rerun's events
		if after != before {
			t.Errorf("a refused path changed the review:\nbefore %+v\nafter  %+v", before, after)
		}

		// Approving it with nothing waiting is refused: the writer's post waits on runID; an
		// approval by another approver resumes exactly that run, never the rerun.
		if res := rs.api(t, rs.token(t, rs.approver), "POST", "/api/posts/"+id+"/approve", map[string]any{"accept": []string{"nope"}}); res.Status != http.StatusUnprocessableEntity {
			t.Errorf("approve an unknown change = %d %s, want 422", res.Status, res.Body)
		}
		if res := rs.api(t, rs.token(t, rs.approver), "POST", "/api/posts/"+id+"/approve", nil); res.Status != http.StatusOK {
			t.Fatalf("approve: %d %s", res.Status, res.Body)
		}
		rs.awaitRun(t, runID, engine.StatusCompleted)
		if got := rs.post(t, p.ID); got.Status != cms.StatusApproved || got.Markdown == reviewDraft {
			t.Errorf("after the approval: %s, text changed %v", got.Status, got.Markdown != reviewDraft)
		}
		if res := rs.api(t, rs.token(t, rs.approver), "POST", "/api/posts/"+id+"/approve", nil); res.Status != http.StatusConflict {
			t.Errorf("approve twice = %d %s, want 409", res.Status, res.Body)
		}
		// The writer may not publish or schedule their own words, even approved.
		wtok := rs.token(t, writer)
		for _, body := range []string{`{}`, `{"publish_at": "2099-01-01T10:00:00Z"}`} {
			if res := rs.rawAPI(t, wtok, "POST", "/api/posts/"+id+"/publish", body); res.Status != http.StatusForbidden {
				t.Errorf("the writer publishes %s = %d %s, want 403", body, res.Status, res.Body)
			}
		}
		if got := rs.post(t, p.ID); got.Status != cms.StatusApproved || got.PublishAt != nil {
			t.Errorf("refused publications changed the post: %s %v", got.Status, got.PublishAt)
		}
	})
}

// One live review per post, and the post follows its run: sending it again cancels the older
// run as superseded; cancelling the live run puts the post back to draft with the reason and
// the run on its page; approving then is 409.
func TestPostFollowsItsRun(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		rs := newReviewServer(t, db, nil)
		ctx := context.Background()
		p, first := rs.sendToReview(t, reviewDraft)
		ed, ap, admin := rs.token(t, rs.editor), rs.token(t, rs.approver), rs.token(t, rs.admin)
		id := fmt.Sprint(p.ID)
		if res := rs.api(t, ed, "POST", "/api/posts/"+id+"/review", nil); res.Status != http.StatusOK {
			t.Fatalf("send again: %d %s", res.Status, res.Body)
		}
		old := rs.awaitRun(t, first, engine.StatusCancelled)
		if !strings.Contains(old.Error, "superseded") {
			t.Errorf("the older run was cancelled with %q, want superseded", old.Error)
		}
		second := rs.reviewRun(t, p.ID)
		if second == first {
			t.Fatal("no new review run")
		}
		rs.awaitRun(t, second, engine.StatusWaiting)
		if got := rs.post(t, p.ID); got.Status != cms.StatusNeedsApproval {
			t.Errorf("the superseded run's end moved the post to %s", got.Status)
		}

		if res := rs.api(t, admin, "POST", "/api/runs/"+second+"/cancel", nil); res.Status != http.StatusOK {
			t.Fatalf("cancel: %d %s", res.Status, res.Body)
		}
		got := rs.awaitPost(t, p.ID, "back to draft", func(p *cms.Post) bool { return p.Status == cms.StatusDraft })
		if res := rs.api(t, ap, "POST", "/api/posts/"+id+"/approve", nil); res.Status != http.StatusConflict {
			t.Errorf("approve after the run was cancelled = %d %s, want 409", res.Status, res.Body)
		}
		if got.Markdown != reviewDraft {
			t.Error("the cancelled review changed the text")
		}
		r := decode[postJSON](t, rs.api(t, ed, "GET", "/api/posts/"+id, nil))
		if r.Review == nil || r.Review.Status != cms.ReviewCancelled || !strings.Contains(r.Review.Reason, "cancelled") || r.Review.EndedRun != second {
			t.Errorf("the post's review = %+v, want cancelled with its reason and run", r.Review)
		}
		b := rs.client(t)
		b.login(rs.editor.Email)
		page := b.get("/admin/posts/" + id + "/edit")
		ended := findTestID(t, page.Body, "review-ended")
		if len(ended) != 1 || !strings.Contains(text(ended[0]), "cancelled") || len(findTestID(t, page.Body, "review-run")) != 1 {
			t.Errorf("the post's page does not say why it is back to draft:\n%s", snippet(page.Body))
		}
		// The page of someone who watched it in review learns of it live: the state block it
		// polls answers with the reason and asks for a reload, the status having moved.
		live := b.get("/admin/posts/" + id + "/state?was=needs_approval")
		if live.Header.Get("HX-Refresh") != "true" || len(findTestID(t, live.Body, "review-ended")) != 1 {
			t.Errorf("the live state of the post = %d %q %s", live.Status, live.Header.Get("HX-Refresh"), snippet(live.Body))
		}
		_ = ctx
	})
}

// An approval whose run is cancelled before it applies the changes does not leave the post
// "approved" with nothing applied: the post goes back to draft and its review says why. The
// review workflow here pauses between the approval and apply_changes, where the cancel lands.
func TestApprovalWhoseRunEndsBeforeApplyingGoesBackToDraft(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		rs := newReviewServer(t, db, nil)
		paused := strings.Replace(reviewFlow, `{"from":"approval","to":"apply"}`,
			`{"from":"approval","to":"pause"},{"from":"pause","to":"apply"}`, 1)
		paused = strings.Replace(paused, `{"id":"apply",`, `{"id":"pause","kind":"sleep","inputs":{"duration":"1h"}},
 {"id":"apply",`, 1)
		if _, err := rs.Store.Update(context.Background(), rs.Workflow.ID, workflow.Draft{Workflow: json.RawMessage(paused)}); err != nil {
			t.Fatal(err)
		}
		p, run := rs.sendToReview(t, reviewDraft)
		ap, admin := rs.token(t, rs.approver), rs.token(t, rs.admin)
		id := fmt.Sprint(p.ID)
		if res := rs.api(t, ap, "POST", "/api/posts/"+id+"/approve", nil); res.Status != http.StatusOK {
			t.Fatalf("approve: %d %s", res.Status, res.Body)
		}
		rs.awaitRun(t, run, engine.StatusSleeping)
		if got := rs.post(t, p.ID); got.Status != cms.StatusApproved {
			t.Fatalf("after the approval the post is %s, want approved", got.Status)
		}
		if res := rs.api(t, admin, "POST", "/api/runs/"+run+"/cancel", nil); res.Status != http.StatusOK {
			t.Fatalf("cancel: %d %s", res.Status, res.Body)
		}
		got := rs.awaitPost(t, p.ID, "back to draft", func(p *cms.Post) bool { return p.Status == cms.StatusDraft })
		if got.Markdown != reviewDraft {
			t.Error("the cancelled run changed the text")
		}
		r := decode[postJSON](t, rs.api(t, admin, "GET", "/api/posts/"+id, nil))
		if r.Review == nil || r.Review.Status != cms.ReviewCancelled || !strings.Contains(r.Review.Reason, "before its changes were applied") {
			t.Errorf("the post's review = %+v, want cancelled before its changes were applied", r.Review)
		}
	})
}

// Published text changes only by publishing: an edit of a published post is a pending update
// (the edit page says so); the public page, the home page and the feed keep the published
// text until an approver who did not write the update publishes it; unpublishing is at once.
func TestPublishedTextChangesOnlyByPublishing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		ctx := context.Background()
		ed := ts.mustUser(t, "ed@example.com", cms.RoleEditor)
		ap := ts.mustUser(t, "ap@example.com", cms.RoleApprover)
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		title, md := "Stable post", "The published words."
		p, err := ts.CMS.Posts.Create(ctx, ed, cms.PostInput{Title: &title, Markdown: &md})
		if err != nil {
			t.Fatal(err)
		}
		if p, err = ts.CMS.Posts.Publish(ctx, admin, p.ID); err != nil {
			t.Fatal(err)
		}
		anon := ts.client(t)
		public := func() string {
			return anon.get("/posts/"+p.Slug).Body + anon.get("/").Body + anon.get("/feed.xml").Body
		}

		newMD := "Words nobody approved."
		b := ts.client(t)
		b.login(ed.Email)
		res := b.post(fmt.Sprintf("/admin/posts/%d", p.ID), url.Values{"title": {"Changed title"}, "markdown": {newMD},
			"updated_at": {p.UpdatedAt.Format(time.RFC3339Nano)}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("edit the published post: %d %s", res.Status, snippet(res.Body))
		}
		if got := public(); !strings.Contains(got, "The published words.") || strings.Contains(got, "nobody approved") || strings.Contains(got, "Changed title") {
			t.Errorf("the public pages show the unpublished edit")
		}
		if page := b.get(fmt.Sprintf("/admin/posts/%d/edit", p.ID)); len(findTestID(t, page.Body, "pending-update")) != 1 {
			t.Errorf("the edit page does not say the changes are not published")
		}
		// The editor may not publish (role), nor may an approver who wrote the update.
		if res := ts.api(t, ts.token(t, ed), "POST", fmt.Sprintf("/api/posts/%d/publish", p.ID), nil); res.Status != http.StatusForbidden {
			t.Errorf("editor publishes the update = %d", res.Status)
		}
		cur, _ := ts.CMS.Posts.Get(ctx, p.ID)
		mine := "An approver's own words."
		if _, err := ts.CMS.Posts.Update(ctx, ap, p.ID, cms.PostInput{Markdown: &mine}, cur.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		if res := ts.api(t, ts.token(t, ap), "POST", fmt.Sprintf("/api/posts/%d/publish", p.ID), nil); res.Status != http.StatusForbidden {
			t.Errorf("the approver who wrote the update publishes it = %d %s, want 403", res.Status, res.Body)
		}
		if got := public(); !strings.Contains(got, "The published words.") || strings.Contains(got, "own words") {
			t.Errorf("a refused publish changed the public pages")
		}
		other := ts.mustUser(t, "ap2@example.com", cms.RoleApprover)
		if res := ts.api(t, ts.token(t, other), "POST", fmt.Sprintf("/api/posts/%d/publish", p.ID), nil); res.Status != http.StatusOK {
			t.Fatalf("another approver publishes the update = %d %s", res.Status, res.Body)
		}
		if got := public(); !strings.Contains(got, "own words") || strings.Contains(got, "The published words.") {
			t.Errorf("the published update is not on the public pages")
		}
		if res := ts.api(t, ts.token(t, other), "POST", fmt.Sprintf("/api/posts/%d/publish", p.ID), nil); res.Status != http.StatusConflict {
			t.Errorf("publish with no pending update = %d, want 409", res.Status)
		}
		if res := ts.api(t, ts.token(t, other), "POST", fmt.Sprintf("/api/posts/%d/unpublish", p.ID), nil); res.Status != http.StatusOK {
			t.Fatalf("unpublish = %d", res.Status)
		}
		if res := anon.get("/posts/" + p.Slug); res.Status != http.StatusNotFound {
			t.Errorf("unpublished post = %d, want 404 at once", res.Status)
		}
	})
}

// Scheduling is checked when scheduled and again when it fires: an approver demoted after
// scheduling publishes nothing, and the schedule is cleared.
func TestScheduleIsCheckedAgainWhenItFires(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		rs := newReviewServer(t, db, nil)
		ctx := context.Background()
		p, runID := rs.sendToReview(t, reviewDraft)
		if _, err := rs.CMS.Posts.Approve(ctx, rs.approver, p.ID); err != nil {
			t.Fatal(err)
		}
		rs.awaitRun(t, runID, engine.StatusCompleted)
		// The editor who wrote it may not schedule it (role); the approver may, now.
		if _, err := rs.CMS.Posts.SchedulePublish(ctx, rs.editor, p.ID, time.Now().Add(time.Hour)); engine.ErrorCode(err) != engine.EForbidden {
			t.Errorf("editor schedules = %v, want EForbidden", err)
		}
		if _, err := rs.CMS.Posts.SchedulePublish(ctx, rs.approver, p.ID, time.Now().Add(2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := rs.CMS.Users.SetRole(ctx, rs.approver.ID, cms.RoleEditor); err != nil {
			t.Fatal(err)
		}
		var fired string
		for _, id := range mustRunIDs(t, rs, p.ID) {
			if r, err := rs.Eng.GetRun(ctx, id); err == nil && r.FunctionID == cms.PublishAtFunctionID {
				fired = id
			}
		}
		if fired == "" {
			t.Fatal("no scheduled publication run")
		}
		run := rs.awaitRun(t, fired, engine.StatusCompleted)
		got := rs.post(t, p.ID)
		if got.Status == cms.StatusPublished || got.PublishAt != nil || !strings.Contains(string(run.Output), "no longer publish") {
			t.Errorf("after the scheduler was demoted: status %s, publish_at %v, run output %s", got.Status, got.PublishAt, run.Output)
		}
	})
}

func mustRunIDs(t *testing.T, rs *reviewServer, id int64) []string {
	t.Helper()
	ids, err := rs.CMS.Posts.RunIDs(context.Background(), id, 50)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
