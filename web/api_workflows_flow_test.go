package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/testdb"
)

// TestWorkflowAPIConfigAndTriggers: the workflow API takes "config" and "triggers" beside
// "workflow", refuses bad ones with 422 naming the field (storing nothing), echoes them as
// saved, and the dry run checks a config on its own (the editor's Settings panel).
func TestWorkflowAPIConfigAndTriggers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, _ := workflowServer(t, db)
		admin := ts.token(t, ts.mustUser(t, "ad@example.com", cms.RoleAdmin))
		viewer := ts.token(t, ts.mustUser(t, "vi@example.com", cms.RoleViewer))
		config := `{"debounce":{"period":"30s","key":"event.data.id","timeout":"5m"},"concurrency":[{"limit":2,"key":"event.data.id"}],"retries":2}`
		triggers := `[{"event":"doc.submitted","if":"event.data.id > 0"},{"cron":"TZ=Europe/Lisbon 0 4 * * *"}]`
		body := `{"name":"Flow","triggers":` + triggers + `,"config":` + config + `,"workflow":` + reviewWorkflow + `}`

		for _, tt := range []struct{ body, field string }{
			{strings.Replace(body, `"30s"`, `"soon"`, 1), "config.debounce.period"},
			{strings.Replace(body, `"event.data.id > 0"`, `"event.data.id >"`, 1), "triggers[0].if"},
			{strings.Replace(body, `"name":"Flow",`, `"name":"Flow","trigger":"doc.submitted",`, 1), "triggers"},
			{strings.Replace(body, `"retries":2`, `"retries":2,"throttles":{}`, 1), "config.throttles"},
		} {
			res := ts.rawAPI(t, admin, "POST", "/api/workflows", tt.body)
			if eb := decodeBody[errorBody](t, res); res.Status != 422 || eb.Fields[tt.field] == "" {
				t.Errorf("%s: %d %s, want 422 naming %s", tt.body, res.Status, res.Body, tt.field)
			}
		}
		if list := decodeBody[listWorkflowsResp](t, ts.rawAPI(t, viewer, "GET", "/api/workflows", "")); len(list.Workflows) != 0 {
			t.Fatalf("refused saves stored %s", ts.rawAPI(t, viewer, "GET", "/api/workflows", "").Body)
		}

		res := ts.rawAPI(t, admin, "POST", "/api/workflows", body)
		if res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		rec := decodeBody[workflow.Record](t, res)
		got := decodeBody[map[string]any](t, ts.rawAPI(t, viewer, "GET", "/api/workflows/"+wfID(rec.ID), ""))
		if !sameJSONText(t, jsonText(got["config"]), config) || !sameJSONText(t, jsonText(got["triggers"]), triggers) || got["trigger"] != "doc.submitted" {
			t.Errorf("GET answered config %s, triggers %s, trigger %v", jsonText(got["config"]), jsonText(got["triggers"]), got["trigger"])
		}

		// The export carries both; importing it makes the same workflow.
		exp := ts.rawAPI(t, viewer, "GET", "/api/workflows/"+wfID(rec.ID)+"/export", "")
		res = ts.rawAPI(t, admin, "POST", "/api/workflows/import", exp.Body)
		imp := decodeBody[map[string]any](t, res)
		if res.Status != 201 || !sameJSONText(t, jsonText(imp["config"]), config) || !sameJSONText(t, jsonText(imp["triggers"]), triggers) {
			t.Errorf("import of %s: %d %s", exp.Body, res.Status, res.Body)
		}

		// The dry run checks a config alone, naming the field.
		res = ts.rawAPI(t, viewer, "POST", "/api/workflows/validate", `{"config":{"singleton":{"key":"event.data.id +","mode":"skip"}}}`)
		if eb := decodeBody[errorBody](t, res); res.Status != 422 || eb.Fields["config.singleton.key"] == "" {
			t.Errorf("validate bad key: %d %s", res.Status, res.Body)
		}
		res = ts.rawAPI(t, viewer, "POST", "/api/workflows/validate", `{"config":`+config+`,"triggers":`+triggers+`}`)
		if res.Status != 200 || !strings.Contains(res.Body, `"valid":true`) {
			t.Errorf("validate good config: %d %s", res.Status, res.Body)
		}
		// $.events is checked against the config sent with it, as saving does.
		batch := `{"actions":[{"id":"l","kind":"log","inputs":{"message":"!ref($.events)"}}],"edges":[{"from":"$source","to":"l"}]}`
		res = ts.rawAPI(t, viewer, "POST", "/api/workflows/validate", `{"workflow":`+batch+`}`)
		if eb := decodeBody[errorBody](t, res); res.Status != 422 || eb.Fields["actions.l.inputs.message"] == "" {
			t.Errorf("validate $.events without batchEvents: %d %s", res.Status, res.Body)
		}
		res = ts.rawAPI(t, viewer, "POST", "/api/workflows/validate", `{"workflow":`+batch+`,"config":{"batchEvents":{"maxSize":10,"timeout":"10s"}}}`)
		if res.Status != 200 {
			t.Errorf("validate $.events with batchEvents: %d %s", res.Status, res.Body)
		}
	})
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The functions page lists every trigger of a workflow, not only the first.
func TestFunctionsPageListsEveryWorkflowTrigger(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, store := workflowServer(t, db)
		ts.mustUser(t, "vi@example.com", cms.RoleViewer)
		if _, err := store.Create(context.Background(), workflow.Draft{Workflow: json.RawMessage(reviewWorkflow),
			Triggers: json.RawMessage(`[{"event":"doc.submitted"},{"event":"doc.flagged","if":"event.data.id > 0"},{"cron":"0 4 * * *"}]`)}); err != nil {
			t.Fatal(err)
		}
		b := ts.client(t)
		b.login("vi@example.com")
		r := b.get("/admin/functions")
		var got []string
		for _, n := range findTestID(t, r.Body, "workflow-other-trigger") {
			got = append(got, text(n))
		}
		if strings.Join(got, "|") != "event doc.flagged if event.data.id > 0|cron 0 4 * * *" {
			t.Errorf("other triggers shown: %q", got)
		}
	})
}
