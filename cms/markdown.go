package cms

import (
	"bytes"
	"fmt"

	chromahtml "github.com/alecthomas/chroma/v2/formatters/html"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	highlighting "github.com/yuin/goldmark-highlighting/v2"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// Renderer turns post markdown into HTML that is safe to put in a page: goldmark renders
// GitHub-flavoured markdown and bluemonday keeps only user-content tags and attributes, so a
// <script>, an on* handler or a javascript: link in a post never reaches a browser.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// NewRenderer returns a Renderer. It is safe for concurrent use.
func NewRenderer() *Renderer {
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM, extension.Footnote,
			// Code blocks with a language are highlighted by chroma into spans with classes
			// (static/css/site.css holds the colours), so the sanitizer below keeps no style
			// attribute and the page's CSP needs no inline styles.
			highlighting.NewHighlighting(highlighting.WithFormatOptions(chromahtml.WithClasses(true)))),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("id").Matching(bluemonday.SpaceSeparatedTokens).OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("class").Matching(bluemonday.SpaceSeparatedTokens).OnElements("code", "pre", "span")
	p.AllowAttrs("tabindex").Matching(bluemonday.Integer).OnElements("pre")
	p.RequireNoFollowOnLinks(true)
	return &Renderer{md: md, policy: p}
}

// Render returns sanitized HTML for markdown.
func (r *Renderer) Render(markdown string) (string, error) {
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(markdown), &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return r.policy.Sanitize(buf.String()), nil
}
