package workflow

import (
	"fmt"
	"strings"

	"github.com/inkflow/inkflow/engine"
)

// Validate checks a decoded workflow against the kinds in reg. It returns nil, or an
// *engine.Error with code EInvalid whose message names the action (or edge) and field, and
// whose Fields map every problem found:
//
//	actions.<id>                 unreachable from $source, part of a cycle
//	actions.<id>.id              empty, reserved or duplicate id
//	actions.<id>.kind            unknown kind
//	actions.<id>.inputs.<name>   missing, wrong type, bad ref, ref to an action not upstream
//	actions.<id>.timeout         not a duration
//	edges[<i>].from / .to        unknown action
//	edges[<i>].conditional...    bad type, bad ref, bad CEL
//	actions                      no actions at all (workflow-kit: "no starting actions")
//	edges                        no entry edge from $source
//
// An input the action's kind does not declare is not a problem (see UndeclaredInputs).
func Validate(w *Workflow, reg *Registry) error {
	v := &validator{w: w, reg: reg, fields: map[string]string{}}
	v.actions()
	if !v.edges() {
		return v.err()
	}
	g := newGraph(w)
	if c := g.cycle(); c != nil {
		v.add("actions."+c[0], "action %q is part of a cycle (%s): a workflow must be a DAG", c[0], strings.Join(c, " -> "))
		return v.err()
	}
	v.reachability(g)
	v.inputs(g)
	v.conditions(g)
	return v.err()
}

// DecodeValidate is Decode followed by Validate: what save, import and dry-run do.
func DecodeValidate(data []byte, reg *Registry) (*Workflow, error) {
	w, err := Decode(data)
	if err != nil {
		return nil, err
	}
	if err := Validate(w, reg); err != nil {
		return nil, err
	}
	return w, nil
}

type validator struct {
	w      *Workflow
	reg    *Registry
	fields map[string]string
	msgs   []string
	ids    map[string]bool
}

func (v *validator) add(field, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if _, dup := v.fields[field]; dup {
		return
	}
	v.fields[field] = msg
	v.msgs = append(v.msgs, msg)
}

func (v *validator) err() error {
	if len(v.msgs) == 0 {
		return nil
	}
	msg := strings.Join(v.msgs[:min(len(v.msgs), 5)], "; ")
	if n := len(v.msgs) - 5; n > 0 {
		msg += fmt.Sprintf("; and %d more", n)
	}
	return &engine.Error{Code: engine.EInvalid, Message: msg, Fields: v.fields}
}

// actions checks ids and kinds.
func (v *validator) actions() {
	v.ids = map[string]bool{}
	for i, a := range v.w.Actions {
		switch {
		case strings.TrimSpace(a.ID) == "":
			v.add(fmt.Sprintf("actions[%d].id", i), "action #%d (kind %q) has no id", i+1, a.Kind)
			continue
		case a.ID == Source:
			v.add("actions."+a.ID+".id", "action id %q is reserved for the trigger", Source)
			continue
		case strings.ContainsAny(a.ID, "()"):
			v.add("actions."+a.ID+".id", "action id %q may not contain parentheses (refs could not name it)", a.ID)
		case v.ids[a.ID]:
			v.add("actions."+a.ID+".id", "two actions have the id %q", a.ID)
			continue
		}
		v.ids[a.ID] = true
		if _, ok := v.reg.Kind(a.Kind); !ok {
			v.add("actions."+a.ID+".kind", "action %q has unknown kind %q", a.ID, a.Kind)
		}
		if a.Timeout != "" {
			if _, err := ParseDuration(a.Timeout); err != nil {
				v.add("actions."+a.ID+".timeout", "action %q: timeout: %v", a.ID, err)
			}
		}
	}
}

// edges checks that edges join known nodes; it reports false when the graph cannot be built.
func (v *validator) edges() bool {
	ok := true
	type pair struct{ from, to string }
	seen := map[pair]bool{}
	for i, e := range v.w.Edges {
		f := fmt.Sprintf("edges[%d]", i)
		if e.From != Source && !v.ids[e.From] {
			v.add(f+".from", "edge %d (%q -> %q) starts at unknown action %q", i, e.From, e.To, e.From)
			ok = false
		}
		if !v.ids[e.To] {
			v.add(f+".to", "edge %d (%q -> %q) leads to unknown action %q", i, e.From, e.To, e.To)
			ok = false
		}
		if seen[pair{e.From, e.To}] {
			v.add(f, "edge %d repeats the edge %q -> %q", i, e.From, e.To)
		}
		seen[pair{e.From, e.To}] = true
		if c := e.Conditional; c != nil {
			switch c.Type {
			case CondIf, CondElse:
			case CondMatch:
				if c.Value == nil {
					v.add(f+".conditional.value", "edge %d (%q -> %q): a match condition needs a value", i, e.From, e.To)
				}
			default:
				v.add(f+".conditional.type", "edge %d (%q -> %q): condition type %q is not if, else or match", i, e.From, e.To, c.Type)
			}
		}
	}
	return ok
}

