package cms_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/domain"
	"github.com/inkflow/inkflow/internal/testdb"
)

func TestPostCreateValidatesAndSendsCreated(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ed := f.user(t, "ed@example.com", cms.RoleEditor)
		viewer := f.user(t, "v@example.com", cms.RoleViewer)

		bad := []struct {
			in    cms.PostInput
			field string
		}{
			{cms.PostInput{}, "title"},
			{cms.PostInput{Title: ptr("  ")}, "title"},
			{cms.PostInput{Title: ptr(strings.Repeat("x", 201))}, "title"},
			{cms.PostInput{Title: ptr("ok"), Markdown: ptr(strings.Repeat("x", cms.MaxMarkdownBytes+1))}, "markdown"},
			{cms.PostInput{Title: ptr("ok"), Slug: ptr("!!!")}, "slug"},
			{cms.PostInput{Title: ptr("ok"), CoverImage: ptr("javascript:alert(1)")}, "cover_image"},
		}
		for _, c := range bad {
			_, err := f.Posts.Create(ctx, ed, c.in)
			var de *domain.Error
			if !asError(err, &de) || de.Fields[c.field] == "" {
				t.Errorf("Create(%s) = %v, want a field error on %s", c.field, err, c.field)
			}
		}
		if _, err := f.Posts.Create(ctx, viewer, cms.PostInput{Title: ptr("x")}); code(err) != domain.EForbidden {
			t.Errorf("viewer creates = %v", err)
		}
		if _, n, _ := f.Posts.List(ctx, cms.PostFilter{}); n != 0 {
			t.Fatalf("refused creates stored %d posts", n)
		}
		if evs := f.events(t, cms.EventCreated); len(evs) != 0 {
			t.Fatalf("refused creates sent %d events", len(evs))
		}

		p, err := f.Posts.Create(ctx, ed, cms.PostInput{Title: ptr("Hello, Wörld!"), Markdown: ptr("# Hi"), Tags: &[]string{"Go", "go", "Web Dev"}})
		if err != nil {
			t.Fatal(err)
		}
		if p.Slug != "hello-world" || p.Status != cms.StatusDraft || strings.Join(p.Tags, ",") != "Go,Web Dev" { // names as written, deduplicated by slug
			t.Errorf("post = slug %q status %s tags %v", p.Slug, p.Status, p.Tags)
		}
		p2 := f.post(t, ed, "Hello world", "")
		if p2.Slug != "hello-world-2" {
			t.Errorf("second slug = %q", p2.Slug)
		}
		evs := f.events(t, cms.EventCreated)
		if len(evs) != 2 || evs[1].Data["id"] != float64(p.ID) && evs[1].Data["id"] != p.ID {
			t.Errorf("created events = %+v", evs)
		}
	})
}

func TestPostLifecycleSendsEvents(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ed := f.user(t, "ed@example.com", cms.RoleEditor)
		ap := f.user(t, "ap@example.com", cms.RoleApprover)
		p := f.post(t, ed, "Post", "text")

		steps := []struct {
			name  string
			do    func() (*cms.Post, error)
			want  cms.Status
			event string
		}{
			// No workflow reviews posts here: a manual review, the post needs approval at once.
			{"review", func() (*cms.Post, error) { return f.Posts.SendToReview(ctx, ed, p.ID) }, cms.StatusNeedsApproval, cms.EventUpdated},
			{"approve", func() (*cms.Post, error) { return f.Posts.Approve(ctx, ap, p.ID) }, cms.StatusApproved, cms.EventApproved},
			{"publish", func() (*cms.Post, error) { return f.Posts.Publish(ctx, ap, p.ID) }, cms.StatusPublished, cms.EventPublished},
			{"unpublish", func() (*cms.Post, error) { return f.Posts.Unpublish(ctx, ap, p.ID) }, cms.StatusUnpublished, cms.EventUnpublished},
			{"review again", func() (*cms.Post, error) { return f.Posts.SendToReview(ctx, ed, p.ID) }, cms.StatusNeedsApproval, cms.EventUpdated},
			{"reject", func() (*cms.Post, error) { return f.Posts.Reject(ctx, ap, p.ID) }, cms.StatusDraft, cms.EventRejected},
		}
		for _, s := range steps {
			before := 0
			if s.event != "" {
				before = len(f.events(t, s.event))
			}
			f.tick(time.Second)
			if _, err := s.do(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			got, _ := f.Posts.Get(ctx, p.ID)
			if got.Status != s.want {
				t.Fatalf("%s: status %s, want %s", s.name, got.Status, s.want)
			}
			if s.event != "" {
				evs := f.events(t, s.event)
				if len(evs) != before+1 {
					t.Fatalf("%s: %d %s events, want %d", s.name, len(evs), s.event, before+1)
				}
				if id, _ := evs[0].Data["id"].(float64); int64(id) != p.ID {
					t.Errorf("%s: event data %v, want id %d", s.name, evs[0].Data, p.ID)
				}
			}
		}
		got, _ := f.Posts.Get(ctx, p.ID)
		if got.PublishedAt == nil {
			t.Error("published_at not kept")
		}
	})
}

