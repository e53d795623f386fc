package cms_test

import (
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
)

func TestWordDiff(t *testing.T) {
	show := func(ops []cms.DiffOp) string {
		var b strings.Builder
		for _, op := range ops {
			switch op.Kind {
			case cms.DiffEqual:
				b.WriteString(op.Text)
			case cms.DiffInsert:
				b.WriteString("{+" + op.Text + "+}")
			case cms.DiffDelete:
				b.WriteString("[-" + op.Text + "-]")
			}
		}
		return b.String()
	}
	cases := []struct{ old, new, want string }{
		{"same text", "same text", "same text"},
		{"teh cat sat", "the cat sat", "[-teh-]{+the+} cat sat"},
		{"a cat", "a black cat", "a {+black +}cat"},
		{"one two three", "one three", "one [-two -]three"},
		{"", "new", "{+new+}"},
		{"old", "", "[-old-]"},
		{"Its good, isnt it?", "It's good, isn't it?", "[-Its-]{+It's+} good, [-isnt-]{+isn't+} it?"},
	}
	for _, c := range cases {
		if got := show(cms.WordDiff(c.old, c.new)); got != c.want {
			t.Errorf("WordDiff(%q, %q) = %q, want %q", c.old, c.new, got, c.want)
		}
	}
	// Applying the diff gives back both texts, even for long inputs past the LCS budget.
	long := strings.Repeat("word ", 3000)
	for _, pair := range [][2]string{{long, "x " + long + " y"}, {long + "a", "b" + strings.Repeat("other ", 3000)}} {
		var o, n strings.Builder
		for _, op := range cms.WordDiff(pair[0], pair[1]) {
			if op.Kind != cms.DiffInsert {
				o.WriteString(op.Text)
			}
			if op.Kind != cms.DiffDelete {
				n.WriteString(op.Text)
			}
		}
		if o.String() != pair[0] || n.String() != pair[1] {
			t.Error("diff does not reproduce its inputs")
		}
	}
}
