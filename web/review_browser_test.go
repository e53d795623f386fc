package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/internal/testdb"
)

// reviewModel is an OpenAI-compatible server for the review browser test: the ToC labels the
// headings as they are, and the grammar review fixes three mistakes, listing each change.
func reviewModel(t *testing.T) ai.Provider {
	fixes := [][2]string{{"teh", "the"}, {"recieve", "receive"}, {"alot", "a lot"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var req struct {
			Messages []struct {
				Content string `json:"content"`
			} `json:"messages"`
			ResponseFormat struct {
				JSONSchema struct {
					Name string `json:"name"`
				} `json:"json_schema"`
			} `json:"response_format"`
		}
		if json.Unmarshal(raw, &req) != nil || len(req.Messages) < 2 {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		user := req.Messages[1].Content
		var content any
		switch req.ResponseFormat.JSONSchema.Name {
		case "toc":
			entries := []map[string]string{}
			for _, m := range regexp.MustCompile(`(?m)^- \d #(\S+) (.*)$`).FindAllStringSubmatch(user, -1) {
				entries = append(entries, map[string]string{"anchor": m[1], "label": m[2]})
			}
			content = map[string]any{"entries": entries}
		case "grammar":
			md := user[strings.Index(user, "<<<\n")+4 : strings.LastIndex(user, "\n>>>")]
			changes := []map[string]string{}
			for _, f := range fixes {
				md = strings.Replace(md, f[0], f[1], 1)
				changes = append(changes, map[string]string{"original": f[0], "revised": f[1], "reason": "spelling"})
			}
			content = map[string]any{"markdown": md, "changes": changes}
		default:
			content = map[string]any{"posts": []string{}}
		}
		text, _ := json.Marshal(content)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": "c", "object": "chat.completion", "model": "review-model",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": string(text)}}},
			"usage":   map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
	}))
	t.Cleanup(srv.Close)
	return ai.New(ai.Config{APIKey: "sk-test", BaseURL: srv.URL + "/v1", Model: "review-model"})
}

// In Chromium: an editor sends a post to review; an edit while it is reviewed is refused with
// the offer to withdraw it; an approver finds it in the queue (with who sent it), accepts two
// of the three grammar changes and rejects the table of contents, and the post gets exactly
// those. A post whose review run was cancelled is back to draft and its page says why, with
// the run. Editing a published post leaves the public page as it was until an approver
// publishes the update.
func TestReviewRulesInBrowser(t *testing.T) {
	browser.Need(t)
	db := testdb.SQLite(t)
	rs := newReviewServer(t, db, reviewModel(t))
	ctx := context.Background()
	create := func(title, md string) *cms.Post {
		p, err := rs.CMS.Posts.Create(ctx, rs.editor, cms.PostInput{Title: &title, Markdown: &md})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	const draft = "## First part\n\nThis is teh start.\n\n## Second part\n\nYou will recieve alot of mail.\n"
	reviewed := create("Three mistakes", draft)

	cancelled, runID := rs.sendToReview(t, "## Only part\n\nA short text.\n")
	if err := rs.Eng.CancelBecause(ctx, runID, "cancelled by an admin"); err != nil {
		t.Fatal(err)
	}
	rs.awaitPost(t, cancelled.ID, "back to draft", func(p *cms.Post) bool { return p.Status == cms.StatusDraft })

	published := create("Already out", "The published words.")
	if _, err := rs.CMS.Posts.Publish(ctx, rs.admin, published.ID); err != nil {
		t.Fatal(err)
	}

	browser.Run(t, "testdata/review_rules.mjs", map[string]string{
		"BASE_URL": rs.URL, "EDITOR": rs.editor.Email, "APPROVER": rs.approver.Email, "PASSWORD": "correct horse battery",
		"REVIEWED": strconv.FormatInt(reviewed.ID, 10), "CANCELLED": strconv.FormatInt(cancelled.ID, 10),
		"PUBLISHED": strconv.FormatInt(published.ID, 10), "PUBLISHED_SLUG": published.Slug,
	})

	run := rs.awaitRun(t, rs.reviewRun(t, reviewed.ID), engine.StatusCompleted)
	got := rs.post(t, reviewed.ID)
	want := "## First part\n\nThis is the start.\n\n## Second part\n\nYou will recieve a lot of mail.\n"
	if got.Markdown != want {
		t.Errorf("after accepting changes 1 and 3 without the ToC the post is\n%q\nwant\n%q\n(run %s)", got.Markdown, want, run.Status)
	}
	if got.Status != cms.StatusApproved {
		t.Errorf("the approved post is %s", got.Status)
	}
	if p := rs.post(t, published.ID); p.Markdown != "The published words, updated." {
		t.Errorf("the published post's text = %q, want the published update", p.Markdown)
	}
	_ = actions.KindApplyChanges
}
