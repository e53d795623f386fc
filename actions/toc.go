package actions

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"

	"github.com/inkflow/inkflow/actions/ai"
)

// The lines that fence a table of contents in a post's markdown. They are HTML comments, so
// the blog never shows them, and they let a later run replace the ToC instead of adding a
// second one. The start line records the deepest heading level listed:
// "<!-- toc max-level=3 -->".
const (
	tocStart = "<!-- toc"
	tocEnd   = "<!-- /toc -->"
)

// TOCEntry is one line of a table of contents: a heading and the label that links to it.
type TOCEntry struct {
	Level  int    `json:"level"`
	Anchor string `json:"anchor"`
	Label  string `json:"label"`
}

// Outline returns the headings of markdown, with the anchors the blog renders for them, and
// where a table of contents goes: after a leading level-1 heading (the post's own title,
// which is then not listed), or at the top. Markdown is parsed as cms.Renderer parses it
// (goldmark, GFM, automatic heading ids), so the anchors always match the rendered page.
// A table of contents already in the markdown is ignored; call StripTOC first.
func Outline(markdown string) (headings []ai.Heading, insertAt int) {
	src := []byte(markdown)
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM, extension.Footnote),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
	doc := md.Parser().Parse(text.NewReader(src))
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		h, ok := n.(*ast.Heading)
		if !ok {
			continue
		}
		id, _ := h.AttributeString("id")
		anchor := ""
		switch v := id.(type) {
		case []byte:
			anchor = string(v)
		case string:
			anchor = v
		}
		if n == doc.FirstChild() && h.Level == 1 {
			insertAt = lineEnd(src, h)
			continue
		}
		headings = append(headings, ai.Heading{Level: h.Level, Text: plainText(h, src), Anchor: anchor})
	}
	return headings, insertAt
}

// lineEnd is the offset just past the last line of heading h, including a setext underline.
func lineEnd(src []byte, h *ast.Heading) int {
	lines := h.Lines()
	if lines.Len() == 0 {
		return 0
	}
	end := lines.At(lines.Len() - 1).Stop
	if i := bytes.IndexByte(src[end:], '\n'); i >= 0 {
		end += i + 1
	} else {
		return len(src)
	}
	// A setext heading's "===" line is not part of its content lines.
	next := src[end:]
	if i := bytes.IndexByte(next, '\n'); i >= 0 {
		next = next[:i+1]
	}
	if t := bytes.TrimSpace(next); len(t) > 0 && len(bytes.Trim(t, "=")) == 0 {
		end += len(next)
	}
	return end
}

// plainText is the text of a heading without markdown: link text, code, emphasis contents.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Segment.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		}
		return ast.WalkContinue, nil
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// TOCMarkdown renders a table of contents of headings up to maxLevel: a bold title and a
// nested list of links, fenced by the ToC markers.
func TOCMarkdown(title string, maxLevel int, entries []TOCEntry) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s max-level=%d -->\n", tocStart, maxLevel)
	if title != "" {
		fmt.Fprintf(&b, "**%s**\n\n", strings.TrimSpace(title))
	}
	top := 6
	for _, e := range entries {
		top = min(top, e.Level)
	}
	depth := -1
	for _, e := range entries {
		// Indent by level, but never more than one step deeper than the line before, so that
		// skipped levels (h2 then h4) still make a valid nested list.
		depth = min(e.Level-top, depth+1)
		fmt.Fprintf(&b, "%s- [%s](#%s)\n", strings.Repeat("  ", depth), escapeLabel(e.Label), e.Anchor)
	}
	b.WriteString("\n" + tocEnd)
	return b.String()
}

// InsertTOC puts the rendered table of contents at offset at of markdown (from Outline).
func InsertTOC(markdown string, at int, toc string) string {
	before := strings.TrimRight(markdown[:at], "\n")
	after := strings.TrimLeft(markdown[at:], "\n")
	out := toc + "\n"
	if before != "" {
		out = before + "\n\n" + out
	}
	if after != "" {
		out += "\n" + after
	}
	return out
}

// StrippedTOC is what StripTOC found.
type StrippedTOC struct {
	Title    string
	MaxLevel int
	Entries  []TOCEntry
}

// StripTOC removes a table of contents written by this package and returns the markdown
// without it and what it held (nil when there was none).
func StripTOC(markdown string) (string, *StrippedTOC) {
	startRE := regexp.MustCompile(`(?m)^<!-- toc(?: max-level=(\d))? -->\n`)
	lineRE := regexp.MustCompile(`^\s*- \[((?:\\.|[^\]\\])*)\]\(#([^)]*)\)\s*$`)
	loc := startRE.FindStringSubmatchIndex(markdown)
	if loc == nil {
		return markdown, nil
	}
	start, bodyStart := loc[0], loc[1]
	endRel := strings.Index(markdown[bodyStart:], tocEnd)
	if endRel < 0 {
		return markdown, nil
	}
	found := &StrippedTOC{MaxLevel: 6}
	if loc[2] >= 0 {
		found.MaxLevel = int(markdown[loc[2]] - '0')
	}
	end := bodyStart + endRel + len(tocEnd)
	for _, line := range strings.Split(markdown[bodyStart:bodyStart+endRel], "\n") {
		if m := lineRE.FindStringSubmatch(line); m != nil {
			found.Entries = append(found.Entries, TOCEntry{Label: unescapeLabel(m[1]), Anchor: m[2]})
		} else if t := strings.TrimSpace(line); strings.HasPrefix(t, "**") && strings.HasSuffix(t, "**") && len(t) > 4 {
			found.Title = t[2 : len(t)-2]
		}
	}
	before := strings.TrimRight(markdown[:start], "\n")
	after := strings.TrimLeft(markdown[end:], "\n")
	switch {
	case before == "":
		return after, found
	case after == "":
		return before + "\n", found
	}
	return before + "\n\n" + after, found
}

// RefreshTOC rebuilds a table of contents after the headings may have changed (a grammar
// review reworded one). Markdown without a ToC is returned unchanged.
func RefreshTOC(markdown string) string {
	rest, old := StripTOC(markdown)
	if old == nil {
		return markdown
	}
	return RestoreTOC(rest, old)
}

// RestoreTOC puts the table of contents old (from StripTOC) back into markdown whose
// headings may have changed: anchors are recomputed from the headings; labels are kept by
// position when the number of headings is unchanged, else taken from the headings.
func RestoreTOC(markdown string, old *StrippedTOC) string {
	headings, at := Outline(markdown)
	entries := tocEntries(headings, old.MaxLevel)
	for i := range entries {
		if len(old.Entries) == len(entries) && strings.TrimSpace(old.Entries[i].Label) != "" {
			entries[i].Label = old.Entries[i].Label
		}
	}
	if len(entries) == 0 {
		return markdown
	}
	return InsertTOC(markdown, at, TOCMarkdown(old.Title, old.MaxLevel, entries))
}

// tocEntries lists the headings up to maxLevel, labelled with their own text.
func tocEntries(headings []ai.Heading, maxLevel int) []TOCEntry {
	var out []TOCEntry
	for _, h := range headings {
		if h.Level <= maxLevel {
			out = append(out, TOCEntry{Level: h.Level, Anchor: h.Anchor, Label: h.Text})
		}
	}
	return out
}

func escapeLabel(s string) string {
	return strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`, "\n", " ").Replace(strings.TrimSpace(s))
}

func unescapeLabel(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\[`, `[`, `\]`, `]`).Replace(s)
}
