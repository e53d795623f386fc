package templates

import (
	"encoding/json"
	"strconv"
	"strings"
)

// maxShownJSON bounds the JSON a page shows per value: outputs may be megabytes.
const maxShownJSON = 64 << 10

// maxIndentLevels bounds the indentation of one line: deeper levels are shown at this depth,
// so a value nested thousands deep costs the page what it shows, not depth × lines.
const maxIndentLevels = 32

// prettyJSON indents raw for people to read and cuts it at maxShownJSON. It indents as it
// goes and stops once the cut is reached, so the work is linear in what is shown (plus one
// validity scan of raw): indenting a whole 54 KB value nested 9,000 deep before cutting it
// once took a page 9 s and 1.9 GB.
func prettyJSON(raw json.RawMessage) string {
	if !json.Valid(raw) {
		return cut(string(raw), len(raw))
	}
	var b strings.Builder
	depth := 0
	newline := func() {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("  ", min(depth, maxIndentLevels)))
	}
	inString, escaped := false, false
	for i := 0; i < len(raw) && b.Len() <= maxShownJSON; i++ {
		c := raw[i]
		if inString {
			b.WriteByte(c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
		case '"':
			inString = true
			b.WriteByte(c)
		case '{', '[':
			b.WriteByte(c)
			if j := nextNonSpace(raw, i+1); j < len(raw) && (raw[j] == '}' || raw[j] == ']') {
				b.WriteByte(raw[j])
				i = j
				continue
			}
			depth++
			newline()
		case '}', ']':
			depth--
			newline()
			b.WriteByte(c)
		case ',':
			b.WriteByte(c)
			newline()
		case ':':
			b.WriteString(": ")
		default:
			b.WriteByte(c)
		}
	}
	text := string(unescapeHTMLChars([]byte(b.String())))
	if b.Len() > maxShownJSON {
		return cut(text, len(raw))
	}
	return text
}

func nextNonSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// cut shortens text to maxShownJSON and says how big the whole value is.
func cut(text string, total int) string {
	if len(text) <= maxShownJSON {
		return text
	}
	return text[:maxShownJSON] + "\n… (" + strconv.Itoa(total) + " bytes in all; GET /api/runs/{id} has the whole value)"
}
