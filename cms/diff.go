package cms

import (
	"strings"
	"unicode"
)

// DiffOp is one piece of a word-level diff: text kept, inserted or deleted.
type DiffOp struct {
	Kind DiffKind
	Text string
}

// DiffKind says what a DiffOp does.
type DiffKind int

const (
	// DiffEqual is text in both versions.
	DiffEqual DiffKind = iota
	// DiffInsert is text only in the new version.
	DiffInsert
	// DiffDelete is text only in the old version.
	DiffDelete
)

// maxDiffCells bounds the work of WordDiff (old words x new words after the common prefix and
// suffix are removed); past it the changed middle is shown as one deletion and one insertion.
const maxDiffCells = 4_000_000

// WordDiff compares old and new word by word (whitespace and punctuation are tokens of their
// own) and returns the shortest edit as runs of equal, deleted and inserted text.
func WordDiff(old, new string) []DiffOp {
	a, b := tokenize(old), tokenize(new)
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var ops []DiffOp
	ops = appendOp(ops, DiffEqual, a[:pre]...)
	ops = append(ops, lcsDiff(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	ops = appendOp(ops, DiffEqual, a[len(a)-suf:]...)
	return merge(ops)
}

// lcsDiff diffs two token lists by longest common subsequence.
func lcsDiff(a, b []string) []DiffOp {
	if len(a) == 0 || len(b) == 0 || len(a)*len(b) > maxDiffCells {
		return append(appendOp(nil, DiffDelete, a...), appendOp(nil, DiffInsert, b...)...)
	}
	// l[i][j] = LCS length of a[i:] and b[j:], in one flat slice.
	w := len(b) + 1
	l := make([]int32, (len(a)+1)*w)
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i*w+j] = l[(i+1)*w+j+1] + 1
			} else {
				l[i*w+j] = max(l[(i+1)*w+j], l[i*w+j+1])
			}
		}
	}
	var ops []DiffOp
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			ops = appendOp(ops, DiffEqual, a[i])
			i, j = i+1, j+1
		case l[(i+1)*w+j] >= l[i*w+j+1]:
			ops = appendOp(ops, DiffDelete, a[i])
			i++
		default:
			ops = appendOp(ops, DiffInsert, b[j])
			j++
		}
	}
	ops = appendOp(ops, DiffDelete, a[i:]...)
	return appendOp(ops, DiffInsert, b[j:]...)
}

func appendOp(ops []DiffOp, k DiffKind, toks ...string) []DiffOp {
	if len(toks) == 0 {
		return ops
	}
	return append(ops, DiffOp{Kind: k, Text: strings.Join(toks, "")})
}

// merge joins neighbours of one kind, and lets whitespace between two changes belong to the
// change, so "a b" -> "c d" reads as one replacement rather than four.
func merge(ops []DiffOp) []DiffOp {
	var out []DiffOp
	for _, op := range ops {
		if n := len(out); n > 0 && out[n-1].Kind == op.Kind {
			out[n-1].Text += op.Text
			continue
		}
		out = append(out, op)
	}
	return out
}

// tokenize splits s into words, runs of whitespace, and single other characters.
func tokenize(s string) []string {
	var toks []string
	start := -1
	kind := 0 // 1 word, 2 space
	flush := func(i int) {
		if start >= 0 {
			toks = append(toks, s[start:i])
			start = -1
		}
	}
	for i, r := range s {
		k := 3
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' || r == '_':
			k = 1
		case unicode.IsSpace(r):
			k = 2
		}
		if k != kind || k == 3 {
			flush(i)
			start, kind = i, k
		}
	}
	flush(len(s))
	return toks
}
