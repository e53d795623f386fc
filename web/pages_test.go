package web

import (
	"context"
	"encoding/xml"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
)

// findTestID returns the elements of doc with data-testid id.
func findTestID(t *testing.T, body, id string) []*html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && attr(n, "data-testid") == id {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// assertInert fails if body could run script: an inline <script>, a script from elsewhere
// than /static/, an on* attribute, or a javascript: URL.
func assertInert(t *testing.T, where, body string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "script" && (!strings.HasPrefix(attr(n, "src"), "/static/") || strings.TrimSpace(text(n)) != "") {
				t.Errorf("%s: a script runs: %s", where, html.UnescapeString(text(n)))
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(strings.ToLower(a.Key), "on") {
					t.Errorf("%s: <%s %s=%q>", where, n.Data, a.Key, a.Val)
				}
				if (a.Key == "href" || a.Key == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
					t.Errorf("%s: <%s %s=%q>", where, n.Data, a.Key, a.Val)
				}
			}
			if n.Data == "iframe" || n.Data == "object" || n.Data == "embed" {
				t.Errorf("%s: <%s> survived", where, n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

const hostile = "# Hi\n\n<script>alert('post')</script>\n\n<img src=x onerror=\"alert('img')\">\n\n" +
	"[click](javascript:alert('link'))\n\n<a href=\"/x\" onclick=\"alert('a')\">a</a>\n\n<iframe src=\"https://evil.example\"></iframe>\n\n" +
	"<svg><script>alert('svg')</script></svg>\n\n<p style=\"x\" onmouseover=\"alert('p')\">hover</p>"

func TestScriptInMarkdownIsInert(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		b := ts.client(t)
		b.login("admin@example.com")

		r := b.post("/admin/preview", url.Values{"markdown": {hostile}})
		if r.Status != 200 || !strings.Contains(r.Body, `<h1 id="hi">Hi</h1>`) {
			t.Fatalf("preview = %d %s", r.Status, r.Body)
		}
		assertInert(t, "preview", r.Body)

		r = b.post("/admin/posts", url.Values{"title": {"<script>alert('title')</script>"}, "markdown": {hostile}, "tags": {"x"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create = %d %s", r.Status, snippet(r.Body))
		}
		edit := r.Header.Get("Location")
		r = b.get(edit)
		assertInert(t, "editor", r.Body)
		id := strings.Split(edit, "/")[3]
		if r := b.post("/admin/posts/"+id+"/publish", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("publish = %d", r.Status)
		}
		p, _ := ts.CMS.Posts.Get(context.Background(), mustAtoi(t, id))
		r = b.get("/posts/" + p.Slug)
		if r.Status != 200 {
			t.Fatalf("public page = %d", r.Status)
		}
		assertInert(t, "public page", r.Body)
		if !strings.Contains(r.Body, "&lt;script&gt;alert(&#39;title&#39;)") {
			t.Errorf("title not escaped as text: %s", snippet(r.Body))
		}
		r = b.get("/")
		assertInert(t, "index", r.Body)
		r = b.get("/feed.xml")
		if strings.Contains(r.Body, "<script") || strings.Contains(r.Body, "onerror") {
			t.Errorf("feed carries script: %s", r.Body)
		}
	})
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func TestEditorPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db, newEngine(t, db))
		ts.mustUser(t, "ed@example.com", cms.RoleEditor)
		b := ts.client(t)
		b.login("ed@example.com")

		// A refused form keeps what was typed and names the field; nothing is stored.
		r := b.post("/admin/posts", url.Values{"title": {""}, "markdown": {"my precious text"}})
		if r.Status != 422 || len(findTestID(t, r.Body, "error-title")) != 1 || !strings.Contains(r.Body, "my precious text") {
			t.Fatalf("empty title = %d", r.Status)
		}
		if _, n, _ := ts.CMS.Posts.List(ctx, cms.PostFilter{}); n != 0 {
			t.Fatal("refused form stored a post")
		}

		r = b.post("/admin/posts", url.Values{"title": {"My post"}, "markdown": {"Hello *world*"}, "tags": {"Go, Web"}})
		edit := r.Header.Get("Location")
		r = b.get(edit)
		if r.Status != 200 {
			t.Fatalf("editor = %d", r.Status)
		}
		if pv := findTestID(t, r.Body, "preview"); len(pv) != 1 || !strings.Contains(text(pv[0]), "Hello world") {
			t.Errorf("preview missing")
		}
		if len(findTestID(t, r.Body, "notice")) != 1 {
			t.Error("no notice after create")
		}
		id := mustAtoi(t, strings.Split(edit, "/")[3])
		p, _ := ts.CMS.Posts.Get(ctx, id)
		stamp := func(p *cms.Post) string { return p.UpdatedAt.Format(time.RFC3339Nano) }

		// Autosave answers with the new version; a stale one is refused and says so.
		r = b.post(pathf("/admin/posts/%d/autosave", id), url.Values{"title": {"My post"}, "markdown": {"v2"}, "updated_at": {stamp(p)}})
		if r.Status != 200 || len(findTestID(t, r.Body, "save-state")) != 1 || !strings.Contains(r.Body, `id="updated-at"`) {
			t.Fatalf("autosave = %d %s", r.Status, r.Body)
		}
		r = b.post(pathf("/admin/posts/%d/autosave", id), url.Values{"title": {"My post"}, "markdown": {"v3"}, "updated_at": {stamp(p)}})
		if r.Status != 409 || !strings.Contains(r.Body, "Not saved") {
			t.Errorf("stale autosave = %d %s", r.Status, r.Body)
		}
		// Save with the stale version: 409 page keeping the user's text.
		r = b.post(pathf("/admin/posts/%d", id), url.Values{"title": {"My post"}, "markdown": {"my stale text"}, "updated_at": {stamp(p)}})
		if r.Status != 409 || !strings.Contains(r.Body, "my stale text") || len(findTestID(t, r.Body, "form-error")) != 1 {
			t.Errorf("stale save = %d", r.Status)
		}
		if got, _ := ts.CMS.Posts.Get(ctx, id); got.Markdown != "v2" {
			t.Errorf("markdown = %q after refused saves", got.Markdown)
		}

		// History and restore.
		r = b.get(edit)
		revs := findTestID(t, r.Body, "revision")
		if len(revs) != 2 {
			t.Fatalf("%d revisions shown, want 2", len(revs))
		}
		rs, _ := ts.CMS.Posts.Revisions(ctx, id)
		if r := b.post(pathf("/admin/posts/%d/revisions/%d/restore", id, rs[1].ID), nil); r.Status != 303 {
			t.Fatalf("restore = %d", r.Status)
		}
		if got, _ := ts.CMS.Posts.Get(ctx, id); got.Markdown != "Hello *world*" {
			t.Errorf("restored markdown = %q", got.Markdown)
		}

		// Send to review: the run appears on the post page.
		if r := b.post(pathf("/admin/posts/%d/review", id), nil); r.Status != 303 {
			t.Fatalf("review = %d", r.Status)
		}
		r = b.get(edit)
		if st := findTestID(t, r.Body, "post-status"); len(st) == 0 || text(st[0]) != "under review" {
			t.Errorf("status badge missing")
		}
		runs := findTestID(t, r.Body, "post-run")
		if len(runs) != 1 || !strings.Contains(r.Body, `href="/admin/runs/`) {
			t.Errorf("runs on the post page: %d", len(runs))
		}
		if live := findTestID(t, r.Body, "post-runs"); len(live) != 1 || attr(live[0], "hx-trigger") == "" {
			t.Error("a queued run's list does not refresh itself")
		}
	})
}

func pathf(format string, args ...any) string {
	s := format
	for _, a := range args {
		s = strings.Replace(s, "%d", itoa(a.(int64)), 1)
	}
	return s
}

func TestReviewPage(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db, newEngine(t, db))
		author := ts.mustUser(t, "ap1@example.com", cms.RoleApprover)
		ts.mustUser(t, "ap2@example.com", cms.RoleApprover)
		title, md := "Teh post", "This is teh text. It are good."
		p, _ := ts.CMS.Posts.Create(ctx, author, cms.PostInput{Title: &title, Markdown: &md})
		ts.CMS.Posts.SendToReview(ctx, author, p.ID)
		runs, _ := ts.CMS.Posts.RunIDs(ctx, p.ID, 10)
		rev := "This is the text. It is good."
		err := ts.CMS.Posts.SaveAIWork(ctx, p.ID, &rev, map[string]any{
			"grammar": map[string]any{"provider": "offline", "changes": []any{
				map[string]any{"original": "teh", "revised": "the", "reason": "spelling"},
				map[string]any{"original": "It are", "revised": "It is", "reason": "subject-verb agreement"},
			}},
			"linkedin_posts": map[string]any{"posts": []any{"New post: the text is good."}},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 0 {
			t.Fatal("sending to review started no run")
		}
		if _, err := ts.CMS.Posts.AskApproval(ctx, p.ID, runs[0]); err != nil {
			t.Fatal(err)
		}

		own := ts.client(t)
		own.login("ap1@example.com")
		r := own.get(pathf("/admin/posts/%d/review", p.ID))
		if r.Status != 200 || len(findTestID(t, r.Body, "own-post")) != 1 || len(findTestID(t, r.Body, "approve")) != 0 {
			t.Errorf("author's review page should refuse approval: %d", r.Status)
		}
		if r := own.post(pathf("/admin/posts/%d/approve", p.ID), nil); r.Status != 403 {
			t.Errorf("author approves = %d", r.Status)
		}

		b := ts.client(t)
		b.login("ap2@example.com")
		r = b.get(pathf("/admin/posts/%d/review", p.ID))
		diff := findTestID(t, r.Body, "diff")
		if len(diff) != 1 {
			t.Fatalf("no diff: %s", snippet(r.Body))
		}
		var ins, del []string
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode && n.Data == "ins" {
				ins = append(ins, text(n))
			}
			if n.Type == html.ElementNode && n.Data == "del" {
				del = append(del, text(n))
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(diff[0])
		if strings.Join(ins, "|") != "the|is" || strings.Join(del, "|") != "teh|are" {
			t.Errorf("diff ins %q del %q", ins, del)
		}
		if n := len(findTestID(t, r.Body, "grammar-change")); n != 2 {
			t.Errorf("%d grammar changes", n)
		}
		if !strings.Contains(r.Body, "subject-verb agreement") || len(findTestID(t, r.Body, "social-post")) != 1 {
			t.Error("reasons or social posts missing")
		}
		if pv := findTestID(t, r.Body, "ai-provider"); len(pv) != 1 || !strings.Contains(text(pv[0]), "offline provider") {
			t.Error("offline provider not labelled")
		}
		r = b.post(pathf("/admin/posts/%d/approve", p.ID), nil)
		if r.Status != 303 || !strings.Contains(r.Header.Get("Location"), "/review?done=approve") {
			t.Fatalf("approve = %d %s", r.Status, r.Header.Get("Location"))
		}
		if got, _ := ts.CMS.Posts.Get(ctx, p.ID); got.Status != cms.StatusApproved {
			t.Errorf("status = %s", got.Status)
		}
	})
}

func TestPublicBlog(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db, newEngine(t, db), func(c *Config) { c.BaseURL = "https://blog.example.com"; c.SiteName = "Ink" })
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		mk := func(title, summary string, tags []string, publish bool) *cms.Post {
			md := "Body of " + title
			p, err := ts.CMS.Posts.Create(ctx, admin, cms.PostInput{Title: &title, Markdown: &md, Summary: &summary, Tags: &tags})
			if err != nil {
				t.Fatal(err)
			}
			if publish {
				if p, err = ts.CMS.Posts.Publish(ctx, admin, p.ID); err != nil {
					t.Fatal(err)
				}
			}
			return p
		}
		for i := range 12 {
			mk("Post "+itoa(int64(i)), "Summary "+itoa(int64(i)), []string{"all"}, true)
		}
		tagged := mk("Go & you", "About Go.", []string{"go"}, true)
		draft := mk("Secret draft", "", []string{"go"}, false)

		b := ts.client(t)
		r := b.get("/")
		if n := len(findTestID(t, r.Body, "post-item")); n != 10 {
			t.Errorf("page 1 has %d posts, want 10", n)
		}
		if strings.Contains(r.Body, "Secret draft") {
			t.Error("a draft is on the blog")
		}
		if !strings.Contains(r.Body, `href="/?page=2"`) {
			t.Error("no link to page 2")
		}
		if n := len(findTestID(t, b.get("/?page=2").Body, "post-item")); n != 3 {
			t.Errorf("page 2 has %d posts, want 3", n)
		}
		if r := b.get("/?page=9"); r.Status != 404 {
			t.Errorf("page 9 = %d", r.Status)
		}
		r = b.get("/posts/" + tagged.Slug)
		for _, want := range []string{
			"<title>Go &amp; you · Ink</title>", `<meta name="description" content="About Go.">`,
			`<meta property="og:title" content="Go &amp; you · Ink">`, `<meta property="og:type" content="article">`,
			`<meta property="og:url" content="https://blog.example.com/posts/go-you">`,
		} {
			if !strings.Contains(r.Body, want) {
				t.Errorf("post page lacks %s", want)
			}
		}
		if r := b.get("/posts/" + draft.Slug); r.Status != 404 || len(findTestID(t, r.Body, "error-404")) != 1 {
			t.Errorf("draft page = %d", r.Status)
		}
		p, _ := ts.CMS.Posts.Update(ctx, admin, tagged.ID, cms.PostInput{Slug: ptrTo("go-and-you")}, tagged.UpdatedAt)
		if r := b.get("/posts/go-you"); r.Status != 301 || r.Header.Get("Location") != "/posts/"+p.Slug {
			t.Errorf("old slug = %d %s", r.Status, r.Header.Get("Location"))
		}
		r = b.get("/tags/go")
		if n := len(findTestID(t, r.Body, "post-item")); n != 1 {
			t.Errorf("tag page has %d posts", n)
		}
		if r := b.get("/tags/nothing"); r.Status != 404 {
			t.Errorf("empty tag = %d", r.Status)
		}

		// RSS 2.0: parses, and every item has what the spec and readers need.
		r = b.get("/feed.xml")
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/rss+xml") {
			t.Errorf("feed type %q", r.Header.Get("Content-Type"))
		}
		var feed struct {
			Version string `xml:"version,attr"`
			Channel struct {
				Title string `xml:"title"`
				// Links holds <link> and <atom:link rel="self"> (encoding/xml ignores prefixes).
				Links       []string `xml:"link"`
				Description string   `xml:"description"`
				Items       []struct {
					Title       string `xml:"title"`
					Link        string `xml:"link"`
					Description string `xml:"description"`
					PubDate     string `xml:"pubDate"`
					GUID        string `xml:"guid"`
				} `xml:"item"`
			} `xml:"channel"`
		}
		if err := xml.Unmarshal([]byte(r.Body), &feed); err != nil {
			t.Fatalf("feed: %v", err)
		}
		if feed.Version != "2.0" || feed.Channel.Title != "Ink" || feed.Channel.Links[0] != "https://blog.example.com/" || feed.Channel.Description == "" {
			t.Errorf("channel = %+v", feed.Channel)
		}
		if len(feed.Channel.Items) != 13 {
			t.Errorf("%d items", len(feed.Channel.Items))
		}
		for _, it := range feed.Channel.Items {
			if _, err := time.Parse(time.RFC1123Z, it.PubDate); err != nil || it.Title == "" || !strings.HasPrefix(it.Link, "https://blog.example.com/posts/") {
				t.Errorf("item %+v", it)
			}
		}
		var sm struct {
			URLs []struct {
				Loc string `xml:"loc"`
			} `xml:"url"`
		}
		if err := xml.Unmarshal([]byte(b.get("/sitemap.xml").Body), &sm); err != nil || len(sm.URLs) != 14 {
			t.Errorf("sitemap: %d urls, %v", len(sm.URLs), err)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

func TestUsersAndTokensPages(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db, nil)
		ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		b := ts.client(t)
		b.login("admin@example.com")

		r := b.post("/admin/users", url.Values{"email": {"bad"}, "role": {"editor"}})
		if r.Status != 422 || len(findTestID(t, r.Body, "error-email")) != 1 {
			t.Errorf("bad invite = %d", r.Status)
		}
		r = b.post("/admin/users", url.Values{"email": {"new@example.com"}, "role": {"editor"}, "password": {"temporary password"}})
		if r.Status != 303 {
			t.Fatalf("invite = %d %s", r.Status, snippet(r.Body))
		}
		u, err := ts.CMS.Users.GetByEmail(ctx, "new@example.com")
		if err != nil || u.Role != cms.RoleEditor {
			t.Fatalf("invited: %v %v", u, err)
		}
		nb := ts.client(t)
		nb.post("/login", url.Values{"email": {"new@example.com"}, "password": {"temporary password"}})
		if r := nb.get("/admin"); r.Status != 200 {
			t.Fatalf("invited user signs in: %d", r.Status)
		}
		if r := b.post(pathf("/admin/users/%d/disable", u.ID), nil); r.Status != 303 {
			t.Fatalf("disable = %d", r.Status)
		}
		if r := nb.get("/admin"); r.Status != 303 {
			t.Errorf("disabled user's session still works: %d", r.Status)
		}

		r = b.post("/admin/tokens", url.Values{"name": {"ci"}})
		vals := findTestID(t, r.Body, "token-value")
		if r.Status != 201 || len(vals) != 1 {
			t.Fatalf("create token = %d", r.Status)
		}
		tok := strings.TrimSpace(text(vals[0]))
		if r := ts.api(t, tok, "GET", "/api/me", nil); r.Status != 200 {
			t.Errorf("new token = %d", r.Status)
		}
		r = b.get("/admin/tokens")
		if strings.Contains(r.Body, tok) {
			t.Error("the token is shown again")
		}

		r = b.post("/admin/keys", url.Values{"name": {"github"}})
		keys := findTestID(t, r.Body, "key-value")
		if r.Status != 201 || len(keys) != 1 {
			t.Fatalf("create event key = %d", r.Status)
		}
		if err := ts.CMS.EventKeys.Verify(ctx, strings.TrimSpace(text(keys[0]))); err != nil {
			t.Errorf("new event key: %v", err)
		}
	})
}

