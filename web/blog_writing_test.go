package web

import (
	"context"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Tags keep the name they were written with and link by slug; search finds words in the
// title or the text, on the blog and in the admin; the post page names its author and its
// reading time; code is highlighted.
func TestBlogTagsSearchAuthorReadingTime(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db, newEngine(t, db))
		author, err := ts.CMS.Users.Create(ctx, cms.NewUser{Email: "ada@example.com", Name: "Ada Lovelace", Role: cms.RoleAdmin, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		mk := func(title, md string, tags []string) *cms.Post {
			p, err := ts.CMS.Posts.Create(ctx, author, cms.PostInput{Title: &title, Markdown: &md, Tags: &tags})
			if err != nil {
				t.Fatal(err)
			}
			if p, err = ts.CMS.Posts.Publish(ctx, author, p.ID); err != nil {
				t.Fatal(err)
			}
			return p
		}
		long := strings.Repeat("word ", 640) // with the rest, three minutes at 220 words a minute
		p := mk("Engines", "Replays are cheap because of memoization.\n\n```go\nfunc main() {}\n```\n"+long, []string{"Durable Execution", "durable execution", "Go"})
		mk("Unrelated", "Nothing about it. 100% sure_", []string{"misc"})
		if got, _ := ts.CMS.Posts.Get(ctx, p.ID); len(got.Tags) != 2 || got.Tags[0] != "Durable Execution" || got.Tags[1] != "Go" {
			t.Fatalf("tags = %q, want the names as written, deduplicated by slug", got.Tags)
		}

		b := ts.client(t)
		page := b.get("/posts/" + p.Slug).Body
		tags := findTestID(t, page, "tag")
		if len(tags) != 2 || text(tags[0]) != "#Durable Execution" || attr(tags[0], "href") != "/tags/durable-execution" {
			t.Errorf("tag links = %v", tags)
		}
		if a := findTestID(t, page, "post-author"); len(a) != 1 || text(a[0]) != "By Ada Lovelace" {
			t.Error("no author on the post page")
		}
		if strings.Contains(page, "ada@example.com") {
			t.Error("the author's email is on the public page")
		}
		if rt := findTestID(t, page, "reading-time"); len(rt) != 1 || text(rt[0]) != "3 min read" {
			t.Errorf("reading time = %v", rt)
		}
		if !strings.Contains(page, `<span class="kd">func</span>`) {
			t.Error("code is not highlighted")
		}
		tagPage := b.get("/tags/durable-execution")
		if h := findTestID(t, tagPage.Body, "tag-title"); tagPage.Status != 200 || len(h) != 1 || !strings.Contains(text(h[0]), "Durable Execution") {
			t.Errorf("tag page = %d", tagPage.Status)
		}
		if n := len(findTestID(t, b.get("/tags/Durable%20Execution").Body, "post-item")); n != 1 {
			t.Errorf("tag by name finds %d posts", n)
		}

		search := func(path string) int { return len(findTestID(t, b.get(path).Body, "post-item")) }
		if n := search("/?q=MEMOIZATION"); n != 1 {
			t.Errorf("public search in the text found %d posts, want 1", n)
		}
		if n := search("/?q=engines"); n != 1 {
			t.Errorf("public search in the title found %d", n)
		}
		if n := search("/?q=%25"); n != 1 {
			t.Errorf("a search for %% found %d posts, want the one with a literal %%", n)
		}
		if r := b.get("/?q=zebra"); len(findTestID(t, r.Body, "no-match")) != 1 {
			t.Error("an empty search says nothing")
		}
		b.login(author.Email)
		if r := b.get("/admin/posts?q=memoization").Body; len(findTestID(t, r, pathf("post-row-%d", p.ID))) != 1 || strings.Contains(r, "Unrelated") {
			t.Error("admin search in the text does not find exactly the post")
		}
	})
}

// An older revision can be compared with the current text, word by word, before restoring it.
func TestRevisionDiff(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db, newEngine(t, db))
		ann := ts.mustUser(t, "ann@example.com", cms.RoleEditor)
		bob := ts.mustUser(t, "bob@example.com", cms.RoleEditor)
		title, md := "Diffs", "The quick brown fox."
		p, err := ts.CMS.Posts.Create(ctx, ann, cms.PostInput{Title: &title, Markdown: &md})
		if err != nil {
			t.Fatal(err)
		}
		md2 := "The quick red fox jumps."
		if _, err := ts.CMS.Posts.Update(ctx, bob, p.ID, cms.PostInput{Markdown: &md2}, p.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		revs, _ := ts.CMS.Posts.Revisions(ctx, p.ID)
		if len(revs) < 2 {
			t.Fatalf("%d revisions", len(revs))
		}
		old := revs[len(revs)-1]
		b := ts.client(t)
		b.login(ann.Email)
		edit := b.get(pathf("/admin/posts/%d/edit", p.ID)).Body
		if len(findTestID(t, edit, "compare")) == 0 {
			t.Fatal("the history has no Compare link")
		}
		r := b.get(pathf("/admin/posts/%d/revisions/%d/diff", p.ID, old.ID))
		d := findTestID(t, r.Body, "revision-diff")
		if r.Status != 200 || len(d) != 1 {
			t.Fatalf("diff page = %d", r.Status)
		}
		if !strings.Contains(r.Body, "<del>brown</del>") || !strings.Contains(r.Body, "<ins>red</ins>") || !strings.Contains(r.Body, "<ins> jumps</ins>") {
			t.Errorf("diff = %q", text(d[0]))
		}
		if r := b.get(pathf("/admin/posts/%d/revisions/%d/diff", p.ID, int64(999999))); r.Status != 404 {
			t.Errorf("unknown revision = %d", r.Status)
		}
	})
}
