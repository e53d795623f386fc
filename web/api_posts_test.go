package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// newEngine returns a real engine with a function on blog-post.updated, so sending a post to
// review starts a run. Workers are not started: runs stay queued, which is all these tests
// look at.
func newEngine(t *testing.T, db *testdb.DB) *engine.Engine {
	t.Helper()
	eng := enginetest.New(t, db, engine.Options{})
	review := &engine.Function{ID: "test-review", Triggers: []engine.Trigger{{Event: cms.EventUpdated}},
		Handler: func(ctx context.Context, in *engine.Input) (any, error) { return nil, nil }}
	if err := eng.Register(review); err != nil {
		t.Fatal(err)
	}
	return eng
}

type apiPost struct {
	ID        int64          `json:"id"`
	Title     string         `json:"title"`
	Slug      string         `json:"slug"`
	Status    string         `json:"status"`
	Markdown  string         `json:"markdown"`
	UpdatedAt string         `json:"updated_at"`
	AIRev     *string        `json:"ai_revision"`
	AIRecs    map[string]any `json:"ai_recommendations"`
	Runs      []engine.Run   `json:"runs"`
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
	return v
}

func TestPostsAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		ed := ts.token(t, ts.mustUser(t, "ed@example.com", cms.RoleEditor))
		ap := ts.token(t, ts.mustUser(t, "ap@example.com", cms.RoleApprover))

		bad := []struct {
			name, method, path string
			body               any
			status             int
			field              string
		}{
			{"no title", "POST", "/api/posts", map[string]any{"markdown": "x"}, 422, "title"},
			{"tags not a list", "POST", "/api/posts", map[string]any{"title": "x", "tags": "go"}, 400, "tags"},
			{"bad status filter", "GET", "/api/posts?status=bogus", nil, 422, "status"},
			{"bad limit", "GET", "/api/posts?limit=5000", nil, 422, "limit"},
			{"id not a number", "GET", "/api/posts/abc", nil, 400, ""},
			{"missing post", "GET", "/api/posts/999", nil, 404, ""},
		}
		for _, c := range bad {
			r := ts.api(t, ed, c.method, c.path, c.body)
			if r.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, r.Status, r.Body, c.status)
				continue
			}
			e := decode[errorBody](t, r)
			if e.Error == "" || (c.field != "" && e.Fields[c.field] == "") {
				t.Errorf("%s: error body %s lacks field %q", c.name, r.Body, c.field)
			}
		}
		req, _ := http.NewRequest("POST", ts.URL+"/api/posts", strings.NewReader(`{"title": `))
		req.Header.Set("Authorization", "Bearer "+ed)
		if res, _ := http.DefaultClient.Do(req); res.StatusCode != 400 {
			t.Errorf("broken JSON = %d, want 400", res.StatusCode)
		}

		r := ts.api(t, ed, "POST", "/api/posts", map[string]any{"title": "Hello API", "markdown": "Body", "tags": []string{"Go"}})
		if r.Status != 201 {
			t.Fatalf("create = %d %s", r.Status, r.Body)
		}
		p := decode[apiPost](t, r)
		if p.Status != "draft" || p.Slug != "hello-api" || p.Runs == nil || p.AIRecs == nil {
			t.Errorf("created = %s", r.Body)
		}
		path := "/api/posts/" + itoa(p.ID)

		// Optimistic edits.
		if r := ts.api(t, ed, "PUT", path, map[string]any{"markdown": "x"}); r.Status != 422 || !strings.Contains(r.Body, "updated_at") {
			t.Errorf("PUT without updated_at = %d %s", r.Status, r.Body)
		}
		r = ts.api(t, ed, "PUT", path, map[string]any{"markdown": "Body 2", "updated_at": p.UpdatedAt})
		if r.Status != 200 {
			t.Fatalf("PUT = %d %s", r.Status, r.Body)
		}
		if r := ts.api(t, ed, "PUT", path, map[string]any{"markdown": "Body 3", "updated_at": p.UpdatedAt}); r.Status != 409 {
			t.Errorf("stale PUT = %d %s, want 409", r.Status, r.Body)
		}
		p = decode[apiPost](t, ts.api(t, ed, "GET", path, nil))
		if p.Markdown != "Body 2" {
			t.Errorf("markdown = %q", p.Markdown)
		}

		// Review starts the run the engine function is subscribed to, listed with the post.
		if r := ts.api(t, ed, "POST", path+"/approve", nil); r.Status != 403 {
			t.Errorf("editor approves = %d", r.Status)
		}
		r = ts.api(t, ed, "POST", path+"/review", nil)
		if r.Status != 200 {
			t.Fatalf("review = %d %s", r.Status, r.Body)
		}
		p = decode[apiPost](t, r)
		if p.Status != "under_review" || len(p.Runs) != 1 || p.Runs[0].FunctionID != "test-review" {
			t.Errorf("after review: status %s runs %+v", p.Status, p.Runs)
		}
		if r := ts.api(t, ap, "POST", path+"/approve", nil); r.Status != 409 {
			t.Errorf("approve while the review runs and nothing waits = %d %s, want 409", r.Status, r.Body)
		}
		// Sent again, the newer review supersedes the older: its run is cancelled.
		if r := ts.api(t, ed, "POST", path+"/review", nil); r.Status != 200 {
			t.Errorf("review twice = %d %s, want 200", r.Status, r.Body)
		}
		if old, _ := ts.Eng.GetRun(context.Background(), p.Runs[0].ID); old == nil || old.Status != engine.StatusCancelled || !strings.Contains(old.Error, "superseded") {
			t.Errorf("the superseded run is %+v, want cancelled as superseded", old)
		}
		runs, _ := ts.CMS.Posts.RunIDs(context.Background(), p.ID, 1)
		if _, err := ts.CMS.Posts.AskApproval(context.Background(), p.ID, runs[0]); err != nil {
			t.Fatal(err)
		}
		for _, a := range []string{"approve", "publish"} {
			if r := ts.api(t, ap, "POST", path+"/"+a, nil); r.Status != 200 {
				t.Fatalf("%s = %d %s", a, r.Status, r.Body)
			}
		}
		list := decode[postListResponse](t, ts.api(t, ed, "GET", "/api/posts?status=published", nil))
		if list.Total != 1 || list.Posts[0].ID != p.ID {
			t.Errorf("published list = %+v", list)
		}
		if r := ts.api(t, ed, "DELETE", path, nil); r.Status != 403 {
			t.Errorf("editor deletes a published post = %d, want 403", r.Status)
		}
		if r := ts.api(t, ap, "DELETE", path, nil); r.Status != 204 {
			t.Errorf("approver deletes = %d %s", r.Status, r.Body)
		}
		if r := ts.api(t, ap, "GET", path, nil); r.Status != 404 {
			t.Errorf("deleted post = %d", r.Status)
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }
