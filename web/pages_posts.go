package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

const adminPageSize = 25

// postsPage is /admin/posts.
func (s *Server) postsPage(c echo.Context) error {
	status := c.QueryParam("status")
	if status != "" && !validPostStatus(status) {
		status = ""
	}
	page := pageParam(c)
	q := c.QueryParam("q")
	ps, n, err := s.cms.Posts.List(c.Request().Context(), cms.PostFilter{Status: cms.Status(status), Query: q, Limit: adminPageSize, Offset: (page - 1) * adminPageSize})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, templates.PostsPage(templates.PostList{Posts: ps, Total: n, Status: status, Query: q, Page: page, Pages: pages(n, adminPageSize)}))
}

// newPostPage is the empty editor.
func (s *Server) newPostPage(c echo.Context) error {
	return s.render(c, http.StatusOK, templates.EditorPage(templates.Editor{Form: templates.Form{Values: map[string]string{}}}))
}

// createPostPage stores a new draft from the editor form.
func (s *Server) createPostPage(c echo.Context) error {
	in, f := postForm(c)
	var err error
	if _, ferr := c.FormFile("cover"); ferr == nil { // a cover chosen before the first save
		var cover cms.PostInput
		if cover, err = s.coverInput(c, false); err == nil {
			in.CoverImage, in.CoverAlt = cover.CoverImage, cover.CoverAlt
		}
	}
	var p *cms.Post
	if err == nil {
		p, err = s.cms.Posts.Create(c.Request().Context(), userOf(c), in)
		if err != nil && in.CoverImage != nil {
			s.dropUpload(c.Request().Context(), *in.CoverImage) // stored for a post that was refused
		}
	}
	if err != nil {
		if !formErrors(err, &f) {
			return err
		}
		e := templates.Editor{Form: f, Preview: s.preview(*in.Markdown)}
		return s.render(c, statusFor(err), templates.EditorPage(e))
	}
	return seeOther(c, "/admin/posts/"+strconv.FormatInt(p.ID, 10)+"/edit?done=created")
}

// editPostPage is the editor for one post.
func (s *Server) editPostPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.cms.Posts.Sync(c.Request().Context(), id); err != nil {
		return err
	}
	p, err := s.cms.Posts.Get(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.renderEditor(c, http.StatusOK, p, postFormValues(p), notice(c))
}

func (s *Server) renderEditor(c echo.Context, status int, p *cms.Post, f templates.Form, msg string) error {
	return s.renderEditorWith(c, status, p, f, msg, nil)
}

// renderEditorWith renders the editor with side, the errors of its side forms by name.
func (s *Server) renderEditorWith(c echo.Context, status int, p *cms.Post, f templates.Form, msg string, side map[string]string) error {
	ctx := c.Request().Context()
	revs, err := s.cms.Posts.Revisions(ctx, p.ID)
	if err != nil {
		return err
	}
	runs, err := s.postRuns(ctx, p.ID)
	if err != nil {
		return err
	}
	labels, err := s.runLabels(ctx, runs, nil)
	if err != nil {
		return err
	}
	review, err := s.latestReview(ctx, p.ID)
	if err != nil {
		return err
	}
	pending, err := s.cms.Posts.PendingUpdate(ctx, p)
	if err != nil {
		return err
	}
	e := templates.Editor{Post: p, Form: f, Preview: s.preview(f.Value("markdown")), Revisions: revs, Runs: runs, RunLabels: labels, Notice: msg, Side: side,
		Review: review, PendingUpdate: pending}
	return s.render(c, status, templates.EditorPage(e))
}

// savePostPage saves the editor form (the Save button). A stale form is shown again with
// the user's text and a 409 message, never silently overwriting someone's newer edit.
func (s *Server) savePostPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	in, f := postForm(c)
	p, err := s.updateFromForm(c, id, in)
	if err != nil {
		cur, gerr := s.cms.Posts.Get(ctx, id)
		if gerr != nil || !formErrors(err, &f) {
			return err
		}
		if engine.ErrorCode(err) != engine.EConflict {
			cur.UpdatedAt, _ = formTime(c, "updated_at") // keep the version the user edits
		}
		return s.renderEditor(c, statusFor(err), cur, f, "")
	}
	return seeOther(c, "/admin/posts/"+strconv.FormatInt(p.ID, 10)+"/edit?done=saved")
}

func (s *Server) updateFromForm(c echo.Context, id int64, in cms.PostInput) (*cms.Post, error) {
	at, err := formTime(c, "updated_at")
	if err != nil {
		return nil, err
	}
	return s.cms.Posts.Update(c.Request().Context(), userOf(c), id, in, at)
}

