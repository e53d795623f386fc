package templates

import (
	"context"
	"time"

	"github.com/inkflow/inkflow/cms"
)

// Viewer is who is looking at a page: the signed-in user (nil for a reader) and the CSRF
// token every form and htmx request must carry.
type Viewer struct {
	User *cms.User
	CSRF string
	// Path is the request path, to highlight the current section in the navigation.
	Path string
	// Site is the site's settings: its title in titles and the header, its base URL for
	// canonical links and Open Graph tags, its time zone for dates.
	Site cms.Site
	// ReviewCount counts the posts waiting for an approver, for the navigation (nil: none);
	// it is called only when a page shows it.
	ReviewCount func(ctx context.Context) int64
}

// reviewCount is the number of posts waiting for an approver, for the navigation.
func reviewCount(ctx context.Context) int64 {
	v := ViewerFrom(ctx)
	if v.ReviewCount == nil || !v.Can(cms.RoleApprover) {
		return 0
	}
	return v.ReviewCount(ctx)
}

type viewerKey struct{}

// WithViewer returns ctx carrying v; the web middleware sets it on every request.
func WithViewer(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the viewer in ctx, or an anonymous one.
func ViewerFrom(ctx context.Context) *Viewer {
	if v, ok := ctx.Value(viewerKey{}).(*Viewer); ok && v != nil {
		return v
	}
	return &Viewer{Site: cms.Site{Title: "inkflow"}}
}

// Can reports whether the viewer is signed in with at least role.
func (v *Viewer) Can(role cms.Role) bool {
	return v.User != nil && v.User.Role.AtLeast(role)
}

func siteName(ctx context.Context) string {
	if n := ViewerFrom(ctx).Site.Title; n != "" {
		return n
	}
	return "inkflow"
}

// localTime is t in the site's time zone.
func localTime(ctx context.Context, t time.Time) time.Time {
	return t.In(ViewerFrom(ctx).Site.Location())
}
