package cms

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Slugify turns text into a URL slug: lower case ASCII letters and digits joined by single
// dashes, accents dropped ("Hello, Wörld!" -> "hello-world"), at most 80 characters.
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r): // combining accent: drop
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(unicode.ToLower(r))
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= 80 {
			break
		}
	}
	return strings.Trim(b.String(), "-")
}

// NormalizeTags cleans tags: spaces trimmed and collapsed, at most 50 characters, no comma,
// deduplicated by slug (the first spelling wins), order kept, at most 20. A tag with nothing
// to slug ("!!!") is dropped.
func NormalizeTags(in []string) Tags {
	out := Tags{}
	for _, t := range in {
		t = strings.Join(strings.Fields(strings.ReplaceAll(t, ",", " ")), " ")
		if r := []rune(t); len(r) > 50 {
			t = strings.TrimSpace(string(r[:50]))
		}
		if TagSlug(t) == "" || out.Has(t) {
			continue
		}
		out = append(out, t)
		if len(out) == 20 {
			break
		}
	}
	return out
}
