package engine

// Functions that arrive while the engine runs (the functions of an Inngest SDK app, synced from
// the database), and the stored steps a driver that runs code outside this process hands over.

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"
)

// dynamic is the engine's state for functions registered at run time.
type dynamic struct {
	mu      sync.Mutex
	sources map[string]string // function id -> source, for functions set by ReplaceFunctions
	reload  func(ctx context.Context) error
	// cronKick wakes the cron loop when functions (and so schedules) change.
	cronKick chan struct{}
}

// ReplaceFunctions makes fns the functions of source (say, an SDK app's URL), replacing those
// source had, while the engine runs: events sent from now on start runs of the new set, cron
// triggers are scheduled, and runs of a function that left the set fail only if no longer
// registered when claimed. A function id registered by Register or by another source is
// refused (EConflict); nothing changes when any function is refused.
func (e *Engine) ReplaceFunctions(source string, fns []*Function) error {
	if source == "" {
		return Errorf(EInvalid, "functions need a source")
	}
	checked := make([]*registered, 0, len(fns))
	seen := map[string]bool{}
	for _, fn := range fns {
		if fn != nil && seen[fn.ID] {
			return Errorf(EInvalid, "function %q appears twice", fn.ID)
		}
		r, err := e.check(fn)
		if err != nil {
			return err
		}
		seen[fn.ID] = true
		checked = append(checked, r)
	}
	e.dyn.mu.Lock()
	defer e.dyn.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.dyn.sources == nil {
		e.dyn.sources = map[string]string{}
	}
	for _, r := range checked {
		if _, taken := e.funcs[r.fn.ID]; taken && e.dyn.sources[r.fn.ID] != source {
			owner := e.dyn.sources[r.fn.ID]
			if owner == "" {
				owner = "inkflow itself"
			}
			return Errorf(EConflict, "function %q is already registered by %s", r.fn.ID, owner)
		}
	}
	for id, src := range e.dyn.sources {
		if src == source {
			delete(e.funcs, id)
			delete(e.dyn.sources, id)
		}
	}
	for _, r := range checked {
		e.funcs[r.fn.ID] = r
		e.dyn.sources[r.fn.ID] = source
	}
	select {
	case e.cronKicks() <- struct{}{}:
	default:
	}
	return nil
}

// SetReload sets fn, which the engine calls when it claims a run whose function it does not
// have, before failing the run for it: a function synced through another process may not have
// reached this one yet. fn should load the current functions (ReplaceFunctions).
func (e *Engine) SetReload(fn func(ctx context.Context) error) {
	e.dyn.mu.Lock()
	defer e.dyn.mu.Unlock()
	e.dyn.reload = fn
}

// reloadFunction reloads and looks id up again; nil if it is still unknown.
func (e *Engine) reloadFunction(ctx context.Context, id string) *registered {
	e.dyn.mu.Lock()
	reload := e.dyn.reload
	e.dyn.mu.Unlock()
	if reload == nil {
		return nil
	}
	if err := reload(ctx); err != nil {
		e.log.Warn("reload functions", "function", id, "err", err)
	}
	return e.function(id)
}

func (e *Engine) cronKicks() chan struct{} {
	// Created lazily so that engines built before this file existed need no change in New.
	e.kickOnce.Do(func() { e.dyn.cronKick = make(chan struct{}, 1) })
	return e.dyn.cronKick
}

// StoredStep is one of the run's steps as stored, for a driver that hands the run's memo to
// code outside this process (an SDK app).
type StoredStep struct {
	ID       string
	Name     string
	Kind     string
	Status   string
	Attempts int
	Input    json.RawMessage
	// Output is the step's JSON result (a wait's event, null on timeout); nil until it ends.
	Output    json.RawMessage
	Error     string
	Seq       int
	StartedAt *time.Time
	EndedAt   *time.Time
	// WakeAt is when a sleeping, waiting or retrying step is due.
	WakeAt *time.Time
}

// Stored returns the run's steps known to this execution, in the order they were first
// reached (memoized ones and those recorded since).
func (s *Step) Stored() []StoredStep {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StoredStep, 0, len(s.memo))
	for _, r := range s.memo {
		st := StoredStep{ID: r.ID, Name: r.Name, Kind: r.Kind, Status: r.Status, Attempts: r.Attempts, Error: r.Error,
			Seq: r.Seq, StartedAt: fromMSPtr(r.StartedAt), EndedAt: fromMSPtr(r.EndedAt), WakeAt: fromMSPtr(r.WakeAt)}
		if r.Input != nil {
			st.Input = json.RawMessage(*r.Input)
		}
		if r.Output != nil {
			st.Output = json.RawMessage(*r.Output)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// CheckFunction reports whether fn would be accepted by Register or ReplaceFunctions (its
// triggers, schedules and expressions), without registering it.
func (e *Engine) CheckFunction(fn *Function) error {
	_, err := e.check(fn)
	return err
}

// Now is the engine's clock (Options.Now): drivers that compute a step's due time use it.
func (e *Engine) Now() time.Time { return e.now() }

// Label gives the step id its display name before it is first recorded: sleeps, waits and
// invokes are named by it (Run takes WithName). A driver whose steps are known by hashed ids
// (an SDK app's) shows the app's names this way.
func (s *Step) Label(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.labels == nil {
		s.labels = map[string]string{}
	}
	s.labels[id] = name
}

func (s *Step) label(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.labels[id]; n != "" {
		return n
	}
	return id
}
