package web

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Pasting, dropping or choosing an image in the editor uploads it and puts its markdown in
// the text, saved by autosave, in Chromium.
func TestInlineImagePasteInBrowser(t *testing.T) {
	browser.Need(t)
	db := testdb.SQLite(t)
	ts := newTestServer(t, db, newEngine(t, db))
	ed := ts.mustUser(t, "ed@example.com", cms.RoleEditor)
	title, md := "Pictures", "Some text."
	p, err := ts.CMS.Posts.Create(context.Background(), ed, cms.PostInput{Title: &title, Markdown: &md})
	if err != nil {
		t.Fatal(err)
	}
	browser.Run(t, "testdata/inline_image.mjs", map[string]string{
		"BASE_URL": ts.URL, "EMAIL": ed.Email, "PASSWORD": "correct horse battery", "POST_ID": strconv.FormatInt(p.ID, 10),
	})
	got, _ := ts.CMS.Posts.Get(context.Background(), p.ID)
	if n := len(regexp.MustCompile(`!\[[^\]]*\]\(/uploads/[a-f0-9]{32}\.png\)`).FindAllString(got.Markdown, -1)); n != 3 {
		t.Errorf("saved markdown has %d images, want 3:\n%s", n, got.Markdown)
	}
}
