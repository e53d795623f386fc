package templates

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPrettyJSON(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"indented", `{"a":[1,2]}`, "{\n  \"a\": [\n    1,\n    2\n  ]\n}"},
		{"html escapes read as text", `"\u003cb\u003e \u0026"`, `"<b> &"`},
		{"an escaped backslash stays", `"\\u003c"`, `"\\u003c"`},
		{"other escapes stay", `"\u00e9\n"`, `"\u00e9\n"`},
		{"not JSON is shown as it is", `{oops`, `{oops`},
	}
	for _, c := range cases {
		if got := prettyJSON(json.RawMessage(c.in)); got != c.want {
			t.Errorf("%s: prettyJSON(%s) = %s, want %s", c.name, c.in, got, c.want)
		}
	}
	big := `"` + strings.Repeat("x", maxShownJSON+10) + `"`
	if got := prettyJSON(json.RawMessage(big)); len(got) > maxShownJSON+200 || !strings.Contains(got, "bytes in all") {
		t.Errorf("a large value is not cut: %d bytes", len(got))
	}
}
