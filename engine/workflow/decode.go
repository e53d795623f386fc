package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/inkflow/inkflow/engine"
)

// Limits on a workflow's JSON. Anything over them is refused with an error naming the limit.
const (
	MaxWorkflowBytes = 1 << 20
	MaxActions       = 500
	MaxEdges         = 2000
	MaxIDLength      = 128
	// MaxInputDepth bounds how deeply input values nest (objects in arrays in objects...).
	MaxInputDepth = 32
)

// Decode parses workflow-kit JSON from an untrusted source. It checks the JSON's shape (types
// of known fields, size limits) but not the graph: call Validate for that. Errors are
// *engine.Error with code EInvalid (ETooLarge over MaxWorkflowBytes) naming the field.
func Decode(data []byte) (*Workflow, error) {
	if len(data) > MaxWorkflowBytes {
		return nil, engine.Errorf(engine.ETooLarge, "workflow JSON is %d bytes; the limit is %d", len(data), MaxWorkflowBytes)
	}
	return decodeWorkflow(data)
}

func decodeWorkflow(data []byte) (*Workflow, error) {
	obj, err := object(data, "workflow")
	if err != nil {
		return nil, err
	}
	w := &Workflow{}
	if w.Name, err = optString(obj, "name", "name"); err != nil {
		return nil, err
	}
	if w.Description, err = optString(obj, "description", "description"); err != nil {
		return nil, err
	}
	if raw, ok := take(obj, "metadata"); ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &w.Metadata); err != nil {
			return nil, engine.FieldError("metadata", "must be a JSON object")
		}
	}
	if w.Actions, err = decodeList(obj, "actions", MaxActions, decodeAction); err != nil {
		return nil, err
	}
	if w.Edges, err = decodeList(obj, "edges", MaxEdges, decodeEdge); err != nil {
		return nil, err
	}
	w.Extra = extra(obj)
	return w, nil
}

func decodeList[T any](obj map[string]json.RawMessage, key string, limit int, one func(json.RawMessage, string) (T, error)) ([]T, error) {
	raw, ok := take(obj, key)
	if !ok || isNull(raw) {
		return []T{}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, engine.FieldError(key, "must be an array")
	}
	if len(items) > limit {
		return nil, engine.FieldError(key, "has %d entries; the limit is %d", len(items), limit)
	}
	out := make([]T, 0, len(items))
	for i, it := range items {
		v, err := one(it, fmt.Sprintf("%s[%d]", key, i))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func decodeAction(data json.RawMessage, field string) (Action, error) {
	var a Action
	obj, err := object(data, field)
	if err != nil {
		return a, err
	}
	if a.ID, err = optString(obj, "id", field+".id"); err != nil {
		return a, err
	}
	if a.Kind, err = optString(obj, "kind", field+".kind"); err != nil {
		return a, err
	}
	if a.Name, err = optString(obj, "name", field+".name"); err != nil {
		return a, err
	}
	if a.Description, err = optString(obj, "description", field+".description"); err != nil {
		return a, err
	}
	if a.Timeout, err = optString(obj, "timeout", field+".timeout"); err != nil {
		return a, err
	}
	if raw, ok := take(obj, "retries"); ok && !isNull(raw) {
		var n int
		if err := json.Unmarshal(raw, &n); err != nil || n < 0 || n > 100 {
			return a, engine.FieldError(field+".retries", "must be a whole number from 0 to 100")
		}
		a.Retries = &n
	}
	if raw, ok := take(obj, "inputs"); ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &a.Inputs); err != nil {
			return a, engine.FieldError(field+".inputs", "must be a JSON object")
		}
		if a.Inputs == nil {
			a.Inputs = map[string]any{}
		}
		for name, v := range a.Inputs {
			if depth(v) > MaxInputDepth {
				return a, engine.FieldError(field+".inputs."+name, "nests deeper than %d levels", MaxInputDepth)
			}
		}
	}
	a.Extra = extra(obj)
	if len(a.ID) > MaxIDLength {
		return a, engine.FieldError(field+".id", "is longer than %d characters", MaxIDLength)
	}
	return a, nil
}

func decodeEdge(data json.RawMessage, field string) (Edge, error) {
	var e Edge
	obj, err := object(data, field)
	if err != nil {
		return e, err
	}
	if e.From, err = optString(obj, "from", field+".from"); err != nil {
		return e, err
	}
	if e.To, err = optString(obj, "to", field+".to"); err != nil {
		return e, err
	}
	if e.Name, err = optString(obj, "name", field+".name"); err != nil {
		return e, err
	}
	if raw, ok := take(obj, "conditional"); ok && !isNull(raw) {
		c, err := decodeConditional(raw, field+".conditional")
		if err != nil {
			return e, err
		}
		e.Conditional = c
	}
	e.Extra = extra(obj)
	return e, nil
}

func decodeConditional(data json.RawMessage, field string) (*Conditional, error) {
	obj, err := object(data, field)
	if err != nil {
		return nil, err
	}
	c := &Conditional{}
	if c.Type, err = optString(obj, "type", field+".type"); err != nil {
		return nil, err
	}
	if c.Ref, err = optString(obj, "ref", field+".ref"); err != nil {
		return nil, err
	}
	if raw, ok := take(obj, "value"); ok {
		c.Value = compact(raw)
	}
	c.Extra = extra(obj)
	return c, nil
}

// object decodes a JSON object into its raw fields, or names field as not an object.
func object(data []byte, field string) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		if err != nil && !json.Valid(data) {
			return nil, engine.FieldError(field, "is not valid JSON: %v", err)
		}
		return nil, engine.FieldError(field, "must be a JSON object")
	}
	return obj, nil
}

// take removes key from obj and returns its raw value.
func take(obj map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	raw, ok := obj[key]
	delete(obj, key)
	return raw, ok
}

func optString(obj map[string]json.RawMessage, key, field string) (string, error) {
	raw, ok := take(obj, key)
	if !ok || isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", engine.FieldError(field, "must be a string")
	}
	return s, nil
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// extra returns what is left of obj (the unknown fields), compacted, or nil.
func extra(obj map[string]json.RawMessage) map[string]json.RawMessage {
	if len(obj) == 0 {
		return nil
	}
	for k, v := range obj {
		obj[k] = compact(v)
	}
	return obj
}

func compact(raw json.RawMessage) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

// depth returns how deeply v nests; scalars are depth 0.
func depth(v any) int {
	d := 0
	switch t := v.(type) {
	case map[string]any:
		for _, x := range t {
			d = max(d, depth(x))
		}
		return d + 1
	case []any:
		for _, x := range t {
			d = max(d, depth(x))
		}
		return d + 1
	}
	return 0
}
