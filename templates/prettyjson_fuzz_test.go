package templates

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzPrettyJSON: whatever a page is given, it shows at most the cut (plus its note), and a
// small valid value exactly as json.Indent would show it.
func FuzzPrettyJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"}"}]}`, `[[[[[]]]]]`, `"x\"y"`, `{"\u003c":1}`, `not json`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := prettyJSON(json.RawMessage(raw))
		if len(got) > maxShownJSON+200 {
			t.Fatalf("shows %d bytes", len(got))
		}
		var want bytes.Buffer
		if json.Indent(&want, raw, "", "  ") == nil && want.Len() < maxShownJSON && bytes.Count(raw, []byte("[")) < maxIndentLevels && bytes.Count(raw, []byte("{")) < maxIndentLevels {
			// json.Indent keeps the trailing space after the value; the page need not.
			if w := strings.TrimRight(string(unescapeHTMLChars(want.Bytes())), " \t\r\n"); got != w && json.Valid(raw) {
				t.Fatalf("prettyJSON(%q) = %q, want %q", raw, got, w)
			}
		}
	})
}
