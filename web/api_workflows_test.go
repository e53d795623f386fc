package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
)

// workflowServer is a test server with a workflow store and an engine running the workflows.
func workflowServer(t *testing.T, db *testdb.DB) (*testServer, *workflow.Store) {
	t.Helper()
	reg := workflow.NewRegistry()
	if err := workflow.RegisterBuiltins(reg, workflow.BuiltinConfig{}); err != nil {
		t.Fatal(err)
	}
	store := workflow.NewStore(db.DB, reg)
	eng := enginetest.New(t, db, engine.Options{},
		workflow.NewRunner(store).Functions()...)
	ts := newTestServer(t, db, eng, func(c *Config) { c.Workflows = store })
	enginetest.StartWorkers(t, eng)
	return ts, store
}

func decodeBody[T any](t *testing.T, res response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(res.Body), &v); err != nil {
		t.Fatalf("decode %q: %v", res.Body, err)
	}
	return v
}

const reviewWorkflow = `{"name":"Review","actions":[
	{"id":"mark","kind":"set_state","name":"Mark","inputs":{"values":{"post":"!ref($.event.data.id)"}}},
	{"id":"wait","kind":"wait_for_event","name":"Wait for approval","inputs":{"event":"doc.approved","match":"data.id","timeout":"1h"}},
	{"id":"note","kind":"log","inputs":{"message":"v1: post !ref($.state.mark.post) approved by !ref($.state.wait.data.by)"}}],
	"edges":[{"id":"e0","from":"$source","to":"mark"},{"from":"mark","to":"wait"},{"from":"wait","to":"note","conditional":{"type":"if","ref":"!ref($.output)"}}]}`

func TestWorkflowAPIRolesAndErrors(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, _ := workflowServer(t, db)
		admin := ts.token(t, ts.mustUser(t, "ad@example.com", cms.RoleAdmin))
		editor := ts.token(t, ts.mustUser(t, "ed@example.com", cms.RoleEditor))
		viewer := ts.token(t, ts.mustUser(t, "vi@example.com", cms.RoleViewer))
		body := `{"trigger":"doc.submitted","workflow":` + reviewWorkflow + `}`

		for _, tt := range []struct {
			token, method, path, body string
			status                    int
		}{
			{"", "GET", "/api/workflows", "", 401},
			{viewer, "GET", "/api/workflows", "", 200},
			{viewer, "GET", "/api/actions", "", 200},
			{viewer, "POST", "/api/workflows", body, 403},
			{editor, "POST", "/api/workflows", body, 403},
			{editor, "POST", "/api/workflows/import", reviewWorkflow, 403},
			{viewer, "POST", "/api/workflows/validate", reviewWorkflow, 200},
			{admin, "GET", "/api/workflows/999", "", 404},
			{admin, "PUT", "/api/workflows/999", body, 404},
			{admin, "DELETE", "/api/workflows/999", "", 404},
			{admin, "GET", "/api/workflows/abc", "", 400},
			{admin, "POST", "/api/workflows", `{"workflow":`, 400},
			{admin, "POST", "/api/workflows", `{"name":5}`, 400},
		} {
			if res := ts.rawAPI(t, tt.token, tt.method, tt.path, tt.body); res.Status != tt.status {
				t.Errorf("%s %s as %q: %d %s, want %d", tt.method, tt.path, tt.token, res.Status, res.Body, tt.status)
			}
		}

		// 422 names the action and the field; nothing is stored.
		bad := `{"trigger":"doc.submitted","workflow":{"actions":[{"id":"a","kind":"sleep","inputs":{"duration":"soon"}},{"id":"b","kind":"nope"}],"edges":[{"from":"$source","to":"a"},{"from":"a","to":"b"}]}}`
		res := ts.rawAPI(t, admin, "POST", "/api/workflows", bad)
		eb := decodeBody[errorBody](t, res)
		if res.Status != 422 || !strings.Contains(eb.Error, `action "a"`) || eb.Fields["actions.b.kind"] == "" || eb.Fields["actions.a.inputs.duration"] == "" {
			t.Errorf("invalid workflow: %d %s", res.Status, res.Body)
		}
		res = ts.rawAPI(t, viewer, "POST", "/api/workflows/validate", bad)
		if eb := decodeBody[errorBody](t, res); res.Status != 422 || eb.Fields["actions.b.kind"] == "" {
			t.Errorf("validate: %d %s", res.Status, res.Body)
		}
		// A cron trigger that saving refuses is not valid here either.
		res = ts.rawAPI(t, viewer, "POST", "/api/workflows/validate", `{"trigger":"cron: 61 * * * *","workflow":{"actions":[{"id":"a","kind":"sleep","inputs":{"duration":"1s"}}],"edges":[{"from":"$source","to":"a"}]}}`)
		if eb := decodeBody[errorBody](t, res); res.Status != 422 || eb.Fields["trigger"] == "" {
			t.Errorf("validate with a bad cron trigger: %d %.300s", res.Status, res.Body)
		}
		// An expression over the size limit is refused by name, before anything compiles it.
		long := `{"trigger":"doc.submitted","workflow":{"actions":[{"id":"a","kind":"sleep","inputs":{"duration":"1s"}},{"id":"b","kind":"sleep","inputs":{"duration":"1s"}}],` +
			`"edges":[{"from":"$source","to":"a"},{"from":"a","to":"b","conditional":{"type":"if","ref":"cel: event.data.x == '` + strings.Repeat("x", 5000) + `'"}}]}}`
		res = ts.rawAPI(t, viewer, "POST", "/api/workflows/validate", long)
		if eb := decodeBody[errorBody](t, res); res.Status != 422 || !strings.Contains(eb.Fields["edges[1].conditional.ref"], "limit") {
			t.Errorf("validate a 5 KB expression: %d %.300s", res.Status, res.Body)
		}
		res = ts.rawAPI(t, admin, "POST", "/api/workflows", `{"trigger":"two words"}`)
		if eb := decodeBody[errorBody](t, res); res.Status != 422 || eb.Fields["trigger"] == "" {
			t.Errorf("bad trigger: %d %s", res.Status, res.Body)
		}
		if list := decodeBody[listWorkflowsResp](t, ts.rawAPI(t, viewer, "GET", "/api/workflows", "")); len(list.Workflows) != 0 {
			t.Errorf("refused saves stored %d workflows", len(list.Workflows))
		}

		// The action kinds come with their schemas.
		acts := decodeBody[struct {
			Actions []struct {
				Kind     string               `json:"kind"`
				Name     string               `json:"name"`
				Category string               `json:"category"`
				Inputs   []workflow.InputSpec `json:"inputs"`
			} `json:"actions"`
		}](t, ts.rawAPI(t, viewer, "GET", "/api/actions", ""))
		kinds := map[string][]workflow.InputSpec{}
		for _, a := range acts.Actions {
			kinds[a.Kind] = a.Inputs
			if a.Category == "" {
				t.Errorf("kind %s has no palette category", a.Kind)
			}
		}
		for _, k := range []string{"sleep", "wait_for_event", "send_event", "webhook", "set_state", "log", "builtin:if"} {
			if _, ok := kinds[k]; !ok {
				t.Errorf("GET /api/actions lacks %s: %v", k, acts)
			}
		}
		if w := kinds["wait_for_event"]; len(w) == 0 || w[0].Name != "event" || !w[0].Required || w[0].Type != workflow.TypeEvent {
			t.Errorf("wait_for_event inputs %+v", w)
		}
	})
}

