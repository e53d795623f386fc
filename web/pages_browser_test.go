package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/internal/testdb"
)

// reviewFunction stands in for the blog's review workflow (built by the workflow and
// actions parts): on blog-post.updated it stores an AI working copy that fixes "teh", asks
// for approval, waits for the decision, and applies the copy when approved. It runs in the
// real engine, so the pages show real runs sleeping, waiting and completing.
func reviewFunction(posts *cms.Posts) *engine.Function {
	return &engine.Function{
		ID: "test-review-workflow", Name: "Review (test)",
		Triggers: []engine.Trigger{{Event: cms.EventUpdated}},
		Handler: func(ctx context.Context, in *engine.Input) (any, error) {
			id, _ := in.Event.Data["id"].(float64)
			post := int64(id)
			_, err := in.Step.Run(ctx, "grammar-review", func(ctx context.Context) (any, error) {
				p, err := posts.Get(ctx, post)
				if err != nil {
					return nil, err
				}
				fixed := strings.ReplaceAll(p.Markdown, "teh", "the")
				return nil, posts.SaveAIWork(ctx, post, &fixed, map[string]any{
					"grammar": map[string]any{"provider": "offline", "changes": []any{
						map[string]any{"original": "teh", "revised": "the", "reason": "spelling"}}},
					"linkedin_posts": map[string]any{"posts": []any{"We just published: " + p.Title}},
				})
			})
			if err != nil {
				return nil, err
			}
			if _, err := in.Step.Run(ctx, "ask-approval", func(ctx context.Context) (any, error) {
				return posts.AskApproval(ctx, post, in.Run.ID)
			}); err != nil {
				return nil, err
			}
			ev, err := in.Step.WaitForEvent(ctx, "wait-for-approval", engine.Wait{Event: cms.EventApproved,
				OrEvents: []string{cms.EventRejected}, Match: "data.id", Timeout: time.Hour})
			if err != nil || ev == nil || ev.Name != cms.EventApproved {
				return "not applied", err
			}
			_, err = in.Step.Run(ctx, "apply-changes", func(ctx context.Context) (any, error) {
				p, err := posts.Get(ctx, post)
				if err != nil || p.AIRevision == nil {
					return nil, err
				}
				return nil, posts.ApplyApproved(ctx, post, in.Run.ID, *p.AIRevision)
			})
			return "applied", err
		},
	}
}

// An editor signs in, writes a post with a live preview and sends it to review; an approver
// opens the review page, sees the word diff and approves; the run applies the AI copy; the
// approver publishes; the public page shows the corrected post. Screenshots of each page, on
// a laptop and on a phone, go to testdata/out/.
func TestEditorReviewPublishInBrowser(t *testing.T) {
	browser.Need(t)
	db := testdb.SQLite(t)
	eng := enginetest.New(t, db, engine.Options{})
	ts := newTestServer(t, db, eng)
	if err := eng.Register(reviewFunction(ts.CMS.Posts)); err != nil {
		t.Fatal(err)
	}
	enginetest.StartWorkers(t, eng)

	ts.mustUser(t, "editor@example.com", cms.RoleEditor)
	ts.mustUser(t, "approver@example.com", cms.RoleApprover)
	browser.Run(t, "testdata/post_flow.mjs", map[string]string{
		"BASE_URL": ts.URL, "EDITOR": "editor@example.com", "APPROVER": "approver@example.com", "PASSWORD": "correct horse battery",
	})

	ps, _, err := ts.CMS.Posts.List(context.Background(), cms.PostFilter{Status: cms.StatusPublished})
	if err != nil || len(ps) != 1 || !strings.Contains(ps[0].Markdown, "the quick") || strings.Contains(ps[0].Markdown, "teh") {
		t.Fatalf("published posts = %+v, %v", ps, err)
	}
}
