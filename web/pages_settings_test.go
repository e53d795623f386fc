package web

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/testdb"
)

// The settings an admin saves reach every place readers and crawlers see the site: page
// titles, Open Graph, the feed, the sitemap and robots.txt; a bad field is shown on the form.
func TestSiteSettingsReachThePublicSite(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db, newEngine(t, db))
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		b := ts.client(t)
		b.login(admin.Email)

		r := b.get("/admin/settings")
		if r.Status != 200 || len(findTestID(t, r.Body, "settings-form")) != 1 {
			t.Fatalf("settings page = %d", r.Status)
		}
		if in := findTestID(t, r.Body, "settings-base-url"); len(in) != 1 || attr(in[0], "value") != "http://localhost:8080" {
			t.Errorf("base URL field does not show the default")
		}
		form := url.Values{"title": {"Field Notes"}, "description": {"Notes from the field."}, "base_url": {"not a url"}, "time_zone": {"Europe/Paris"}}
		r = b.post("/admin/settings", form)
		if r.Status != 422 || len(findTestID(t, r.Body, "error-base_url")) != 1 || len(findTestID(t, r.Body, "settings-form")) != 1 {
			t.Fatalf("bad base URL = %d, want 422 with the error on the form:\n%s", r.Status, r.Body)
		}
		if in := findTestID(t, r.Body, "settings-title"); len(in) != 1 || attr(in[0], "value") != "Field Notes" {
			t.Error("the refused form lost what was typed")
		}
		form.Set("base_url", "https://notes.example.com/")
		if r = b.post("/admin/settings", form); r.Status != 303 {
			t.Fatalf("save = %d %s", r.Status, r.Body)
		}

		title, md := "Durable steps", "<!-- toc max-level=2 -->\n**In this post**\n\n- [Why](#why)\n\n<!-- /toc -->\n\n## Why\n\nSteps are *memoized* so replays are cheap."
		p, err := ts.CMS.Posts.Create(ctx, admin, cms.PostInput{Title: &title, Markdown: &md})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.CMS.Posts.Publish(ctx, admin, p.ID); err != nil {
			t.Fatal(err)
		}
		anon := ts.client(t)
		home := anon.get("/").Body
		for _, want := range []string{"<title>Field Notes</title>", `<meta property="og:site_name" content="Field Notes">`,
			`<meta property="og:description" content="Notes from the field.">`, `<link rel="canonical" href="https://notes.example.com/">`,
			`<meta name="twitter:card" content="summary">`} {
			if !strings.Contains(home, want) {
				t.Errorf("home page lacks %s", want)
			}
		}
		post := anon.get("/posts/" + p.Slug).Body
		for _, want := range []string{"<title>Durable steps · Field Notes</title>", `<meta property="og:url" content="https://notes.example.com/posts/durable-steps">`,
			`<meta property="og:description" content="Why Steps are memoized so replays are cheap.">`} {
			if !strings.Contains(post, want) {
				t.Errorf("post page lacks %s", want)
			}
		}
		if strings.Contains(post, "toc max-level") || strings.Contains(post, "In this post") && strings.Contains(post, `og:description" content="In this post`) {
			t.Error("og:description carries the table of contents")
		}
		feed := anon.get("/feed.xml").Body
		for _, want := range []string{"<title>Field Notes</title>", "<description>Notes from the field.</description>", "<link>https://notes.example.com/posts/durable-steps</link>"} {
			if !strings.Contains(feed, want) {
				t.Errorf("feed lacks %s", want)
			}
		}
		if sm := anon.get("/sitemap.xml").Body; !strings.Contains(sm, "<loc>https://notes.example.com/posts/durable-steps</loc>") {
			t.Errorf("sitemap: %s", sm)
		}
		robots := anon.get("/robots.txt")
		if robots.Status != 200 || !strings.Contains(robots.Body, "Disallow: /admin") || !strings.Contains(robots.Body, "Sitemap: https://notes.example.com/sitemap.xml") {
			t.Errorf("robots.txt = %d %q", robots.Status, robots.Body)
		}
	})
}

// A schedule is typed in the site's time zone and shown in it.
func TestScheduleUsesTheSiteTimeZone(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		ts := newTestServer(t, db, newEngine(t, db))
		admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		if err := ts.CMS.Settings.SetSite(ctx, cms.Site{Title: "T", BaseURL: "https://t.example", TimeZone: "America/New_York"}); err != nil {
			t.Fatal(err)
		}
		title, md := "Later", "text"
		p, err := ts.CMS.Posts.Create(ctx, admin, cms.PostInput{Title: &title, Markdown: &md})
		if err != nil {
			t.Fatal(err)
		}
		b := ts.client(t)
		b.login(admin.Email)
		if r := b.post(pathf("/admin/posts/%d/schedule", p.ID), url.Values{"publish_at": {"2099-01-01T10:00"}}); r.Status != 303 {
			t.Fatalf("schedule = %d %s", r.Status, r.Body)
		}
		got, _ := ts.CMS.Posts.Get(ctx, p.ID)
		if got.PublishAt == nil || !got.PublishAt.Equal(time.Date(2099, 1, 1, 15, 0, 0, 0, time.UTC)) {
			t.Fatalf("publish_at = %v, want 10:00 in New York (15:00 UTC)", got.PublishAt)
		}
		page := b.get(pathf("/admin/posts/%d/edit", p.ID)).Body
		if s := findTestID(t, page, "scheduled"); len(s) != 1 || !strings.Contains(text(s[0]), "1 Jan 2099 10:00 EST") {
			t.Errorf("scheduled label is not in the site's zone")
		}
		if !strings.Contains(page, "Publish at (America/New_York)") {
			t.Error("the schedule field does not name the zone")
		}
	})
}

// A fresh install's empty home page leads to /setup; once an account exists it leads to sign-in.
func TestEmptyHomePageLeadsIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts := newTestServer(t, db, newEngine(t, db))
		b := ts.client(t)
		r := b.get("/")
		if l := findTestID(t, r.Body, "setup-link"); len(l) != 1 || !strings.Contains(r.Body, `href="/setup"`) {
			t.Fatalf("fresh home page has no link to /setup:\n%s", r.Body)
		}
		ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
		r = b.get("/")
		if len(findTestID(t, r.Body, "setup-link")) != 0 || len(findTestID(t, r.Body, "signin-link")) != 1 {
			t.Error("after setup the home page should offer sign-in, not setup")
		}
	})
}
