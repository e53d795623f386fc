package cms_test

import (
	"context"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/internal/domain"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Site settings fall back to the defaults, store what an admin sets, and refuse a bad field
// by name without storing any of the others.
func TestSiteSettings(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		c := cms.New(cms.Options{DB: db.DB, Engine: f.Eng, Site: cms.Site{Title: "inkflow", BaseURL: "http://localhost:9090", TimeZone: "UTC"}})
		site, err := c.Settings.Site(ctx)
		if err != nil || site.Title != "inkflow" || site.BaseURL != "http://localhost:9090" {
			t.Fatalf("defaults = %+v, %v", site, err)
		}
		good := cms.Site{Title: "  Field Notes ", Description: "Notes.", BaseURL: "https://blog.example.com/", TimeZone: "Europe/Paris"}
		if err := c.Settings.SetSite(ctx, good); err != nil {
			t.Fatal(err)
		}
		site, _ = c.Settings.Site(ctx)
		if site != (cms.Site{Title: "Field Notes", Description: "Notes.", BaseURL: "https://blog.example.com", TimeZone: "Europe/Paris"}) {
			t.Errorf("stored = %+v", site)
		}
		if site.Location().String() != "Europe/Paris" {
			t.Errorf("location = %s", site.Location())
		}
		bad := []struct {
			name  string
			site  cms.Site
			field string
		}{
			{"no title", cms.Site{Title: " ", BaseURL: "https://a.example", TimeZone: "UTC"}, "title"},
			{"long title", cms.Site{Title: strings.Repeat("x", 101), BaseURL: "https://a.example", TimeZone: "UTC"}, "title"},
			{"relative URL", cms.Site{Title: "T", BaseURL: "blog.example.com", TimeZone: "UTC"}, "base_url"},
			{"ftp URL", cms.Site{Title: "T", BaseURL: "ftp://blog.example.com", TimeZone: "UTC"}, "base_url"},
			{"query", cms.Site{Title: "T", BaseURL: "https://blog.example.com/?a=1", TimeZone: "UTC"}, "base_url"},
			{"javascript", cms.Site{Title: "T", BaseURL: "javascript:alert(1)", TimeZone: "UTC"}, "base_url"},
			{"zone", cms.Site{Title: "T", BaseURL: "https://a.example", TimeZone: "Mars/Olympus"}, "time_zone"},
			{"local zone", cms.Site{Title: "T", BaseURL: "https://a.example", TimeZone: "Local"}, "time_zone"},
		}
		for _, b := range bad {
			err := c.Settings.SetSite(ctx, b.site)
			if e, ok := err.(*domain.Error); !ok || e.Code != domain.EInvalid || e.Fields[b.field] == "" {
				t.Errorf("%s: err = %v, want EInvalid on %s", b.name, err, b.field)
			}
		}
		if after, _ := c.Settings.Site(ctx); after != site {
			t.Errorf("a refused save changed the settings: %+v", after)
		}
	})
}
