package templates

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

// For values of ordinary depth the page shows what json.Indent would.
func TestPrettyJSONIndentsAsBefore(t *testing.T) {
	for _, raw := range []string{
		`{"a":1,"b":[1,2,{"c":null}],"d":{},"e":[],"f":"x{,}\"]y"}`,
		`[ ]`, `"s"`, `3.5`, `{"html":"\u003cb\u003e \\u003c"}`, `{ "sp" : [ 1 , 2 ] }`,
	} {
		var want bytes.Buffer
		if err := json.Indent(&want, []byte(raw), "", "  "); err != nil {
			t.Fatal(err)
		}
		if got := prettyJSON(json.RawMessage(raw)); got != string(unescapeHTMLChars(want.Bytes())) {
			t.Errorf("prettyJSON(%s) =\n%s\nwant\n%s", raw, got, want.String())
		}
	}
	if got := prettyJSON(json.RawMessage("not json")); got != "not json" {
		t.Errorf("invalid JSON shown as %q", got)
	}
}

// A 54 KB value nested 9,000 deep is shown cut, at a cost linear in what is shown: the output
// stays at the limit and one call allocates a few times that, not the hundreds of MiB that
// indenting it whole took (9 s and 1.9 GB on the page).
func TestPrettyJSONOfDeepNestingIsBounded(t *testing.T) {
	const depth = 9000
	raw := strings.Repeat(`[1,`, depth) + "1" + strings.Repeat("]", depth)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := prettyJSON(json.RawMessage(raw))
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	if len(got) > maxShownJSON+200 || !strings.Contains(got, "bytes in all") {
		t.Fatalf("shown %d bytes, want at most the cut (%d) and a note", len(got), maxShownJSON)
	}
	if allocated > 16<<20 {
		t.Fatalf("showing it allocated %d MiB", allocated>>20)
	}
}
