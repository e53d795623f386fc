package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inkflow/inkflow/engine"
)

// Result is what a workflow run returns (and the engine stores as the run's output): the
// state (each finished action's output by id) and the actions skipped because no incoming
// edge held.
type Result struct {
	State   map[string]any `json:"state"`
	Skipped []string       `json:"skipped,omitempty"`
}

// Walker runs validated workflows on a run's step tool.
type Walker struct {
	Registry *Registry
}

// Run walks wf for the run described by in. An action starts as soon as every incoming edge
// is resolved (its source finished or was skipped); it runs if at least one incoming edge
// holds, and is skipped otherwise, and so is everything reachable only through it. Actions
// that become ready together run as parallel branches of the step tool, and a branch goes on
// with the actions its completion makes ready, so an independent chain never waits behind a
// sleeping or waiting one. The engine suspends a sleeping or waiting run by unwinding the
// handler (a panic it recovers), so nothing here may recover panics.
func (wk *Walker) Run(ctx context.Context, in *engine.Input, wf *Workflow) (*Result, error) {
	return wk.RunRetrying(ctx, in, wf, nil)
}

// RunRetrying is Run with a default retry count for the actions' steps (a workflow's
// config.retries; an action's own retries wins); nil keeps the engine's.
func (wk *Walker) RunRetrying(ctx context.Context, in *engine.Input, wf *Workflow, retries *int) (*Result, error) {
	return walk(ctx, wf, in.Event, engineExecutor{wk: wk, in: in, wf: wf, retries: retries}, nil)
}

// executor runs actions for the walk: on the engine's step tool, or in memory in tests.
type executor interface {
	// batch is a batched run's events (nil for a run of one event).
	batch() []engine.Event
	run(ctx context.Context, a *Action, state map[string]any) (any, error)
	parallel(ctx context.Context, fns ...func(ctx context.Context) error) error
}

type engineExecutor struct {
	wk      *Walker
	in      *engine.Input
	wf      *Workflow
	retries *int
}

func (x engineExecutor) batch() []engine.Event { return x.in.Events }

func (x engineExecutor) run(ctx context.Context, a *Action, state map[string]any) (any, error) {
	return x.wk.runAction(ctx, x.in, x.wf, a, state, x.retries)
}

func (x engineExecutor) parallel(ctx context.Context, fns ...func(ctx context.Context) error) error {
	return x.in.Step.Parallel(ctx, fns...)
}

const (
	pending = iota
	running
	done
	skipped
)

// walker holds one walk's progress. Its decisions depend only on the event and the actions'
// outputs (memoized by the engine), never on timing, so a replay makes the same ones.
type walker struct {
	g      *graph
	wf     *Workflow
	event  map[string]any
	events []any // $.events: the batch, or the one event
	ex     executor
	// trace, when set, is told each group of actions started together (tests).
	trace func(ids []string)

	mu     sync.Mutex
	status map[string]int
	state  map[string]any
}

func walk(ctx context.Context, wf *Workflow, ev engine.Event, ex executor, trace func([]string)) (*Result, error) {
	w := &walker{g: newGraph(wf), wf: wf, event: eventValue(ev), events: eventsValue(ev, ex.batch()), ex: ex, trace: trace,
		status: map[string]int{}, state: map[string]any{}}
	if err := w.advance(ctx); err != nil {
		return nil, err
	}
	res := &Result{State: w.state}
	for _, id := range w.g.order {
		if w.status[id] == skipped {
			res.Skipped = append(res.Skipped, id)
		}
	}
	return res, nil
}

// advance starts every action that is ready now (in parallel when several are) and returns
// when they and everything they lead to have finished.
func (w *walker) advance(ctx context.Context) error {
	w.mu.Lock()
	ready, err := w.decide()
	snap := make(map[string]any, len(w.state))
	for id, v := range w.state {
		snap[id] = v
	}
	w.mu.Unlock()
	if err != nil || len(ready) == 0 {
		return err
	}
	if w.trace != nil {
		ids := make([]string, len(ready))
		for i, a := range ready {
			ids[i] = a.ID
		}
		w.trace(ids)
	}
	if len(ready) == 1 {
		return w.start(ctx, ready[0], snap)
	}
	fns := make([]func(ctx context.Context) error, len(ready))
	for i, a := range ready {
		fns[i] = func(ctx context.Context) error { return w.start(ctx, a, snap) }
	}
	return w.ex.parallel(ctx, fns...)
}

