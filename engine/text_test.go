package engine

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/internal/testdb"
)

// A NUL in an event's data or user is refused naming the field, whoever sends it (the CLI,
// a workflow's send_event, a Go function): PostgreSQL refuses NUL wherever a run copies such
// a value into a column. Names that read as another name are refused too.
func TestEventTextIsRefusedByField(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL})
		if err != nil {
			t.Fatal(err)
		}
		type custom struct {
			Title string `json:"title"`
		}
		for _, c := range []struct {
			ev    Event
			field string
		}{
			{Event{Name: "a.b", Data: map[string]any{"k": "v\x00"}}, "data.k"},
			{Event{Name: "a.b", Data: map[string]any{"k\x00": 1}}, "data.k"},
			{Event{Name: "a.b", Data: map[string]any{"list": []any{"ok", map[string]any{"t": "\x00"}}}}, "data.list[1].t"},
			{Event{Name: "a.b", Data: map[string]any{"post": custom{Title: "a\x00"}}}, "data.post.title"},
			{Event{Name: "a.b", User: map[string]any{"email": "\x00"}}, "user.email"},
			{Event{Name: " a.b"}, "name: starts with a space"},
			{Event{Name: "a.b\t"}, "name: ends with a space"},
			{Event{Name: "a\nb"}, "name: contains the control character"},
			{Event{Name: "\u200binkflow/run.failed"}, "name: contains the control character U+200B"},
		} {
			_, err := e.Send(context.Background(), c.ev)
			if ErrorCode(err) != EInvalid || !strings.Contains(err.Error(), c.field) {
				t.Errorf("send %+v: %v; want an invalid-field error naming %q", c.ev, err, c.field)
			}
		}
		res, err := e.Send(context.Background(), Event{Name: "a.b", Data: map[string]any{"k": `\u0000`, "é": "ü"}})
		if err != nil || len(res.IDs) != 1 {
			t.Fatalf("text that only looks like an escape, and non-ASCII: %v", err)
		}
	})
}

// A step's error or result, or a handler's error, that PostgreSQL cannot store as text (a NUL,
// bytes that are not UTF-8: what an SDK app may answer) ends the run with its own message on
// both databases. Before, a handler's error with a NUL left the run "running", replaying
// every few seconds for ever on PostgreSQL, and the step errors failed it with "cannot store".
func TestUnstorableTextEndsTheRunWithItsMessage(t *testing.T) {
	cases := []struct {
		name    string
		handler func(ctx context.Context, in *Input) (any, error)
		status  Status
		has     string // in the run's error, or its output when completed
	}{
		{"handler error with NUL", func(ctx context.Context, in *Input) (any, error) {
			return nil, NonRetriable(errors.New("upstream said a\x00b"))
		}, StatusFailed, `upstream said a\x00b`},
		{"retried handler error with NUL", func(ctx context.Context, in *Input) (any, error) {
			return nil, errors.New("again a\x00b")
		}, StatusFailed, `again a\x00b`},
		{"step error with NUL", func(ctx context.Context, in *Input) (any, error) {
			return in.Step.Run(ctx, "s", func(ctx context.Context) (any, error) { return nil, NonRetriable(errors.New("boom\x00x")) })
		}, StatusFailed, `boom\x00x`},
		{"step error not UTF-8", func(ctx context.Context, in *Input) (any, error) {
			return in.Step.Run(ctx, "s", func(ctx context.Context) (any, error) { return nil, NonRetriable(errors.New("boom\xffx")) })
		}, StatusFailed, "boom\uFFFDx"},
		{"step result not UTF-8", func(ctx context.Context, in *Input) (any, error) {
			out, err := in.Step.Run(ctx, "s", func(ctx context.Context) (any, error) { return json.RawMessage("\"a\xffb\""), nil })
			return json.RawMessage(out), err
		}, StatusCompleted, "a\uFFFDb"},
		{"run result not UTF-8", func(ctx context.Context, in *Input) (any, error) {
			return json.RawMessage("{\"k\":\"\xfe\"}"), nil
		}, StatusCompleted, "\uFFFD"},
	}
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		e, err := New(Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond, BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		one := 1
		for i, c := range cases {
			fn := &Function{ID: "text-" + string(rune('a'+i)), Flow: Flow{Retries: &one},
				Triggers: []Trigger{{Event: "text/" + string(rune('a'+i))}}, Handler: c.handler}
			if err := e.Register(fn); err != nil {
				t.Fatal(err)
			}
		}
		startWorkers(t, e)
		for i, c := range cases {
			res, err := e.Send(context.Background(), Event{Name: "text/" + string(rune('a'+i))})
			if err != nil {
				t.Fatal(err)
			}
			run := awaitRun(t, e, res.Runs[0], func(r *Run) bool { return r.Status.Finished() })
			got := run.Error
			if c.status == StatusCompleted {
				got = string(run.Output)
			}
			if run.Status != c.status || !strings.Contains(got, c.has) {
				t.Errorf("%s: run %s with %q; want %s with %q", c.name, run.Status, got, c.status, c.has)
			}
		}
	})
}

// hasEscapedNUL, the fast test that decides whether an event's values are walked, agrees
// with decoding for any JSON text: it never misses a NUL (which would let one be stored) and
// never sees one in text that only looks like the escape ("\\u0000").
func FuzzEventValuesNUL(f *testing.F) {
	for _, s := range []string{`{"k":"\u0000"}`, `{"k":"\\u0000"}`, `{"k":"\\\u0000"}`, `{"\u0000":1}`, `{"a":["x","\\\\u0000"]}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		has := NULField(v, "value") != ""
		if got := hasEscapedNUL(b); got != has {
			t.Fatalf("hasEscapedNUL(%q) = %v; decoding finds a NUL: %v", b, got, has)
		}
	})
}
