package web

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/templates"
)

const blogPageSize = 10

// blogIndex is /: published posts, newest first, ?page=N.
func (s *Server) blogIndex(c echo.Context) error {
	return s.blogList(c, "")
}

// blogTag is /tags/{tag}.
func (s *Server) blogTag(c echo.Context) error {
	tag := cms.Slugify(c.Param("tag"))
	if tag == "" {
		return echo.ErrNotFound
	}
	return s.blogList(c, tag)
}

func (s *Server) blogList(c echo.Context, tag string) error {
	page := pageParam(c)
	ps, n, err := s.cms.Posts.List(c.Request().Context(), cms.PostFilter{Status: cms.StatusPublished, Tag: tag, Limit: blogPageSize, Offset: (page - 1) * blogPageSize})
	if err != nil {
		return err
	}
	if page > 1 && len(ps) == 0 {
		return echo.ErrNotFound
	}
	m := templates.Meta{Title: "", Description: "Posts from " + s.cfg.SiteName, URL: s.cfg.BaseURL + "/"}
	if tag != "" {
		m = templates.Meta{Title: "#" + tag, Description: "Posts tagged " + tag, URL: s.cfg.BaseURL + "/tags/" + tag}
		if n == 0 {
			return echo.ErrNotFound
		}
	}
	return s.render(c, http.StatusOK, templates.BlogIndex(templates.BlogList{Posts: ps, Tag: tag, Page: page, Pages: pages(n, blogPageSize), Meta: m}))
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
	body, err := s.markdown.Render(p.Markdown)
	if err != nil {
		return err
	}
	m := templates.Meta{Title: p.Title, Description: description(p), URL: s.cfg.BaseURL + "/posts/" + p.Slug, Type: "article"}
	if p.CoverImage != "" {
		m.Image = p.CoverImage
		if strings.HasPrefix(m.Image, "/") {
			m.Image = s.cfg.BaseURL + m.Image
		}
	}
	return s.render(c, http.StatusOK, templates.BlogPost(p, body, m))
}

// description is the post's summary, or the start of its text.
func description(p *cms.Post) string {
	d := p.Summary
	if d == "" {
		d = strings.Join(strings.Fields(stripMarkdown(p.Markdown)), " ")
	}
	if utf8.RuneCountInString(d) > 160 {
		r := []rune(d)
		d = strings.TrimSpace(string(r[:157])) + "…"
	}
	return d
}

// stripMarkdown drops the most common markdown punctuation for a plain-text excerpt.
func stripMarkdown(md string) string {
	return strings.NewReplacer("#", "", "*", "", "_", "", "`", "", ">", "", "[", "", "]", "").Replace(md)
}
