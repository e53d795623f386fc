package web

import (
	"context"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
)

// TestUploadsJudgeContentNotClaims uploads covers whose file name and Content-Type claim an
// image type their bytes are not. The bytes decide: anything that is not a PNG, JPEG, GIF or
// WebP is refused with 422 and the post keeps no cover, whatever it claims; a real image
// under a false name is stored and served as what it is, with nosniff, so a browser never
// reads it as HTML or script.
func TestUploadsJudgeContentNotClaims(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		ed := ts.mustUser(t, "ed@example.com", cms.RoleEditor)
		b := ts.client(t)
		b.login("ed@example.com")
		png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 100)...)
		cases := []struct {
			name, file, ctype string
			data              []byte
			status            int
			served            string
		}{
			{"SVG with a script named .png", "cover.png", "image/png",
				[]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>`), 422, ""},
			{"HTML named .jpg", "cover.jpg", "image/jpeg", []byte("<!doctype html><html><script>alert(1)</script></html>"), 422, ""},
			{"PDF named .gif", "cover.gif", "image/gif", []byte("%PDF-1.4\n1 0 obj <<>> endobj\n"), 422, ""},
			{"JavaScript named .webp", "cover.webp", "image/webp", []byte("alert(document.cookie)"), 422, ""},
			{"empty file named .png", "cover.png", "image/png", nil, 422, ""},
			{"a PNG claiming to be a JPEG", "cover.jpg", "image/jpeg", png, 303, "image/png"},
			{"a GIF with HTML after its header", "cover.html", "text/html", []byte("GIF89a<script>alert(1)</script>"), 303, "image/gif"},
		}
		for _, c := range cases {
			title := c.name
			p, err := ts.CMS.Posts.Create(context.Background(), ed, cms.PostInput{Title: &title})
			if err != nil {
				t.Fatal(err)
			}
			var body strings.Builder
			mw := multipart.NewWriter(&body)
			mw.WriteField("_csrf", b.csrf())
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", `form-data; name="cover"; filename="`+c.file+`"`)
			h.Set("Content-Type", c.ctype)
			fw, _ := mw.CreatePart(h)
			fw.Write(c.data)
			mw.Close()
			req, _ := http.NewRequest("POST", ts.URL+pathf("/admin/posts/%d/cover", p.ID), strings.NewReader(body.String()))
			req.Header.Set("Content-Type", mw.FormDataContentType())
			if r := b.do(req); r.Status != c.status {
				t.Errorf("%s: %d, want %d (%s)", c.name, r.Status, c.status, snippet(r.Body))
				continue
			}
			got, _ := ts.CMS.Posts.Get(context.Background(), p.ID)
			if c.served == "" {
				if got.CoverImage != "" {
					t.Errorf("%s: refused, yet the post's cover is %q", c.name, got.CoverImage)
				}
				continue
			}
			r := b.get(got.CoverImage)
			if r.Status != 200 || r.Header.Get("Content-Type") != c.served || r.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: served as %d %q (nosniff %q), want %s", c.name, r.Status, r.Header.Get("Content-Type"), r.Header.Get("X-Content-Type-Options"), c.served)
			}
		}
	})
}
