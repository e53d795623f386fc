package cms_test

import (
	"context"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/domain"
	"github.com/inkflow/inkflow/internal/testdb"
)

func TestRoles(t *testing.T) {
	cases := []struct {
		r, min cms.Role
		want   bool
	}{
		{cms.RoleViewer, cms.RoleViewer, true},
		{cms.RoleViewer, cms.RoleEditor, false},
		{cms.RoleEditor, cms.RoleViewer, true},
		{cms.RoleApprover, cms.RoleEditor, true},
		{cms.RoleApprover, cms.RoleAdmin, false},
		{cms.RoleAdmin, cms.RoleApprover, true},
		{"root", cms.RoleViewer, false},
	}
	for _, c := range cases {
		if got := c.r.AtLeast(c.min); got != c.want {
			t.Errorf("%s.AtLeast(%s) = %v", c.r, c.min, got)
		}
	}
}

func TestUsers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)

		bad := []struct {
			in    cms.NewUser
			field string
		}{
			{cms.NewUser{Email: "", Role: cms.RoleEditor}, "email"},
			{cms.NewUser{Email: "nope", Role: cms.RoleEditor}, "email"},
			{cms.NewUser{Email: "a@example.com", Role: "root"}, "role"},
			{cms.NewUser{Email: "a@example.com", Role: cms.RoleEditor, Password: "short"}, "password"},
		}
		for _, c := range bad {
			_, err := f.Users.Create(ctx, c.in)
			var de *domain.Error
			if !asError(err, &de) || de.Code != domain.EInvalid || de.Fields[c.field] == "" {
				t.Errorf("Create(%+v) = %v, want EInvalid on %s", c.in, err, c.field)
			}
		}
		if n, _ := f.Users.Count(ctx); n != 0 {
			t.Fatalf("refused creates stored %d users", n)
		}

		u := f.user(t, "Ed@Example.com", cms.RoleEditor)
		if u.Email != "ed@example.com" {
			t.Errorf("email stored as %q", u.Email)
		}
		if _, err := f.Users.Create(ctx, cms.NewUser{Email: "ED@example.com", Role: cms.RoleViewer}); code(err) != domain.EConflict {
			t.Errorf("duplicate email = %v", err)
		}
		if _, err := f.Users.Authenticate(ctx, "ed@example.com", "correct horse battery"); err != nil {
			t.Errorf("right password: %v", err)
		}
		for _, c := range [][2]string{{"ed@example.com", "wrong password"}, {"nobody@example.com", "correct horse battery"}} {
			if _, err := f.Users.Authenticate(ctx, c[0], c[1]); code(err) != domain.EUnauthorized {
				t.Errorf("Authenticate(%s, %s) = %v", c[0], c[1], err)
			}
		}
		if err := f.Users.SetDisabled(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Users.Authenticate(ctx, "ed@example.com", "correct horse battery"); code(err) != domain.EUnauthorized {
			t.Errorf("disabled user signed in: %v", err)
		}

		// The last admin can be neither demoted nor disabled.
		admin := f.user(t, "admin@example.com", cms.RoleAdmin)
		if err := f.Users.SetRole(ctx, admin.ID, cms.RoleEditor); code(err) != domain.EConflict {
			t.Errorf("demote last admin = %v", err)
		}
		if err := f.Users.SetDisabled(ctx, admin.ID, true); code(err) != domain.EConflict {
			t.Errorf("disable last admin = %v", err)
		}
		if err := f.Users.SetRole(ctx, u.ID, cms.RoleApprover); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.Users.Get(ctx, u.ID); got.Role != cms.RoleApprover {
			t.Errorf("role = %s", got.Role)
		}
	})
}

func TestFirstAdminOnlyOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		u, err := f.Users.CreateFirstAdmin(ctx, cms.NewUser{Email: "a@example.com", Password: "correct horse battery"})
		if err != nil || u.Role != cms.RoleAdmin {
			t.Fatalf("first admin: %v %v", u, err)
		}
		if _, err := f.Users.CreateFirstAdmin(ctx, cms.NewUser{Email: "b@example.com", Password: "correct horse battery"}); code(err) != domain.EConflict {
			t.Errorf("second first admin = %v", err)
		}
	})
}

