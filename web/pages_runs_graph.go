package web

import (
	"strconv"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/templates"
)

// Node size and spacing of the drawn graph, in SVG units.
const (
	nodeW, nodeH = 190, 46
	gapX, gapY   = 26, 56
	margin       = 16
)

// runGraph lays wf out top to bottom in layers (an action sits one layer below its deepest
// predecessor, the trigger on top) and colours each action by its state in run.
func runGraph(wf *workflow.Workflow, run *engine.Run) templates.RunGraph {
	states := workflow.ActionStates(wf, run)
	layer := layers(wf)
	rows := [][]string{{workflow.Source}}
	for _, a := range wf.Actions {
		l := layer[a.ID]
		for len(rows) <= l {
			rows = append(rows, nil)
		}
		rows[l] = append(rows[l], a.ID)
	}
	widest := 0
	for _, r := range rows {
		widest = max(widest, len(r))
	}
	g := templates.RunGraph{Width: 2*margin + widest*nodeW + (widest-1)*gapX, Height: 2*margin + len(rows)*nodeH + (len(rows)-1)*gapY}
	pos := map[string]templates.GraphNode{}
	for li, r := range rows {
		rowW := len(r)*nodeW + (len(r)-1)*gapX
		x0 := (g.Width - rowW) / 2
		for i, id := range r {
			n := templates.GraphNode{ID: id, X: x0 + i*(nodeW+gapX), Y: margin + li*(nodeH+gapY), W: nodeW, H: nodeH}
			if id == workflow.Source {
				n.Label, n.Kind, n.State = eventLabel(run), "trigger", "trigger"
			} else {
				a := wf.Action(id)
				n.Label, n.Kind, n.State = a.Name, a.Kind, states[id]
				if n.Label == "" {
					n.Label = a.ID
				}
			}
			pos[id] = n
			g.Nodes = append(g.Nodes, n)
		}
	}
	for _, e := range wf.Edges {
		from, okF := pos[e.From]
		to, okT := pos[e.To]
		if !okF || !okT {
			continue
		}
		x1, y1 := from.X+nodeW/2, from.Y+nodeH
		x2, y2 := to.X+nodeW/2, to.Y-2
		mid := (y1 + y2) / 2
		path := "M " + itoaInt(x1) + " " + itoaInt(y1) + " C " + itoaInt(x1) + " " + itoaInt(mid) + ", " +
			itoaInt(x2) + " " + itoaInt(mid) + ", " + itoaInt(x2) + " " + itoaInt(y2)
		st := states[e.To]
		g.Edges = append(g.Edges, templates.GraphEdge{From: e.From, To: e.To, Path: path, Label: edgeLabel(e),
			LabelX: (x1 + x2) / 2, LabelY: mid + 4, Taken: st != "pending" && st != "skipped" && st != "not-run"})
	}
	return g
}

// layers gives each action its depth: one more than its deepest predecessor's ($source is 0).
// Validated workflows have no cycles; the bound on passes keeps a bad one from looping.
func layers(wf *workflow.Workflow) map[string]int {
	depth := map[string]int{workflow.Source: 0}
	for range len(wf.Actions) + 1 {
		changed := false
		for _, e := range wf.Edges {
			d, ok := depth[e.From]
			if !ok {
				continue
			}
			if cur, seen := depth[e.To]; !seen || cur < d+1 {
				depth[e.To] = min(d+1, len(wf.Actions))
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	for _, a := range wf.Actions {
		if _, ok := depth[a.ID]; !ok {
			depth[a.ID] = 1 // unreachable: validation refuses these, but draw them anyway
		}
	}
	return depth
}

// edgeLabel names an edge by its own name, or else by its condition.
func edgeLabel(e workflow.Edge) string {
	if e.Name != "" {
		return templatesClip(e.Name, 16)
	}
	if c := e.Conditional; c != nil {
		switch c.Type {
		case workflow.CondMatch:
			return "= " + templatesClip(string(c.Value), 14)
		default:
			return c.Type
		}
	}
	return ""
}

func eventLabel(run *engine.Run) string {
	if run.EventName == "" {
		return "trigger"
	}
	return run.EventName
}

func templatesClip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func itoaInt(n int) string { return strconv.Itoa(n) }
