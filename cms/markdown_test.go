package cms_test

import (
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
)

func TestRenderIsSafe(t *testing.T) {
	r := cms.NewRenderer()
	cases := []struct {
		in       string
		want     string
		mustLack []string
	}{
		{"# Title\n\nSome *text*.", `<h1 id="title">Title</h1>`, nil},
		{"<script>alert(1)</script>\n\nok", "ok", []string{"<script", "alert(1)</script"}},
		{`<img src="x" onerror="alert(1)">`, "", []string{"onerror"}},
		{"[click](javascript:alert(1))", "click", []string{"javascript:"}},
		{`<a href="/x" onclick="steal()">x</a>`, "", []string{"onclick"}},
		{"<iframe src=\"https://evil.example\"></iframe>", "", []string{"<iframe"}},
		{"| a | b |\n|---|---|\n| 1 | 2 |", "<table>", nil},
	}
	for _, c := range cases {
		out, err := r.Render(c.in)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, c.want) {
			t.Errorf("Render(%q) = %q, want %q in it", c.in, out, c.want)
		}
		for _, bad := range c.mustLack {
			if strings.Contains(strings.ToLower(out), bad) {
				t.Errorf("Render(%q) = %q, contains %q", c.in, out, bad)
			}
		}
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Hello, Wörld!":        "hello-world",
		"  --Go 1.26 is out--": "go-1-26-is-out",
		"日本語":                  "",
		"Crème Brûlée":         "creme-brulee",
	} {
		if got := cms.Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

// A fenced code block with a language is highlighted with chroma's classes (no inline style,
// which the CSP would block); its text stays escaped; a block without a language is plain.
func TestRenderHighlightsCode(t *testing.T) {
	out, err := cms.NewRenderer().Render("```go\nfunc main() { println(\"<script>\") }\n```\n\n```\nplain text\n```\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<pre class="chroma">`, `<span class="kd">func</span>`, `<span class="nf">main</span>`, "&lt;script&gt;", "<pre><code>plain text"} {
		if !strings.Contains(out, want) {
			t.Errorf("highlighted output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "style=") || strings.Contains(out, "<script>") {
		t.Errorf("inline style or raw script in the output:\n%s", out)
	}
}
