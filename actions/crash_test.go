package actions_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/actions/aitest"
	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
)

// crashWorkflow puts a social step after grammar_review, so that the worker can be killed
// while it waits on the model for that step: grammar_review's answer is committed by then.
const crashWorkflow = `{"actions":[
 {"id":"1","kind":"add_ToC"},{"id":"2","kind":"grammar_review"},
 {"id":"3","kind":"generate_tweet_posts","inputs":{"count":1}},
 {"id":"4","kind":"wait_for_approval"},{"id":"5","kind":"apply_changes"}],
 "edges":[{"from":"$source","to":"1"},{"from":"1","to":"2"},{"from":"2","to":"3"},{"from":"3","to":"4"},{"from":"4","to":"5"}]}`

// TestWorkerKilledAfterGrammarReviewNeverAsksAgain runs the review workflow in a real
// `inkflow worker` process (built by the test), SIGKILLs it after grammar_review's model call returned (while
// the next AI step is in flight), lets a fresh worker take the run over, approves, and
// checks that the model never saw a second ToC or grammar request.
func TestWorkerKilledAfterGrammarReviewNeverAsksAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills worker processes")
	}
	db := testdb.Postgres(t)
	bin := filepath.Join(t.TempDir(), "inkflow")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/inkflow/inkflow").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// The model answers normally, except that the first tweet request hangs until the
	// worker that sent it dies.
	m := aitest.New(t)
	inFlight := make(chan struct{})
	var once sync.Once
	m.Fail(func(task string, n int, w http.ResponseWriter, r *http.Request) bool {
		if task != "social" || n > 1 {
			return false
		}
		once.Do(func() { close(inFlight) })
		<-r.Context().Done() // net/http cancels it when the killed worker's connection drops
		return true
	})

	// This process sends events and approves; only worker processes run the workflow.
	eng := enginetest.New(t, db, engine.Options{})
	c := cms.New(cms.Options{DB: db.DB, Engine: eng, BcryptCost: bcrypt.MinCost})
	reg := workflow.NewRegistry()
	if err := actions.Register(reg, actions.Deps{Posts: c.Posts}); err != nil {
		t.Fatal(err)
	}
	store := workflow.NewStore(db.DB, reg)
	if err := eng.Register(workflow.NewRunner(store).Functions()...); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name, trigger, enabled := "AI review", cms.EventUpdated, true
	if _, err := store.Create(ctx, workflow.Draft{Name: &name, Trigger: &trigger, Enabled: &enabled, Workflow: json.RawMessage(crashWorkflow)}); err != nil {
		t.Fatal(err)
	}
	b := &blog{t: t, eng: eng, cms: c}
	b.editor = b.user("editor@blog.example", cms.RoleEditor)
	b.approver = b.user("approver@blog.example", cms.RoleApprover)

	first := startWorkerProcess(t, bin, db.URL, m.Env()...)
	p, runID := b.review(draft)
	select {
	case <-inFlight:
	case <-time.After(60 * time.Second):
		t.Fatalf("the worker never reached the tweet step; log:\n%s", first.logText())
	}
	run, err := eng.GetRun(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if !stepCompleted(run, "2") {
		t.Fatalf("grammar_review is not committed before the kill:\n%s", stepsText(run))
	}
	first.kill()

	second := startWorkerProcess(t, bin, db.URL, m.Env()...)
	defer second.kill()
	b.await(runID, engine.StatusWaiting)
	if _, err := c.Posts.Approve(ctx, b.approver, p.ID); err != nil {
		t.Fatal(err)
	}
	run = b.await(runID, engine.StatusCompleted)

	if g, toc, social := m.Count("grammar"), m.Count("toc"), m.Count("social"); g != 1 || toc != 1 || social != 2 {
		t.Errorf("model requests: grammar %d, toc %d, social %d; want 1, 1 and 2 (the tweet step never committed before the kill)", g, toc, social)
	}
	got := b.post(p.ID)
	if !strings.Contains(got.Markdown, "This is the first step.") || !strings.Contains(got.Markdown, "(#getting-started)") {
		t.Errorf("approved post lacks the AI revision:\n%s", got.Markdown)
	}
	if out := state(t, run, "5"); out["applied"] != true {
		t.Errorf("apply_changes output = %v", out)
	}
}

func stepCompleted(run *engine.Run, id string) bool {
	for _, st := range run.Steps {
		if st.ID == id && st.Status == "completed" {
			return true
		}
	}
	return false
}

// workerProcess is one `inkflow worker` configured to use the test's model server.
type workerProcess struct {
	t   *testing.T
	cmd *exec.Cmd
	log string
}

func startWorkerProcess(t *testing.T, bin, dbURL string, env ...string) *workerProcess {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "worker.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "worker", "--database-url", dbURL, "--lease", "1s")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &workerProcess{t: t, cmd: cmd, log: logPath}
	t.Cleanup(w.kill)
	return w
}

func (w *workerProcess) kill() {
	if w.cmd.ProcessState != nil {
		return
	}
	w.cmd.Process.Signal(syscall.SIGKILL)
	w.cmd.Wait()
}

func (w *workerProcess) logText() string {
	b, _ := os.ReadFile(w.log)
	return string(b)
}
