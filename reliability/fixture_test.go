package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/actions/aitest"
	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
)

// Events of the mixed load's workflows (the bench probe functions bring their own).
const (
	eventAI     = "reliability/ai.review" // data {id: post id, n}: ToC and grammar by the model, then a sleep
	eventWF     = "reliability/wf.start"  // data {key}: sleep, wait for eventGo with the same key, log
	eventGo     = "reliability/wf.go"
	wfSleep     = "1s"
	aiWorkflow  = `{"actions":[{"id":"toc","kind":"add_ToC"},{"id":"grammar","kind":"grammar_review"},{"id":"nap","kind":"sleep","inputs":{"duration":"1s"}}],"edges":[{"from":"$source","to":"toc"},{"from":"toc","to":"grammar"},{"from":"grammar","to":"nap"}]}`
	genWorkflow = `{"actions":[{"id":"nap","kind":"sleep","inputs":{"duration":"1s"}},{"id":"wait","kind":"wait_for_event","inputs":{"event":"reliability/wf.go","match":"data.key","timeout":"30m"}},{"id":"note","kind":"log","inputs":{"message":"resumed by !ref($.state.wait.id)"}}],"edges":[{"from":"$source","to":"nap"},{"from":"nap","to":"wait"},{"from":"wait","to":"note"}]}`
)

// fixture is this test process's side of a load: an engine that only sends (it never starts
// workers, so every run executes in inkflow processes), the CMS for posts, and the workflows.
type fixture struct {
	// sendErrors counts sends the engine refused (each a rolled-back transaction, retried as a
	// client would); lastSendError is the latest reason.
	sendErrors    int
	lastSendError string

	db     *testdb.DB
	sender *engine.Engine
	cms    *cms.CMS
	author *cms.User
}

