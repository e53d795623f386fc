package actions_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/cms"
)

const article = "# Durable workflows\n\nIntro text.\n\n## Why `steps`?\n\nText.\n\n### Memoized **results**\n\n" +
	"```md\n## Not a heading\n```\n\n## Why `steps`?\n\nAgain.\n\nSetext [link](https://x.dev) heading\n---\n\n#### Deep\n\nEnd.\n"

func TestOutline(t *testing.T) {
	headings, at := actions.Outline(article)
	want := []ai.Heading{
		{Level: 2, Text: "Why steps?", Anchor: "why-steps"},
		{Level: 3, Text: "Memoized results", Anchor: "memoized-results"},
		{Level: 2, Text: "Why steps?", Anchor: "why-steps-1"},
		// goldmark derives ids from the raw heading text, link target included: what the page has.
		{Level: 2, Text: "Setext link heading", Anchor: "setext-linkhttpsxdev-heading"},
		{Level: 4, Text: "Deep", Anchor: "deep"},
	}
	if len(headings) != len(want) {
		t.Fatalf("headings = %+v", headings)
	}
	for i := range want {
		if headings[i] != want[i] {
			t.Errorf("heading %d = %+v, want %+v", i, headings[i], want[i])
		}
	}
	if got := article[:at]; got != "# Durable workflows\n" {
		t.Errorf("ToC goes after %q, want after the title heading", got)
	}
}

func TestOutlineWithoutTitleInsertsAtTop(t *testing.T) {
	for _, md := range []string{"## A\n\ntext\n", "Intro\n\n# A\n"} {
		if _, at := actions.Outline(md); at != 0 {
			t.Errorf("Outline(%q) insert at %d, want 0", md, at)
		}
	}
	if _, at := actions.Outline("Title\n=====\n\n## A\n"); at != len("Title\n=====\n") {
		t.Errorf("setext title: insert at %d", at)
	}
}

// TestTOCLinksMatchRenderedAnchors renders the post with the blog's own renderer and checks
// that every ToC link points at a heading id on the page.
func TestTOCLinksMatchRenderedAnchors(t *testing.T) {
	headings, at := actions.Outline(article)
	var entries []actions.TOCEntry
	for _, h := range headings {
		entries = append(entries, actions.TOCEntry{Level: h.Level, Anchor: h.Anchor, Label: h.Text})
	}
	md := actions.InsertTOC(article, at, actions.TOCMarkdown("Contents", 6, entries))
	html, err := cms.NewRenderer().Render(md)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`id="([^"]+)"`).FindAllStringSubmatch(html, -1) {
		ids[m[1]] = true
	}
	links := regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(html, -1)
	if len(links) != len(entries) {
		t.Fatalf("rendered %d ToC links, want %d:\n%s", len(links), len(entries), html)
	}
	for _, l := range links {
		if !ids[l[1]] {
			t.Errorf("ToC link #%s has no heading with that id:\n%s", l[1], html)
		}
	}
	if strings.Contains(html, "max-level") || strings.Contains(html, "/toc") {
		t.Errorf("ToC markers leak into the page:\n%s", html)
	}
	if !strings.Contains(html, "<strong>Contents</strong>") {
		t.Errorf("ToC title missing:\n%s", html)
	}
	// The nested list follows the levels, with the skipped level 3 -> 4 kept valid.
	if !strings.Contains(md, "- [Why steps?](#why-steps)\n  - [Memoized results](#memoized-results)\n- [Why steps?](#why-steps-1)\n- [Setext link heading](#setext-linkhttpsxdev-heading)\n  - [Deep](#deep)\n") {
		t.Errorf("ToC list:\n%s", md)
	}
}

func TestStripTOCRoundTrip(t *testing.T) {
	headings, at := actions.Outline(article)
	entries := []actions.TOCEntry{{Level: 2, Anchor: headings[0].Anchor, Label: "Why [steps]"}}
	with := actions.InsertTOC(article, at, actions.TOCMarkdown("In this post", 2, entries))
	rest, found := actions.StripTOC(with)
	if found == nil {
		t.Fatal("ToC not found")
	}
	if rest != article {
		t.Errorf("strip did not restore the article:\n%q\n%q", rest, article)
	}
	if found.Title != "In this post" || found.MaxLevel != 2 || len(found.Entries) != 1 || found.Entries[0].Label != "Why [steps]" {
		t.Errorf("found = %+v", found)
	}
	if again, _ := actions.StripTOC(rest); again != rest {
		t.Error("stripping markdown without a ToC changed it")
	}
}

func TestRefreshTOCAfterHeadingChange(t *testing.T) {
	md := "# T\n\n## Teh start\n\ntext\n\n## End\n"
	headings, at := actions.Outline(md)
	entries := []actions.TOCEntry{
		{Level: 2, Anchor: headings[0].Anchor, Label: "Start here"},
		{Level: 2, Anchor: headings[1].Anchor, Label: "The end"},
	}
	withTOC := actions.InsertTOC(md, at, actions.TOCMarkdown("Contents", 3, entries))
	fixed := strings.Replace(withTOC, "## Teh start", "## The start", 1)
	got := actions.RefreshTOC(fixed)
	if !strings.Contains(got, "- [Start here](#the-start)\n- [The end](#end)\n") {
		t.Errorf("refreshed ToC must keep labels and follow the new anchor:\n%s", got)
	}
	if strings.Count(got, "<!-- toc") != 1 {
		t.Errorf("want exactly one ToC:\n%s", got)
	}
	if plain := "no toc here\n"; actions.RefreshTOC(plain) != plain {
		t.Error("RefreshTOC changed markdown without a ToC")
	}
}
