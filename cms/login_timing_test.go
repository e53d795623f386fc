package cms_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
)

// A sign-in for a disabled account takes as long as one with a wrong password (1 ms against
// 55 ms before): its timing does not tell an attacker which accounts exist or are disabled.
// A ratio of medians with a generous bound, at the real bcrypt cost.
func TestLoginTimingDoesNotRevealDisabledAccounts(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		c := cms.New(cms.Options{DB: db.DB, BcryptCost: 10})
		ctx := context.Background()
		for _, email := range []string{"live@example.com", "off@example.com"} {
			if _, err := c.Users.Create(ctx, cms.NewUser{Email: email, Role: cms.RoleEditor, Password: "correct horse battery"}); err != nil {
				t.Fatal(err)
			}
		}
		off, err := c.Users.GetByEmail(ctx, "off@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Users.SetDisabled(ctx, off.ID, true); err != nil {
			t.Fatal(err)
		}
		median := func(email string) time.Duration {
			var ds []time.Duration
			for range 5 {
				start := time.Now()
				if _, err := c.Users.Authenticate(ctx, email, "wrong password"); err == nil {
					t.Fatal("signed in with a wrong password")
				}
				ds = append(ds, time.Since(start))
			}
			slices.Sort(ds)
			return ds[len(ds)/2]
		}
		median("nobody@example.com") // warm the dummy hash
		live, disabled := median("live@example.com"), median("off@example.com")
		if disabled*3 < live {
			t.Fatalf("a disabled account answers in %s, a live one in %s", disabled, live)
		}
	})
}
