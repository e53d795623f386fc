package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// refPrefix opens a reference; the path runs to the matching ")".
const refPrefix = "!ref("

// Ref roots.
const (
	RootEvent  = "event"
	RootState  = "state"
	RootOutput = "output"
	// RootEvents is a batched run's events, in order ($.events; a run of one event sees a
	// list of that one). Only a workflow with config.batchEvents may refer to it.
	RootEvents = "events"
)

// Ref is a parsed "!ref($.path)": Path is the JSON path's segments after "$" (strings are
// object keys, ints are array indexes), Text the ref as written.
type Ref struct {
	Text string
	Path []any
}

// Root returns the first path segment ("event", "state" or "output"), or "".
func (r Ref) Root() string {
	if len(r.Path) == 0 {
		return ""
	}
	s, _ := r.Path[0].(string)
	return s
}

// StateAction returns the action id a "$.state.<id>..." ref reads, or "".
func (r Ref) StateAction() string {
	if r.Root() != RootState || len(r.Path) < 2 {
		return ""
	}
	s, _ := r.Path[1].(string)
	return s
}

// refSpan is one ref found in a string: its parsed form and byte offsets.
type refSpan struct {
	Ref
	start, end int
}

// findRefs returns the refs inside s. A "!ref(" that does not open a well-formed ref is an
// error, so a typo never passes silently as literal text.
func findRefs(s string) ([]refSpan, error) {
	var out []refSpan
	off := 0
	for {
		i := strings.Index(s[off:], refPrefix)
		if i < 0 {
			return out, nil
		}
		start := off + i
		path, n, err := parsePath(s[start+len(refPrefix):])
		if err != nil {
			return nil, fmt.Errorf("bad ref at %q: %v", clip(s[start:], 40), err)
		}
		end := start + len(refPrefix) + n
		if end >= len(s) || s[end] != ')' {
			return nil, fmt.Errorf("bad ref at %q: missing ')'", clip(s[start:], 40))
		}
		end++
		out = append(out, refSpan{Ref: Ref{Text: s[start:end], Path: path}, start: start, end: end})
		off = end
	}
}

// pureRef reports whether s is exactly one ref (it then takes the referenced value's type).
func pureRef(s string) (Ref, bool) {
	if !strings.HasPrefix(s, refPrefix) || !strings.HasSuffix(s, ")") {
		return Ref{}, false
	}
	spans, err := findRefs(s)
	if err != nil || len(spans) != 1 || spans[0].start != 0 || spans[0].end != len(s) {
		return Ref{}, false
	}
	return spans[0].Ref, true
}

// parsePath reads "$.a.b[0]['c d']" from the start of s, up to (not including) ")" or the end.
// It returns the segments and how many bytes it read.
func parsePath(s string) ([]any, int, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, 0, fmt.Errorf("a path starts with $")
	}
	var segs []any
	i := 1
	for i < len(s) && s[i] != ')' {
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && isIdentByte(s[j]) {
				j++
			}
			if j == i+1 {
				return nil, 0, fmt.Errorf("empty name after '.'")
			}
			segs = append(segs, s[i+1:j])
			i = j
		case '[':
			seg, n, err := parseBracket(s[i:])
			if err != nil {
				return nil, 0, err
			}
			segs = append(segs, seg)
			i += n
		default:
			return nil, 0, fmt.Errorf("unexpected %q in path", s[i])
		}
	}
	if len(segs) == 0 {
		return nil, 0, errors.New("path $ names nothing: start it with $.event or $.state")
	}
	return segs, i, nil
}

// parseBracket reads [0] or ['key'] or ["key"].
func parseBracket(s string) (any, int, error) {
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return nil, 0, fmt.Errorf("missing ']'")
	}
	inner := s[1:end]
	if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
		return inner[1 : len(inner)-1], end + 1, nil
	}
	n, err := strconv.Atoi(inner)
	if err != nil || n < 0 {
		return nil, 0, fmt.Errorf("index [%s] is not a whole number or quoted key", inner)
	}
	return n, end + 1, nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '-' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// lookup follows path through JSON values; missing keys, out-of-range indexes and steps into
// scalars give (nil, false).
func lookup(root any, path []any) (any, bool) {
	cur := root
	for _, seg := range path {
		switch k := seg.(type) {
		case string:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			a, ok := cur.([]any)
			if !ok || k >= len(a) {
				return nil, false
			}
			cur = a[k]
		}
	}
	return cur, true
}

// scope is what refs resolve against: {"event": ..., "state": ..., "output": ...}.
type scope map[string]any

// interpolate resolves refs in v: a string that is exactly one ref becomes the referenced
// value with its type (null when missing); refs inside longer text are replaced by their text;
// objects and arrays are walked. The result shares nothing with the scope.
func interpolate(v any, sc scope) (any, error) {
	switch t := v.(type) {
	case string:
		if r, ok := pureRef(t); ok {
			val, _ := lookup(map[string]any(sc), r.Path)
			return jsonValue(val), nil
		}
		return interpolateText(t, sc)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			r, err := interpolate(x, sc)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			r, err := interpolate(x, sc)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func interpolateText(s string, sc scope) (string, error) {
	spans, err := findRefs(s)
	if err != nil || len(spans) == 0 {
		return s, err
	}
	var b strings.Builder
	prev := 0
	for _, sp := range spans {
		b.WriteString(s[prev:sp.start])
		val, _ := lookup(map[string]any(sc), sp.Path)
		b.WriteString(textOf(val))
		prev = sp.end
	}
	b.WriteString(s[prev:])
	return b.String(), nil
}

// textOf renders a value inside text: strings as they are, numbers as JavaScript prints them,
// null as nothing, objects and arrays as JSON.
func textOf(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case bool:
		return strconv.FormatBool(t)
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e21 {
			return strconv.FormatFloat(t, 'f', -1, 64)
		}
		return strconv.FormatFloat(t, 'g', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// refsIn returns every ref in a (possibly nested) input value.
func refsIn(v any) ([]Ref, error) {
	var out []Ref
	var walk func(v any) error
	walk = func(v any) error {
		switch t := v.(type) {
		case string:
			spans, err := findRefs(t)
			if err != nil {
				return err
			}
			for _, sp := range spans {
				out = append(out, sp.Ref)
			}
		case map[string]any:
			for _, k := range sortedKeys(t) {
				if err := walk(t[k]); err != nil {
					return err
				}
			}
		case []any:
			for _, x := range t {
				if err := walk(x); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
