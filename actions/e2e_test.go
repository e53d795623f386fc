package actions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/actions/aitest"
	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
)

// blog is the real engine, CMS, workflow store and runner over a test database, with one
// enabled workflow triggered by blog-post.updated that uses the blog kinds.
type blog struct {
	t        *testing.T
	eng      *engine.Engine
	cms      *cms.CMS
	editor   *cms.User
	approver *cms.User
}

const reviewWorkflow = `{"name":"AI review","actions":[
 {"id":"1","kind":"add_ToC","name":"Add a Table of Contents"},
 {"id":"2","kind":"grammar_review","name":"Perform a grammar review"},
 {"id":"3","kind":"wait_for_approval","name":"Apply changes after approval"%s},
 {"id":"4","kind":"apply_changes","name":"Apply changes"}],
 "edges":[{"from":"$source","to":"1"},{"from":"1","to":"2"},{"from":"2","to":"3"},{"from":"3","to":"4"}]}`

func newBlog(t *testing.T, db *testdb.DB, provider ai.Provider, workflowJSON string) *blog {
	t.Helper()
	eng := enginetest.New(t, db, engine.Options{BackoffBase: 5 * time.Millisecond,
		BackoffMax: 50 * time.Millisecond, Poll: 100 * time.Millisecond, Lease: 5 * time.Second})
	c := cms.New(cms.Options{DB: db.DB, Engine: eng, BcryptCost: bcrypt.MinCost, Site: cms.Site{BaseURL: "http://localhost:8080"}})
	reg := workflow.NewRegistry()
	// The base URL an admin saved at /admin/settings wins over the configured one: social
	// posts link to https://blog.example.
	if err := actions.Register(reg, actions.Deps{Posts: c.Posts, AI: provider, BaseURL: "http://localhost:8080", Settings: c.Settings}); err != nil {
		t.Fatal(err)
	}
	if err := c.Settings.SetSite(context.Background(), cms.Site{Title: "Blog", BaseURL: "https://blog.example", TimeZone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	store := workflow.NewStore(db.DB, reg)
	if err := eng.Register(workflow.NewRunner(store).Functions()...); err != nil {
		t.Fatal(err)
	}
	name, trigger, enabled := "AI review", cms.EventUpdated, true
	if _, err := store.Create(context.Background(), workflow.Draft{Name: &name, Trigger: &trigger, Enabled: &enabled,
		Workflow: json.RawMessage(workflowJSON)}); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	enginetest.StartWorkers(t, eng)
	b := &blog{t: t, eng: eng, cms: c}
	b.editor = b.user("editor@blog.example", cms.RoleEditor)
	b.approver = b.user("approver@blog.example", cms.RoleApprover)
	return b
}

func (b *blog) user(email string, role cms.Role) *cms.User {
	u, err := b.cms.Users.Create(context.Background(), cms.NewUser{Email: email, Role: role, Password: "correct horse battery"})
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

const draft = "## Getting started\n\nThis is teh first step.\n\n## Next steps\n\nMore text follows here.\n"

// review creates a post, sends it to review and returns it with the run that started.
func (b *blog) review(markdown string) (*cms.Post, string) {
	b.t.Helper()
	ctx := context.Background()
	title, summary, tags := "Durable workflows", "How runs survive crashes.", []string{"go", "workflows"}
	p, err := b.cms.Posts.Create(ctx, b.editor, cms.PostInput{Title: &title, Markdown: &markdown, Summary: &summary, Tags: &tags})
	if err != nil {
		b.t.Fatal(err)
	}
	if _, err := b.cms.Posts.SendToReview(ctx, b.editor, p.ID); err != nil {
		b.t.Fatal(err)
	}
	runs, _, err := b.eng.ListRuns(ctx, engine.RunFilter{FunctionID: workflow.RunnerFunctionID})
	if err != nil || len(runs) != 1 {
		b.t.Fatalf("want one run of the review workflow, got %v (%v)", runs, err)
	}
	return p, runs[0].ID
}

// await polls the run's row until it reaches status.
func (b *blog) await(runID string, status engine.Status) *engine.Run {
	b.t.Helper()
	return enginetest.AwaitRun(b.t, b.eng, runID, "be "+string(status), func(run *engine.Run) bool {
		if run.Status != status && run.Status.Finished() {
			b.t.Fatalf("run is %s (error %q), want %s; steps:\n%s", run.Status, run.Error, status, stepsText(run))
		}
		return run.Status == status
	})
}

func (b *blog) post(id int64) *cms.Post {
	b.t.Helper()
	p, err := b.cms.Posts.Get(context.Background(), id)
	if err != nil {
		b.t.Fatal(err)
	}
	return p
}

func stepsText(run *engine.Run) string {
	var s strings.Builder
	for _, st := range run.Steps {
		fmt.Fprintf(&s, "  %s %s attempts=%d error=%q\n", st.ID, st.Status, st.Attempts, st.Error)
	}
	return s.String()
}

// state returns the workflow run's output state for action id.
func state(t *testing.T, run *engine.Run, id string) map[string]any {
	t.Helper()
	var res workflow.Result
	if err := json.Unmarshal(run.Output, &res); err != nil {
		t.Fatalf("run output %s: %v", run.Output, err)
	}
	out, _ := res.State[id].(map[string]any)
	if out == nil {
		t.Fatalf("no output for action %s in %s", id, run.Output)
	}
	return out
}

func TestReviewWorkflowApproved(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		m := aitest.New(t)
		b := newBlog(t, db, m.Provider(), fmt.Sprintf(reviewWorkflow, ""))
		p, runID := b.review(draft)

		run := b.await(runID, engine.StatusWaiting)
		if w := run.WaitingFor; w == nil || !strings.Contains(w.Event, cms.EventApproved) || !strings.Contains(w.Event, cms.EventRejected) ||
			w.Match != "data.id" || time.Until(w.ExpiresAt) < 6*24*time.Hour {
			t.Errorf("run waits for %+v, want approve or reject matching data.id, with the default 7-day timeout", w)
		}
		waiting := b.post(p.ID)
		if waiting.Status != cms.StatusNeedsApproval || waiting.Markdown != draft {
			t.Errorf("while waiting: status %s, markdown changed: %v", waiting.Status, waiting.Markdown != draft)
		}
		rev := ""
		if waiting.AIRevision != nil {
			rev = *waiting.AIRevision
		}
		for _, want := range []string{"- [Section: Getting started](#getting-started)", "This is the first step.", "**Contents**"} {
			if !strings.Contains(rev, want) {
				t.Errorf("AI revision lacks %q:\n%s", want, rev)
			}
		}
		grammar, _ := waiting.AIRecommendations["grammar"].(map[string]any)
		if grammar == nil || grammar["provider"] != "openai" || len(grammar["changes"].([]any)) != 1 {
			t.Errorf("ai_recommendations.grammar = %v", waiting.AIRecommendations["grammar"])
		}
		b.assertUsage(run, "2")

		if _, err := b.cms.Posts.Approve(context.Background(), b.approver, p.ID); err != nil {
			t.Fatal(err)
		}
		run = b.await(runID, engine.StatusCompleted)
		if out := state(t, run, "3"); out["status"] != "approved" {
			t.Errorf("wait_for_approval output = %v", out)
		}
		if out := state(t, run, "4"); out["applied"] != true {
			t.Errorf("apply_changes output = %v", out)
		}
		done := b.post(p.ID)
		if done.Markdown != rev {
			t.Errorf("post markdown after approval:\n%s\nwant the AI revision:\n%s", done.Markdown, rev)
		}
		revs, err := b.cms.Posts.Revisions(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !hasRevision(revs, draft) || !hasRevision(revs, rev) {
			t.Errorf("history must keep the draft and add the applied revision: %d revisions", len(revs))
		}
		want := []ai.Usage{{Provider: "openai", Model: aitest.Model, PromptTokens: 200, CompletionTokens: 40, TotalTokens: 240}}
		if got := actions.RunUsage(run.Steps); len(got) != 1 || got[0] != want[0] {
			t.Errorf("RunUsage = %+v, want %+v (ToC and grammar calls summed)", got, want)
		}
		// Resuming replayed add_ToC and grammar_review from their stored results.
		if m.Count("toc") != 1 || m.Count("grammar") != 1 {
			t.Errorf("model calls: toc %d, grammar %d; want one each", m.Count("toc"), m.Count("grammar"))
		}
	})
}

func (b *blog) assertUsage(run *engine.Run, stepID string) {
	b.t.Helper()
	for _, st := range run.Steps {
		if st.ID != stepID {
			continue
		}
		var out struct {
			Provider string   `json:"provider"`
			Usage    ai.Usage `json:"usage"`
		}
		if err := json.Unmarshal(st.Output, &out); err != nil {
			b.t.Fatalf("step %s output: %v", stepID, err)
		}
		want := ai.Usage{Provider: "openai", Model: aitest.Model, PromptTokens: 100, CompletionTokens: 20, TotalTokens: 120}
		if out.Provider != "openai" || out.Usage != want {
			b.t.Errorf("step %s records provider %q usage %+v, want %+v", stepID, out.Provider, out.Usage, want)
		}
		return
	}
	b.t.Errorf("run has no step %q:\n%s", stepID, stepsText(run))
}

func hasRevision(revs []cms.Revision, markdown string) bool {
	for _, r := range revs {
		if r.Markdown == markdown {
			return true
		}
	}
	return false
}

func TestReviewWorkflowRejected(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		m := aitest.New(t)
		b := newBlog(t, db, m.Provider(), fmt.Sprintf(reviewWorkflow, ""))
		p, runID := b.review(draft)
		b.await(runID, engine.StatusWaiting)
		if _, err := b.cms.Posts.Reject(context.Background(), b.approver, p.ID); err != nil {
			t.Fatal(err)
		}
		run := b.await(runID, engine.StatusCompleted)
		if out := state(t, run, "3"); out["status"] != "rejected" || out["approved"] != false {
			t.Errorf("wait_for_approval output = %v", out)
		}
		if out := state(t, run, "4"); out["applied"] != false {
			t.Errorf("apply_changes output = %v", out)
		}
		if got := b.post(p.ID); got.Markdown != draft {
			t.Errorf("rejected suggestions changed the post:\n%s", got.Markdown)
		}
	})
}

func TestReviewWorkflowTimesOut(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		m := aitest.New(t)
		b := newBlog(t, db, m.Provider(), fmt.Sprintf(reviewWorkflow, `,"inputs":{"timeout":"1s"}`))
		p, runID := b.review(draft)
		run := b.await(runID, engine.StatusCompleted)
		if out := state(t, run, "3"); out["status"] != "timed_out" || out["event"] != nil {
			t.Errorf("wait_for_approval output = %v", out)
		}
		if out := state(t, run, "4"); out["applied"] != false {
			t.Errorf("apply_changes output = %v", out)
		}
		if got := b.post(p.ID); got.Markdown != draft {
			t.Errorf("timed-out suggestions changed the post:\n%s", got.Markdown)
		}
	})
}
