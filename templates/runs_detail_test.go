package templates

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/engine"
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

// A run no live process can claim says so on its page, with what it waits for.
func TestRunPageSaysWhichWorkerARunWaitsFor(t *testing.T) {
	var b strings.Builder
	run := &engine.Run{Status: engine.StatusQueued, WaitingForWorker: "waiting for a worker that has function import-contacts"}
	if err := runWaiting(run).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `data-testid="run-waiting-worker"`) || !strings.Contains(b.String(), "waiting for a worker that has function import-contacts") {
		t.Errorf("run page: %s", b.String())
	}
	b.Reset()
	if err := runWaiting(&engine.Run{Status: engine.StatusQueued}).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "run-waiting-worker") {
		t.Errorf("a run some process can claim is labelled: %s", b.String())
	}
}
