package web

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
)

// sseEvent is one Server-Sent Event as a browser's EventSource sees it.
type sseEvent struct{ name, data string }

// sseStream reads events from a live response over real HTTP.
type sseStream struct {
	res    *http.Response
	lines  *bufio.Scanner
	cancel context.CancelFunc
}

// openStream GETs path with the client's cookies and checks it is an event stream.
func openStream(t *testing.T, b *webClient, path string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.ts.URL+path, nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := b.http.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		t.Fatalf("stream %s: %d %s %s", path, res.StatusCode, res.Header.Get("Content-Type"), snippet(string(body)))
	}
	s := &sseStream{res: res, lines: bufio.NewScanner(res.Body), cancel: cancel}
	s.lines.Buffer(make([]byte, 1<<20), 8<<20)
	t.Cleanup(s.close)
	return s
}

func (s *sseStream) close() { s.cancel(); s.res.Body.Close() }

// next returns the next event, or ok=false when the server ended the stream.
func (s *sseStream) next(t *testing.T) (ev sseEvent, ok bool) {
	t.Helper()
	var data []string
	for s.lines.Scan() {
		line := s.lines.Text()
		switch {
		case line == "":
			if ev.name != "" || data != nil {
				ev.data = strings.Join(data, "\n")
				return ev, true
			}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = append(data, strings.TrimPrefix(line, "data: "))
		}
	}
	if err := s.lines.Err(); err != nil {
		t.Fatalf("read stream: %v", err)
	}
	return ev, false
}

// runStatusIn returns the run status an update shows.
func runStatusIn(t *testing.T, html string) string {
	t.Helper()
	st := testIDs(t, html, "run-status", "data-status")
	if len(st) != 1 {
		t.Fatalf("update shows %d run statuses: %s", len(st), snippet(html))
	}
	return st[0]
}

const liveWorkflow = `{"name":"Live","actions":[
	{"id":"mark","kind":"set_state","name":"Mark","inputs":{"values":{"doc":"!ref($.event.data.id)"}}},
	{"id":"wait","kind":"wait_for_event","name":"Wait for approval","inputs":{"event":"doc.approved","match":"data.id","timeout":"1h"}},
	{"id":"yes","kind":"log","inputs":{"message":"approved"}},
	{"id":"no","kind":"log","inputs":{"message":"timed out"}}],
	"edges":[{"from":"$source","to":"mark"},{"from":"mark","to":"wait"},
	{"from":"wait","to":"yes","conditional":{"type":"if","ref":"!ref($.output)"}},
	{"from":"wait","to":"no","conditional":{"type":"else","ref":"!ref($.output)"}}]}`

// createWorkflow stores and enables wf on trigger.
func createWorkflow(t *testing.T, store *workflow.Store, name, trigger, wf string) *workflow.Record {
	t.Helper()
	enabled := true
	rec, err := store.Create(context.Background(), workflow.Draft{Name: &name, Trigger: &trigger, Enabled: &enabled, Workflow: []byte(wf)})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// The run page's stream, read over real HTTP while a workflow run proceeds: the first update
// shows the run waiting (and what for), the event resumes it, a later update shows it
// completed with every taken action green and the untaken branch skipped, and then the
// server ends the stream.
func TestRunStreamFollowsRun(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, store := workflowServer(t, db)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)
		rec := createWorkflow(t, store, "Live", "doc.submitted", liveWorkflow)
		run := send(t, ts.Eng, "doc.submitted", map[string]any{"id": 42})
		if r, _ := ts.Eng.GetRun(context.Background(), run); r.WorkflowID == nil || *r.WorkflowID != rec.ID {
			t.Fatalf("run is not a run of workflow %d", rec.ID)
		}

		b := ts.client(t)
		if r := b.get("/admin/runs/" + run + "/events"); r.Status != http.StatusSeeOther {
			t.Errorf("anonymous stream: %d", r.Status)
		}
		b.login("vi@example.com")
		if r := b.get("/admin/runs/no-such-run/events"); r.Status != 404 {
			t.Errorf("stream of an unknown run: %d", r.Status)
		}

		s := openStream(t, b, "/admin/runs/"+run+"/events")
		var updates []string
		sentApproval := false
		for {
			ev, ok := s.next(t)
			if !ok {
				break
			}
			if ev.name == "done" {
				if ev, ok := s.next(t); ok {
					t.Errorf("event after done: %+v", ev)
				}
				break
			}
			if ev.name != "update" {
				t.Fatalf("unexpected event %q", ev.name)
			}
			updates = append(updates, ev.data)
			status := runStatusIn(t, ev.data)
			if status == "waiting" && !sentApproval {
				if w := findTestID(t, ev.data, "wait-event"); len(w) != 1 || text(w[0]) != "doc.approved" {
					t.Errorf("waiting update does not say what the run waits for")
				}
				if st := testIDs(t, ev.data, "graph-node-wait", "data-state"); len(st) != 1 || st[0] != "waiting" {
					t.Errorf("graph node of the wait: %v", st)
				}
				send0(t, ts.Eng, "doc.approved", map[string]any{"id": 42})
				sentApproval = true
			}
		}
		if !sentApproval {
			t.Fatalf("never saw the run waiting; %d updates", len(updates))
		}
		if len(updates) < 2 {
			t.Fatalf("%d updates, want at least 2", len(updates))
		}
		last := updates[len(updates)-1]
		if st := runStatusIn(t, last); st != "completed" {
			t.Fatalf("last update shows %s", st)
		}
		for id, want := range map[string]string{"mark": "completed", "wait": "completed", "yes": "completed", "no": "skipped"} {
			if st := testIDs(t, last, "graph-node-"+id, "data-state"); len(st) != 1 || st[0] != want {
				t.Errorf("graph node %s = %v, want %s", id, st, want)
			}
		}
		if steps := testIDs(t, last, "step", "data-step"); strings.Join(steps, ",") != "mark,wait,yes" {
			t.Errorf("steps in the last update = %v", steps)
		}
	})
}

// send0 sends an event that may start no run.
func send0(t *testing.T, eng *engine.Engine, name string, data map[string]any) {
	t.Helper()
	if _, err := eng.Send(context.Background(), engine.Event{Name: name, Data: data}); err != nil {
		t.Fatal(err)
	}
}

// The runs list's stream sends the list as it is, then again when a new run appears.
func TestRunsListStream(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng := dashboardEngine(t, db)
		ts := newTestServer(t, db, eng)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)
		first := send(t, eng, "test/greet", map[string]any{"who": "a"})
		send(t, eng, "test/break", nil) // filtered out below
		b := ts.client(t)
		b.login("vi@example.com")

		s := openStream(t, b, "/admin/runs/stream?function=greet")
		ev, ok := s.next(t)
		if !ok || ev.name != "update" {
			t.Fatalf("first event: %+v %v", ev, ok)
		}
		if rows := testIDs(t, ev.data, "run-row", "data-run"); strings.Join(rows, ",") != first {
			t.Fatalf("first update rows = %v", rows)
		}
		second := send(t, eng, "test/greet", map[string]any{"who": "b"})
		ev, ok = s.next(t)
		if !ok || ev.name != "update" {
			t.Fatalf("second event: %+v %v", ev, ok)
		}
		if rows := testIDs(t, ev.data, "run-row", "data-run"); strings.Join(rows, ",") != second+","+first {
			t.Fatalf("second update rows = %v", rows)
		}
		if c := strings.Fields(text(findTestID(t, ev.data, "status-queued")[0])); c[len(c)-1] != "2" {
			t.Errorf("queued chip = %v", c)
		}
	})
}