// reachability requires an entry edge and every action reachable from $source.
func (v *validator) reachability(g *graph) {
	if len(v.w.Actions) == 0 {
		// workflow-kit refuses it too ("Workflow has no starting actions"): a workflow that
		// runs nothing is a mistake, not a choice.
		v.add("actions", "the workflow has no starting actions: add an action and connect the trigger (%s) to it", Source)
		return
	}
	if len(g.out[Source]) == 0 {
		v.add("edges", "the workflow has no starting actions (no entry edge): connect %q to the first action (for example %q)", Source, v.w.Actions[0].ID)
		return
	}
	seen := g.reachable()
	for _, a := range v.w.Actions {
		if a.ID != "" && !seen[a.ID] {
			v.add("actions."+a.ID, "action %q is disconnected: it is unreachable from %s and would never run", a.ID, Source)
		}
	}
}

// inputs checks each action's inputs against its kind's schema and its refs against the graph.
func (v *validator) inputs(g *graph) {
	for _, a := range v.w.Actions {
		k, ok := v.reg.Kind(a.Kind)
		if !ok || a.ID == "" {
			continue
		}
		up := g.ancestors(a.ID)
		prefix := "actions." + a.ID + ".inputs."
		for _, name := range sortedKeys(a.Inputs) {
			val := a.Inputs[name]
			if msg := v.refsOK(val, up, false); msg != "" {
				v.add(prefix+name, "action %q: input %q: %s", a.ID, name, msg)
				continue
			}
			// An input the kind does not declare is kept, as workflow-kit keeps it (a workflow
			// saved with an older version of a kind still imports); UndeclaredInputs lists them
			// for the editor's warning.
			spec := k.Input(name)
			if spec == nil {
				continue
			}
			if msg := checkLiteral(*spec, val); msg != "" {
				v.add(prefix+name, "action %q: input %q: %s", a.ID, name, msg)
			}
		}
		for _, spec := range k.Inputs {
			if spec.Required && spec.Default == nil && isEmpty(a.Inputs[spec.Name]) {
				v.add(prefix+spec.Name, "action %q: input %q is required", a.ID, spec.Name)
			}
		}
		if k.Validate != nil {
			probs := k.Validate(a)
			for _, name := range sortedKeys(probs) {
				v.add(prefix+name, "action %q: input %q: %s", a.ID, name, probs[name])
			}
		}
	}
}

// conditions checks each conditional edge's ref or CEL expression.
func (v *validator) conditions(g *graph) {
	for i, e := range v.w.Edges {
		c := e.Conditional
		if c == nil {
			continue
		}
		f := fmt.Sprintf("edges[%d].conditional.ref", i)
		if src, ok := strings.CutPrefix(strings.TrimSpace(c.Ref), celPrefix); ok {
			if _, err := compileCEL(src); err != nil {
				v.add(f, "edge %d (%q -> %q): %v", i, e.From, e.To, err)
			}
			continue
		}
		if strings.TrimSpace(c.Ref) == "" {
			v.add(f, "edge %d (%q -> %q): a condition needs a ref such as \"!ref($.output)\" or a \"cel:\" expression", i, e.From, e.To)
			continue
		}
		up := g.ancestors(e.From)
		if e.From != Source {
			up[e.From] = true
		}
		if msg := v.refsOK(c.Ref, up, true); msg != "" {
			v.add(f, "edge %d (%q -> %q): %s", i, e.From, e.To, msg)
		}
	}
}

