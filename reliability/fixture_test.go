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
	var rows []engine.Run
	for _, name := range []string{bench.EventWait, eventWF} {
		runs, err := f.sender.AllRuns(ctx, engine.RunFilter{Status: engine.StatusWaiting, EventName: name})
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, runs...)
	}
	var evs []engine.Event
	var ids []string
	for _, r := range rows {
		if sent[r.ID] {
			continue
		}
		var ev engine.Event
		decodeJSON(t, r.Event, &ev)
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

// finished counts the runs of the load's trigger events that ended (completed, failed or
// cancelled).
func (f *fixture) finished(t *testing.T) int64 {
	t.Helper()
	tally, err := f.sender.TallyRuns(context.Background(), triggerNames...)
	if err != nil {
		t.Fatal(err)
	}
	return int64(tally.Finished)
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
	ctx := context.Background()
	tally, err := f.sender.TallyRuns(ctx, triggerNames...)
	if err != nil {
		t.Fatal(err)
	}
	a.runs, a.completed = int64(tally.Runs), int64(tally.Completed)
	a.notCompleted = a.runs - a.completed
	a.eventsWithoutRun, a.eventsWithManyRuns = int64(tally.EventsWithoutRun), int64(tally.EventsWithManyRuns)
	effects, err := bench.AuditEffects(ctx, f.sender, f.db.DB)
	if err != nil {
		t.Fatal(err)
	}
	a.lateEffects, a.probeSteps, a.effects = int64(len(effects.Late)), int64(effects.Steps), int64(effects.Effects)
	a.stepsWithoutEffect = int64(len(effects.Missing))
	if m != nil {
		steps, err := f.sender.StepRecords(ctx, engine.StepRecordFilter{
			Status: engine.StepCompleted, StepIDs: []string{"toc", "grammar"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range steps {
			if s.Event.Name != eventAI || s.EndedAt == nil {
				continue
			}
			n, _ := s.Event.Data["n"].(float64)
			a.lateModelCalls += lateCalls(m, s.StepID, int(n), s.EndedAt.UnixMilli())
		}
		a.modelCalls = len(m.Calls())
	}
	if a.runs != int64(want) || a.notCompleted != 0 || a.eventsWithoutRun != 0 || a.eventsWithManyRuns != 0 {
		t.Errorf("runs: %d (want %d), %d not completed, %d trigger events without a run, %d with more than one",
			a.runs, want, a.notCompleted, a.eventsWithoutRun, a.eventsWithManyRuns)
	}
	if a.lateEffects != 0 || a.stepsWithoutEffect != 0 {
		t.Errorf("probe steps: %d executions after their step committed, %d steps without an execution; the late ones: %+v; without: %v",
			a.lateEffects, a.stepsWithoutEffect, effects.Late, effects.Missing)
	}
	if a.lateModelCalls != 0 {
		t.Errorf("%d model requests for an AI step after it committed", a.lateModelCalls)
	}
	return a
}

// statusCounts says how many runs of each function are in each status, for failure messages.
func (f *fixture) statusCounts(t *testing.T) string { return statusCounts(f.sender) }

func statusCounts(e *engine.Engine) string {
	rows, err := e.CensusRuns(context.Background())
	if err != nil {
		return "(run census: " + err.Error() + ")"
	}
	out := ""
	for _, r := range rows {
		out += fmt.Sprintf("\n  %s %s %s: %d", r.FunctionID, r.EventName, r.Status, r.N)
	}
	return out
}
