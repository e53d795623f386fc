package engine

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ReservedPrefixes start the names of the events only the engine (inkflow/*) or Inngest's
// protocol (inngest/*) sends. Clients may not send them (the web layer lets admins, for a
// workflow's Test run of a schedule); ReservedPrefix compares them without case.
var ReservedPrefixes = []string{"inkflow/", "inngest/"}

// ReservedPrefix returns the reserved prefix name starts with, compared without regard to
// case ("INKFLOW/x" is refused like "inkflow/x": it reads as the engine's), or "".
func ReservedPrefix(name string) string {
	for _, p := range ReservedPrefixes {
		if HasPrefixFold(name, p) {
			return p
		}
	}
	return ""
}

// HasPrefixFold reports whether s starts with prefix (lower case), ignoring case: s is
// lowered whole, so a letter whose lower case is ASCII ("\u212A", the Kelvin sign, is "k")
// counts as that letter.
func HasPrefixFold(s, prefix string) bool {
	return strings.HasPrefix(strings.ToLower(s), prefix)
}

// checkEventName refuses names that read as another name: space at either end (" inkflow/x"
// is not inkflow/x but looks like it on every page) and control or format characters
// anywhere (a line break splits the log line, a zero-width space hides in front of a
// reserved prefix). Every sender goes through it, the engine's own events included.
func checkEventName(name string) error {
	if err := checkText("name", name); err != nil {
		return err
	}
	if r, _ := utf8.DecodeRuneInString(name); unicode.IsSpace(r) {
		return FieldError("name", "starts with a space")
	}
	if r, _ := utf8.DecodeLastRuneInString(name); unicode.IsSpace(r) {
		return FieldError("name", "ends with a space")
	}
	for _, r := range name {
		if unicode.In(r, unicode.Cc, unicode.Cf) {
			return FieldError("name", "contains the control character %U", r)
		}
	}
	return nil
}

// checkEventValues refuses an event whose data or user holds a NUL in a key or a string:
// PostgreSQL refuses NUL in text, so such a value fails wherever a run copies it into a
// column (a post's title, a step's error), and SQLite would keep what PostgreSQL cannot.
// payload is the event as encoded JSON; only when it holds an escaped NUL are the values
// walked, to name the field ("data.items[2].title").
func checkEventValues(payload []byte) error {
	if !hasEscapedNUL(payload) {
		return nil
	}
	var ev struct {
		Data map[string]any `json:"data"`
		User map[string]any `json:"user"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return FieldError("data", "is not JSON: %v", err)
	}
	for _, part := range []struct {
		field string
		v     map[string]any
	}{{"data", ev.Data}, {"user", ev.User}} {
		if f := NULField(part.v, part.field); f != "" {
			return FieldError(f, "contains a NUL character")
		}
	}
	return nil
}

// hasEscapedNUL reports whether JSON text holds the escape \u0000 (a backslash before it
// that is itself escaped, as in "\\u0000", is text, not a NUL).
func hasEscapedNUL(b []byte) bool {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(`\u0000`))
		if j < 0 {
			return false
		}
		at := i + j
		n := 0
		for k := at - 1; k >= 0 && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return true
		}
		i = at + 1
	}
}

// NULField is the path, below at, of the first key or string in a decoded JSON value that
// holds a NUL ("" if none): "data.tags[1]", or at itself for a string.
func NULField(v any, at string) string {
	join := func(k string) string {
		if at == "" {
			return k
		}
		return at + "." + k
	}
	switch t := v.(type) {
	case string:
		if strings.IndexByte(t, 0) >= 0 {
			return at
		}
	case map[string]any:
		for k, x := range t {
			if strings.IndexByte(k, 0) >= 0 {
				return join(strings.ReplaceAll(k, "\x00", ""))
			}
			if f := NULField(x, join(k)); f != "" {
				return f
			}
		}
	case []any:
		for i, x := range t {
			if f := NULField(x, at+"["+strconv.Itoa(i)+"]"); f != "" {
				return f
			}
		}
	}
	return ""
}

// storableJSON makes encoded JSON storable on both databases: json.RawMessage passes
// through encoding unchecked, so an SDK answer or a step result may carry bytes that are not
// UTF-8, which PostgreSQL refuses in text. They can only sit inside strings (elsewhere the
// JSON would not be valid), so replacing them keeps the JSON valid.
func storableJSON(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	return bytes.ToValidUTF8(b, []byte("\uFFFD"))
}

// storableStep makes a step's error and output storable (see storableText, storableJSON):
// an SDK's StepError or a Go error may carry a NUL, which PostgreSQL refuses; the step
// then fails with its own message rather than with "cannot store".
func storableStep(row *stepRow) {
	row.Error = storableText(row.Error)
	if row.Output != nil && !utf8.ValidString(*row.Output) {
		row.Output = strPtr(string(storableJSON([]byte(*row.Output))))
	}
}
