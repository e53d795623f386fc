package web

import (
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/internal/testdb"
)

// A person changes their own password in Chromium and signs in with it.
func TestPasswordChangeInBrowser(t *testing.T) {
	browser.Need(t)
	db := testdb.SQLite(t)
	ts := newTestServer(t, db, newEngine(t, db))
	u := ts.mustUser(t, "ann@example.com", cms.RoleEditor)
	browser.Run(t, "testdata/password_change.mjs", map[string]string{
		"BASE_URL": ts.URL, "EMAIL": u.Email, "PASSWORD": "correct horse battery", "NEW_PASSWORD": "a brand new passphrase",
	})
	if _, err := ts.CMS.Users.Authenticate(t.Context(), u.Email, "a brand new passphrase"); err != nil {
		t.Errorf("the new password does not work: %v", err)
	}
}
