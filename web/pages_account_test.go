package web

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/ops/mailtest"
)

var linkInMail = regexp.MustCompile(`https?://\S+/password/reset\?token=\S+`)

// tokenOf returns the token parameter of a password link.
func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("not a password link: %q", link)
	}
	return u.Query().Get("token")
}

// The account page changes the password after checking the current one; each refusal is
// shown on the password form.
func TestAccountPasswordChange(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		u := ts.mustUser(t, "ann@example.com", cms.RoleViewer)
		b := ts.client(t)
		b.login(u.Email)
		if r := b.get("/admin/account"); r.Status != 200 || len(findTestID(t, r.Body, "password-form")) != 1 {
			t.Fatalf("account page = %d", r.Status)
		}
		for _, c := range []struct {
			current, pw, confirm, field string
		}{
			{"wrong password!", "a brand new passphrase", "a brand new passphrase", "current_password"},
			{"correct horse battery", "short", "short", "password"},
			{"correct horse battery", "a brand new passphrase", "another passphrase", "confirm"},
		} {
			r := b.post("/admin/account/password", url.Values{"current_password": {c.current}, "password": {c.pw}, "confirm": {c.confirm}})
			if r.Status != 422 || !insideTestID(t, r.Body, "password-form", "error-"+c.field) {
				t.Errorf("%s: %d, want 422 with error-%s on the password form", c.field, r.Status, c.field)
			}
		}
		if _, err := ts.CMS.Users.Authenticate(t.Context(), u.Email, "correct horse battery"); err != nil {
			t.Fatal("a refused change (confirm mismatch) changed the password")
		}
		r := b.post("/admin/account/password", url.Values{"current_password": {"correct horse battery"}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
		if r.Status != 303 || r.Header.Get("Location") != "/admin/account?done=password" {
			t.Fatalf("change = %d %s", r.Status, r.Header.Get("Location"))
		}
		if _, err := ts.CMS.Users.Authenticate(t.Context(), u.Email, "a brand new passphrase"); err != nil {
			t.Errorf("new password: %v", err)
		}
	})
}

// With SMTP_URL set, "Forgot your password?" mails a one-time link; opening it sets a new
// password and signs the person in. An unknown email gets the same answer and no mail.
func TestPasswordResetByMail(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		smtp := mailtest.Start(t)
		ts := newTestServer(t, db, newEngine(t, db), func(c *Config) { c.SMTPURL = smtp.URL("") })
		u := ts.mustUser(t, "ann@example.com", cms.RoleEditor)
		b := ts.client(t)
		if r := b.get("/login"); len(findTestID(t, r.Body, "forgot-link")) != 1 {
			t.Error("the sign-in page has no forgot-password link")
		}
		r := b.post("/password/forgot", url.Values{"email": {"nobody@example.com"}})
		same := r.Status == 200 && len(findTestID(t, r.Body, "notice")) == 1
		r = b.post("/password/forgot", url.Values{"email": {"Ann@Example.com"}})
		if !same || r.Status != 200 || len(findTestID(t, r.Body, "notice")) != 1 {
			t.Fatalf("forgot = %d: %s", r.Status, snippet(r.Body))
		}
		var msg mailtest.Message
		select {
		case msg = <-smtp.Messages:
		case <-time.After(time.Until(deadline(t))):
			t.Fatal("no reset mail")
		}
		if len(msg.To) != 1 || msg.To[0] != u.Email {
			t.Fatalf("mail to %v (an unknown email got a mail, or the right one did not)", msg.To)
		}
		link := linkInMail.FindString(msg.Data)
		if link == "" || !strings.HasPrefix(link, "http://localhost:8080/password/reset") {
			t.Fatalf("no link at the site's base URL in the mail:\n%s", msg.Data)
		}
		tok := tokenOf(t, link)
		if r := b.get("/password/reset?token=" + url.QueryEscape(tok)); r.Status != 200 || len(findTestID(t, r.Body, "reset-form")) != 1 {
			t.Fatalf("reset page = %d", r.Status)
		}
		r = b.post("/password/reset", url.Values{"token": {tok}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}})
		if r.Status != 303 {
			t.Fatalf("reset = %d %s", r.Status, snippet(r.Body))
		}
		if r := b.get("/admin/account"); r.Status != 200 {
			t.Errorf("not signed in after the reset: %d", r.Status)
		}
		if _, err := ts.CMS.Users.Authenticate(t.Context(), u.Email, "a brand new passphrase"); err != nil {
			t.Errorf("new password: %v", err)
		}
		if r := b.get("/password/reset?token=" + url.QueryEscape(tok)); r.Status != 404 || len(findTestID(t, r.Body, "reset-form")) != 0 {
			t.Errorf("a used link still opens the form: %d", r.Status)
		}
		select {
		case m := <-smtp.Messages:
			t.Errorf("unexpected mail to %v", m.To)
		default:
		}
	})
}

// Without SMTP_URL the forgot page says to ask an admin; inviting someone without a password
// gives the admin a link that lets them choose one, so nobody is left unable to sign in.
func TestInviteWithoutPasswordLeavesALink(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		anon := ts.client(t)
		if r := anon.get("/password/forgot"); len(findTestID(t, r.Body, "no-mail")) != 1 {
			t.Error("without mail the forgot page does not say to ask an admin")
		}
		b := ts.client(t)
		b.login(admin.Email)
		r := b.post("/admin/users", url.Values{"email": {"new@example.com"}, "role": {"editor"}})
		link := findTestID(t, r.Body, "invite-url")
		if r.Status != 201 || len(link) != 1 {
			t.Fatalf("invite without a password = %d, want 201 with the link: %s", r.Status, snippet(r.Body))
		}
		if len(findTestID(t, r.Body, "invited")) != 1 {
			t.Error("the invited person is not marked as invited")
		}
		tok := tokenOf(t, text(link[0]))
		r = anon.post("/password/reset", url.Values{"token": {tok}, "password": {"my own passphrase"}, "confirm": {"my own passphrase"}})
		if r.Status != 303 {
			t.Fatalf("choosing the password = %d %s", r.Status, snippet(r.Body))
		}
		if _, err := ts.CMS.Users.Authenticate(t.Context(), "new@example.com", "my own passphrase"); err != nil {
			t.Errorf("the invited person cannot sign in with the password they chose: %v", err)
		}
		// An admin can also make a new link for someone who lost theirs.
		nu, _ := ts.CMS.Users.GetByEmail(t.Context(), "new@example.com")
		if r := b.post(pathf("/admin/users/%d/link", nu.ID), nil); r.Status != 200 || len(findTestID(t, r.Body, "invite-url")) != 1 {
			t.Errorf("sign-in link = %d", r.Status)
		}
	})
}

// deadline is the test's deadline, or a minute from now.
func deadline(t *testing.T) time.Time {
	if d, ok := t.Deadline(); ok {
		return d
	}
	return time.Now().Add(time.Minute)
}