func TestPostTransitionRules(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ed := f.user(t, "ed@example.com", cms.RoleEditor)
		ap := f.user(t, "ap@example.com", cms.RoleApprover)
		admin := f.user(t, "admin@example.com", cms.RoleAdmin)

		draft := f.post(t, ed, "Draft", "")
		if _, err := f.Posts.Publish(ctx, ap, draft.ID); code(err) != domain.EConflict {
			t.Errorf("approver publishes a draft = %v, want EConflict", err)
		}
		if _, err := f.Posts.Approve(ctx, ap, draft.ID); code(err) != domain.EConflict {
			t.Errorf("approve a draft = %v", err)
		}
		if _, err := f.Posts.Approve(ctx, ed, draft.ID); code(err) != domain.EForbidden {
			t.Errorf("editor approves = %v", err)
		}
		// An approver may not approve their own post; an admin may.
		own := f.post(t, ap, "Mine", "")
		if _, err := f.Posts.SendToReview(ctx, ap, own.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Posts.Approve(ctx, ap, own.ID); code(err) != domain.EForbidden {
			t.Errorf("approver approves own post = %v, want EForbidden", err)
		}
		if got, _ := f.Posts.Get(ctx, own.ID); got.Status != cms.StatusNeedsApproval {
			t.Errorf("refused approval changed status to %s", got.Status)
		}
		adminPost := f.post(t, admin, "Admin's", "")
		f.Posts.SendToReview(ctx, admin, adminPost.ID)
		if _, err := f.Posts.Approve(ctx, admin, adminPost.ID); err != nil {
			t.Errorf("admin approves own post: %v", err)
		}
		if _, err := f.Posts.Publish(ctx, admin, draft.ID); err != nil {
			t.Errorf("admin publishes a draft: %v", err)
		}
		if _, err := f.Posts.SendToReview(ctx, ed, draft.ID); code(err) != domain.EConflict {
			t.Errorf("send a published post to review = %v", err)
		}
		if _, err := f.Posts.SendToReview(ctx, ed, 9999); code(err) != domain.ENotFound {
			t.Errorf("missing post = %v", err)
		}
	})
}

// A status change and its event commit together: when storing the event fails, the status
// stays as it was.
func TestFailingEventRollsBackStatus(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ed := f.user(t, "ed@example.com", cms.RoleEditor)
		p := f.post(t, ed, "Post", "text")
		if err := db.Exec("DROP TABLE events").Error; err != nil {
			t.Fatal(err)
		}
		if _, err := f.Posts.SendToReview(ctx, ed, p.ID); err == nil {
			t.Fatal("send to review succeeded without an events table")
		}
		got, err := f.Posts.Get(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != cms.StatusDraft || !got.UpdatedAt.Equal(p.UpdatedAt) {
			t.Errorf("status %s updated %v after the failed change, want draft %v", got.Status, got.UpdatedAt, p.UpdatedAt)
		}
		// Creating a post also rolls back.
		if _, err := f.Posts.Create(ctx, ed, cms.PostInput{Title: ptr("Lost")}); err == nil {
			t.Fatal("create succeeded without an events table")
		}
		if _, n, _ := f.Posts.List(ctx, cms.PostFilter{}); n != 1 {
			t.Errorf("%d posts after the failed create, want 1", n)
		}
	})
}

