package cms_test

import (
	"context"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/domain"
	"github.com/inkflow/inkflow/internal/testdb"
)

// A post's text with a NUL or bytes that are not UTF-8 is refused naming the field, on create,
// on update and from an AI action, whatever the caller (PostgreSQL answered a database error,
// a 500, and SQLite stored it); nothing changes.
func TestPostTextIsRefusedByField(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ed := f.user(t, "ed@example.com", cms.RoleEditor)
		p := f.post(t, ed, "Clean", "text")
		for _, c := range []struct {
			in    cms.PostInput
			field string
		}{
			{cms.PostInput{Title: ptr("a\x00b")}, "title"},
			{cms.PostInput{Title: ptr("a\xffb")}, "title"},
			{cms.PostInput{Markdown: ptr("# x\x00")}, "markdown"},
			{cms.PostInput{Summary: ptr("s\x00")}, "summary"},
			{cms.PostInput{Tags: &[]string{"go", "t\x00"}}, "tags[1]"},
			{cms.PostInput{Slug: ptr("s\x00lug")}, "slug"},
			{cms.PostInput{CoverAlt: ptr("alt\x00")}, "cover_alt"},
		} {
			in := c.in
			if in.Title == nil {
				in.Title = ptr("New")
			}
			if _, err := f.Posts.Create(ctx, ed, in); code(err) != domain.EInvalid || !strings.HasPrefix(err.Error(), c.field+":") {
				t.Errorf("create with bad %s: %v; want a field error", c.field, err)
			}
			if _, err := f.Posts.Update(ctx, ed, p.ID, c.in, p.UpdatedAt); code(err) != domain.EInvalid || !strings.HasPrefix(err.Error(), c.field+":") {
				t.Errorf("update with bad %s: %v; want a field error", c.field, err)
			}
		}
		if _, err := f.Posts.SaveRunWork(ctx, p.ID, "", ptr("AI said \x00"), nil); code(err) != domain.EInvalid {
			t.Errorf("AI revision with a NUL: %v; want a field error", err)
		}
		got, err := f.Posts.Get(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Title != "Clean" || got.Markdown != "text" || got.AIRevision != nil || !got.UpdatedAt.Equal(p.UpdatedAt) {
			t.Errorf("post changed: %+v", got)
		}
		var n int64
		db.DB.Table("posts").Count(&n)
		if n != 1 {
			t.Errorf("%d posts stored, want 1", n)
		}
	})
}
