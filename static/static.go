// Package static embeds the files the pages load: the stylesheet, vendored htmx and the
// built workflow editor bundle (static/editor, built from web/editor).
package static

import "embed"

// FS holds every file in this folder (Go files included, harmlessly).
//
//go:embed *
var FS embed.FS
