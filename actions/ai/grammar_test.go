package ai_test

import (
	"strings"
	"testing"

	"github.com/inkflow/inkflow/actions/ai"
)

func TestFixGrammar(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		reasons []string
	}{
		{"misspelling keeps case", "Teh cat will recieve it.", "The cat will receive it.",
			[]string{`common misspelling of "The"`, `common misspelling of "receive"`}},
		{"repeated word", "We ran the the tests.", "We ran the tests.", []string{`repeated word "the"`}},
		{"triple repeat", "It is very very very fast and and done.", "It is very very very fast and done.", []string{`repeated word "and"`}},
		{"legitimate repeat kept", "He had had enough; that that is fine.", "He had had enough; that that is fine.", nil},
		{"extra spaces", "Steps  are   memoized.", "Steps are memoized.", []string{"extra spaces between words", "extra spaces between words"}},
		{"space before punctuation", "Fast , durable ; and done .", "Fast, durable; and done.",
			[]string{"no space before punctuation", "no space before punctuation", "no space before punctuation"}},
		{"capital after full stop", "It works. then it stops! why? because.", "It works. Then it stops! Why? Because.",
			[]string{"a sentence starts with a capital letter", "a sentence starts with a capital letter", "a sentence starts with a capital letter"}},
		{"abbreviations and initials kept", "Use tools, e.g. the CLI, etc. and J. doe too.", "Use tools, e.g. the CLI, etc. and J. doe too.", nil},
		{"mixed-case word kept", "Buy it. iPhone users agree.", "Buy it. iPhone users agree.", nil},
		{"pronoun i", "Then i said i'm done.", "Then I said I'm done.", []string{`the pronoun "I" is capitalised`, `the pronoun "I" is capitalised`}},
		{"hard line break kept", "First line  \nsecond line", "First line  \nsecond line", nil},
		{"list marker gap kept", "1.  first item\n-   second", "1.  first item\n-   second", nil},
		{"inline code untouched", "Run `teh  the the` now.", "Run `teh  the the` now.", nil},
		{"double backtick code", "See ``a `teh` b`` here.", "See ``a `teh` b`` here.", nil},
		{"link target untouched", "[teh docs](https://x.dev/teh  page. the) here", "[the docs](https://x.dev/teh  page. the) here",
			[]string{`common misspelling of "the"`}},
		{"bare URL untouched", "See https://example.com/recieve. the end", "See https://example.com/recieve. the end", nil},
		{"fenced code untouched", "```go\nteh  the the\n```\nteh", "```go\nteh  the the\n```\nthe", []string{`common misspelling of "the"`}},
		{"tilde fence", "~~~\nteh\n~~~", "~~~\nteh\n~~~", nil},
		{"indented code untouched", "text\n\n    teh  code\n", "text\n\n    teh  code\n", nil},
		{"front matter untouched", "---\ntitle: teh\n---\nteh", "---\ntitle: teh\n---\nthe", []string{`common misspelling of "the"`}},
		{"html line untouched", "<div>teh</div>", "<div>teh</div>", nil},
		{"reference definition untouched", "[1]: https://teh.example  title", "[1]: https://teh.example  title", nil},
		{"dot net kept", "I use .NET daily.", "I use .NET daily.", nil},
		{"ellipsis kept", "Wait... then go.", "Wait... then go.", nil},
		{"clean text unchanged", "Durable steps never run twice.", "Durable steps never run twice.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changes := ai.FixGrammar(tt.in)
			if got != tt.want {
				t.Errorf("FixGrammar(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			var reasons []string
			for _, c := range changes {
				reasons = append(reasons, c.Reason)
				if c.Original == c.Revised || c.Reason == "" {
					t.Errorf("change %+v must change something and say why", c)
				}
			}
			if strings.Join(reasons, "|") != strings.Join(tt.reasons, "|") {
				t.Errorf("reasons = %q, want %q", reasons, tt.reasons)
			}
		})
	}
}

func TestFixGrammarChangeShowsTheFix(t *testing.T) {
	_, changes := ai.FixGrammar("We ran the the tests  today.")
	want := []ai.Change{
		{Original: "the the", Revised: "the", Reason: `repeated word "the"`},
		{Original: "tests  today.", Revised: "tests today.", Reason: "extra spaces between words"},
	}
	if len(changes) != len(want) {
		t.Fatalf("changes = %+v", changes)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Errorf("change %d = %+v, want %+v", i, changes[i], want[i])
		}
	}
}
