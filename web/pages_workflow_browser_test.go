package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"testing"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/internal/compat"
	"github.com/inkflow/inkflow/internal/repo"
	"github.com/inkflow/inkflow/internal/testdb"
	"github.com/inkflow/inkflow/ops"
)

// editorSession starts a real server with workflows, an admin and their session cookie.
func editorSession(t *testing.T, db *testdb.DB) (*testServer, *workflow.Store, string) {
	t.Helper()
	ts, store := workflowServer(t, db)
	admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
	secret, err := ts.CMS.Sessions.Create(context.Background(), admin.ID, "browser test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return ts, store, sessionCookie + "=" + secret
}

// In a real Chromium, an admin drags two actions from the palette, connects them from
// $source, sees the server's validation error on a node (and a refused save), fills the
// inputs, lays the graph out, saves, reloads and finds the same graph, then enables the
// workflow and starts a test run. The stored workflow must be what the user built.
func TestWorkflowEditorInBrowser(t *testing.T) {
	browser.Need(t)
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, store, cookie := editorSession(t, db)
		name, trigger := "Blog review", "blog-post.updated"
		rec, err := store.Create(context.Background(), workflow.Draft{Name: &name, Trigger: &trigger})
		if err != nil {
			t.Fatal(err)
		}
		// blog-post.* events come only from the CMS: the test run sends this post to review.
		author := ts.mustUser(t, "author@example.com", cms.RoleEditor)
		title := "Tested by the editor"
		post, err := ts.CMS.Posts.Create(context.Background(), author, cms.PostInput{Title: &title})
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"BASE_URL": ts.URL, "WORKFLOW_ID": strconv.FormatInt(rec.ID, 10), "SESSION_COOKIE": cookie,
			"POST_ID": strconv.FormatInt(post.ID, 10)}
		out := browser.Run(t, "testdata/workflow_editor.mjs", env)

		got, err := store.Get(context.Background(), rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		w := got.Workflow
		type edge struct{ From, To string }
		var edges []edge
		for _, e := range w.Edges {
			edges = append(edges, edge{e.From, e.To})
		}
		if want := []edge{{"$source", "log_1"}, {"log_1", "sleep_1"}}; !reflect.DeepEqual(edges, want) {
			t.Errorf("stored edges = %v, want %v", edges, want)
		}
		if len(w.Actions) != 2 {
			t.Fatalf("stored actions = %+v, want log_1 and sleep_1", w.Actions)
		}
		logA, sleepA := w.Action("log_1"), w.Action("sleep_1")
		if logA == nil || logA.Kind != "log" || !reflect.DeepEqual(logA.Inputs, map[string]any{"message": "Post !ref($.event.data.id)", "level": "warn"}) {
			t.Errorf("log_1 = %+v", logA)
		}
		if sleepA == nil || sleepA.Kind != "sleep" || !reflect.DeepEqual(sleepA.Inputs, map[string]any{"duration": "1h30m"}) {
			t.Errorf("sleep_1 = %+v", sleepA)
		}
		// Version 1 was the empty workflow; the refused save stored nothing; one save.
		if got.Version != 2 || !got.Enabled {
			t.Errorf("version %d enabled %v, want version 2, enabled", got.Version, got.Enabled)
		}

		m := regexp.MustCompile(`(?m)^RUN (\S+)$`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("the test run opened no run page:\n%s", out)
		}
		run, err := ts.Eng.GetRun(context.Background(), m[1])
		if err != nil {
			t.Fatalf("the test run's page names run %q: %v", m[1], err)
		}
		if run.WorkflowID == nil || *run.WorkflowID != rec.ID || run.WorkflowVersion == nil || *run.WorkflowVersion != 2 {
			t.Errorf("test run = workflow %v v%v, want %d v2", run.WorkflowID, run.WorkflowVersion, rec.ID)
		}
		if got, _ := ts.CMS.Posts.Get(context.Background(), post.ID); got == nil || got.Status != cms.StatusUnderReview {
			t.Errorf("the test run did not send post %d to review through the CMS: %+v", post.ID, got)
		}
	})
}