// start runs one action, records its output, and goes on with what that makes ready.
func (w *walker) start(ctx context.Context, a *Action, state map[string]any) error {
	out, err := w.ex.run(ctx, a, state)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.state[a.ID] = out
	w.status[a.ID] = done
	w.mu.Unlock()
	return w.advance(ctx)
}

// decide (with w.mu held) skips every pending action none of whose resolved incoming edges
// holds, repeating until nothing changes, and marks running and returns those that start.
func (w *walker) decide() ([]*Action, error) {
	var ready []*Action
	for changed := true; changed; {
		changed = false
		for _, id := range w.g.order {
			if w.status[id] != pending || !w.g.resolved(id, w.status) {
				continue
			}
			ok, err := w.g.anyHolds(id, w.status, scope{RootEvent: w.event, RootEvents: w.events, RootState: w.state})
			if err != nil {
				return nil, err
			}
			if ok {
				w.status[id] = running
				ready = append(ready, w.wf.Action(id))
				continue
			}
			w.status[id] = skipped
			changed = true
		}
	}
	return ready, nil
}

// resolved reports whether every edge into id comes from $source or a finished action.
func (g *graph) resolved(id string, status map[string]int) bool {
	for _, ei := range g.in[id] {
		if from := g.edges[ei].From; from != Source && (status[from] == pending || status[from] == running) {
			return false
		}
	}
	return true
}