// newFixture registers the same functions as the binary (the probe functions and the
// workflow runner) so that Send queues their runs, and saves the two workflows.
func newFixture(t *testing.T, db *testdb.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	eng, err := engine.New(engine.Options{DB: db.DB})
	if err != nil {
		t.Fatal(err)
	}
	c := cms.New(cms.Options{DB: db.DB, Engine: eng, BcryptCost: bcrypt.MinCost})
	reg := workflow.NewRegistry()
	if err := workflow.RegisterBuiltins(reg, workflow.BuiltinConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := actions.Register(reg, actions.Deps{Posts: c.Posts}); err != nil {
		t.Fatal(err)
	}
	store := workflow.NewStore(db.DB, reg)
	if err := eng.Register(append(workflow.NewRunner(store).Functions(), bench.Functions(db.DB)...)...); err != nil {
		t.Fatal(err)
	}
	for name, wf := range map[string]string{eventAI: aiWorkflow, eventWF: genWorkflow} {
		name, trigger, on := name, name, true
		if _, err := store.Create(ctx, workflow.Draft{Name: &name, Trigger: &trigger, Enabled: &on, Workflow: json.RawMessage(wf)}); err != nil {
			t.Fatalf("save workflow %s: %v", name, err)
		}
	}
	author, err := c.Users.Create(ctx, cms.NewUser{Email: "author@example.com", Role: cms.RoleEditor, Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, sender: eng, cms: c, author: author}
}

// mix is a batch of trigger events of every kind of work, numbered from first.
type mix struct{ steps, waits, workflows, ai int }

func (m mix) total() int { return m.steps + m.waits + m.workflows + m.ai }

// events builds the trigger events for m; AI events get a fresh post each (its markdown
// carries a marker so the model can tell which post a request is for).
func (f *fixture) events(t *testing.T, m mix, first int) []engine.Event {
	t.Helper()
	ctx := context.Background()
	var evs []engine.Event
	for i := range m.steps {
		evs = append(evs, engine.Event{Name: bench.EventSteps, Data: map[string]any{"steps": 3, "effects": true, "sleep_ms": 20, "n": first + i}})
	}
	for i := range m.waits {
		evs = append(evs, engine.Event{Name: bench.EventWait, Data: map[string]any{"id": fmt.Sprintf("w-%d", first+i)}})
	}
	for i := range m.workflows {
		evs = append(evs, engine.Event{Name: eventWF, Data: map[string]any{"key": fmt.Sprintf("k-%d", first+i)}})
	}
	for i := range m.ai {
		n := first + i
		title := fmt.Sprintf("Post %d", n)
		md := fmt.Sprintf("# Post %d\n\nThis is teh text of relpost-%d.\n\n## First part\n\nText.\n\n## Second part\n\nMore.\n", n, n)
		p, err := f.cms.Posts.Create(ctx, f.author, cms.PostInput{Title: &title, Markdown: &md})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, engine.Event{Name: eventAI, Data: map[string]any{"id": p.ID, "n": n}})
	}
	return evs
}

// triggerNames are the events whose runs the load tests count.
var triggerNames = []string{bench.EventSteps, bench.EventWait, eventWF, eventAI}

// resumeWaiting sends the event each waiting run of the load waits for, once per run, and
// returns how many it sent.
func (f *fixture) resumeWaiting(t *testing.T, sent map[string]bool) int {
	t.Helper()
	ctx := context.Background()
	var rows []struct {
		ID, EventName, Event string
	}
	err := f.db.DB.WithContext(ctx).Raw(`SELECT id, event_name, event FROM runs WHERE status = 'waiting' AND event_name IN ?`,
		[]string{bench.EventWait, eventWF}).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	var evs []engine.Event
	var ids []string
	for _, r := range rows {
		if sent[r.ID] {
			continue
		}
		var ev engine.Event
		decodeJSON(t, []byte(r.Event), &ev)
		if r.EventName == bench.EventWait {
			evs = append(evs, engine.Event{Name: bench.EventResume, Data: map[string]any{"id": ev.Data["id"]}})
		} else {
			evs = append(evs, engine.Event{Name: eventGo, Data: map[string]any{"key": ev.Data["key"]}})
		}
		ids = append(ids, r.ID)
	}
	if len(evs) == 0 {
		return 0
	}
	f.send(t, evs...)
	for _, id := range ids {
		sent[id] = true
	}
	return len(evs)
}

// send stores events, retrying a refused send (a transaction the database rolled back, such
// as a deadlock victim) up to 20 times, as a client would; refusals are counted for the report.
func (f *fixture) send(t *testing.T, evs ...engine.Event) engine.SendResult {
	t.Helper()
	for attempt := 0; ; attempt++ {
		res, err := f.sender.Send(context.Background(), evs...)
		if err == nil {
			return res
		}
		f.sendErrors++
		f.lastSendError = err.Error()
		if attempt == 20 {
			t.Fatalf("send refused 20 times: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// count runs a COUNT(*) query.
func (f *fixture) count(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.db.DB.Raw(sql, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// audit is what the database says about a finished load.
type audit struct {
	runs, completed, notCompleted            int64
	eventsWithoutRun, eventsWithManyRuns     int64
	lateEffects, stepsWithoutEffect, effects int64
	probeSteps                               int64
	lateModelCalls, modelCalls               int
}

// audit checks the load's invariants in the database: every trigger event has exactly one
// run, every run completed, no probe step's fn ran after its step committed, and no AI step
// was asked of the model after it committed.
func (f *fixture) audit(t *testing.T, m *aitest.Server, want int) audit {
	t.Helper()
	var a audit
	a.runs = f.count(t, `SELECT COUNT(*) FROM runs WHERE event_name IN ?`, triggerNames)
	a.completed = f.count(t, `SELECT COUNT(*) FROM runs WHERE event_name IN ? AND status = 'completed'`, triggerNames)
	a.notCompleted = a.runs - a.completed
	a.eventsWithoutRun = f.count(t, `SELECT COUNT(*) FROM events e WHERE e.name IN ? AND NOT EXISTS (SELECT 1 FROM runs r WHERE r.event_id = e.id)`, triggerNames)
	a.eventsWithManyRuns = f.count(t, `SELECT COUNT(*) FROM (SELECT event_id FROM runs WHERE event_name IN ? GROUP BY event_id HAVING COUNT(*) > 1) x`, triggerNames)
	a.lateEffects = f.count(t, `SELECT COUNT(*) FROM probe_effects e JOIN steps s ON s.run_id = e.run_id AND s.id = e.step_id
		WHERE s.status = 'completed' AND e.at > s.ended_at`)
	a.probeSteps = f.count(t, `SELECT COUNT(*) FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.function_id = 'bench-steps' AND s.status = 'completed'`)
	a.stepsWithoutEffect = f.count(t, `SELECT COUNT(*) FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.function_id = 'bench-steps'
		AND NOT EXISTS (SELECT 1 FROM probe_effects e WHERE e.run_id = s.run_id AND e.step_id = s.id)`)
	a.effects = f.count(t, `SELECT COUNT(*) FROM probe_effects`)
	if m != nil {
		var steps []struct {
			Event   string
			ID      string
			EndedAt int64
		}
		err := f.db.DB.Raw(`SELECT r.event, s.id, s.ended_at FROM steps s JOIN runs r ON r.id = s.run_id
			WHERE r.event_name = ? AND s.id IN ('toc', 'grammar') AND s.status = 'completed'`, eventAI).Scan(&steps).Error
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range steps {
			var ev engine.Event
			decodeJSON(t, []byte(s.Event), &ev)
			n, _ := ev.Data["n"].(float64)
			a.lateModelCalls += lateCalls(m, s.ID, int(n), s.EndedAt)
		}
		a.modelCalls = len(m.Calls())
	}
	if a.runs != int64(want) || a.notCompleted != 0 || a.eventsWithoutRun != 0 || a.eventsWithManyRuns != 0 {
		t.Errorf("runs: %d (want %d), %d not completed, %d trigger events without a run, %d with more than one",
			a.runs, want, a.notCompleted, a.eventsWithoutRun, a.eventsWithManyRuns)
	}
	if a.lateEffects != 0 || a.stepsWithoutEffect != 0 {
		var late []struct {
			RunID, StepID          string
			At, StartedAt, EndedAt int64
			Attempts               int
		}
		f.db.DB.Raw(`SELECT e.run_id, e.step_id, e.at, s.started_at, s.ended_at, s.attempts FROM probe_effects e
			JOIN steps s ON s.run_id = e.run_id AND s.id = e.step_id WHERE e.run_id IN (SELECT e2.run_id FROM probe_effects e2
			JOIN steps s2 ON s2.run_id = e2.run_id AND s2.id = e2.step_id WHERE s2.status = 'completed' AND e2.at > s2.ended_at)
			ORDER BY e.run_id, e.step_id, e.at`).Scan(&late)
		t.Errorf("probe steps: %d executions after their step committed, %d steps without an execution; executions of those runs: %+v",
			a.lateEffects, a.stepsWithoutEffect, late)
	}
	if a.lateModelCalls != 0 {
		t.Errorf("%d model requests for an AI step after it committed", a.lateModelCalls)
	}
	return a
}

// statusCounts says how many runs of each function are in each status, for failure messages.
func (f *fixture) statusCounts(t *testing.T) string { return statusCounts(f.db) }

func statusCounts(db *testdb.DB) string {
	var rows []struct {
		FunctionID, EventName, Status string
		N                             int64
	}
	db.DB.Raw(`SELECT function_id, event_name, status, COUNT(*) AS n FROM runs GROUP BY function_id, event_name, status ORDER BY 1, 2, 3`).Scan(&rows)
	out := ""
	for _, r := range rows {
		out += fmt.Sprintf("\n  %s %s %s: %d", r.FunctionID, r.EventName, r.Status, r.N)
	}
	return out
}