// A workflow-kit workflow with every shape its forks write (edge ids, names, conditions,
// object inputs, unknown fields) goes through the editor losing nothing: exported as it
// came, saved with only the user's changes (an action renamed, an edge's match value), imported into another workflow unchanged.
func TestWorkflowEditorRoundTripInBrowser(t *testing.T) {
	browser.Need(t)
	fixture, err := filepath.Abs("testdata/workflow_kit_roundtrip.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, store, cookie := editorSession(t, db)
		ctx := context.Background()
		name, trigger := "Round trip", "blog-post.updated"
		edit, err := store.Create(ctx, workflow.Draft{Name: &name, Trigger: &trigger, Workflow: raw})
		if err != nil {
			t.Fatal(err)
		}
		empty, err := store.Create(ctx, workflow.Draft{Name: &name, Trigger: &trigger})
		if err != nil {
			t.Fatal(err)
		}
		outDir, _ := filepath.Abs("testdata/out")
		exported := filepath.Join(outDir, "roundtrip-export.json")
		_ = os.Remove(exported)

		env := map[string]string{
			"BASE_URL": ts.URL, "SESSION_COOKIE": cookie, "FIXTURE": fixture,
			"EDIT_ID": strconv.FormatInt(edit.ID, 10), "IMPORT_ID": strconv.FormatInt(empty.ID, 10),
		}
		browser.Run(t, "testdata/workflow_roundtrip.mjs", env)

		want := jsonObject(t, raw)
		if b, err := os.ReadFile(exported); err != nil {
			t.Errorf("no export downloaded: %v", err)
		} else if got := jsonObject(t, b); !reflect.DeepEqual(got, want) {
			t.Errorf("export differs from the workflow-kit JSON:\n got %s\nwant %s", b, raw)
		}

		renamed := jsonObject(t, raw)
		renamed["actions"].([]any)[1].(map[string]any)["name"] = "Say hi"
		renamed["edges"].([]any)[3].(map[string]any)["conditional"].(map[string]any)["value"] = "warn"
		if got := exportOf(t, store, edit.ID); !reflect.DeepEqual(got, renamed) {
			t.Errorf("saved workflow is not the original with the user's two changes:\n got %v\nwant %v", got, renamed)
		}
		if got := exportOf(t, store, empty.ID); !reflect.DeepEqual(got, want) {
			t.Errorf("imported workflow differs from the file:\n got %v\nwant %v", got, want)
		}
	})
}