// anyHolds reports whether some edge into id holds: its source ran and its condition holds.
func (g *graph) anyHolds(id string, status map[string]int, sc scope) (bool, error) {
	for _, ei := range g.in[id] {
		e := g.edges[ei]
		if e.From != Source && status[e.From] != done {
			continue
		}
		edgeScope := scope{RootEvent: sc[RootEvent], RootEvents: sc[RootEvents], RootState: sc[RootState], RootOutput: nil}
		if e.From != Source {
			edgeScope[RootOutput] = sc[RootState].(map[string]any)[e.From]
		}
		ok, err := holds(e.Conditional, edgeScope)
		if err != nil {
			return false, engine.NonRetriable(fmt.Errorf("edge %q -> %q: %w", e.From, e.To, err))
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// runAction runs one action as a durable step (or, for Steps kinds, lets the handler drive
// the step tool) and returns its output as JSON values, the same on first run and on replay.
func (wk *Walker) runAction(ctx context.Context, in *engine.Input, wf *Workflow, a *Action, state map[string]any, retries *int) (any, error) {
	k, ai, err := prepare(wk.Registry, a, in.Event, in.Events, state)
	if err != nil {
		return nil, err
	}
	ai.Step, ai.Run, ai.Workflow = in.Step, in.Run, wf
	if k.Steps {
		out, err := k.Handler(ctx, ai)
		if err != nil {
			return nil, fmt.Errorf("action %q: %w", a.ID, err)
		}
		return jsonValue(out), nil
	}
	raw, err := in.Step.Run(ctx, ai.StepID, func(ctx context.Context) (any, error) {
		return k.Handler(ctx, ai)
	}, stepOptions(a, ai.Inputs, retries)...)
	if err != nil {
		return nil, fmt.Errorf("action %q: %w", a.ID, err)
	}
	var out any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, engine.NonRetriable(fmt.Errorf("action %q: decode stored output: %w", a.ID, err))
		}
	}
	return out, nil
}

func stepOptions(a *Action, inputs map[string]any, retries *int) []engine.StepOption {
	name := a.Name
	if name == "" {
		name = a.ID + " (" + a.Kind + ")"
	}
	opts := []engine.StepOption{engine.WithName(name), engine.WithInput(inputs)}
	if a.Retries != nil {
		opts = append(opts, engine.WithRetries(*a.Retries))
	} else if retries != nil {
		opts = append(opts, engine.WithRetries(*retries))
	}
	if d, err := ParseDuration(a.Timeout); err == nil && a.Timeout != "" {
		opts = append(opts, engine.WithTimeout(d))
	}
	return opts
}

// prepare finds a's kind and resolves its inputs against the event and state.
func prepare(reg *Registry, a *Action, ev engine.Event, batch []engine.Event, state map[string]any) (*Kind, ActionInput, error) {
	k, ok := reg.Kind(a.Kind)
	if !ok {
		return nil, ActionInput{}, engine.NonRetriable(engine.Errorf(engine.EInvalid, "action %q: kind %q is not registered in this process", a.ID, a.Kind))
	}
	inputs, err := resolveInputs(a, k, scope{RootEvent: eventValue(ev), RootEvents: eventsValue(ev, batch), RootState: state})
	if err != nil {
		return nil, ActionInput{}, engine.NonRetriable(err)
	}
	view := make(map[string]any, len(state))
	for id, v := range state {
		view[id] = v
	}
	return k, ActionInput{Event: ev, Action: *a, Inputs: inputs, State: view, StepID: a.ID}, nil
}

// resolveInputs interpolates refs, applies defaults, and checks each resolved value against
// its spec, converting scalars where the meaning is plain (a number where text is expected).
func resolveInputs(a *Action, k *Kind, sc scope) (map[string]any, error) {
	out := make(map[string]any, len(k.Inputs))
	for name, v := range a.Inputs {
		r, err := interpolate(v, sc)
		if err != nil {
			return nil, engine.FieldError("actions."+a.ID+".inputs."+name, "%v", err)
		}
		out[name] = r
	}
	for _, spec := range k.Inputs {
		v := out[spec.Name]
		if isEmpty(v) && spec.Default != nil {
			v = jsonValue(spec.Default)
		}
		if isEmpty(v) {
			if spec.Required {
				return nil, engine.FieldError("actions."+a.ID+".inputs."+spec.Name, "action %q: required input %q resolved to nothing", a.ID, spec.Name)
			}
			if _, set := out[spec.Name]; !set {
				continue
			}
		}
		cv, err := coerce(spec, v)
		if err != nil {
			return nil, engine.FieldError("actions."+a.ID+".inputs."+spec.Name, "action %q: input %q: %v", a.ID, spec.Name, err)
		}
		out[spec.Name] = cv
	}
	return out, nil
}

// coerce checks a resolved value against its spec.
func coerce(spec InputSpec, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch spec.Type {
	case TypeString, TypeText, TypeEvent:
		switch v.(type) {
		case string:
			return v, nil
		case float64, bool:
			return textOf(v), nil
		}
		return nil, fmt.Errorf("resolved to %s, not text", jsonType(v))
	case TypeNumber:
		switch t := v.(type) {
		case float64:
			return t, nil
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(t), 64); err == nil {
				return f, nil
			}
		}
		return nil, fmt.Errorf("resolved to %s, not a number", jsonType(v))
	case TypeBoolean:
		switch t := v.(type) {
		case bool:
			return t, nil
		case string:
			if b, err := strconv.ParseBool(t); err == nil {
				return b, nil
			}
		}
		return nil, fmt.Errorf("resolved to %s, not true or false", jsonType(v))
	case TypeEnum:
		if s, ok := v.(string); ok && contains(spec.Enum, s) {
			return s, nil
		}
		return nil, fmt.Errorf("resolved to %v, not one of %s", textOf(v), strings.Join(spec.Enum, ", "))
	case TypeDuration:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("resolved to %s, not a duration", jsonType(v))
		}
		if _, err := ParseDuration(s); err != nil {
			return nil, err
		}
		return s, nil
	}
	return v, nil
}

// eventValue is the event as refs and CEL see it: {"id","name","data","user","ts"}.
// eventsValue is $.events: a batched run's events as JSON values, or a list of ev alone.
func eventsValue(ev engine.Event, batch []engine.Event) []any {
	if len(batch) == 0 {
		return []any{eventValue(ev)}
	}
	out := make([]any, len(batch))
	for i, e := range batch {
		out[i] = eventValue(e)
	}
	return out
}

func eventValue(ev engine.Event) map[string]any {
	m, _ := jsonValue(ev).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	if m["data"] == nil {
		m["data"] = map[string]any{}
	}
	return m
}

// timeValue reads a time from an input value: RFC 3339 text or Unix milliseconds.
func timeValue(v any) (time.Time, error) {
	switch t := v.(type) {
	case string:
		tm, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(t))
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time such as 2026-01-02T15:04:05Z", t)
		}
		return tm, nil
	case float64:
		return time.UnixMilli(int64(t)).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("expected a time, got %s", jsonType(v))
}
