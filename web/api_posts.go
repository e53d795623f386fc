package web

import (
	"context"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
)

// postJSON is a post as the API shows it, with its newest review (who sent it, the decision
// or why it ended) and the runs its events started.
type postJSON struct {
	*cms.Post
	Review *cms.Review  `json:"review"`
	Runs   []engine.Run `json:"runs"`
}

type postListRequest struct {
	Status string `query:"status"`
	Tag    string `query:"tag"`
	Query  string `query:"q"`
	Limit  int    `query:"limit"`
	Offset int    `query:"offset"`
}

func (r *postListRequest) Validate() error {
	if r.Status != "" && !validPostStatus(r.Status) {
		return engine.FieldError("status", "must be one of draft, under_review, needs_approval, approved, published, unpublished")
	}
	if r.Limit < 0 || r.Limit > 200 {
		return engine.FieldError("limit", "must be between 1 and 200")
	}
	if r.Offset < 0 {
		return engine.FieldError("offset", "must not be negative")
	}
	return nil
}

type postListResponse struct {
	Posts []cms.Post `json:"posts"`
	Total int64      `json:"total"`
}

// postBody is what POST and PUT /api/posts accept. On PUT absent fields stay as they are
// and updated_at (the value read) is required.
type postBody struct {
	ID         int64      `param:"id" json:"-"`
	Title      *string    `json:"title"`
	Slug       *string    `json:"slug"`
	Markdown   *string    `json:"markdown"`
	Summary    *string    `json:"summary"`
	Tags       *[]string  `json:"tags"`
	CoverImage *string    `json:"cover_image"`
	UpdatedAt  *time.Time `json:"updated_at"`
}

func (b *postBody) input() cms.PostInput {
	return cms.PostInput{Title: b.Title, Slug: b.Slug, Markdown: b.Markdown, Summary: b.Summary, Tags: b.Tags, CoverImage: b.CoverImage}
}

type postIDRequest struct {
	ID int64 `param:"id"`
}

// postActionRequest is the body of POST /api/posts/{id}/{action}; publish_at on /publish
// schedules the publication instead of publishing now; accept (change ids; absent: all) and
// comment go with /approve, comment with /reject.
type postActionRequest struct {
	ID        int64      `param:"id" json:"-"`
	PublishAt *time.Time `json:"publish_at"`
	Accept    *[]string  `json:"accept"`
	Comment   string     `json:"comment"`
}

// decision is the approver's answer the request carries.
func (r *postActionRequest) decision() cms.Decision {
	d := cms.Decision{Comment: r.Comment}
	if r.Accept != nil {
		d.Accept = append([]string{}, *r.Accept...)
	}
	return d
}

// listPosts is GET /api/posts.
func (s *Server) listPosts(c echo.Context, r *postListRequest) (*postListResponse, error) {
	ps, n, err := s.cms.Posts.List(c.Request().Context(), cms.PostFilter{Status: cms.Status(r.Status), Tag: r.Tag, Query: r.Query, Limit: r.Limit, Offset: r.Offset})
	if err != nil {
		return nil, err
	}
	return &postListResponse{Posts: ps, Total: n}, nil
}

// createPost is POST /api/posts.
func (s *Server) createPost(c echo.Context, r *postBody) (*postJSON, error) {
	p, err := s.cms.Posts.Create(c.Request().Context(), userOf(c), r.input())
	if err != nil {
		return nil, err
	}
	return s.postWithRuns(c.Request().Context(), p)
}

// getPost is GET /api/posts/{id}. The post is first made to agree with its review run.
func (s *Server) getPost(c echo.Context, r *postIDRequest) (*postJSON, error) {
	if err := s.cms.Posts.Sync(c.Request().Context(), r.ID); err != nil {
		return nil, err
	}
	p, err := s.cms.Posts.Get(c.Request().Context(), r.ID)
	if err != nil {
		return nil, err
	}
	return s.postWithRuns(c.Request().Context(), p)
}

// updatePost is PUT /api/posts/{id}.
func (s *Server) updatePost(c echo.Context, r *postBody) (*postJSON, error) {
	if r.UpdatedAt == nil {
		return nil, engine.FieldError("updated_at", "is required: send the updated_at you read, so a newer edit is not overwritten")
	}
	p, err := s.updatePostCover(c.Request().Context(), userOf(c), r.ID, r.input(), *r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	return s.postWithRuns(c.Request().Context(), p)
}

// deletePost is DELETE /api/posts/{id}.
func (s *Server) deletePost(c echo.Context, r *postIDRequest) (*struct{}, error) {
	return nil, s.removePost(c.Request().Context(), userOf(c), r.ID)
}

// postActionAPI is POST /api/posts/{id}/{review|approve|reject|publish|unpublish}.
func (s *Server) postActionAPI(action string) func(echo.Context, *postActionRequest) (*postJSON, error) {
	return func(c echo.Context, r *postActionRequest) (*postJSON, error) {
		ctx := c.Request().Context()
		p, err := s.postAction(ctx, userOf(c), r.ID, action, r.PublishAt, r.decision())
		if err != nil {
			return nil, err
		}
		return s.postWithRuns(ctx, p)
	}
}

// postAction runs one status change; pages and the API share it.
func (s *Server) postAction(ctx context.Context, u *cms.User, id int64, action string, at *time.Time, d cms.Decision) (*cms.Post, error) {
	posts := s.cms.Posts
	switch action {
	case "review":
		return posts.SendToReview(ctx, u, id)
	case "withdraw":
		return posts.Withdraw(ctx, u, id)
	case "approve":
		return posts.Decide(ctx, u, id, true, d)
	case "reject":
		return posts.Decide(ctx, u, id, false, d)
	case "publish":
		if at != nil {
			return posts.SchedulePublish(ctx, u, id, *at)
		}
		return posts.Publish(ctx, u, id)
	case "unpublish":
		return posts.Unpublish(ctx, u, id)
	case "draft":
		return posts.ToDraft(ctx, u, id)
	}
	return nil, engine.Errorf(engine.ENotFound, "unknown action %q", action)
}

// postWithRuns adds the runs the post's events started (newest 20).
func (s *Server) postWithRuns(ctx context.Context, p *cms.Post) (*postJSON, error) {
	runs, err := s.postRuns(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	review, err := s.latestReview(ctx, p.ID)
	if err != nil {
		return nil, err
	}
	return &postJSON{Post: p, Review: review, Runs: runs}, nil
}

// postRuns returns the runs of post id, without their steps.
func (s *Server) postRuns(ctx context.Context, id int64) ([]engine.Run, error) {
	runs := []engine.Run{}
	if s.eng == nil {
		return runs, nil
	}
	ids, err := s.cms.Posts.RunIDs(ctx, id, 20)
	if err != nil {
		return nil, err
	}
	for _, rid := range ids {
		r, err := s.eng.GetRun(ctx, rid)
		if engine.ErrorCode(err) == engine.ENotFound {
			continue // pruned
		}
		if err != nil {
			return nil, err
		}
		r.Steps, r.Event = nil, nil
		redactRun(ctx, r)
		runs = append(runs, *r)
	}
	return runs, nil
}

func validPostStatus(s string) bool {
	for _, st := range cms.Statuses {
		if string(st) == s {
			return true
		}
	}
	return false
}
