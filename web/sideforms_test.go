package web

import (
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
)

// insideTestID reports whether the element with data-testid inner is inside the one with outer.
func insideTestID(t *testing.T, body, outer, inner string) bool {
	t.Helper()
	for _, o := range findTestID(t, body, outer) {
		var found bool
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode && attr(n, "data-testid") == inner {
				found = true
			}
			for c := n.FirstChild; c != nil && !found; c = c.NextSibling {
				walk(c)
			}
		}
		walk(o)
		if found {
			return true
		}
	}
	return false
}

// A refused side form (a cover that is not an image, a schedule in the past, demoting the
// last admin) comes back as the page it was on, with the message on that form, never as a
// bare error page.
func TestSideFormErrorsShowOnTheirForm(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db, newEngine(t, db))
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		title := "Side forms"
		p, err := ts.CMS.Posts.Create(ctx, admin, cms.PostInput{Title: &title})
		if err != nil {
			t.Fatal(err)
		}
		b := ts.client(t)
		b.login(admin.Email)

		var body strings.Builder
		mw := multipartForm(&body, b.csrf(), "cover", "cover.png", []byte("<script>alert(1)</script>"))
		req, _ := http.NewRequest("POST", ts.URL+pathf("/admin/posts/%d/cover", p.ID), strings.NewReader(body.String()))
		req.Header.Set("Content-Type", mw)
		r := b.do(req)
		if r.Status != 422 || !insideTestID(t, r.Body, "cover-section", "cover-error") || len(findTestID(t, r.Body, "post-form")) != 1 {
			t.Errorf("bad cover = %d, want 422 with the error in the cover section of the editor: %s", r.Status, snippet(r.Body))
		}
		if e := findTestID(t, r.Body, "cover-error"); len(e) == 1 && !strings.Contains(text(e[0]), "PNG, JPEG, GIF or WebP") {
			t.Errorf("cover error = %q", text(e[0]))
		}

		r = b.post(pathf("/admin/posts/%d/schedule", p.ID), url.Values{"publish_at": {"2001-01-01T10:00"}})
		if r.Status != 422 || !insideTestID(t, r.Body, "schedule-form", "schedule-error") || !strings.Contains(r.Body, "Must be in the future") {
			t.Errorf("past schedule = %d, want 422 with the error on the schedule form: %s", r.Status, snippet(r.Body))
		}
		r = b.post(pathf("/admin/posts/%d/schedule", p.ID), url.Values{"publish_at": {"tomorrow"}})
		if r.Status != 422 || !insideTestID(t, r.Body, "schedule-form", "schedule-error") {
			t.Errorf("bad schedule = %d: %s", r.Status, snippet(r.Body))
		}

		r = b.post(pathf("/admin/users/%d/role", admin.ID), url.Values{"role": {"viewer"}})
		if r.Status != 409 || len(findTestID(t, r.Body, "user-table")) != 1 || !strings.Contains(r.Body, "last enabled admin") {
			t.Errorf("demoting the last admin = %d, want 409 on the users page: %s", r.Status, snippet(r.Body))
		}
		if e := findTestID(t, r.Body, pathf("user-error-%d", admin.ID)); len(e) != 1 {
			t.Error("the last-admin message is not on the admin's row")
		}
		if strings.Contains(r.Body, "Changed meanwhile") {
			t.Error("the last-admin guard is titled Changed meanwhile")
		}
		r = b.post(pathf("/admin/users/%d/disable", admin.ID), nil)
		if r.Status != 409 || len(findTestID(t, r.Body, pathf("user-error-%d", admin.ID))) != 1 {
			t.Errorf("disabling the last admin = %d, want the message on the row", r.Status)
		}

		if n := findTestID(t, b.get("/admin/posts").Body, "post-count"); len(n) != 1 || strings.TrimSpace(text(n[0])) != "1 post" {
			t.Errorf("post count = %v", n)
		}
	})
}

// multipartForm writes a multipart form with the CSRF token and one file, and returns its
// content type.
func multipartForm(w *strings.Builder, csrf, field, name string, data []byte) string {
	mw := multipart.NewWriter(w)
	mw.WriteField("_csrf", csrf)
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(data)
	mw.Close()
	return mw.FormDataContentType()
}
