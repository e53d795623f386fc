package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
)

// Source is the id of the implicit entry node: an edge from Source starts the workflow.
const Source = "$source"

// Workflow is an admin-built graph of actions, in the JSON shape @inngest/workflow-kit uses.
// Fields this package does not know (Extra) are kept so that a workflow survives an import and
// export round trip unchanged.
type Workflow struct {
	Name        string
	Description string
	Metadata    map[string]any
	Actions     []Action
	Edges       []Edge
	// Extra holds unknown top-level fields, verbatim.
	Extra map[string]json.RawMessage
}

// Action is one node of a workflow: an instance of a registered Kind with its inputs.
type Action struct {
	ID          string
	Kind        string
	Name        string
	Description string
	// Inputs maps input names to literal JSON values or "!ref($.path)" references. A nil map
	// means the field was absent; an empty map is kept as {}.
	Inputs map[string]any
	// Retries overrides the engine's retry count for this action's step (inkflow extension,
	// JSON "retries"; workflow-kit ignores it).
	Retries *int
	// Timeout bounds one attempt of this action's step, as a duration string such as "30s"
	// (inkflow extension, JSON "timeout").
	Timeout string
	Extra   map[string]json.RawMessage
}

// Edge connects two actions (or Source to an action). With Conditional set the edge is
// followed only when the condition holds for the From action's output.
type Edge struct {
	From        string
	To          string
	Name        string
	Conditional *Conditional
	Extra       map[string]json.RawMessage
}

// Conditional guards an edge. Type is "if" (Ref truthy), "else" (Ref falsy) or "match" (Ref
// JSON-equal to Value). Ref is "!ref($.output...)" style, or a CEL expression prefixed "cel:".
type Conditional struct {
	Type string
	Ref  string
	// Value is the raw JSON to compare with for "match"; nil when absent.
	Value json.RawMessage
	Extra map[string]json.RawMessage
}

// Condition types.
const (
	CondIf    = "if"
	CondElse  = "else"
	CondMatch = "match"
)

// Action returns the action with id, or nil.
func (w *Workflow) Action(id string) *Action {
	for i := range w.Actions {
		if w.Actions[i].ID == id {
			return &w.Actions[i]
		}
	}
	return nil
}

// MarshalJSON writes the workflow-kit shape plus any extra fields. Actions and edges are
// always arrays (workflow-kit requires them).
func (w Workflow) MarshalJSON() ([]byte, error) {
	m := copyExtra(w.Extra)
	putString(m, "name", w.Name)
	putString(m, "description", w.Description)
	if w.Metadata != nil {
		if err := put(m, "metadata", w.Metadata); err != nil {
			return nil, err
		}
	}
	actions := w.Actions
	if actions == nil {
		actions = []Action{}
	}
	edges := w.Edges
	if edges == nil {
		edges = []Edge{}
	}
	if err := put(m, "actions", actions); err != nil {
		return nil, err
	}
	if err := put(m, "edges", edges); err != nil {
		return nil, err
	}
	return marshalObject(m)
}

// MarshalJSON writes the action with its extra fields.
func (a Action) MarshalJSON() ([]byte, error) {
	m := copyExtra(a.Extra)
	putString(m, "id", a.ID)
	putString(m, "kind", a.Kind)
	putString(m, "name", a.Name)
	putString(m, "description", a.Description)
	putString(m, "timeout", a.Timeout)
	if a.Inputs != nil {
		if err := put(m, "inputs", a.Inputs); err != nil {
			return nil, err
		}
	}
	if a.Retries != nil {
		if err := put(m, "retries", *a.Retries); err != nil {
			return nil, err
		}
	}
	return marshalObject(m)
}

// MarshalJSON writes the edge with its extra fields.
func (e Edge) MarshalJSON() ([]byte, error) {
	m := copyExtra(e.Extra)
	putString(m, "from", e.From)
	putString(m, "to", e.To)
	putString(m, "name", e.Name)
	if e.Conditional != nil {
		if err := put(m, "conditional", e.Conditional); err != nil {
			return nil, err
		}
	}
	return marshalObject(m)
}

// MarshalJSON writes the condition with its extra fields.
func (c Conditional) MarshalJSON() ([]byte, error) {
	m := copyExtra(c.Extra)
	putString(m, "type", c.Type)
	putString(m, "ref", c.Ref)
	if c.Value != nil {
		m["value"] = c.Value
	}
	return marshalObject(m)
}

// UnmarshalJSON decodes a workflow without size limits; use Decode for untrusted input.
func (w *Workflow) UnmarshalJSON(data []byte) error {
	d, err := decodeWorkflow(data)
	if err != nil {
		return err
	}
	*w = *d
	return nil
}

func copyExtra(extra map[string]json.RawMessage) map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, len(extra)+6)
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func putString(m map[string]json.RawMessage, key, v string) {
	if v == "" {
		return
	}
	b, _ := json.Marshal(v) // a string always marshals
	m[key] = b
}

func put(m map[string]json.RawMessage, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	m[key] = b
	return nil
}

// marshalObject writes m with sorted keys, so that equal workflows encode to equal bytes.
func marshalObject(m map[string]json.RawMessage) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(m[k])
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
