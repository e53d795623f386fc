package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/inkflow/inkflow/engine"
)

// InputType is the type of an action input, which decides how the editor renders its field
// and which literals validation accepts.
type InputType string

// Input types. Every type also accepts a string that is exactly one "!ref($.path)"; string,
// text and json also accept text with refs inside.
const (
	TypeString   InputType = "string"   // one line of text
	TypeText     InputType = "text"     // multi-line text
	TypeNumber   InputType = "number"   // a JSON number
	TypeBoolean  InputType = "boolean"  // true or false
	TypeEnum     InputType = "enum"     // one of InputSpec.Enum
	TypeDuration InputType = "duration" // "90s", "1h30m", "7d" (see ParseDuration)
	TypeEvent    InputType = "event"    // an event name
	TypeJSON     InputType = "json"     // any JSON value (objects for data, bodies, state)
)

// InputSpec describes one input of a Kind.
type InputSpec struct {
	Name        string    `json:"name"`
	Title       string    `json:"title,omitempty"`
	Type        InputType `json:"type"`
	Required    bool      `json:"required,omitempty"`
	Default     any       `json:"default,omitempty"`
	Enum        []string  `json:"enum,omitempty"`
	Description string    `json:"description,omitempty"`
}

// Shape describes a JSON value an action outputs, so that an editor can offer refs into it
// ("!ref($.state.<actionId>.<field>)").
type Shape struct {
	// Type is object, array, string, number, boolean or any.
	Type        string            `json:"type"`
	Description string            `json:"description,omitempty"`
	Fields      map[string]*Shape `json:"fields,omitempty"`
	Items       *Shape            `json:"items,omitempty"`
	Nullable    bool              `json:"nullable,omitempty"`
}

// EdgePreset is an edge an editor offers when drawing from an action of a kind (the True and
// False edges of builtin:if, say).
type EdgePreset struct {
	Name        string       `json:"name"`
	Conditional *Conditional `json:"conditional,omitempty"`
}

// Handler runs one action. Its output becomes the action's state, visible to later actions as
// "!ref($.state.<actionId>)"; it must be JSON-encodable. Return engine.NonRetriable(err) for a
// failure a retry cannot fix.
type Handler func(ctx context.Context, in ActionInput) (any, error)

// Kind is a registered action kind: what the editor offers and what runs.
type Kind struct {
	// Name is the kind id used in workflow JSON ("send_event", "add_ToC").
	Name        string
	Title       string
	Description string
	// Category groups the kind in the editor's palette (one of the Category constants, or
	// any short word; empty kinds are listed under "Other").
	Category string
	Inputs   []InputSpec
	Output   *Shape
	Edges    []EdgePreset
	// Steps marks a handler that drives the step tool itself (in.Step.Sleep, WaitForEvent,
	// SendEvent, Run) with ids from in.StepID. Such a handler is called on every replay, must
	// derive its output only from those steps' results, and gets no per-action retries or
	// timeout. Any other handler runs inside one durable step (in.Step.Run with the action's
	// retries and timeout) and must not call step methods.
	Steps bool
	// Validate checks literal inputs beyond their types (a CEL expression compiles, one of two
	// inputs is set). It returns problems keyed by input name; refs are not resolved yet.
	Validate func(a Action) map[string]string
	Handler  Handler
}

// Palette categories, in the order the editor lists them.
const (
	CategoryFlow    = "Flow"
	CategoryAI      = "AI"
	CategoryReview  = "Review"
	CategoryConnect = "Send and connect"
	CategoryData    = "Data"
	CategoryReports = "Reports"
)

// MarshalJSON writes the kind for GET /api/actions: workflow-kit's PublicEngineAction field
// names ("kind", "name") plus inputs, output and edge presets.
func (k Kind) MarshalJSON() ([]byte, error) {
	inputs := k.Inputs
	if inputs == nil {
		inputs = []InputSpec{}
	}
	return json.Marshal(struct {
		Kind        string       `json:"kind"`
		Name        string       `json:"name"`
		Description string       `json:"description,omitempty"`
		Category    string       `json:"category,omitempty"`
		Inputs      []InputSpec  `json:"inputs"`
		Output      *Shape       `json:"output,omitempty"`
		Edges       []EdgePreset `json:"edges,omitempty"`
	}{k.Name, k.Title, k.Description, k.Category, inputs, k.Output, k.Edges})
}

// Input returns the spec of input name, or nil.
func (k *Kind) Input(name string) *InputSpec {
	for i := range k.Inputs {
		if k.Inputs[i].Name == name {
			return &k.Inputs[i]
		}
	}
	return nil
}

