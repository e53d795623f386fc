package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/internal/testdb"
)

// No page of the admin or the public site scrolls sideways, on a phone (390 px) or a laptop
// (1280 px), when a post's title and tag are one 200-character word.
func TestNoPageScrollsSidewaysWithALongWord(t *testing.T) {
	browser.Need(t)
	db := testdb.SQLite(t)
	eng := enginetest.New(t, db, engine.Options{})
	ts := newTestServer(t, db, eng)
	if err := eng.Register(reviewFunction(ts.CMS.Posts)); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Start(ctx) }()
	t.Cleanup(func() { stop(); <-done })

	admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
	word := strings.Repeat("Supercalifragilistic", 10)[:190] // near the 200-character title limit, no break
	mk := func(title string) *cms.Post {
		md, summary, tags := "Body with "+word+" in it.\n\n```\n"+word+"\n```\n", word, []string{word, "go"}
		p, err := ts.CMS.Posts.Create(ctx, admin, cms.PostInput{Title: &title, Markdown: &md, Summary: &summary, Tags: &tags})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pub := mk(word)
	if _, err := ts.CMS.Posts.Publish(ctx, admin, pub.ID); err != nil {
		t.Fatal(err)
	}
	review := mk("Review " + word)
	if _, err := ts.CMS.Posts.SendToReview(ctx, admin, review.ID); err != nil {
		t.Fatal(err)
	}
	tag := cms.Slugify(word)
	pages := map[string][]string{
		"public": {"/", "/posts/" + pub.Slug, "/tags/" + tag, "/login", "/password/forgot", "/no-such-page"},
		"admin": {"/admin", "/admin/posts", "/admin/posts?q=" + word, "/admin/posts/new", pathf("/admin/posts/%d/edit", pub.ID),
			pathf("/admin/posts/%d/edit", review.ID), pathf("/admin/posts/%d/review", review.ID), "/admin/workflows",
			"/admin/runs", "/admin/events", "/admin/functions", "/admin/users", "/admin/system", "/admin/settings", "/admin/tokens", "/admin/account"},
	}
	list, _ := json.Marshal(pages)
	browser.Run(t, "testdata/layout.mjs", map[string]string{
		"BASE_URL": ts.URL, "ADMIN": admin.Email, "PASSWORD": "correct horse battery", "PAGES": string(list),
	})
}
