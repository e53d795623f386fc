package cms

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// FuzzMarkdownSanitized renders arbitrary markdown (with raw HTML in it) and checks the
// sanitized output as a browser would parse it: no script-capable element, no on* event
// handler attribute, and no link or source whose URL runs script (javascript:, vbscript:,
// data:). Seeds: the classic XSS vectors below plus testdata/fuzz/FuzzMarkdownSanitized.
func FuzzMarkdownSanitized(f *testing.F) {
	for _, s := range []string{
		"# Hello\n\nplain *text* with [a link](https://example.com)",
		"<script>alert(1)</script>",
		"<img src=x onerror=alert(1)>",
		"<a href=\"javascript:alert(1)\">x</a>",
		"[x](javascript:alert(1))",
		"[x](JaVaScRiPt:alert(1))",
		"[x](java\tscript:alert(1))",
		"[x](&#106;avascript:alert(1))",
		"![x](javascript:alert(1))",
		"<svg onload=alert(1)>",
		"<iframe src=\"https://evil.example\"></iframe>",
		"<div style=\"background:url(javascript:alert(1))\">x</div>",
		"<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
		"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
		"<<script>script>alert(1)<</script>/script>",
		"```html\n<script>alert(1)</script>\n```",
		"<details open ontoggle=alert(1)>",
		"[x]: javascript:alert(1)\n\n[link][x]",
		"<form action=javascript:alert(1)><button>x</button></form>",
		"<object data=\"javascript:alert(1)\"></object>",
	} {
		f.Add(s)
	}
	r := NewRenderer()
	f.Fuzz(func(t *testing.T, md string) {
		out, err := r.Render(md)
		if err != nil {
			return
		}
		if bad := unsafeHTML(out); bad != "" {
			t.Fatalf("sanitized output has %s:\n%s\nfrom markdown %q", bad, out, md)
		}
	})
}

// unsafeHTML returns what in s could run script, or "".
func unsafeHTML(s string) string {
	if strings.Contains(strings.ToLower(s), "<script") {
		return "a <script"
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "object", "embed", "style", "form", "base", "meta", "link", "svg", "math":
				return "a <" + tok.Data + "> element"
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				if strings.HasPrefix(key, "on") {
					return "an event handler attribute " + a.Key
				}
				if key == "style" {
					return "a style attribute"
				}
				if key == "href" || key == "src" || key == "action" || key == "formaction" || key == "xlink:href" {
					if scriptURL(a.Val) {
						return "a script URL " + a.Key + "=" + a.Val
					}
				}
			}
		}
	}
}

// scriptURL reports whether a URL's scheme, as a browser reads it (ignoring case, spaces and
// control characters), can run script.
func scriptURL(u string) bool {
	var b strings.Builder
	for _, c := range u {
		if c > ' ' {
			b.WriteRune(c)
		}
	}
	v := strings.ToLower(b.String())
	return strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:")
}
