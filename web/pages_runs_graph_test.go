package web

import (
	"encoding/json"
	"testing"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
)

func testWorkflow(t *testing.T, raw string) *workflow.Workflow {
	t.Helper()
	var wf workflow.Workflow
	if err := json.Unmarshal([]byte(raw), &wf); err != nil {
		t.Fatal(err)
	}
	return &wf
}

func TestRunGraphLayout(t *testing.T) {
	wf := testWorkflow(t, `{"actions":[{"id":"a","kind":"log"},{"id":"b","kind":"log"},{"id":"c","kind":"log"},{"id":"d","kind":"log"}],
		"edges":[{"from":"$source","to":"a"},{"from":"$source","to":"b"},{"from":"a","to":"c"},{"from":"b","to":"d"},{"from":"c","to":"d","conditional":{"type":"if","ref":"!ref($.output)"}}]}`)
	g := runGraph(wf, &engine.Run{Status: engine.StatusQueued, EventName: "x.y"})
	y := map[string]int{}
	for _, n := range g.Nodes {
		y[n.ID] = n.Y
		if n.X < 0 || n.X+n.W > g.Width || n.Y+n.H > g.Height {
			t.Errorf("node %s at (%d,%d) is outside %dx%d", n.ID, n.X, n.Y, g.Width, g.Height)
		}
	}
	// d sits below its deepest predecessor c, which sits below a; a and b share a layer.
	if !(y["$source"] < y["a"] && y["a"] == y["b"] && y["a"] < y["c"] && y["c"] < y["d"]) {
		t.Errorf("layers: %v", y)
	}
	if len(g.Edges) != 5 {
		t.Errorf("%d edges", len(g.Edges))
	}
	for _, e := range g.Edges {
		if e.From == "c" && e.Label != "if" {
			t.Errorf("conditional edge label %q", e.Label)
		}
	}
}
