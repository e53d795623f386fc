package cms_test

import (
	"context"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/domain"
	"github.com/inkflow/inkflow/internal/testdb"
)

// A password link works once, before it expires, for an enabled account; using it ends the
// account's sessions and revokes its API tokens.
func TestPasswordLinks(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		u, err := f.Users.Create(ctx, cms.NewUser{Email: "new@example.com", Role: cms.RoleEditor})
		if err != nil {
			t.Fatal(err)
		}
		session, err := f.Sessions.Create(ctx, u.ID, "", "")
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := f.Tokens.Create(ctx, u.ID, "ci")
		if err != nil {
			t.Fatal(err)
		}
		link, err := f.Users.PasswordLink(ctx, u.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := f.Users.LinkUser(ctx, link); err != nil || got.ID != u.ID {
			t.Fatalf("LinkUser = %v, %v", got, err)
		}
		if _, err := f.Users.UsePasswordLink(ctx, link, "short"); domain.CodeOf(err) != domain.EInvalid {
			t.Errorf("short password = %v", err)
		}
		if _, err := f.Users.UsePasswordLink(ctx, link, "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Users.Authenticate(ctx, u.Email, "a brand new passphrase"); err != nil {
			t.Errorf("sign-in with the new password: %v", err)
		}
		if _, err := f.Users.UsePasswordLink(ctx, link, "another new passphrase"); domain.CodeOf(err) != domain.EUnauthorized {
			t.Errorf("second use = %v, want EUnauthorized", err)
		}
		if _, err := f.Sessions.Lookup(ctx, session); domain.CodeOf(err) != domain.EUnauthorized {
			t.Errorf("session after reset = %v, want ended", err)
		}
		if _, err := f.Tokens.Authenticate(ctx, token); domain.CodeOf(err) != domain.EUnauthorized {
			t.Errorf("API token after reset = %v, want revoked", err)
		}

		expiring, _ := f.Users.PasswordLink(ctx, u.ID, time.Hour)
		f.tick(time.Hour + time.Second)
		if _, err := f.Users.UsePasswordLink(ctx, expiring, "a brand new passphrase"); domain.CodeOf(err) != domain.EUnauthorized {
			t.Errorf("expired link = %v", err)
		}
		disabledLink, _ := f.Users.PasswordLink(ctx, u.ID, time.Hour)
		if err := f.Users.SetDisabled(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Users.UsePasswordLink(ctx, disabledLink, "a brand new passphrase"); domain.CodeOf(err) != domain.EUnauthorized {
			t.Errorf("link of a disabled account = %v", err)
		}
		if _, err := f.Users.UsePasswordLink(ctx, "pw_made-up", "a brand new passphrase"); domain.CodeOf(err) != domain.EUnauthorized {
			t.Errorf("made-up link = %v", err)
		}
	})
}

// Changing a password needs the current one.
func TestChangePassword(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		u := f.user(t, "ann@example.com", cms.RoleEditor)
		err := f.Users.ChangePassword(ctx, u.ID, "wrong password", "a brand new passphrase")
		if e, ok := err.(*domain.Error); !ok || e.Fields["current_password"] == "" {
			t.Errorf("wrong current password = %v", err)
		}
		if err := f.Users.ChangePassword(ctx, u.ID, "correct horse battery", "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Users.Authenticate(ctx, u.Email, "correct horse battery"); err == nil {
			t.Error("the old password still works")
		}
		if _, err := f.Users.Authenticate(ctx, u.Email, "a brand new passphrase"); err != nil {
			t.Errorf("new password: %v", err)
		}
	})
}