func exportOf(t *testing.T, store *workflow.Store, id int64) map[string]any {
	t.Helper()
	b, err := store.Export(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return jsonObject(t, b)
}

func jsonObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// Our own workflow-kit fixture and, when INKFLOW_COMPAT_DIR names their folder (as on CI),
// every real workflow-kit example, valid or invalid, goes through the editor's import and
// export unchanged: the editor never drops or rewrites what it does not understand.
func TestWorkflowEditorKeepsWorkflowKitExamples(t *testing.T) {
	browser.Need(t)
	examples := [][]byte{}
	own, err := os.ReadFile("testdata/workflow_kit_roundtrip.json")
	if err != nil {
		t.Fatal(err)
	}
	examples = append(examples, own)
	for _, e := range compat.Examples(t) {
		examples = append(examples, e.Workflow)
	}
	in, out := t.TempDir(), t.TempDir()
	for i, e := range examples {
		if err := os.WriteFile(filepath.Join(in, fmt.Sprintf("%02d.json", i)), e, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ts, store, cookie := editorSession(t, testdb.SQLite(t))
	name := "Compat"
	rec, err := store.Create(context.Background(), workflow.Draft{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	browser.Run(t, "testdata/workflow_compat.mjs", map[string]string{
		"BASE_URL": ts.URL, "SESSION_COOKIE": cookie, "WORKFLOW_ID": strconv.FormatInt(rec.ID, 10),
		"IN_DIR": in, "EXPORT_DIR": out,
	})
	for i, e := range examples {
		f := fmt.Sprintf("%02d.json", i)
		got, err := os.ReadFile(filepath.Join(out, f))
		if err != nil {
			t.Errorf("example %s: no export: %v", f, err)
			continue
		}
		if !reflect.DeepEqual(jsonObject(t, got), jsonObject(t, e)) {
			t.Errorf("example %s changed in the editor:\n got %s\nwant %s", f, got, e)
		}
	}
	t.Logf("%d workflow-kit examples went through the editor unchanged", len(examples))
}

// "Test run" on a scheduled workflow starts it now, through the scheduler's own event.
func TestWorkflowEditorTestRunOfScheduledWorkflowInBrowser(t *testing.T) {
	browser.Need(t)
	ts, store, cookie := editorSession(t, testdb.SQLite(t))
	name, trigger, on := "Nightly", "cron: TZ=Europe/Lisbon 0 4 * * *", true
	rec, err := store.Create(context.Background(), workflow.Draft{Name: &name, Trigger: &trigger, Enabled: &on,
		Workflow: []byte(`{"actions":[{"id":"note","kind":"log","inputs":{"message":"nightly"}}],"edges":[{"from":"$source","to":"note"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	out := browser.Run(t, "testdata/workflow_testrun.mjs", map[string]string{
		"BASE_URL": ts.URL, "SESSION_COOKIE": cookie, "WORKFLOW_ID": strconv.FormatInt(rec.ID, 10),
	})
	m := regexp.MustCompile(`(?m)^RUN (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no run page opened:\n%s", out)
	}
	run, err := ts.Eng.GetRun(context.Background(), m[1])
	if err != nil || run.WorkflowID == nil || *run.WorkflowID != rec.ID {
		t.Fatalf("run %s = %+v, %v; want a run of workflow %d", m[1], run, err, rec.ID)
	}
}

// galleryServer is editorSession with the blog's and the operators' kinds registered, so
// every template of the gallery is a valid workflow.
func galleryServer(t *testing.T, db *testdb.DB) (*testServer, *workflow.Store, string) {
	t.Helper()
	reg := workflow.NewRegistry()
	if err := workflow.RegisterBuiltins(reg, workflow.BuiltinConfig{}); err != nil {
		t.Fatal(err)
	}
	store := workflow.NewStore(db.DB, reg)
	eng := enginetest.New(t, db, engine.Options{})
	ts := newTestServer(t, db, eng, func(c *Config) { c.Workflows = store })
	if err := actions.Register(reg, actions.Deps{Posts: ts.CMS.Posts}); err != nil {
		t.Fatal(err)
	}
	if err := ops.RegisterKinds(reg, ops.KindDeps{CMS: ts.CMS, Engine: eng}); err != nil {
		t.Fatal(err)
	}
	admin := ts.mustUser(t, "admin@example.com", cms.RoleAdmin)
	secret, err := ts.CMS.Sessions.Create(context.Background(), admin.ID, "browser test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return ts, store, sessionCookie + "=" + secret
}

// In a real Chromium, an admin starts a workflow from the "New workflow" gallery (the
// editorial review), finds the palette grouped by category, searches it and adds actions with
// Enter and a double-click, each connected below the one before; a refused save turns the
// status bar red and fixing the inputs clears it; the workflow is saved as version 2 with the
// user's additions, then deleted from the editor (gone from the list and from the API).
// INKFLOW_UPDATE_DOCS=1 also refreshes docs/editor.png.
func TestWorkflowGalleryPaletteAndDeleteInBrowser(t *testing.T) {
	browser.Need(t)
	db := testdb.SQLite(t)
	ts, store, cookie := galleryServer(t, db)
	env := map[string]string{"BASE_URL": ts.URL, "SESSION_COOKIE": cookie}
	if os.Getenv("INKFLOW_UPDATE_DOCS") == "1" {
		root, _ := repo.Root()
		env["DOCS_DIR"] = filepath.Join(root, "docs")
	}
	out := browser.Run(t, "testdata/workflow_gallery.mjs", env)
	m := regexp.MustCompile(`(?m)^WORKFLOW (\d+)$`).FindStringSubmatch(out)
	if m == nil || !regexp.MustCompile(`(?m)^SAVED$`).MatchString(out) {
		t.Fatalf("the script saved no workflow:\n%s", out)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	ctx := context.Background()
	// The saved graph is kept in its versions; the workflow itself is deleted.
	if _, err := store.Get(ctx, id); engine.ErrorCode(err) != engine.ENotFound {
		t.Errorf("after delete, Get = %v, want not found", err)
	}
	v, err := store.Version(ctx, id, 2)
	if err != nil {
		t.Fatalf("version 2: %v", err)
	}
	var ids []string
	for _, a := range v.Workflow.Actions {
		ids = append(ids, a.ID)
	}
	if want := []string{"toc", "grammar", "approval", "apply", "log_1", "sleep_1"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("saved actions %v, want %v", ids, want)
	}
	type edge struct{ From, To string }
	var edges []edge
	for _, e := range v.Workflow.Edges {
		edges = append(edges, edge{e.From, e.To})
	}
	if want := []edge{{"$source", "toc"}, {"toc", "grammar"}, {"grammar", "approval"}, {"approval", "apply"}, {"apply", "log_1"}, {"log_1", "sleep_1"}}; !reflect.DeepEqual(edges, want) {
		t.Errorf("saved edges %v, want %v", edges, want)
	}
	if got := v.Workflow.Action("log_1").Inputs["message"]; got != "Reviewed post !ref($.event.data.id)" {
		t.Errorf("log_1 message %v", got)
	}
	b := ts.client(t)
	b.login("admin@example.com")
	if res := b.get("/api/workflows/" + m[1]); res.Status != 404 {
		t.Errorf("GET /api/workflows/%s after delete: %d", m[1], res.Status)
	}
}
