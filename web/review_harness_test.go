package web

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
)

// reviewServer is the whole review path over a real database and HTTP: the engine with its
// workers, the workflow runner with the generic and the blog kinds (send_event refusing
// blog-post.* as in production), one enabled review workflow on blog-post.updated, and a
// user of every role.
type reviewServer struct {
	*testServer
	Store                           *workflow.Store
	Workflow                        *workflow.Record
	viewer, editor, approver, admin *cms.User
}

// reviewFlow is the blog example: ToC, grammar, wait for approval, apply.
const reviewFlow = `{"actions":[
 {"id":"toc","kind":"add_ToC","name":"Add a Table of Contents"},
 {"id":"grammar","kind":"grammar_review","name":"Perform a grammar review"},
 {"id":"approval","kind":"wait_for_approval","name":"Apply changes after approval"},
 {"id":"apply","kind":"apply_changes","name":"Apply changes"}],
 "edges":[{"from":"$source","to":"toc"},{"from":"toc","to":"grammar"},{"from":"grammar","to":"approval"},{"from":"approval","to":"apply"}]}`

func newReviewServer(t *testing.T, db *testdb.DB, provider ai.Provider) *reviewServer {
	t.Helper()
	eng := enginetest.New(t, db, engine.Options{BackoffBase: 5 * time.Millisecond, BackoffMax: 50 * time.Millisecond})
	reg := workflow.NewRegistry()
	if err := workflow.RegisterBuiltins(reg, workflow.BuiltinConfig{CheckEventName: cms.CheckEventName}); err != nil {
		t.Fatal(err)
	}
	store := workflow.NewStore(db.DB, reg)
	ts := newTestServer(t, db, eng, func(c *Config) { c.Workflows = store })
	if provider == nil {
		provider = ai.Offline()
	}
	if err := actions.Register(reg, actions.Deps{Posts: ts.CMS.Posts, AI: provider}); err != nil {
		t.Fatal(err)
	}
	fns := append(workflow.NewRunner(store).Functions(), cms.PostFunctions(ts.CMS.Posts)...)
	if err := eng.Register(fns...); err != nil {
		t.Fatal(err)
	}
	name, trigger, on := "AI review", cms.EventUpdated, true
	rec, err := store.Create(context.Background(), workflow.Draft{Name: &name, Trigger: &trigger, Enabled: &on, Workflow: json.RawMessage(reviewFlow)})
	if err != nil {
		t.Fatal(err)
	}
	enginetest.StartWorkers(t, eng)
	rs := &reviewServer{testServer: ts, Store: store, Workflow: rec}
	rs.viewer = ts.mustUser(t, "viewer@example.com", cms.RoleViewer)
	rs.editor = ts.mustUser(t, "editor@example.com", cms.RoleEditor)
	rs.approver = ts.mustUser(t, "approver@example.com", cms.RoleApprover)
	rs.admin = ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
	return rs
}

const reviewDraft = "## Getting started\n\nThis is teh first step.\n\n## Next steps\n\nMore text follows here.\n"

// sendToReview creates a post by the editor, sends it to review and waits until its run waits
// for approval. It returns the post and the run.
func (rs *reviewServer) sendToReview(t *testing.T, markdown string) (*cms.Post, string) {
	t.Helper()
	ctx := context.Background()
	title := "Durable workflows"
	p, err := rs.CMS.Posts.Create(ctx, rs.editor, cms.PostInput{Title: &title, Markdown: &markdown})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.CMS.Posts.SendToReview(ctx, rs.editor, p.ID); err != nil {
		t.Fatal(err)
	}
	runID := rs.reviewRun(t, p.ID)
	rs.awaitRun(t, runID, engine.StatusWaiting)
	return rs.post(t, p.ID), runID
}

// reviewRun returns the newest run of the review workflow for post id.
func (rs *reviewServer) reviewRun(t *testing.T, id int64) string {
	t.Helper()
	ids, err := rs.CMS.Posts.RunIDs(context.Background(), id, 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, rid := range ids {
		r, err := rs.Eng.GetRun(context.Background(), rid)
		if err == nil && r.WorkflowID != nil && *r.WorkflowID == rs.Workflow.ID {
			return rid
		}
	}
	t.Fatalf("post %d has no run of the review workflow (runs %v)", id, ids)
	return ""
}

func (rs *reviewServer) post(t *testing.T, id int64) *cms.Post {
	t.Helper()
	p, err := rs.CMS.Posts.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// awaitRun polls run id until it has status, within the test's deadline.
func (rs *reviewServer) awaitRun(t *testing.T, id string, status engine.Status) *engine.Run {
	t.Helper()
	return enginetest.Await(t, rs.Eng, id, status)
}

// awaitPost polls post id until ok holds, within the test's deadline.
func (rs *reviewServer) awaitPost(t *testing.T, id int64, what string, ok func(*cms.Post) bool) *cms.Post {
	t.Helper()
	var p *cms.Post
	enginetest.Eventually(t, fmt.Sprintf("post %d to be %s", id, what), func() bool {
		p = rs.post(t, id)
		return ok(p)
	}, func() string { return "status " + string(p.Status) })
	return p
}
