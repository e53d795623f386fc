package web

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/microcosm-cc/bluemonday"

	"github.com/inkflow/inkflow/actions"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

const blogPageSize = 10

// blogIndex is /: published posts, newest first, ?page=N.
func (s *Server) blogIndex(c echo.Context) error {
	return s.blogList(c, "")
}

// blogTag is /tags/{tag}.
func (s *Server) blogTag(c echo.Context) error {
	tag := cms.TagSlug(c.Param("tag"))
	if tag == "" {
		return echo.ErrNotFound
	}
	return s.blogList(c, tag)
}

func (s *Server) blogList(c echo.Context, tag string) error {
	page := pageParam(c)
	q := ""
	if tag == "" {
		q = strings.TrimSpace(c.QueryParam("q"))
		if utf8.RuneCountInString(q) > 200 {
			q = string([]rune(q)[:200])
		}
	}
	ps, n, err := s.cms.Posts.List(c.Request().Context(), cms.PostFilter{Status: cms.StatusPublished, Tag: tag, Query: q, Limit: blogPageSize, Offset: (page - 1) * blogPageSize})
	if err != nil {
		return err
	}
	if err := s.asPublished(c, ps); err != nil {
		return err
	}
	if page > 1 && len(ps) == 0 {
		return echo.ErrNotFound
	}
	site := s.site(c)
	m := templates.Meta{Title: "", Description: siteDescription(site), URL: site.BaseURL + "/"}
	name := tag
	if tag != "" {
		if n == 0 {
			return echo.ErrNotFound
		}
		name = ps[0].Tags.Name(tag)
		m = templates.Meta{Title: "#" + name, Description: "Posts tagged " + name, URL: site.BaseURL + "/tags/" + tag}
	}
	if q != "" {
		m = templates.Meta{Title: "Search: " + q, Description: m.Description}
	}
	l := templates.BlogList{Posts: ps, Tag: tag, TagName: name, Query: q, Total: int(n), Page: page, Pages: pages(n, blogPageSize), Meta: m}
	if n == 0 && tag == "" && q == "" {
		users, err := s.cms.Users.Count(c.Request().Context())
		if err != nil {
			return err
		}
		l.Setup = users == 0
	}
	return s.render(c, http.StatusOK, templates.BlogIndex(l))
}

// blogPost is /posts/{slug}: a published post; an old slug redirects permanently.
func (s *Server) blogPost(c echo.Context) error {
	p, moved, err := s.cms.Posts.GetBySlug(c.Request().Context(), c.Param("slug"))
	if err != nil {
		return err
	}
	if p.Status != cms.StatusPublished {
		return echo.ErrNotFound
	}
	if moved {
		return c.Redirect(http.StatusMovedPermanently, "/posts/"+p.Slug)
	}
	if err := s.cms.Posts.AsPublished(c.Request().Context(), p); err != nil {
		return err
	}
	body, err := s.markdown.Render(p.Markdown)
	if err != nil {
		return err
	}
	base := s.site(c).BaseURL
	m := templates.Meta{Title: p.Title, Description: description(p), URL: base + "/posts/" + p.Slug, Type: "article"}
	if p.CoverImage != "" {
		m.Image, m.ImageAlt = p.CoverImage, p.CoverAlt
		if strings.HasPrefix(m.Image, "/") {
			m.Image = base + m.Image
		}
	}
	// The author's name, never their email: an account without a name shows no byline.
	author := ""
	if p.AuthorID != nil {
		if u, err := s.cms.Users.Get(c.Request().Context(), *p.AuthorID); err == nil {
			author = u.Name
		} else if engine.ErrorCode(err) != engine.ENotFound {
			return err
		}
	}
	return s.render(c, http.StatusOK, templates.BlogPost(p, body, m, author))
}

// asPublished shows each post of a public list as it was published, never a pending update.
func (s *Server) asPublished(c echo.Context, ps []cms.Post) error {
	ptrs := make([]*cms.Post, len(ps))
	for i := range ps {
		ptrs[i] = &ps[i]
	}
	return s.cms.Posts.AsPublished(c.Request().Context(), ptrs...)
}

// description is the post's summary, or the start of its text as plain text: without the
// table of contents an AI review inserts, markdown punctuation or HTML.
func description(p *cms.Post) string {
	d := p.Summary
	if d == "" {
		body, _ := actions.StripTOC(p.Markdown)
		d = strings.Join(strings.Fields(stripMarkdown(body)), " ")
	}
	if utf8.RuneCountInString(d) > 160 {
		r := []rune(d)
		d = strings.TrimSpace(string(r[:157])) + "…"
	}
	return d
}

// siteDescription is the site's description, or a default naming it.
func siteDescription(site cms.Site) string {
	if site.Description != "" {
		return site.Description
	}
	return "Posts from " + site.Title
}

var (
	htmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)
	mdImage     = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	mdLink      = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	textOnly    = bluemonday.StrictPolicy()
)

// stripMarkdown turns markdown into a plain-text excerpt: comments, images and HTML go, links
// keep their text, the most common punctuation is dropped.
func stripMarkdown(md string) string {
	md = htmlComment.ReplaceAllString(md, " ")
	md = mdImage.ReplaceAllString(md, "$1")
	md = mdLink.ReplaceAllString(md, "$1")
	md = html.UnescapeString(textOnly.Sanitize(md))
	return strings.NewReplacer("#", "", "*", "", "_", "", "`", "", ">", "", "[", "", "]", "").Replace(md)
}
