package web

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/internal/repo"
	"github.com/inkflow/inkflow/internal/testdb"
)

// demoWorkflow branches, runs two actions in parallel, waits for an approval and skips the
// branch it does not take: every state the run page draws.
const demoWorkflow = `{"name":"Document review","actions":[
	{"id":"note","kind":"set_state","name":"Note the document","inputs":{"values":{"doc":"!ref($.event.data.id)"}}},
	{"id":"announce","kind":"log","name":"Announce submission","inputs":{"message":"document !ref($.event.data.id) submitted"}},
	{"id":"approval","kind":"wait_for_event","name":"Wait for approval","inputs":{"event":"doc.approved","match":"data.id","timeout":"1h"}},
	{"id":"publish","kind":"log","name":"Publish","inputs":{"message":"publishing !ref($.state.note.doc)"}},
	{"id":"remind","kind":"log","name":"Remind the reviewer","inputs":{"message":"no answer"}},
	{"id":"tell","kind":"send_event","name":"Tell the team","inputs":{"name":"doc.published","data":{"id":"!ref($.state.note.doc)"}}}],
	"edges":[{"from":"$source","to":"note"},{"from":"$source","to":"announce"},{"from":"note","to":"approval"},
	{"from":"approval","to":"publish","name":"approved","conditional":{"type":"if","ref":"!ref($.output)"}},
	{"from":"approval","to":"remind","name":"timed out","conditional":{"type":"else","ref":"!ref($.output)"}},
	{"from":"publish","to":"tell"}]}`

// An admin opens a workflow run that waits for approval; in a second tab they send the
// approval from the events page's test form; without a reload the run page follows the run
// to completed over Server-Sent Events, its graph turning green and the untaken branch
// skipped. Screenshots go to testdata/out/ (INKFLOW_UPDATE_DOCS=1 also refreshes
// docs/run.png).
func TestRunPageUpdatesLiveInBrowser(t *testing.T) {
	browser.Need(t)
	db := testdb.SQLite(t)
	ts, store := workflowServer(t, db)
	ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
	createWorkflow(t, store, "Document review", "doc.submitted", demoWorkflow)
	run := send(t, ts.Eng, "doc.submitted", map[string]any{"id": 7})
	enginetest.Await(t, ts.Eng, run, engine.StatusWaiting)

	env := map[string]string{"BASE_URL": ts.URL, "RUN_ID": run, "EMAIL": "admin@example.com", "PASSWORD": "correct horse battery"}
	if os.Getenv("INKFLOW_UPDATE_DOCS") == "1" {
		root, _ := repo.Root()
		env["DOCS_DIR"] = filepath.Join(root, "docs")
	}
	browser.Run(t, "testdata/runs_live.mjs", env)

	r := enginetest.Await(t, ts.Eng, run, engine.StatusCompleted)
	if len(r.Steps) != 5 {
		t.Errorf("completed run has %d steps, want 5 (note, announce, approval, publish, tell)", len(r.Steps))
	}
}
