package web

import (
	"context"
	"strconv"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Every refused form shows its message on that form, in Chromium at 390 and 1280 px.
func TestFormErrorsOnTheirFormInBrowser(t *testing.T) {
	browser.Need(t)
	db := testdb.SQLite(t)
	ts := newTestServer(t, db, newEngine(t, db))
	admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
	title := "Forms"
	p, err := ts.CMS.Posts.Create(context.Background(), admin, cms.PostInput{Title: &title})
	if err != nil {
		t.Fatal(err)
	}
	browser.Run(t, "testdata/form_errors.mjs", map[string]string{
		"BASE_URL": ts.URL, "ADMIN": admin.Email, "PASSWORD": "correct horse battery", "POST_ID": strconv.FormatInt(p.ID, 10),
	})
}
