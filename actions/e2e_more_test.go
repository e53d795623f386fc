package actions_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/actions/aitest"
	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// allKinds runs every blog kind without approval: ToC, grammar, both social kinds in
// parallel, then apply, which applies nothing: no approver said so.
const allKinds = `{"actions":[
 {"id":"toc","kind":"add_ToC","inputs":{"title":"In this post","max_level":2}},
 {"id":"grammar","kind":"grammar_review"},
 {"id":"x","kind":"generate_tweet_posts","inputs":{"count":2,"tone":"casual"}},
 {"id":"li","kind":"generate_linkedin_posts"},
 {"id":"apply","kind":"apply_changes"}],
 "edges":[{"from":"$source","to":"toc"},{"from":"toc","to":"grammar"},{"from":"grammar","to":"x"},
  {"from":"grammar","to":"li"},{"from":"x","to":"apply"},{"from":"li","to":"apply"}]}`

func TestOfflineProviderRunsEveryKindAndSaysSo(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		b := newBlog(t, db, ai.Offline(), allKinds)
		p, runID := b.review("# Durable workflows\n\n## Why  steps\n\nThis is teh the first step.\n\n### Deep detail\n\nText.\n")
		run := b.await(runID, engine.StatusCompleted)

		for _, id := range []string{"toc", "grammar", "x", "li"} {
			if out := state(t, run, id); out["provider"] != "offline" {
				t.Errorf("action %s output is not labelled offline: %v", id, out)
			}
		}
		if u := actions.RunUsage(run.Steps); len(u) != 1 || u[0] != (ai.Usage{Provider: "offline", Model: "offline"}) {
			t.Errorf("RunUsage = %+v, want one offline entry with no tokens", u)
		}
		got := b.post(p.ID)
		want := "# Durable workflows\n\n<!-- toc max-level=2 -->\n**In this post**\n\n- [Why steps](#why-steps)\n\n<!-- /toc -->\n\n" +
			"## Why steps\n\nThis is the first step.\n\n### Deep detail\n\nText.\n"
		if got.AIRevision == nil || *got.AIRevision != want {
			t.Errorf("AI revision:\n%v\nwant\n%q", got.AIRevision, want)
		}
		if out := state(t, run, "apply"); out["applied"] != false || !strings.Contains(out["reason"].(string), "approver") {
			t.Errorf("apply_changes without an approval = %v, want nothing applied", out)
		}
		if got.Markdown == want {
			t.Error("the AI's text was applied without an approval")
		}
		// The run asked nobody: the post is not left in review, it needs a manual approval.
		if err := b.cms.Posts.Sync(context.Background(), p.ID); err != nil {
			t.Fatal(err)
		}
		if got := b.post(p.ID); got.Status != cms.StatusNeedsApproval {
			t.Errorf("after a review run that asked for no approval the post is %s, want needs_approval", got.Status)
		}
		tweets := recommendation(t, got, "tweet_posts")
		if tweets["provider"] != "offline" || tweets["tone"] != "casual" || len(tweets["posts"].([]any)) != 2 {
			t.Errorf("tweet_posts = %v", tweets)
		}
		for _, post := range tweets["posts"].([]any) {
			text := post.(string)
			if utf8.RuneCountInString(text) > 280 || !strings.Contains(text, "https://blog.example/posts/"+got.Slug) {
				t.Errorf("tweet %q: over 280 characters or without the post's link", text)
			}
		}
		if li := recommendation(t, got, "linkedin_posts"); len(li["posts"].([]any)) != 3 {
			t.Errorf("linkedin_posts = %v, want the default 3 posts", li)
		}
		if g := recommendation(t, got, "grammar"); len(g["changes"].([]any)) != 3 || g["model"] != "offline" {
			t.Errorf("grammar = %v, want the spacing in the heading, the misspelling and the repeated word, labelled offline", g)
		}
	})
}

func recommendation(t *testing.T, p *cms.Post, key string) map[string]any {
	t.Helper()
	r, _ := p.AIRecommendations[key].(map[string]any)
	if r == nil {
		t.Fatalf("ai_recommendations has no %q: %v", key, p.AIRecommendations)
	}
	return r
}

func TestBadKeyFailsTheRunAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		m := aitest.New(t)
		m.Fail(func(task string, n int, w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}`)
			return true
		})
		b := newBlog(t, db, m.Provider(), fmt.Sprintf(reviewWorkflow, ""))
		p, runID := b.review(draft)
		run := b.await(runID, engine.StatusFailed)
		if !strings.Contains(run.Error, "check OPENAI_API_KEY") {
			t.Errorf("run error %q does not say what to fix", run.Error)
		}
		if n := m.Count("toc"); n != 1 {
			t.Errorf("model got %d requests; a bad key must not be retried", n)
		}
		if got := b.post(p.ID); got.Markdown != draft || got.AIRevision != nil {
			t.Error("a failed run changed the post")
		}
	})
}

func TestRateLimitIsRetriedAfterRetryAfter(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		m := aitest.New(t)
		m.Fail(func(task string, n int, w http.ResponseWriter, r *http.Request) bool {
			if task != "grammar" || n > 2 {
				return false
			}
			if n == 1 {
				w.Header().Set("Retry-After-Ms", "30")
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, `{"error":{"message":"Rate limit reached"}}`)
			} else {
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, `{"error":{"message":"The server had an error"}}`)
			}
			return true
		})
		b := newBlog(t, db, m.Provider(), fmt.Sprintf(reviewWorkflow, ""))
		_, runID := b.review(draft)
		run := b.await(runID, engine.StatusWaiting)
		if n := m.Count("grammar"); n != 3 {
			t.Errorf("model got %d grammar requests, want 429, 500, then success", n)
		}
		for _, st := range run.Steps {
			if st.ID == "2" && (st.Attempts != 3 || st.Status != "completed") {
				t.Errorf("grammar step: %d attempts, %s", st.Attempts, st.Status)
			}
		}
		if m.Count("toc") != 1 {
			t.Errorf("retrying grammar_review called the model for the ToC again (%d)", m.Count("toc"))
		}
	})
}

// A review is of one revision: while the post waits for approval its text cannot change
// (409, nothing saved, the run still waits); withdrawn from review, the run is cancelled, the
// post is a draft and can be edited.
func TestEditDuringReviewIsRefusedUntilWithdrawn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		m := aitest.New(t)
		b := newBlog(t, db, m.Provider(), fmt.Sprintf(reviewWorkflow, ""))
		p, runID := b.review(draft)
		b.await(runID, engine.StatusWaiting)
		current := b.post(p.ID)
		edited := draft + "\nA paragraph the editor added while the review waited.\n"
		_, err := b.cms.Posts.Update(ctx, b.editor, p.ID, cms.PostInput{Markdown: &edited}, current.UpdatedAt)
		if engine.ErrorCode(err) != engine.EConflict || !strings.Contains(err.Error(), "withdraw") {
			t.Fatalf("edit during review = %v, want EConflict offering to withdraw", err)
		}
		if got := b.post(p.ID); got.Markdown != draft || got.Status != cms.StatusNeedsApproval || !got.UpdatedAt.Equal(current.UpdatedAt) {
			t.Errorf("the refused edit changed the post: %s %q", got.Status, got.Markdown)
		}
		if _, err := b.cms.Posts.Withdraw(ctx, b.editor, p.ID); err != nil {
			t.Fatal(err)
		}
		b.await(runID, engine.StatusCancelled)
		current = b.post(p.ID)
		if current.Status != cms.StatusDraft {
			t.Errorf("withdrawn post is %s, want draft", current.Status)
		}
		if _, err := b.cms.Posts.Update(ctx, b.editor, p.ID, cms.PostInput{Markdown: &edited}, current.UpdatedAt); err != nil {
			t.Fatalf("edit after withdrawing: %v", err)
		}
		if _, err := b.cms.Posts.Approve(ctx, b.approver, p.ID); engine.ErrorCode(err) != engine.EConflict {
			t.Errorf("approve a withdrawn post = %v, want EConflict", err)
		}
	})
}

func TestRetryAfterSchedulesTheNextAttempt(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		m := aitest.New(t)
		m.Fail(func(task string, n int, w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":{"message":"Rate limit reached"}}`)
			return true
		})
		b := newBlog(t, db, m.Provider(), fmt.Sprintf(reviewWorkflow, ""))
		_, runID := b.review(draft)
		run := enginetest.AwaitRun(t, b.eng, runID, "wait for its second attempt", func(run *engine.Run) bool {
			if run.Status.Finished() {
				t.Fatalf("run is %s after %d model calls; steps:\n%s", run.Status, m.Count("toc"), stepsText(run))
			}
			return m.Count("toc") == 1 && run.Status == engine.StatusQueued && run.DueAt != nil
		})
		if wait := time.Until(*run.DueAt); wait < 55*time.Minute || wait > 61*time.Minute {
			t.Errorf("next attempt in %v, want the hour the server asked for", wait)
		}
	})
}