func TestWorkflowAPILifecycle(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, _ := workflowServer(t, db)
		admin := ts.token(t, ts.mustUser(t, "ad@example.com", cms.RoleAdmin))
		viewer := ts.token(t, ts.mustUser(t, "vi@example.com", cms.RoleViewer))

		// Import a bare workflow-kit export; export gives it back unchanged.
		res := ts.rawAPI(t, admin, "POST", "/api/workflows/import?trigger=doc.submitted&name=Imported", reviewWorkflow)
		if res.Status != 201 {
			t.Fatalf("import: %d %s", res.Status, res.Body)
		}
		rec := decodeBody[workflow.Record](t, res)
		if rec.Name != "Imported" || rec.Enabled || rec.Version != 1 {
			t.Errorf("imported %+v", rec)
		}
		res = ts.rawAPI(t, viewer, "GET", "/api/workflows/"+wfID(rec.ID)+"/export", "")
		if res.Status != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") || !sameJSONText(t, res.Body, reviewWorkflow) {
			t.Errorf("export: %d %v %s", res.Status, res.Header, res.Body)
		}

		// Update: new version; enable; list; versions.
		upd := `{"name":"Renamed","base_version":1,"workflow":` + strings.Replace(reviewWorkflow, "v1:", "v2:", 1) + `}`
		res = ts.rawAPI(t, admin, "PUT", "/api/workflows/"+wfID(rec.ID), upd)
		if got := decodeBody[workflow.Record](t, res); res.Status != 200 || got.Version != 2 || got.Name != "Renamed" {
			t.Fatalf("update: %d %s", res.Status, res.Body)
		}
		res = ts.rawAPI(t, admin, "PUT", "/api/workflows/"+wfID(rec.ID), upd)
		if res.Status != 409 {
			t.Errorf("stale update: %d %s", res.Status, res.Body)
		}
		res = ts.rawAPI(t, admin, "POST", "/api/workflows/"+wfID(rec.ID)+"/enable", "")
		if got := decodeBody[workflow.Record](t, res); res.Status != 200 || !got.Enabled {
			t.Errorf("enable: %d %s", res.Status, res.Body)
		}
		vs := decodeBody[versionsResp](t, ts.rawAPI(t, viewer, "GET", "/api/workflows/"+wfID(rec.ID)+"/versions", ""))
		if len(vs.Versions) != 2 || vs.Versions[0].Version != 2 || vs.Versions[0].SavedBy == nil {
			t.Errorf("versions %+v", vs)
		}
		res = ts.rawAPI(t, admin, "POST", "/api/workflows/"+wfID(rec.ID)+"/disable", "")
		if got := decodeBody[workflow.Record](t, res); res.Status != 200 || got.Enabled {
			t.Errorf("disable: %d %s", res.Status, res.Body)
		}
		if res := ts.rawAPI(t, admin, "DELETE", "/api/workflows/"+wfID(rec.ID), ""); res.Status != 204 {
			t.Errorf("delete: %d %s", res.Status, res.Body)
		}
		if res := ts.rawAPI(t, viewer, "GET", "/api/workflows/"+wfID(rec.ID), ""); res.Status != 404 {
			t.Errorf("get deleted: %d", res.Status)
		}
	})
}

