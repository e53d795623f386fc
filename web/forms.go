package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/templates"
)

// postForm reads the editor form: the input for cms and the values to show again.
func postForm(c echo.Context) (cms.PostInput, templates.Form) {
	f := templates.Form{Values: map[string]string{}}
	get := func(name string) *string {
		v := c.FormValue(name)
		f.Values[name] = v
		return &v
	}
	in := cms.PostInput{Title: get("title"), Slug: get("slug"), Markdown: get("markdown"), Summary: get("summary")}
	tags := splitTags(*get("tags"))
	in.Tags = &tags
	return in, f
}

// postFormValues fills the editor form from a stored post.
func postFormValues(p *cms.Post) templates.Form {
	return templates.Form{Values: map[string]string{
		"title": p.Title, "slug": p.Slug, "markdown": p.Markdown, "summary": p.Summary, "tags": templates.TagsValue(p.Tags),
	}}
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// formTime reads the updated_at an edit is based on.
func formTime(c echo.Context, name string) (time.Time, error) {
	v := c.FormValue(name)
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, engine.FieldError(name, "is missing or not a time; reload the page")
	}
	return t, nil
}

// pathID reads the numeric path parameter name.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// seeOther redirects after a form post; htmx requests get HX-Redirect so the whole page
// navigates instead of swapping the next page into a fragment.
func seeOther(c echo.Context, url string) error {
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", url)
		return c.NoContent(http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, url)
}

// notices are the messages shown after an action, keyed by ?done=.
var notices = map[string]string{
	"created":   "Post created.",
	"saved":     "Saved.",
	"review":    "Sent to review: an approver decides on it.",
	"withdraw":  "Withdrawn from review: the post is a draft again and its review run was cancelled.",
	"approve":   "Approved: the accepted changes are applied.",
	"reject":    "Rejected: the post is back in draft, as written.",
	"publish":   "Published.",
	"unpublish": "Unpublished.",
	"draft":     "Back in draft.",
	"schedule":  "Publication scheduled.",
	"restore":   "Revision restored.",
	"cover":     "Cover image updated.",
	"invited":   "Invitation created.",
	"role":      "Role changed.",
	"disable":   "Account disabled; its sessions ended.",
	"enable":    "Account enabled.",
	"signup":    "Sign-up settings saved.",
	"settings":  "Site settings saved.",
	"password":  "Password changed.",
	// The workflow editor's Delete lands on the list with this.
	"workflow-deleted": "Workflow deleted: it starts no more runs; runs in flight finish on the version they started with.",
}

func notice(c echo.Context) string { return notices[c.QueryParam("done")] }
