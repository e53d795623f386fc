package web

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/templates"
)

// reviewPage is /admin/posts/{id}/review: what the AI changed and suggested, and the
// approve/reject decision.
func (s *Server) reviewPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.cms.Posts.Sync(ctx, id); err != nil {
		return err
	}
	p, err := s.cms.Posts.Get(ctx, id)
	if err != nil {
		return err
	}
	runs, err := s.postRuns(ctx, id)
	if err != nil {
		return err
	}
	labels, err := s.runLabels(ctx, runs, nil)
	if err != nil {
		return err
	}
	may, err := s.cms.Posts.MayDecide(ctx, p, userOf(c))
	if err != nil {
		return err
	}
	r := templates.Review{Post: p, Runs: runs, RunLabels: labels, Notice: notice(c), OwnPost: !may}
	if p.AIRevision != nil {
		r.Diff = cms.WordDiff(p.Markdown, *p.AIRevision)
	}
	r.Changes, r.Social, r.Provider = readRecommendations(p.AIRecommendations)
	r.TOC = readTOC(p.AIRecommendations)
	if rev, err := s.latestReview(ctx, id); err != nil {
		return err
	} else if rev != nil && rev.Status == cms.ReviewOpen {
		r.Review, r.SentBy = rev, "someone"
		if rev.SentBy != nil {
			if by, err := s.cms.Users.Get(ctx, *rev.SentBy); err == nil {
				r.SentBy = by.Email
			}
		}
	}
	return s.render(c, http.StatusOK, templates.ReviewPage(r))
}

// reviewQueuePage is /admin/review: the approvers' queue.
func (s *Server) reviewQueuePage(c echo.Context) error {
	items, err := s.cms.Posts.ReviewQueue(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, templates.ReviewQueuePage(items))
}

// readRecommendations picks out of ai_recommendations what the review page shows: grammar
// changes ({"grammar": {"changes": [{original, revised, reason}]}}) and social posts (any
// "<network>_posts": {"posts": [...]}). Unknown shapes are skipped, never fatal.
func readRecommendations(recs map[string]any) ([]templates.GrammarChange, []templates.SocialSuggestions, string) {
	var changes []templates.GrammarChange
	var social []templates.SocialSuggestions
	provider := ""
	if g, ok := recs["grammar"].(map[string]any); ok {
		provider, _ = g["provider"].(string)
		list, _ := g["changes"].([]any)
		for _, x := range list {
			m, ok := x.(map[string]any)
			if !ok {
				continue
			}
			changes = append(changes, templates.GrammarChange{ID: fmt.Sprintf("change-%d", len(changes)+1),
				Original: str(m["original"]), Revised: str(m["revised"]), Reason: str(m["reason"])})
		}
	}
	keys := make([]string, 0, len(recs))
	for k := range recs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !strings.HasSuffix(k, "_posts") {
			continue
		}
		m, ok := recs[k].(map[string]any)
		if !ok {
			continue
		}
		if provider == "" {
			provider, _ = m["provider"].(string)
		}
		g := templates.SocialSuggestions{Network: networkName(strings.TrimSuffix(k, "_posts"))}
		list, _ := m["posts"].([]any)
		for _, x := range list {
			if s := str(x); s != "" {
				g.Posts = append(g.Posts, s)
			}
		}
		if len(g.Posts) > 0 {
			social = append(social, g)
		}
	}
	return changes, social, provider
}

// readTOC returns the labels of the table of contents the AI added ({"toc": {"entries":
// [{label}]}}), or nil when there is none.
func readTOC(recs map[string]any) []string {
	t, ok := recs["toc"].(map[string]any)
	if !ok {
		return nil
	}
	labels := []string{}
	list, _ := t["entries"].([]any)
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			labels = append(labels, str(m["label"]))
		}
	}
	return labels
}

func networkName(k string) string {
	switch k {
	case "linkedin":
		return "LinkedIn"
	case "tweet", "twitter":
		return "X (Twitter)"
	}
	return k
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		return fmt.Sprint(x)
	}
}
