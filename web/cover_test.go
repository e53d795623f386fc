package web

import (
	"context"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
)

// A cover can be chosen before the first save, described for screen readers, and removed; a
// refused cover on a new post creates nothing.
func TestCoverBeforeFirstSaveAltAndRemove(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db, newEngine(t, db))
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		b := ts.client(t)
		b.login(admin.Email)
		png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 100)...)
		send := func(path string, fields map[string]string, file []byte) response {
			var body strings.Builder
			mw := multipart.NewWriter(&body)
			mw.WriteField("_csrf", b.csrf())
			for k, v := range fields {
				mw.WriteField(k, v)
			}
			if file != nil {
				fw, _ := mw.CreateFormFile("cover", "cover.png")
				fw.Write(file)
			}
			mw.Close()
			req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body.String()))
			req.Header.Set("Content-Type", mw.FormDataContentType())
			return b.do(req)
		}
		if r := send("/admin/posts", map[string]string{"title": "Bad cover"}, []byte("<script>")); r.Status != 422 || len(findTestID(t, r.Body, "error-cover")) != 1 {
			t.Errorf("bad cover on a new post = %d, want 422 on the cover field", r.Status)
		}
		if _, n, _ := ts.CMS.Posts.List(ctx, cms.PostFilter{}); n != 0 {
			t.Fatalf("a refused new post was stored (%d)", n)
		}
		r := send("/admin/posts", map[string]string{"title": "With cover", "markdown": "x", "cover_alt": "A lighthouse at dusk"}, png)
		if r.Status != 303 {
			t.Fatalf("create with cover = %d %s", r.Status, snippet(r.Body))
		}
		ps, _, _ := ts.CMS.Posts.List(ctx, cms.PostFilter{})
		p := &ps[0]
		if !strings.HasPrefix(p.CoverImage, "/uploads/") || p.CoverAlt != "A lighthouse at dusk" {
			t.Fatalf("cover = %q alt %q", p.CoverImage, p.CoverAlt)
		}
		if r := send(pathf("/admin/posts/%d/cover", p.ID), map[string]string{"cover_alt": "A lighthouse at night"}, nil); r.Status != 303 {
			t.Fatalf("alt only = %d %s", r.Status, snippet(r.Body))
		}
		if _, err := ts.CMS.Posts.Publish(ctx, admin, p.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := ts.CMS.Posts.Get(ctx, p.ID)
		page := b.get("/posts/" + got.Slug).Body
		if img := findTestID(t, page, "post-cover"); len(img) != 1 || attr(img[0], "alt") != "A lighthouse at night" {
			t.Errorf("public cover alt = %v", img)
		}
		if !strings.Contains(page, `<meta property="og:image:alt" content="A lighthouse at night">`) {
			t.Errorf("the link preview does not describe the cover: no og:image:alt in the page")
		}
		if r := send(pathf("/admin/posts/%d/cover", p.ID), map[string]string{"remove": "1"}, nil); r.Status != 303 {
			t.Fatalf("remove = %d", r.Status)
		}
		if got, _ := ts.CMS.Posts.Get(ctx, p.ID); got.CoverImage != "" || got.CoverAlt != "" {
			t.Errorf("after remove: %q %q", got.CoverImage, got.CoverAlt)
		}
	})
}
