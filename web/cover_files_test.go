package web

import (
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
)

// A cover that is replaced or removed, and the images of a deleted post, leave no file
// behind unless another post still uses it; a new post refused after its cover was stored
// leaves none either. Before, every replaced cover stayed on disk for ever.
func TestReplacedCoversLeaveNoFiles(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		dir := t.TempDir()
		ts := newTestServer(t, db, newEngine(t, db), func(c *Config) { c.UploadDir = dir })
		ed := ts.mustUser(t, "ed@example.com", cms.RoleEditor)
		tok := ts.token(t, ed)
		b := ts.client(t)
		b.login(ed.Email)
		png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 100)...)
		send := func(path, field string, fields map[string]string, file []byte) response {
			var body strings.Builder
			mw := multipart.NewWriter(&body)
			mw.WriteField("_csrf", b.csrf())
			for k, v := range fields {
				mw.WriteField(k, v)
			}
			if file != nil {
				fw, _ := mw.CreateFormFile(field, "image.png")
				fw.Write(file)
			}
			mw.Close()
			req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body.String()))
			req.Header.Set("Content-Type", mw.FormDataContentType())
			return b.do(req)
		}
		files := func() []string {
			entries, err := os.ReadDir(dir)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			var names []string
			for _, e := range entries {
				names = append(names, "/uploads/"+e.Name())
			}
			sort.Strings(names)
			return names
		}
		same := func(what string, want ...string) {
			t.Helper()
			sort.Strings(want)
			if got := files(); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s: files %v, want %v", what, got, want)
			}
		}
		cover := func(id int64) string {
			p, err := ts.CMS.Posts.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return p.CoverImage
		}
		upload := func(id int64) string {
			t.Helper()
			if r := send(pathf("/admin/posts/%d/cover", id), "cover", nil, png); r.Status != http.StatusSeeOther {
				t.Fatalf("cover upload: %d %s", r.Status, snippet(r.Body))
			}
			return cover(id)
		}

		p := ts.CMS
		a, _ := p.Posts.Create(ctx, ed, cms.PostInput{Title: ptrTo("A"), Markdown: ptrTo("a")})
		q, _ := p.Posts.Create(ctx, ed, cms.PostInput{Title: ptrTo("Q"), Markdown: ptrTo("q")})
		f1 := upload(a.ID)
		same("first cover", f1)
		f2 := upload(a.ID)
		same("replaced cover", f2)
		if r := send(pathf("/admin/posts/%d/cover", a.ID), "cover", map[string]string{"remove": "1"}, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("remove: %d", r.Status)
		}
		same("removed cover")

		// A file another post uses too stays when this post lets go of it.
		f3 := upload(a.ID)
		cur, _ := p.Posts.Get(ctx, q.ID)
		body, _ := json.Marshal(map[string]any{"cover_image": f3, "updated_at": cur.UpdatedAt})
		if r := ts.rawAPI(t, tok, "PUT", pathf("/api/posts/%d", q.ID), string(body)); r.Status != 200 {
			t.Fatalf("API cover: %d %s", r.Status, r.Body)
		}
		f4 := upload(a.ID)
		same("shared cover kept", f3, f4)

		// Cover changed through the API: the old file goes.
		cur, _ = p.Posts.Get(ctx, q.ID)
		body, _ = json.Marshal(map[string]any{"cover_image": "https://example.com/c.png", "updated_at": cur.UpdatedAt})
		if r := ts.rawAPI(t, tok, "PUT", pathf("/api/posts/%d", q.ID), string(body)); r.Status != 200 {
			t.Fatalf("API cover: %d %s", r.Status, r.Body)
		}
		same("API replaced the shared cover", f4)

		// A deleted post takes its cover and the images of its text with it.
		r := send("/admin/uploads", "image", nil, png)
		var img imageUpload
		if err := json.Unmarshal([]byte(r.Body), &img); err != nil || r.Status != http.StatusCreated {
			t.Fatalf("image upload: %d %s", r.Status, r.Body)
		}
		cur, _ = p.Posts.Get(ctx, a.ID)
		if _, err := p.Posts.Update(ctx, ed, a.ID, cms.PostInput{Markdown: ptrTo("before\n\n" + img.Markdown)}, cur.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		same("inline image stored", f4, img.URL)
		if r := b.post(pathf("/admin/posts/%d/delete", a.ID), nil); r.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d", r.Status)
		}
		same("deleted post")

		// Deleted through the API, and a new post refused after its cover was stored.
		upload(q.ID)
		if r := ts.rawAPI(t, tok, "DELETE", pathf("/api/posts/%d", q.ID), ""); r.Status != http.StatusNoContent {
			t.Fatalf("API delete: %d %s", r.Status, r.Body)
		}
		same("post deleted through the API")
		if r := send("/admin/posts", "cover", map[string]string{"title": "   "}, png); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("refused new post: %d", r.Status)
		}
		same("refused new post")
	})
}