func TestSessions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		u := f.user(t, "ed@example.com", cms.RoleEditor)
		s1, err := f.Sessions.Create(ctx, u.ID, "test", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		s2, _ := f.Sessions.Create(ctx, u.ID, "test", "127.0.0.1")
		if s1 == s2 {
			t.Fatal("two sessions share a secret")
		}
		if got, err := f.Sessions.Lookup(ctx, s1); err != nil || got.ID != u.ID {
			t.Fatalf("lookup: %v %v", got, err)
		}
		var stored int64
		db.Table("sessions").Where("id = ?", s1).Count(&stored)
		if stored != 0 {
			t.Error("the session secret is stored in clear")
		}
		if err := f.Sessions.Revoke(ctx, s1); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Sessions.Lookup(ctx, s1); code(err) != domain.EUnauthorized {
			t.Errorf("revoked session = %v", err)
		}
		f.tick(31 * 24 * time.Hour)
		if _, err := f.Sessions.Lookup(ctx, s2); code(err) != domain.EUnauthorized {
			t.Errorf("expired session = %v", err)
		}
		if _, err := f.Sessions.Create(ctx, u.ID, "test", "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		var left int64
		db.Table("sessions").Count(&left)
		if left != 1 {
			t.Errorf("%d sessions stored after a new sign-in, want the expired one pruned", left)
		}
	})
}

func TestTokensAndEventKeys(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		u := f.user(t, "ed@example.com", cms.RoleEditor)
		tok, row, err := f.Tokens.Create(ctx, u.ID, "ci")
		if err != nil {
			t.Fatal(err)
		}
		if row.TokenHash == tok || row.TokenHash == "" {
			t.Error("token stored in clear")
		}
		if got, err := f.Tokens.Authenticate(ctx, tok); err != nil || got.ID != u.ID {
			t.Fatalf("authenticate: %v %v", got, err)
		}
		if err := f.Tokens.Revoke(ctx, u.ID+1, row.ID); code(err) != domain.ENotFound {
			t.Errorf("revoke someone else's token = %v", err)
		}
		if err := f.Tokens.Revoke(ctx, u.ID, row.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.Tokens.Authenticate(ctx, tok); code(err) != domain.EUnauthorized {
			t.Errorf("revoked token = %v", err)
		}

		key, k, err := f.EventKeys.Create(ctx, "github")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.EventKeys.Verify(ctx, key); err != nil {
			t.Errorf("verify: %v", err)
		}
		if err := f.EventKeys.Verify(ctx, key+"x"); code(err) != domain.EUnauthorized {
			t.Errorf("wrong key = %v", err)
		}
		if err := f.EventKeys.Revoke(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.EventKeys.Verify(ctx, key); code(err) != domain.EUnauthorized {
			t.Errorf("revoked key = %v", err)
		}
		fixed := cms.New(cms.Options{DB: db.DB, Engine: f.Eng, EventKey: "fixed-key-from-env"})
		if err := fixed.EventKeys.Verify(ctx, "fixed-key-from-env"); err != nil {
			t.Errorf("fixed key: %v", err)
		}
	})
}

func TestSignupPolicy(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		p, err := f.Settings.SignupPolicy(ctx)
		if err != nil || len(p.Domains) != 0 || p.DefaultRole != cms.RoleViewer {
			t.Fatalf("default policy = %+v %v", p, err)
		}
		if err := f.Settings.SetSignupPolicy(ctx, cms.SignupPolicy{Domains: []string{"not a domain"}, DefaultRole: cms.RoleEditor}); code(err) != domain.EInvalid {
			t.Errorf("bad domain = %v", err)
		}
		if err := f.Settings.SetSignupPolicy(ctx, cms.SignupPolicy{Domains: []string{" @Example.com", "corp.example.org"}, DefaultRole: cms.RoleEditor}); err != nil {
			t.Fatal(err)
		}
		if err := f.Settings.SetSignupPolicy(ctx, cms.SignupPolicy{Domains: []string{"example.com"}, DefaultRole: cms.RoleEditor}); err != nil {
			t.Fatal(err)
		}
		p, _ = f.Settings.SignupPolicy(ctx)
		if !p.Allows("ann@example.com") || p.Allows("ann@evil.com") || p.DefaultRole != cms.RoleEditor {
			t.Errorf("policy = %+v", p)
		}
	})
}