func TestOptimisticEdits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ed := f.user(t, "ed@example.com", cms.RoleEditor)
		other := f.user(t, "other@example.com", cms.RoleEditor)
		p := f.post(t, ed, "Post", "one")

		// Two editors read the same version; the second save is refused.
		a, err := f.Posts.Update(ctx, ed, p.ID, cms.PostInput{Markdown: ptr("two")}, p.UpdatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Posts.Update(ctx, other, p.ID, cms.PostInput{Markdown: ptr("three")}, p.UpdatedAt); code(err) != domain.EConflict {
			t.Fatalf("stale save = %v, want EConflict", err)
		}
		got, _ := f.Posts.Get(ctx, p.ID)
		if got.Markdown != "two" {
			t.Errorf("markdown = %q after the refused save", got.Markdown)
		}
		// Even with a frozen clock, every save moves updated_at.
		b, err := f.Posts.Update(ctx, ed, p.ID, cms.PostInput{Markdown: ptr("four")}, a.UpdatedAt)
		if err != nil {
			t.Fatal(err)
		}
		if !b.UpdatedAt.After(a.UpdatedAt) {
			t.Errorf("updated_at did not move: %v then %v", a.UpdatedAt, b.UpdatedAt)
		}
		// The value read back from the database matches what the editor was given.
		got, _ = f.Posts.Get(ctx, p.ID)
		if !got.UpdatedAt.Equal(b.UpdatedAt) {
			t.Errorf("stored updated_at %v != returned %v", got.UpdatedAt, b.UpdatedAt)
		}
	})
}

func TestSlugsRedirect(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ed := f.user(t, "ed@example.com", cms.RoleEditor)
		p := f.post(t, ed, "First title", "")
		q := f.post(t, ed, "Other", "")
		p, err := f.Posts.Update(ctx, ed, p.ID, cms.PostInput{Slug: ptr("Better Slug")}, p.UpdatedAt)
		if err != nil || p.Slug != "better-slug" {
			t.Fatalf("rename: %v %v", p, err)
		}
		got, moved, err := f.Posts.GetBySlug(ctx, "first-title")
		if err != nil || !moved || got.Slug != "better-slug" {
			t.Errorf("old slug: %v moved=%v %v", got, moved, err)
		}
		if _, moved, err := f.Posts.GetBySlug(ctx, "better-slug"); err != nil || moved {
			t.Errorf("new slug: moved=%v %v", moved, err)
		}
		// Another post cannot take a slug in use, nor one that redirects.
		for _, s := range []string{"better-slug", "first-title"} {
			_, err := f.Posts.Update(ctx, ed, q.ID, cms.PostInput{Slug: ptr(s)}, q.UpdatedAt)
			var de *domain.Error
			if !asError(err, &de) || de.Code != domain.EConflict || de.Fields["slug"] == "" {
				t.Errorf("take %s = %v", s, err)
			}
		}
		// The post can take its old slug back.
		p, err = f.Posts.Update(ctx, ed, p.ID, cms.PostInput{Slug: ptr("first-title")}, p.UpdatedAt)
		if err != nil || p.Slug != "first-title" {
			t.Fatalf("take back: %v", err)
		}
		if got, moved, err := f.Posts.GetBySlug(ctx, "better-slug"); err != nil || !moved || got.ID != p.ID {
			t.Errorf("better-slug now: %v %v", moved, err)
		}
		if _, _, err := f.Posts.GetBySlug(ctx, "nope"); code(err) != domain.ENotFound {
			t.Errorf("unknown slug = %v", err)
		}
	})
}