func TestCoverUpload(t *testing.T) {
	db := testdb.SQLite(t)
	ts := newTestServer(t, db, newEngine(t, db), func(c *Config) { c.UploadLimit = 64 << 10 })
	ed := ts.mustUser(t, "ed@example.com", cms.RoleEditor)
	title := "With cover"
	p, _ := ts.CMS.Posts.Create(context.Background(), ed, cms.PostInput{Title: &title})
	b := ts.client(t)
	b.login("ed@example.com")
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), make([]byte, 100)...)
	cases := []struct {
		name   string
		data   []byte
		status int
	}{
		{"a script named .png", []byte("<script>alert(1)</script>"), 422},
		{"too large", append(append([]byte{}, png...), make([]byte, 70<<10)...), 413},
		{"a png", png, 303},
	}
	for _, c := range cases {
		var body strings.Builder
		mw := multipart.NewWriter(&body)
		mw.WriteField("_csrf", b.csrf())
		fw, _ := mw.CreateFormFile("cover", "cover.png")
		fw.Write(c.data)
		mw.Close()
		req, _ := http.NewRequest("POST", ts.URL+pathf("/admin/posts/%d/cover", p.ID), strings.NewReader(body.String()))
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if r := b.do(req); r.Status != c.status {
			t.Errorf("%s: %d, want %d (%s)", c.name, r.Status, c.status, snippet(r.Body))
		}
	}
	got, _ := ts.CMS.Posts.Get(context.Background(), p.ID)
	if !strings.HasPrefix(got.CoverImage, "/uploads/") || !strings.HasSuffix(got.CoverImage, ".png") {
		t.Fatalf("cover = %q", got.CoverImage)
	}
	r := b.get(got.CoverImage)
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("serving the cover: %d %q", r.Status, r.Header.Get("Content-Type"))
	}
	if r := b.get("/uploads/..%2f..%2fetc%2fpasswd"); r.Status != 404 {
		t.Errorf("path traversal = %d", r.Status)
	}
}
