// Package templates holds inkflow's templ components: the public blog, the admin pages and
// the layouts they share. Components read the signed-in user and the CSRF token from the
// request context (WithViewer), so handlers render with c.Request().Context() and htmx
// fragments come from the same components as full pages.
//
// Edit the *.templ files and run `go tool templ generate`; the generated *_templ.go files are
// committed and never edited by hand.
package templates