// autosave saves the editor while the user types (htmx, every pause). It answers with the
// save state and the new version for the next save; a refusal is shown in the save state.
func (s *Server) autosave(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	in, _ := postForm(c)
	p, err := s.updateFromForm(c, id, in)
	if err != nil {
		var f templates.Form
		if !formErrors(err, &f) {
			return err
		}
		msg := f.Message
		for field, m := range f.Errors {
			msg = field + " " + m
		}
		return s.render(c, statusFor(err), templates.SaveState("Not saved: "+msg, "error"))
	}
	return s.render(c, http.StatusOK, templates.Autosaved(p))
}

// previewFragment renders markdown for the live preview.
func (s *Server) previewFragment(c echo.Context) error {
	return s.render(c, http.StatusOK, templates.Preview(s.preview(c.FormValue("markdown"))))
}

func (s *Server) preview(md string) string {
	html, err := s.markdown.Render(md)
	if err != nil {
		return ""
	}
	return html
}

// postActionPage runs a status change from a button and returns to the page it came from.
func (s *Server) postActionPage(action string) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		if _, err := s.postAction(c.Request().Context(), userOf(c), id, action, nil, formDecision(c)); err != nil {
			if action == "approve" || action == "reject" {
				return err
			}
			return s.editorSideError(c, id, "status", err)
		}
		back := "/edit"
		if action == "approve" || action == "reject" {
			back = "/review"
		}
		return seeOther(c, "/admin/posts/"+strconv.FormatInt(id, 10)+back+"?done="+action)
	}
}

// formDecision reads the review form: the accepted change ids (checkboxes named accept; with
// the form's decide field present, none checked means none accepted) and the comment.
func formDecision(c echo.Context) cms.Decision {
	d := cms.Decision{Comment: c.FormValue("comment")}
	if c.FormValue("decide") != "" {
		form, _ := c.FormParams()
		d.Accept = append([]string{}, form["accept"]...)
	}
	return d
}

// schedulePage sets (or, empty, clears) the time a post publishes itself.
func (s *Server) schedulePage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var at time.Time
	if v := c.FormValue("publish_at"); v != "" {
		if at, err = time.ParseInLocation("2006-01-02T15:04", v, s.site(c).Location()); err != nil {
			return s.editorSideError(c, id, "schedule", engine.FieldError("publish_at", "is not a date and time"))
		}
	}
	if _, err := s.cms.Posts.SchedulePublish(c.Request().Context(), userOf(c), id, at); err != nil {
		return s.editorSideError(c, id, "schedule", err)
	}
	return seeOther(c, "/admin/posts/"+strconv.FormatInt(id, 10)+"/edit?done=schedule")
}

// restorePage makes an old revision current again.
func (s *Server) restorePage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	rev, err := pathID(c, "rev")
	if err != nil {
		return err
	}
	if _, err := s.cms.Posts.Restore(c.Request().Context(), userOf(c), id, rev); err != nil {
		return err
	}
	return seeOther(c, "/admin/posts/"+strconv.FormatInt(id, 10)+"/edit?done=restore")
}

// deletePostPage deletes a post.
func (s *Server) deletePostPage(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := s.removePost(c.Request().Context(), userOf(c), id); err != nil {
		return err
	}
	return seeOther(c, "/admin/posts")
}

// postStateFragment is the post page's review state (htmx polling while the post is in
// review): the post is first made to agree with its run; when its status moved since the
// page was drawn, the page reloads to show the new actions.
func (s *Server) postStateFragment(c echo.Context) error {
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
	if was := c.QueryParam("was"); was != "" && was != string(p.Status) {
		c.Response().Header().Set("HX-Refresh", "true")
	}
	review, err := s.latestReview(ctx, id)
	if err != nil {
		return err
	}
	pending, err := s.cms.Posts.PendingUpdate(ctx, p)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, templates.ReviewState(templates.Editor{Post: p, Review: review, PendingUpdate: pending}))
}

// postRunsFragment is the live list of a post's runs (htmx polling).
func (s *Server) postRunsFragment(c echo.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	runs, err := s.postRuns(c.Request().Context(), id)
	if err != nil {
		return err
	}
	labels, err := s.runLabels(c.Request().Context(), runs, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, templates.PostRuns(id, runs, labels))
}

// statusFor is the HTTP status of a user-facing error.
func statusFor(err error) int {
	if s, ok := statusOf[engine.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

func pageParam(c echo.Context) int {
	p, err := strconv.Atoi(c.QueryParam("page"))
	if err != nil || p < 1 {
		return 1
	}
	return min(p, 100000)
}

func pages(total int64, size int) int {
	return max(1, int((total+int64(size)-1)/int64(size)))
}
