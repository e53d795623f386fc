// Package editor embeds the built workflow editor bundle (editor.js, editor.css), so the
// binary serves it without node. The source is web/editor/; rebuild with
// `npm run build:editor` (or web/editor/build.sh) and commit both files: a test fails when
// the committed bundle differs from what the source builds to.
package editor

import "embed"

// FS holds editor.js and editor.css at its root.
//
//go:embed editor.js editor.css
var FS embed.FS
