package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
)

// An admin lists workflows, creates one with the form and lands on the editor page, which
// mounts the embedded editor bundle with the workflow id and the CSRF token it needs.
func TestWorkflowPagesCreateAndOpenEditor(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, store := workflowServer(t, db)
		ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		b := ts.client(t)
		b.login("admin@example.com")

		res := b.get("/admin/workflows")
		if res.Status != http.StatusOK || len(findTestID(t, res.Body, "no-workflows")) != 1 || len(findTestID(t, res.Body, "new-workflow")) != 1 {
			t.Fatalf("empty list page: %d\n%s", res.Status, res.Body)
		}

		res = b.post("/admin/workflows", url.Values{"name": {"Review"}, "trigger": {"blog-post.updated"}})
		loc := res.Header.Get("Location")
		m := regexp.MustCompile(`^/admin/workflows/(\d+)/edit$`).FindStringSubmatch(loc)
		if res.Status != http.StatusSeeOther || m == nil {
			t.Fatalf("create: %d Location %q\n%s", res.Status, loc, res.Body)
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		rec, err := store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Name != "Review" || rec.Trigger != "blog-post.updated" || rec.Enabled || rec.Version != 1 || len(rec.Workflow.Actions) != 0 {
			t.Errorf("created workflow = %+v", rec)
		}

		res = b.get("/admin/workflows")
		row := findTestID(t, res.Body, "workflow-"+m[1])
		if len(row) != 1 || !strings.Contains(text(row[0]), "Review") || !strings.Contains(text(row[0]), "blog-post.updated") {
			t.Fatalf("list lacks the new workflow:\n%s", res.Body)
		}

		res = b.get(loc)
		mount := findTestID(t, res.Body, "workflow-editor-mount")
		if res.Status != http.StatusOK || len(mount) != 1 {
			t.Fatalf("editor page: %d\n%s", res.Status, res.Body)
		}
		if got := attr(mount[0], "data-workflow-id"); got != m[1] {
			t.Errorf("data-workflow-id = %q, want %s", got, m[1])
		}
		if got := attr(mount[0], "data-csrf-token"); got == "" || got != b.csrf() {
			t.Errorf("data-csrf-token = %q, want the CSRF cookie %q", got, b.csrf())
		}
		js := regexp.MustCompile(`src="(/static/editor/editor\.js\?v=[0-9a-f]{12})"`).FindStringSubmatch(res.Body)
		if js == nil || !strings.Contains(res.Body, `href="/static/editor/editor.css?v=`) {
			t.Fatalf("editor page does not load the bundle:\n%s", res.Body)
		}
		asset := b.get(js[1])
		if asset.Status != http.StatusOK || !strings.Contains(asset.Header.Get("Content-Type"), "javascript") || len(asset.Body) < 100_000 {
			t.Errorf("bundle: %d %q, %d bytes", asset.Status, asset.Header.Get("Content-Type"), len(asset.Body))
		}
	})
}

// A refused form comes back with the reason next to the field, and stores nothing.
func TestWorkflowPagesCreateRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, store := workflowServer(t, db)
		ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		b := ts.client(t)
		b.login("admin@example.com")
		for _, tc := range []struct {
			name, trigger, field string
		}{
			{"", "blog-post.updated", "name"},
			{strings.Repeat("n", 201), "blog-post.updated", "name"},
			{"Nightly", "cron: not a schedule", "trigger"},
		} {
			res := b.post("/admin/workflows", url.Values{"name": {tc.name}, "trigger": {tc.trigger}})
			if res.Status != http.StatusUnprocessableEntity && res.Status != http.StatusBadRequest {
				t.Errorf("%q/%q: status %d, want 4xx", tc.name, tc.trigger, res.Status)
			}
			if len(findTestID(t, res.Body, "error-"+tc.field)) != 1 {
				t.Errorf("%q/%q: no message on field %s:\n%s", tc.name, tc.trigger, tc.field, res.Body)
			}
		}
		if list, err := store.List(context.Background()); err != nil || len(list) != 0 {
			t.Errorf("refused forms stored %d workflows (%v)", len(list), err)
		}
	})
}

// Workflows are managed by admins: others may read the list, not edit; strangers sign in.
func TestWorkflowPagesRoles(t *testing.T) {
	db := testdb.SQLite(t)
	ts, store := workflowServer(t, db)
	ts.mustUser(t, "editor@example.com", cms.RoleEditor)
	name, trigger := "Review", "blog-post.updated"
	rec, err := store.Create(context.Background(), draftOf(&name, &trigger))
	if err != nil {
		t.Fatal(err)
	}
	edit := "/admin/workflows/" + strconv.FormatInt(rec.ID, 10) + "/edit"

	anon := ts.client(t)
	if res := anon.get(edit); res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("anonymous editor page: %d %q", res.Status, res.Header.Get("Location"))
	}

	b := ts.client(t)
	b.login("editor@example.com")
	res := b.get("/admin/workflows")
	if res.Status != http.StatusOK || len(findTestID(t, res.Body, "workflow-"+strconv.FormatInt(rec.ID, 10))) != 1 {
		t.Fatalf("editor cannot read the list: %d", res.Status)
	}
	if len(findTestID(t, res.Body, "new-workflow")) != 0 || len(findTestID(t, res.Body, "edit-workflow")) != 0 {
		t.Error("an editor is offered the create form or edit links")
	}
	if res := b.get(edit); res.Status != http.StatusForbidden {
		t.Errorf("editor opens the workflow editor: %d", res.Status)
	}
	if res := b.post("/admin/workflows", url.Values{"name": {"X"}, "trigger": {"a.b"}}); res.Status != http.StatusForbidden {
		t.Errorf("editor creates a workflow: %d", res.Status)
	}

	ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
	a := ts.client(t)
	a.login("admin@example.com")
	for _, path := range []string{"/admin/workflows/999999/edit", "/admin/workflows/abc/edit", "/admin/workflows/-1/edit"} {
		if res := a.get(path); res.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, res.Status)
		}
	}
}

func draftOf(name, trigger *string) workflow.Draft {
	return workflow.Draft{Name: name, Trigger: trigger}
}

// "New workflow" offers the gallery of templates; a template is copied (disabled) and opened
// in the editor; an unknown template, or one whose kinds this server lacks, is refused on the
// form and stores nothing.
func TestWorkflowGallery(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, store := workflowServer(t, db) // builtin kinds only: the blog's templates cannot be used
		ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		b := ts.client(t)
		b.login("admin@example.com")
		res := b.get("/admin/workflows")
		var cards []string
		for _, id := range []string{"review-flow", "social-posts", "weekly-report", "failure-alert"} {
			if len(findTestID(t, res.Body, "use-template-"+id)) == 1 {
				cards = append(cards, id)
			}
		}
		if len(cards) != 4 {
			t.Fatalf("gallery cards %v, want the review flow, social posts, scheduled report and failure alert", cards)
		}
		for _, c := range []struct {
			template string
			status   int
			msg      string
		}{{"no-such-template", 404, `no workflow template "no-such-template"`}, {"review-flow", 422, `unknown kind "add_ToC"`}} {
			res = b.post("/admin/workflows", url.Values{"template": {c.template}})
			msg := findTestID(t, res.Body, "form-error")
			if res.Status != c.status || len(msg) != 1 || !strings.Contains(text(msg[0]), c.msg) {
				t.Errorf("template %s: %d, want %d with %q on the form", c.template, res.Status, c.status, c.msg)
			}
		}
		if list, _ := store.List(context.Background()); len(list) != 0 {
			t.Errorf("refused templates stored %d workflows", len(list))
		}
	})
}
