package web

import (
	"encoding/xml"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
)

// rss is an RSS 2.0 document (https://www.rssboard.org/rss-specification).
type rss struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language"`
	LastBuildDate string    `xml:"lastBuildDate,omitempty"`
	Self          atomLink  `xml:"atom:link"`
	Items         []rssItem `xml:"item"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	Title       string   `xml:"title"`
	Link        string   `xml:"link"`
	GUID        rssGUID  `xml:"guid"`
	PubDate     string   `xml:"pubDate,omitempty"`
	Description string   `xml:"description"`
	Categories  []string `xml:"category"`
}

type rssGUID struct {
	IsPermaLink bool   `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

// feed is /feed.xml: the 20 newest published posts as RSS 2.0.
func (s *Server) feed(c echo.Context) error {
	ps, _, err := s.cms.Posts.List(c.Request().Context(), cms.PostFilter{Status: cms.StatusPublished, Limit: 20})
	if err != nil {
		return err
	}
	if err := s.asPublished(c, ps); err != nil {
		return err
	}
	site := s.site(c)
	ch := rssChannel{Title: site.Title, Link: site.BaseURL + "/", Description: siteDescription(site),
		Language: "en", Self: atomLink{Href: site.BaseURL + "/feed.xml", Rel: "self", Type: "application/rss+xml"}}
	for i := range ps {
		p := &ps[i]
		link := site.BaseURL + "/posts/" + p.Slug
		item := rssItem{Title: p.Title, Link: link, GUID: rssGUID{IsPermaLink: true, Value: link}, Categories: p.Tags}
		if p.PublishedAt != nil {
			item.PubDate = p.PublishedAt.UTC().Format(time.RFC1123Z)
			if ch.LastBuildDate == "" {
				ch.LastBuildDate = item.PubDate
			}
		}
		if item.Description, err = s.markdown.Render(p.Markdown); err != nil {
			return err
		}
		ch.Items = append(ch.Items, item)
	}
	return writeXML(c, "application/rss+xml; charset=utf-8", rss{Version: "2.0", Atom: "http://www.w3.org/2005/Atom", Channel: ch})
}

type urlset struct {
	XMLName xml.Name     `xml:"urlset"`
	NS      string       `xml:"xmlns,attr"`
	URLs    []sitemapURL `xml:"url"`
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// sitemap is /sitemap.xml: the home page and every published post.
func (s *Server) sitemap(c echo.Context) error {
	base := s.site(c).BaseURL
	set := urlset{NS: "http://www.sitemaps.org/schemas/sitemap/0.9", URLs: []sitemapURL{{Loc: base + "/"}}}
	for offset := 0; ; offset += 200 {
		ps, _, err := s.cms.Posts.List(c.Request().Context(), cms.PostFilter{Status: cms.StatusPublished, Limit: 200, Offset: offset})
		if err != nil {
			return err
		}
		for _, p := range ps {
			set.URLs = append(set.URLs, sitemapURL{Loc: base + "/posts/" + p.Slug, LastMod: p.UpdatedAt.UTC().Format("2006-01-02")})
		}
		if len(ps) < 200 || offset > 50000 {
			break
		}
	}
	return writeXML(c, "application/xml; charset=utf-8", set)
}

func writeXML(c echo.Context, contentType string, v any) error {
	out, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, contentType)
	return c.Blob(http.StatusOK, contentType, append([]byte(xml.Header), out...))
}