// TestWorkflowEndToEnd: a workflow created through the API runs on its trigger event with each
// action as a step; editing it while a run waits leaves that run on its pinned version while
// a new event runs the new one.
func TestWorkflowEndToEnd(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, _ := workflowServer(t, db)
		admin := ts.token(t, ts.mustUser(t, "ad@example.com", cms.RoleAdmin))
		res := ts.rawAPI(t, admin, "POST", "/api/workflows", `{"name":"Review","trigger":"doc.submitted","enabled":true,"workflow":`+reviewWorkflow+`}`)
		if res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		rec := decodeBody[workflow.Record](t, res)

		send := func(name, data string) []string {
			res := ts.rawAPI(t, admin, "POST", "/api/events", `{"name":"`+name+`","data":`+data+`}`)
			if res.Status != 200 {
				t.Fatalf("send %s: %d %s", name, res.Status, res.Body)
			}
			return decodeBody[engine.SendResult](t, res).Runs
		}
		await := func(id string, status engine.Status) engine.Run {
			var run engine.Run
			enginetest.Eventually(t, "run "+id+" to be "+string(status), func() bool {
				run = decodeBody[engine.Run](t, ts.rawAPI(t, admin, "GET", "/api/runs/"+id, ""))
				if run.Status != status && run.Status.Finished() {
					t.Fatalf("run %s is %s (%s), want %s", id, run.Status, run.Error, status)
				}
				return run.Status == status
			})
			return run
		}

		oldRuns := send("doc.submitted", `{"id":1}`)
		if len(oldRuns) != 1 {
			t.Fatalf("runs %v", oldRuns)
		}
		await(oldRuns[0], engine.StatusWaiting)
		res = ts.rawAPI(t, admin, "PUT", "/api/workflows/"+wfID(rec.ID), `{"workflow":`+strings.Replace(reviewWorkflow, "v1:", "v2:", 1)+`}`)
		if res.Status != 200 {
			t.Fatalf("edit: %d %s", res.Status, res.Body)
		}
		newRuns := send("doc.submitted", `{"id":2}`)
		await(newRuns[0], engine.StatusWaiting)
		send("doc.approved", `{"id":1,"by":"ana"}`)
		send("doc.approved", `{"id":2,"by":"rui"}`)

		for id, want := range map[string]struct {
			version int
			note    string
		}{oldRuns[0]: {1, "v1: post 1 approved by ana"}, newRuns[0]: {2, "v2: post 2 approved by rui"}} {
			run := await(id, engine.StatusCompleted)
			if run.WorkflowVersion == nil || *run.WorkflowVersion != want.version || *run.WorkflowID != rec.ID {
				t.Errorf("run %s pinned %v", id, run.WorkflowVersion)
			}
			var ids []string
			for _, st := range run.Steps {
				ids = append(ids, st.ID)
				if st.Status != "completed" {
					t.Errorf("step %s is %s", st.ID, st.Status)
				}
			}
			if strings.Join(ids, ",") != "mark,wait,note" {
				t.Errorf("steps %v, want one per action", ids)
			}
			var out workflow.Result
			if err := json.Unmarshal(run.Output, &out); err != nil {
				t.Fatal(err)
			}
			if msg := out.State["note"].(map[string]any)["message"]; msg != want.note {
				t.Errorf("run %s note %q, want %q", id, msg, want.note)
			}
		}
	})
}

func wfID(n int64) string { b, _ := json.Marshal(n); return string(b) }

func sameJSONText(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}
