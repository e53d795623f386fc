package workflow

// graph is a workflow's edges indexed for walking and validation. Nodes are action ids plus
// Source; edges keep their index in Workflow.Edges so errors can name them.
type graph struct {
	order []string         // action ids in the workflow's order
	in    map[string][]int // node -> indexes of edges into it
	out   map[string][]int // node -> indexes of edges out of it
	edges []Edge
}

func newGraph(w *Workflow) *graph {
	g := &graph{in: map[string][]int{}, out: map[string][]int{}, edges: w.Edges}
	for _, a := range w.Actions {
		g.order = append(g.order, a.ID)
	}
	for i, e := range w.Edges {
		g.out[e.From] = append(g.out[e.From], i)
		g.in[e.To] = append(g.in[e.To], i)
	}
	return g
}

// cycle returns the ids of one cycle (first id repeated at the end), or nil. It assumes every
// edge names known nodes.
func (g *graph) cycle() []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var found []string
	var visit func(n string) bool
	visit = func(n string) bool {
		color[n] = grey
		stack = append(stack, n)
		for _, ei := range g.out[n] {
			to := g.edges[ei].To
			switch color[to] {
			case grey:
				for i, s := range stack {
					if s == to {
						found = append(append([]string{}, stack[i:]...), to)
						return true
					}
				}
			case white:
				if visit(to) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
		return false
	}
	for _, n := range append([]string{Source}, g.order...) {
		if color[n] == white && visit(n) {
			return found
		}
	}
	return nil
}

// reachable returns the nodes reachable from Source (Source included).
func (g *graph) reachable() map[string]bool {
	seen := map[string]bool{Source: true}
	queue := []string{Source}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, ei := range g.out[n] {
			if to := g.edges[ei].To; !seen[to] {
				seen[to] = true
				queue = append(queue, to)
			}
		}
	}
	return seen
}

// ancestors returns the actions with a path to id (Source and id itself excluded).
func (g *graph) ancestors(id string) map[string]bool {
	seen := map[string]bool{}
	queue := []string{id}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, ei := range g.in[n] {
			from := g.edges[ei].From
			if from != Source && !seen[from] {
				seen[from] = true
				queue = append(queue, from)
			}
		}
	}
	return seen
}
