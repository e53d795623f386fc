package web

import (
	"testing"

	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/internal/testdb"
)

// From a fresh install's home page to the first published post in Chromium, renaming the
// site on the way: the post's page (title, Open Graph) and the feed carry the new name.
func TestFirstRunToFirstPostInBrowser(t *testing.T) {
	browser.Need(t)
	db := testdb.SQLite(t)
	ts := newTestServer(t, db, newEngine(t, db))
	browser.Run(t, "testdata/first_run.mjs", map[string]string{"BASE_URL": ts.URL})
}