func TestRevisionsAndRestore(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ed := f.user(t, "ed@example.com", cms.RoleEditor)
		p := f.post(t, ed, "Post", "v1")
		// Autosaves a few seconds apart share one revision...
		for _, md := range []string{"v2a", "v2b", "v2"} {
			f.tick(5 * time.Second)
			var err error
			if p, err = f.Posts.Update(ctx, ed, p.ID, cms.PostInput{Markdown: ptr(md)}, p.UpdatedAt); err != nil {
				t.Fatal(err)
			}
		}
		// ...a save later on makes a new one.
		f.tick(10 * time.Minute)
		p, _ = f.Posts.Update(ctx, ed, p.ID, cms.PostInput{Markdown: ptr("v3")}, p.UpdatedAt)
		revs, err := f.Posts.Revisions(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		var mds []string
		for _, r := range revs {
			mds = append(mds, r.Markdown)
		}
		if strings.Join(mds, ",") != "v3,v2,v1" {
			t.Fatalf("revisions = %v, want v3,v2,v1", mds)
		}
		p, err = f.Posts.Restore(ctx, ed, p.ID, revs[2].ID)
		if err != nil || p.Markdown != "v1" {
			t.Fatalf("restore: %v %v", p, err)
		}
		revs, _ = f.Posts.Revisions(ctx, p.ID)
		if len(revs) != 4 || revs[0].Markdown != "v1" {
			t.Errorf("after restore: %d revisions, newest %q", len(revs), revs[0].Markdown)
		}
		other := f.post(t, ed, "Other", "")
		if _, err := f.Posts.Restore(ctx, ed, other.ID, revs[1].ID); code(err) != domain.ENotFound {
			t.Errorf("restore another post's revision = %v", err)
		}
	})
}

func TestAIWork(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		ed := f.user(t, "ed@example.com", cms.RoleEditor)
		p := f.post(t, ed, "Post", "teh text")
		if err := f.Posts.ApplyApproved(ctx, p.ID, "run-1", "the text"); code(err) != domain.EConflict {
			t.Errorf("apply without an approval = %v, want EConflict", err)
		}
		if err := f.Posts.SaveAIWork(ctx, p.ID, ptr("the text"), map[string]any{"changes": []any{map[string]any{"from": "teh", "to": "the"}}}); err != nil {
			t.Fatal(err)
		}
		if err := f.Posts.SaveAIWork(ctx, p.ID, nil, map[string]any{"social": map[string]any{"linkedin": "Read this"}}); err != nil {
			t.Fatal(err)
		}
		got, _ := f.Posts.Get(ctx, p.ID)
		if got.AIRevision == nil || *got.AIRevision != "the text" {
			t.Errorf("ai_revision = %v", got.AIRevision)
		}
		if _, ok := got.AIRecommendations["changes"]; !ok {
			t.Errorf("merge lost changes: %v", got.AIRecommendations)
		}
		if _, ok := got.AIRecommendations["social"]; !ok {
			t.Errorf("merge lost social: %v", got.AIRecommendations)
		}
		got, _ = f.Posts.Get(ctx, p.ID)
		if got.Markdown != "teh text" {
			t.Errorf("AI work changed the text before any approval: %q", got.Markdown)
		}
		if err := f.Posts.SaveAIWork(ctx, 999, nil, nil); code(err) != domain.ENotFound {
			t.Errorf("missing post = %v", err)
		}
	})
}

func TestListFilters(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		admin := f.user(t, "admin@example.com", cms.RoleAdmin)
		for i, tags := range [][]string{{"go"}, {"go", "web"}, {"web"}} {
			f.tick(time.Minute)
			p, _ := f.Posts.Create(ctx, admin, cms.PostInput{Title: ptr("P" + string(rune('a'+i))), Tags: &tags})
			if i < 2 {
				f.Posts.Publish(ctx, admin, p.ID)
			}
		}
		ps, n, err := f.Posts.List(ctx, cms.PostFilter{Status: cms.StatusPublished, Tag: "go"})
		if err != nil || n != 2 || ps[0].Title != "Pb" {
			t.Errorf("published go posts = %d %v", n, err)
		}
		if _, n, _ := f.Posts.List(ctx, cms.PostFilter{Tag: "web"}); n != 2 {
			t.Errorf("web posts = %d", n)
		}
		if _, n, _ := f.Posts.List(ctx, cms.PostFilter{Tag: "g"}); n != 0 {
			t.Errorf("tag prefix matched %d", n)
		}
	})
}