// EventsRef returns the first action (or "edges" for an edge condition) of wf that refers
// to $.events, and the ref's text; "" when none does. Saving checks it against the config:
// only a batched workflow has events.
func EventsRef(wf *Workflow) (where, text string) {
	for _, a := range wf.Actions {
		for name, v := range a.Inputs {
			if r := eventsRefIn(v); r != "" {
				return "actions." + a.ID + ".inputs." + name, r
			}
		}
	}
	for i, e := range wf.Edges {
		if e.Conditional != nil {
			if r := eventsRefIn(e.Conditional.Ref); r != "" {
				return fmt.Sprintf("edges[%d].conditional.ref", i), r
			}
		}
	}
	return "", ""
}

func eventsRefIn(v any) string {
	refs, _ := refsIn(v)
	for _, r := range refs {
		if r.Root() == RootEvents {
			return r.Text
		}
	}
	return ""
}

// refsOK checks every ref in val: well formed, rooted at event or state (or output on edges),
// and reading only actions in up. It returns a problem or "".
func (v *validator) refsOK(val any, up map[string]bool, edge bool) string {
	refs, err := refsIn(val)
	if err != nil {
		return err.Error()
	}
	for _, r := range refs {
		switch r.Root() {
		case RootEvent, RootEvents:
		case RootOutput:
			if !edge {
				return fmt.Sprintf("%s: $.output is only defined on edge conditions; use $.state.<actionId>", r.Text)
			}
		case RootState:
			id := r.StateAction()
			switch {
			case id == "":
				return fmt.Sprintf("%s: name an action, as in $.state.<actionId>", r.Text)
			case !v.ids[id]:
				return fmt.Sprintf("%s refers to unknown action %q", r.Text, id)
			case !up[id]:
				return fmt.Sprintf("%s refers to action %q, which is not upstream, so its output is not ready", r.Text, id)
			}
		default:
			return fmt.Sprintf("%s: a ref starts with $.event, $.events or $.state", r.Text)
		}
	}
	return ""
}

// checkLiteral checks a literal input value against its spec; refs pass when they stand where
// the type allows them. It returns a problem or "".
func checkLiteral(spec InputSpec, val any) string {
	if val == nil {
		return ""
	}
	s, isString := val.(string)
	if isString {
		if _, ok := pureRef(s); ok {
			return ""
		}
	}
	hasRefs := isString && strings.Contains(s, refPrefix)
	switch spec.Type {
	case TypeString, TypeText:
		if !isString {
			return fmt.Sprintf("must be a string, not %s", jsonType(val))
		}
	case TypeEvent:
		if !isString {
			return fmt.Sprintf("must be an event name, not %s", jsonType(val))
		}
		if !hasRefs && strings.ContainsAny(s, " \t\n") {
			return fmt.Sprintf("event name %q may not contain spaces", s)
		}
	case TypeNumber:
		if _, ok := val.(float64); !ok {
			return fmt.Sprintf("must be a number or a single ref, not %s", jsonType(val))
		}
	case TypeBoolean:
		if _, ok := val.(bool); !ok {
			return fmt.Sprintf("must be true, false or a single ref, not %s", jsonType(val))
		}
	case TypeEnum:
		if !isString || (!hasRefs && !contains(spec.Enum, s)) {
			return fmt.Sprintf("must be one of %s", strings.Join(spec.Enum, ", "))
		}
	case TypeDuration:
		if !isString {
			return fmt.Sprintf("must be a duration such as \"90s\", \"1h30m\" or \"7d\", not %s", jsonType(val))
		}
		if !hasRefs {
			if _, err := ParseDuration(s); err != nil {
				return err.Error()
			}
		}
	}
	return ""
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func isEmpty(v any) bool {
	s, isString := v.(string)
	return v == nil || isString && strings.TrimSpace(s) == ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// UndeclaredInputs lists, as "actions.<id>.inputs.<name>" -> message, the inputs that the
// actions' kinds do not declare. Validate keeps them and the walk resolves and hands them
// over, as workflow-kit does, though no handler reads them; the editor shows these as warnings
// so that a stale input can be removed on purpose. Actions of unknown kinds are left out (Validate refuses them).
func UndeclaredInputs(w *Workflow, reg *Registry) map[string]string {
	out := map[string]string{}
	for _, a := range w.Actions {
		k, ok := reg.Kind(a.Kind)
		if !ok {
			continue
		}
		for _, name := range sortedKeys(a.Inputs) {
			if k.Input(name) == nil {
				out["actions."+a.ID+".inputs."+name] = fmt.Sprintf("action %q: kind %q has no input %q; it is kept but not used", a.ID, a.Kind, name)
			}
		}
	}
	return out
}
