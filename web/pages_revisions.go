package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/templates"
)

// revisionDiffPage compares an older revision of a post with its current text, word by word.
func (s *Server) revisionDiffPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	rev, err := pathID(c, "rev")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, err := s.cms.Posts.Get(ctx, id)
	if err != nil {
		return err
	}
	revs, err := s.cms.Posts.Revisions(ctx, id)
	if err != nil {
		return err
	}
	for _, r := range revs {
		if r.ID == rev {
			d := templates.RevisionDiff{Post: p, Revision: r, Title: cms.WordDiff(r.Title, p.Title), Text: cms.WordDiff(r.Markdown, p.Markdown),
				Same: r.Title == p.Title && r.Markdown == p.Markdown}
			return s.render(c, http.StatusOK, templates.RevisionDiffPage(d))
		}
	}
	return echo.ErrNotFound
}
