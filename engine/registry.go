package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/inkflow/inkflow/engine/store"
)

// The registry of live processes: every worker records in its workers row which functions it
// has (id, event triggers, flow control) and what it provides (Function.Provides). During a
// rolling deploy processes differ: a process claims only the runs it can execute (claim.go),
// and an event sent through any process starts runs of the functions any live process has,
// evaluated from their registry rows here.

// peersTTL is how stale a sender's view of the other processes' functions may be: a process
// that has just started gets runs from events sent elsewhere within about this long.
const peersTTL = time.Second

// registryDoc is a workers row's registry, as JSON.
type registryDoc struct {
	Functions []registryFunction `json:"functions"`
	Provides  []string           `json:"provides,omitempty"`
}

// registryFunction is a function as the registry describes it: enough for another process to
// start its runs. A function with a Fanout cannot be started elsewhere (its code decides).
type registryFunction struct {
	ID       string    `json:"id"`
	Name     string    `json:"name,omitempty"`
	Triggers []Trigger `json:"triggers,omitempty"`
	Flow     Flow      `json:"flow"`
	Fanout   bool      `json:"fanout,omitempty"`
}

// registryJSON is what this process registers.
func (e *Engine) registryJSON() string {
	fns := e.all()
	doc := registryDoc{Functions: make([]registryFunction, 0, len(fns)), Provides: e.claimable(fns).Provides}
	for _, r := range fns {
		rf := registryFunction{ID: r.fn.ID, Name: r.fn.Name, Flow: r.fn.Flow, Fanout: r.fn.Fanout != nil}
		for _, t := range r.fn.Triggers {
			if t.Event != "" {
				rf.Triggers = append(rf.Triggers, Trigger{Event: t.Event, If: t.If})
			}
		}
		doc.Functions = append(doc.Functions, rf)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "" // Flow holds only plain values; never seen
	}
	return string(b)
}

// peers is a sender's cached view of the functions only other live processes have.
type peers struct {
	mu      sync.Mutex
	at      time.Time
	fns     []*registered
	parsed  map[string]registryDoc // by registry JSON, so an unchanged row is not decoded again
	written string                 // the registry this process last recorded
}

// triggerable is every function an event can start: this process's, and those only other
// live processes have (without their code: their runs are claimed there).
func (e *Engine) triggerable(q *store.Q) []*registered {
	local := e.all()
	remote := e.remoteFunctions(q, local)
	if len(remote) == 0 {
		return local
	}
	return append(local, remote...)
}

// remoteFunctions returns the functions other live processes register and local lacks,
// re-read from the database at most every peersTTL (a failed read keeps the last view).
func (e *Engine) remoteFunctions(q *store.Q, local []*registered) []*registered {
	p := &e.peers
	p.mu.Lock()
	defer p.mu.Unlock()
	if time.Since(p.at) < peersTTL {
		return p.fns
	}
	rows, err := q.LiveRegistries(ms(e.now())-e.opts.Lease.Milliseconds(), e.opts.WorkerID)
	if err != nil {
		e.log.Warn("read the registry of live processes", "err", err)
		return p.fns
	}
	p.at = time.Now()
	have := make(map[string]bool, len(local))
	for _, r := range local {
		have[r.fn.ID] = true
	}
	parsed := make(map[string]registryDoc, len(rows))
	var fns []*registered
	for _, row := range rows {
		doc, ok := p.parsed[row.Registry]
		if !ok && json.Unmarshal([]byte(row.Registry), &doc) != nil {
			continue
		}
		parsed[row.Registry] = doc
		for _, f := range doc.Functions {
			if have[f.ID] || f.Fanout {
				continue
			}
			have[f.ID] = true
			fn := &Function{ID: f.ID, Name: f.Name, Triggers: f.Triggers, Flow: f.Flow}
			fns = append(fns, &registered{fn: fn, remote: true})
		}
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].fn.ID < fns[j].fn.ID })
	p.fns, p.parsed = fns, parsed
	return fns
}

// waitingForWorker says, for a live run no live process can claim, what it waits for: a
// worker that has its function, or the needs (action kinds) its workflow version uses.
func (e *Engine) waitingForWorker(q *store.Q, row *runRow) (string, error) {
	now := ms(e.now())
	if Status(row.Status).Finished() || (row.Status == string(StatusRunning) && row.LeaseUntil >= now) {
		return "", nil
	}
	rows, err := q.LiveRegistries(now-e.opts.Lease.Milliseconds(), "")
	if err != nil {
		return "", err
	}
	var needs []string
	if row.Needs != "" {
		if needs, err = q.Needs(row.Needs); err != nil {
			return "", err
		}
	}
	var lacking []string // the needs of the best-placed process that has the function
	hasFunction := false
	for _, reg := range rows {
		var doc registryDoc
		if json.Unmarshal([]byte(reg.Registry), &doc) != nil {
			continue
		}
		found := false
		for _, f := range doc.Functions {
			if f.ID == row.FunctionID {
				found = true
				break
			}
		}
		if !found {
			continue
		}
		provided := map[string]bool{}
		for _, p := range doc.Provides {
			provided[p] = true
		}
		var missing []string
		for _, n := range needs {
			if !provided[n] {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			return "", nil
		}
		if !hasFunction || len(missing) < len(lacking) {
			lacking = missing
		}
		hasFunction = true
	}
	if !hasFunction {
		return fmt.Sprintf("waiting for a worker that has function %s", row.FunctionID), nil
	}
	for i, n := range lacking {
		lacking[i] = strings.TrimPrefix(n, "kind:")
	}
	return fmt.Sprintf("waiting for a worker that has function %s with action kinds %s", row.FunctionID, strings.Join(lacking, ", ")), nil
}
