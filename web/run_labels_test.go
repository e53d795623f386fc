package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// A workflow run is named by its workflow and the post it is about, not by the one function
// that runs every workflow ("workflow-runner"): on the runs list, the run page and the post's
// own list of runs.
func TestRunsAreLabelledByWorkflowAndPost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, store := workflowServer(t, db)
		ctx := context.Background()
		admin := ts.mustUser(t, "ad@example.com", cms.RoleAdmin)
		createWorkflow(t, store, "Editorial review", "blog-post.updated",
			`{"actions":[{"id":"note","kind":"log","inputs":{"message":"post !ref($.event.data.id)"}}],"edges":[{"from":"$source","to":"note"}]}`)
		title, md := "Durable execution, explained", "Body."
		p, err := ts.CMS.Posts.Create(ctx, admin, cms.PostInput{Title: &title, Markdown: &md})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.CMS.Posts.SendToReview(ctx, admin, p.ID); err != nil {
			t.Fatal(err)
		}
		ids, err := ts.CMS.Posts.RunIDs(ctx, p.ID, 10)
		if err != nil || len(ids) != 1 {
			t.Fatalf("runs of the post: %v %v", ids, err)
		}
		run := ids[0]
		enginetest.Await(t, ts.Eng, run, engine.StatusCompleted)
		postHref := "/admin/posts/" + strconv.FormatInt(p.ID, 10) + "/edit"

		b := ts.client(t)
		b.login("ad@example.com")
		r := b.get("/admin/runs")
		if r.Status != 200 {
			t.Fatalf("runs page: %d", r.Status)
		}
		row := rowOf(t, r.Body, run)
		if got := text(findIn(row, "run-link")[0]); got != "Editorial review" {
			t.Errorf("run link says %q, want the workflow's name", got)
		}
		if pl := findIn(row, "run-post"); len(pl) != 1 || text(pl[0]) != title || attr(pl[0], "href") != postHref {
			t.Errorf("the run's row does not link its post %q", title)
		}
		if strings.Contains(r.Body, ">workflow-runner<") {
			t.Error("the runs list still says workflow-runner")
		}

		r = b.get("/admin/runs/" + run)
		if got := text(findTestID(t, r.Body, "run-title")[0]); got != "Editorial review" {
			t.Errorf("run page title %q", got)
		}
		if pl := findTestID(t, r.Body, "run-post"); len(pl) != 1 || text(pl[0]) != title || attr(pl[0], "href") != postHref {
			t.Errorf("the run page does not say which post the run is about")
		}

		r = b.get(postHref)
		if links := findTestID(t, r.Body, "post-run-link"); len(links) != 1 || text(links[0]) != "Editorial review" {
			t.Errorf("the post's runs are not named by their workflow: %d links", len(links))
		}
		r = b.get("/admin/posts/" + strconv.FormatInt(p.ID, 10) + "/runs")
		if r.Status != http.StatusOK || len(findTestID(t, r.Body, "post-run-link")) != 1 || !strings.Contains(r.Body, "Editorial review") {
			t.Errorf("the post's runs fragment: %d %s", r.Status, snippet(r.Body))
		}
	})
}

// rowOf is the runs list's row of run id.
func rowOf(t *testing.T, body, id string) *html.Node {
	t.Helper()
	for _, n := range findTestID(t, body, "run-row") {
		if attr(n, "data-run") == id {
			return n
		}
	}
	t.Fatalf("no row for run %s", id)
	return nil
}