// ActionInput is what a Handler receives.
type ActionInput struct {
	// Event is the event that started the run.
	Event engine.Event
	// Step is the run's step tool. Only handlers of kinds with Steps set may call it.
	Step *engine.Step
	// Run describes the run: its id, attempt, and the workflow id and version it pinned.
	Run      engine.RunInfo
	Workflow *Workflow
	// Action is the action being run, as written in the workflow (refs unresolved).
	Action Action
	// Inputs are the action's inputs with refs resolved and defaults applied.
	Inputs map[string]any
	// State holds the outputs of the actions that finished before this one, by action id.
	// It is shared: read it, never change it.
	State map[string]any
	// StepID is the id of the durable step that runs this action: the action id.
	StepID string
}

// StepIDFor returns a step id for an extra step of this action ("<action id>/<suffix>"), so a
// Steps handler can make several steps that stay stable across replays.
func (in ActionInput) StepIDFor(suffix string) string {
	if suffix == "" {
		return in.StepID
	}
	return in.StepID + "/" + suffix
}

// String returns input name as a string ("" when absent or not a string).
func (in ActionInput) String(name string) string {
	s, _ := in.Inputs[name].(string)
	return s
}

// Number returns input name as a number and whether it was one.
func (in ActionInput) Number(name string) (float64, bool) {
	f, ok := in.Inputs[name].(float64)
	return f, ok
}

// Bool returns input name as a boolean (false when absent).
func (in ActionInput) Bool(name string) bool {
	b, _ := in.Inputs[name].(bool)
	return b
}

// Duration parses input name as a duration; ok is false when the input is absent or empty.
func (in ActionInput) Duration(name string) (d time.Duration, ok bool, err error) {
	s := in.String(name)
	if s == "" {
		return 0, false, nil
	}
	d, err = ParseDuration(s)
	if err != nil {
		return 0, false, engine.NonRetriable(engine.FieldError("inputs."+name, "%v", err))
	}
	return d, true, nil
}

// Registry holds the action kinds a process can run. Register every kind before workflows are
// validated or run; a Registry is safe for concurrent use.
type Registry struct {
	mu    sync.RWMutex
	kinds map[string]*Kind
}

// NewRegistry returns an empty registry. RegisterBuiltins adds the generic kinds.
func NewRegistry() *Registry { return &Registry{kinds: map[string]*Kind{}} }

var kindNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_:.\-]{0,63}$`)

// Register adds kinds. It refuses a duplicate or malformed name, a missing handler, an input
// of unknown type, an enum without values, and a default that its own type would refuse.
func (r *Registry) Register(kinds ...Kind) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range kinds {
		k.Inputs = normalizeDefaults(k.Inputs)
		if err := checkKind(k); err != nil {
			return err
		}
		if _, dup := r.kinds[k.Name]; dup {
			return fmt.Errorf("action kind %q is registered twice", k.Name)
		}
		k := k
		r.kinds[k.Name] = &k
	}
	return nil
}

// MustRegister is Register for program start-up: it panics on a programming error.
func (r *Registry) MustRegister(kinds ...Kind) {
	if err := r.Register(kinds...); err != nil {
		panic(err)
	}
}

// Kind returns the registered kind called name.
func (r *Registry) Kind(name string) (*Kind, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.kinds[name]
	return k, ok
}

// Kinds returns every registered kind sorted by name.
func (r *Registry) Kinds() []*Kind {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Kind, 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func checkKind(k Kind) error {
	if !kindNameRE.MatchString(k.Name) {
		return fmt.Errorf("action kind name %q: use letters, digits, _ : . - (start with a letter)", k.Name)
	}
	if k.Handler == nil {
		return fmt.Errorf("action kind %q has no handler", k.Name)
	}
	seen := map[string]bool{}
	for _, in := range k.Inputs {
		if in.Name == "" || seen[in.Name] {
			return fmt.Errorf("action kind %q: input name %q is empty or repeated", k.Name, in.Name)
		}
		seen[in.Name] = true
		if !knownType(in.Type) {
			return fmt.Errorf("action kind %q: input %q has unknown type %q", k.Name, in.Name, in.Type)
		}
		if in.Type == TypeEnum && len(in.Enum) == 0 {
			return fmt.Errorf("action kind %q: enum input %q lists no values", k.Name, in.Name)
		}
		if in.Default != nil {
			if msg := checkLiteral(in, in.Default); msg != "" {
				return fmt.Errorf("action kind %q: default of input %q: %s", k.Name, in.Name, msg)
			}
		}
	}
	return nil
}

func knownType(t InputType) bool {
	switch t {
	case TypeString, TypeText, TypeNumber, TypeBoolean, TypeEnum, TypeDuration, TypeEvent, TypeJSON:
		return true
	}
	return false
}

// normalizeDefaults copies inputs with each default in its JSON form (an int becomes float64),
// the form validation and handlers see.
func normalizeDefaults(inputs []InputSpec) []InputSpec {
	out := make([]InputSpec, len(inputs))
	copy(out, inputs)
	for i := range out {
		if out[i].Default != nil {
			out[i].Default = jsonValue(out[i].Default)
		}
	}
	return out
}

// jsonValue returns v as encoding/json would decode it (maps, slices, float64...); a value
// that does not encode becomes nil.
func jsonValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil
	}
	return out
}
