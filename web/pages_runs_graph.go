package web

import (
	"encoding/json"
	"strconv"
	"strings"

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
	states := actionStates(wf, run)
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

// actionStates maps each action to its state in run. Step ids derive from action ids (see
// engine/workflow/walk.go): an action's own step has its id, the extra steps of a
// multi-step kind are "<id>/<suffix>", and a repeat within the run gets ":<n>". The run's
// output (workflow.Result), once it completed, names the skipped and finished actions.
func actionStates(wf *workflow.Workflow, run *engine.Run) map[string]string {
	own := map[string]string{}     // the action's own step status
	extra := map[string][]string{} // statuses of its extra steps
	for _, s := range run.Steps {
		id, main := stepAction(wf, s.ID)
		if id == "" {
			continue
		}
		if main {
			own[id] = s.Status
		} else {
			extra[id] = append(extra[id], s.Status)
		}
	}
	var res workflow.Result
	if run.Status == engine.StatusCompleted && len(run.Output) > 0 {
		_ = json.Unmarshal(run.Output, &res) // a run of an older shape just shows less
	}
	skipped := map[string]bool{}
	for _, id := range res.Skipped {
		skipped[id] = true
	}
	out := make(map[string]string, len(wf.Actions))
	for _, a := range wf.Actions {
		_, finished := res.State[a.ID]
		switch {
		case contains(extra[a.ID], "failed") || own[a.ID] == "failed":
			out[a.ID] = "failed"
		case skipped[a.ID]:
			out[a.ID] = "skipped"
		case finished:
			out[a.ID] = "completed"
		case own[a.ID] != "":
			out[a.ID] = own[a.ID]
		case len(extra[a.ID]) > 0 && !run.Status.Finished():
			out[a.ID] = "running" // part of a multi-step action has run; its own step has not
		case run.Status.Finished():
			out[a.ID] = "not-run"
		default:
			out[a.ID] = "pending"
		}
	}
	inferRunning(wf, run, out)
	return out
}

// inferRunning marks as running the pending actions a running run is executing right now:
// those whose every predecessor has finished. Steps are stored when they end, so without this
// the action in flight would look pending. (A conditional edge that will not hold makes this
// briefly wrong until the walk skips the action.)
func inferRunning(wf *workflow.Workflow, run *engine.Run, states map[string]string) {
	if run.Status != engine.StatusRunning {
		return
	}
	for _, a := range wf.Actions {
		if states[a.ID] != "pending" {
			continue
		}
		ready := true
		for _, e := range wf.Edges {
			if e.To == a.ID && e.From != workflow.Source && states[e.From] != "completed" && states[e.From] != "skipped" {
				ready = false
			}
		}
		if ready {
			states[a.ID] = "running"
		}
	}
}

// stepAction finds the action a step belongs to and whether it is the action's own step.
// The longest matching action id wins, so "a/b" belongs to action "a/b" rather than "a".
func stepAction(wf *workflow.Workflow, stepID string) (string, bool) {
	best, main := "", false
	for _, a := range wf.Actions {
		id := a.ID
		switch {
		case stepID == id || strings.HasPrefix(stepID, id+":") && isDigits(stepID[len(id)+1:]):
			if len(id) >= len(best) {
				best, main = id, true
			}
		case strings.HasPrefix(stepID, id+"/"):
			if len(id) > len(best) {
				best, main = id, false
			}
		}
	}
	return best, main
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
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
