package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

func TestEventsAndRunsAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		eng := enginetest.New(t, db, engine.Options{},
			&engine.Function{ID: "greet", Triggers: []engine.Trigger{{Event: "test/greet"}},
				Handler: func(ctx context.Context, in *engine.Input) (any, error) {
					return in.Step.Run(ctx, "hello", func(ctx context.Context) (any, error) {
						return "hello " + in.Event.Data["who"].(string), nil
					})
				}})
		ts := newTestServer(t, db, eng)
		enginetest.StartWorkers(t, eng)
		editor := ts.token(t, ts.mustUser(t, "ed@example.com", cms.RoleEditor))
		viewer := ts.token(t, ts.mustUser(t, "vi@example.com", cms.RoleViewer))
		admin := ts.token(t, ts.mustUser(t, "ad@example.com", cms.RoleAdmin))
		key, _, err := ts.CMS.EventKeys.Create(context.Background(), "ci")
		if err != nil {
			t.Fatal(err)
		}

		res := ts.rawAPI(t, editor, "POST", "/api/events", `{"name":"test/greet","data":{"who":"ann"}}`)
		var sent engine.SendResult
		if res.Status != 200 || json.Unmarshal([]byte(res.Body), &sent) != nil || len(sent.IDs) != 1 || len(sent.Runs) != 1 {
			t.Fatalf("send: %d %s", res.Status, res.Body)
		}
		var run engine.Run
		enginetest.Eventually(t, "the run to complete through the API", func() bool {
			res = ts.api(t, viewer, "GET", "/api/runs/"+sent.Runs[0], nil)
			if res.Status != 200 {
				t.Fatalf("get run: %d %s", res.Status, res.Body)
			}
			run = engine.Run{}
			json.Unmarshal([]byte(res.Body), &run)
			return run.Status == engine.StatusCompleted
		}, func() string { return fmt.Sprintf("%+v", run) })
		if len(run.Steps) != 1 || string(run.Steps[0].Output) != `"hello ann"` || run.EventID != sent.IDs[0] {
			t.Errorf("run detail %s", res.Body)
		}

		res = ts.rawAPI(t, key, "POST", "/api/events", `[{"name":"test/greet","data":{"who":"a"}},{"name":"test/greet","data":{"who":"b"}}]`)
		var two engine.SendResult
		if res.Status != 200 || json.Unmarshal([]byte(res.Body), &two) != nil || len(two.Runs) != 2 {
			t.Fatalf("array with an event key: %d %s", res.Status, res.Body)
		}
		for _, id := range two.Runs {
			enginetest.Await(t, eng, id, engine.StatusCompleted)
		}

		cases := []struct {
			name, token, body string
			status            int
			want              string
		}{
			{"no name", editor, `{"data":{}}`, 422, `"name":"is required"`},
			{"reserved name", editor, `{"name":"inkflow/run.failed","data":{}}`, 422, `reserved`},
			{"reserved name with a key", key, `{"name":"inngest/x","data":{}}`, 422, `reserved`},
			{"array element", editor, `[{"name":"a"},{"data":{}}]`, 422, `"events[1].name"`},
			{"data not an object", editor, `{"name":"x","data":[1,2]}`, 422, `"data":"must be a JSON object"`},
			{"malformed", editor, `{"name":`, 400, `invalid JSON`},
			{"empty array", editor, `[]`, 400, `empty`},
			{"too large", editor, `{"name":"x","data":{"s":"` + strings.Repeat("a", 600<<10) + `"}}`, 413, `error`},
			{"viewer", viewer, `{"name":"x"}`, 403, `editor`},
			{"anonymous", "", `{"name":"x"}`, 401, `error`},
			{"wrong key", "nope", `{"name":"x"}`, 401, `error`},
		}
		for _, c := range cases {
			res := ts.rawAPI(t, c.token, "POST", "/api/events", c.body)
			if res.Status != c.status || !strings.Contains(res.Body, c.want) {
				t.Errorf("%s: %d %.200s, want %d with %s", c.name, res.Status, res.Body, c.status, c.want)
			}
		}

		res = ts.api(t, viewer, "GET", "/api/runs?function=greet&status=completed&limit=1", nil)
		var page listRunsResp
		if res.Status != 200 || json.Unmarshal([]byte(res.Body), &page) != nil || len(page.Runs) != 1 || page.Next == "" {
			t.Errorf("list runs: %d %s", res.Status, res.Body)
		}
		if res := ts.api(t, viewer, "GET", "/api/runs?limit=abc", nil); res.Status != 400 || !strings.Contains(res.Body, `"limit":"must be a whole number"`) || strings.Contains(res.Body, "strconv") {
			t.Errorf("limit=abc: %d %s", res.Status, res.Body)
		}
		for _, q := range []string{"limit=5000", "status=bogus", "since=yesterday"} {
			if res := ts.api(t, viewer, "GET", "/api/runs?"+q, nil); res.Status != 422 {
				t.Errorf("GET /api/runs?%s: %d %s", q, res.Status, res.Body)
			}
		}
		if res := ts.api(t, viewer, "GET", "/api/events?name=test/greet", nil); res.Status != 200 || strings.Count(res.Body, `"name":"test/greet"`) != 3 {
			t.Errorf("list events: %d %s", res.Status, res.Body)
		}
		if res := ts.api(t, viewer, "GET", "/api/runs/nope", nil); res.Status != 404 {
			t.Errorf("unknown run: %d", res.Status)
		}
		if res := ts.api(t, viewer, "POST", "/api/runs/"+sent.Runs[0]+"/cancel", nil); res.Status != 403 {
			t.Errorf("viewer cancel: %d", res.Status)
		}
		if res := ts.api(t, admin, "POST", "/api/runs/"+sent.Runs[0]+"/cancel", nil); res.Status != 409 {
			t.Errorf("cancel finished run: %d %s", res.Status, res.Body)
		}
		if res := ts.api(t, admin, "POST", "/api/runs/"+sent.Runs[0]+"/rerun", nil); res.Status != 202 || !strings.Contains(res.Body, `"id"`) {
			t.Errorf("rerun: %d %s", res.Status, res.Body)
		}
	})
}
