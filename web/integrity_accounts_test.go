package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/ops/mailtest"
)

// However many first-run requests race, /setup creates exactly one admin; the others are
// told setup is done (never a 500, never a second admin).
func TestSetupCreatesOneAdminUnderConcurrency(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		// The real password cost: hashing inside the transaction is the race's window.
		eng := newEngine(t, db)
		ts := newTestServer(t, db, eng, func(c *Config) {
			c.CMS = cms.New(cms.Options{DB: db.DB, Engine: eng, BcryptCost: bcrypt.DefaultCost})
		})
		const n = 8
		browsers := make([]*webClient, n)
		tokens := make([]string, n)
		for i := range browsers {
			browsers[i] = ts.client(t)
			tokens[i] = browsers[i].csrf()
		}
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i, b := range browsers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				form := url.Values{"email": {"admin" + itoa(int64(i)) + "@example.com"}, "password": {"correct horse battery"}, csrfField: {tokens[i]}}
				statuses[i] = b.post("/setup", form).Status
			}()
		}
		wg.Wait()
		users, err := ts.CMS.Users.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		admins := 0
		for _, u := range users {
			if u.Role == cms.RoleAdmin {
				admins++
			}
		}
		won := 0
		for _, s := range statuses {
			switch s {
			case http.StatusSeeOther:
				won++
			case http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity:
			default:
				t.Errorf("a racing /setup answered %d", s)
			}
		}
		if admins != 1 || len(users) != 1 || won != 1 {
			t.Errorf("%d racing /setup made %d users (%d admins), %d succeeded; want exactly one", n, len(users), admins, won)
		}
	})
}

// An API token cannot create tokens; a user's tokens stop working when their password is
// reset or their account is disabled.
func TestTokensCannotMintTokensAndDieWithThePassword(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		ctx := context.Background()
		u := ts.mustUser(t, "ed@example.com", cms.RoleEditor)
		ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		tok := ts.token(t, u)
		req, _ := http.NewRequest("POST", ts.URL+"/admin/tokens", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("a token creates a token: %d, want 403", res.StatusCode)
		}
		if list, _ := ts.CMS.Tokens.List(ctx, u.ID); len(list) != 1 {
			t.Errorf("%d tokens after the refused creation, want 1", len(list))
		}

		for _, c := range []struct {
			name   string
			revoke func() error
		}{
			{"password reset", func() error { return ts.CMS.Users.SetPassword(ctx, u.ID, "another long password") }},
			{"disable", func() error { return ts.CMS.Users.SetDisabled(ctx, u.ID, true) }},
		} {
			if err := ts.CMS.Users.SetDisabled(ctx, u.ID, false); err != nil {
				t.Fatal(err)
			}
			tok := ts.token(t, u)
			if r := ts.api(t, tok, "GET", "/api/me", nil); r.Status != http.StatusOK {
				t.Fatalf("%s: token before = %d", c.name, r.Status)
			}
			if err := c.revoke(); err != nil {
				t.Fatal(err)
			}
			if r := ts.api(t, tok, "GET", "/api/me", nil); r.Status != http.StatusUnauthorized {
				t.Errorf("after %s the token still works: %d", c.name, r.Status)
			}
		}
	})
}

// With SMTP_URL set, the approvers who may decide on a post get one mail when it needs them
// (its writer does not), with a link to its review page.
func TestApproversAreMailedOncePerPost(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		smtp := mailtest.Start(t)
		eng := enginetest.New(t, db, engine.Options{})
		mail := func(ctx context.Context, to, subject, body string) error {
			return workflow.SendMail(ctx, workflow.EmailConfig{URL: smtp.URL(""), Timeout: 10 * time.Second}, to, subject, body)
		}
		c := cms.New(cms.Options{DB: db.DB, Engine: eng, BcryptCost: bcrypt.MinCost, Mail: mail, Site: cms.Site{BaseURL: "https://blog.example"}})
		if err := eng.Register(cms.PostFunctions(c.Posts)...); err != nil {
			t.Fatal(err)
		}
		ts := newTestServer(t, db, eng, func(cfg *Config) { cfg.CMS = c })
		enginetest.StartWorkers(t, eng)
		ctx := context.Background()
		writer := ts.mustUser(t, "writer@example.com", cms.RoleApprover)
		ts.mustUser(t, "ap@example.com", cms.RoleApprover)
		ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		ts.mustUser(t, "ed@example.com", cms.RoleEditor)
		title := "Mail me"
		p, err := c.Posts.Create(ctx, writer, cms.PostInput{Title: &title})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Posts.SendToReview(ctx, writer, p.ID); err != nil { // no workflow: a manual review
			t.Fatal(err)
		}
		got := map[string]int{}
		deadline := time.After(60 * time.Second)
		for len(got) < 2 {
			select {
			case m := <-smtp.Messages:
				for _, to := range m.To {
					got[to]++
				}
				if !strings.Contains(m.Data, "Needs your approval: Mail me") || !strings.Contains(m.Data, fmt.Sprintf("https://blog.example/admin/posts/%d/review", p.ID)) {
					t.Errorf("mail lacks the subject or the link:\n%s", m.Data)
				}
			case <-deadline:
				t.Fatalf("mails received: %v", got)
			}
		}
		if got["ap@example.com"] != 1 || got["admin@example.com"] != 1 || got["writer@example.com"] != 0 || got["ed@example.com"] != 0 {
			t.Errorf("mails = %v, want one each to the approver and the admin, none to the writer or the editor", got)
		}
	})
}
