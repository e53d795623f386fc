package web

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/browser"
	"github.com/inkflow/inkflow/internal/testdb"
)

// intakeServer is a server whose engine runs a function on shop/order.placed, with a fixed
// event key and one created by an admin.
func intakeServer(t *testing.T, db *testdb.DB) (ts *testServer, key string) {
	t.Helper()
	fn := &engine.Function{ID: "order-placed", Triggers: []engine.Trigger{{Event: "shop/order.placed"}},
		Handler: func(ctx context.Context, in *engine.Input) (any, error) {
			return in.Step.Run(ctx, "echo", func(ctx context.Context) (any, error) { return in.Event.Data["order"], nil })
		}}
	eng := enginetest.New(t, db, engine.Options{}, fn)
	ts = newTestServer(t, db, eng, func(c *Config) { c.EventKey = "fixed-key-from-env" })
	key, _, err := ts.CMS.EventKeys.Create(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	return ts, key
}

func TestIntakeAnswersAsInngest(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, key := intakeServer(t, db)
		revoked, k, err := ts.CMS.EventKeys.Create(context.Background(), "old")
		if err != nil {
			t.Fatal(err)
		}
		if err := ts.CMS.EventKeys.Revoke(context.Background(), k.ID); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, key, body string
			status          int
			ids             int    // ids answered on 200
			errHas          string // part of the error on failure
			stored          int64  // events stored by this request
		}{
			{"one event", key, `{"name":"shop/order.placed","data":{"order":1}}`, 200, 1, "", 1},
			{"an array", key, `[{"name":"shop/order.placed","data":{"order":2}},{"name":"shop/order.placed","user":{"id":7},"ts":1764000000000,"v":"1"}]`, 200, 2, "", 2},
			{"the fixed key", "fixed-key-from-env", `{"name":"shop/order.placed"}`, 200, 1, "", 1},
			{"SDK extras are ignored", key, `{"name":"shop/order.placed","data":{},"meta":{"x":1}}`, 200, 1, "", 1},
			{"unknown key", "nope", `{"name":"shop/order.placed"}`, 401, 0, "Event key not found", 0},
			{"revoked key", revoked, `{"name":"shop/order.placed"}`, 401, 0, "Event key not found", 0},
			{"bad JSON", key, `{"name":`, 400, 0, "invalid JSON", 0},
			{"empty body", key, ``, 400, 0, "no events", 0},
			{"empty array", key, `[]`, 400, 0, "no events", 0},
			{"no name", key, `{"data":{}}`, 400, 0, "event name is empty", 0},
			{"data not an object", key, `{"name":"a.b","data":[1]}`, 400, 0, "data must be a JSON object", 0},
			{"reserved name", key, `{"name":"inkflow/run.failed","data":{}}`, 400, 0, "reserved for internal use", 0},
			{"ancient ts", key, `{"name":"a.b","ts":1000}`, 400, 0, "before Jan 1, 1980", 0},
			{"one bad event stores none", key, `[{"name":"shop/order.placed"},{"name":""}]`, 400, 0, "event 1: event name is empty", 0},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, err := ts.Eng.CountEvents(context.Background(), "")
				if err != nil {
					t.Fatal(err)
				}
				res := ts.rawAPI(t, "", "POST", "/e/"+tc.key, tc.body)
				after, err := ts.Eng.CountEvents(context.Background(), "")
				if err != nil {
					t.Fatal(err)
				}
				if res.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", res.Status, tc.status, res.Body)
				}
				var body struct {
					IDs     []string `json:"ids"`
					Status  int      `json:"status"`
					Error   string   `json:"error"`
					Message *string  `json:"message"`
				}
				if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
					t.Fatalf("answer is not JSON: %s", res.Body)
				}
				if body.Status != tc.status {
					t.Errorf("body status %d, want %d", body.Status, tc.status)
				}
				if len(body.IDs) != tc.ids {
					t.Errorf("ids %v, want %d", body.IDs, tc.ids)
				}
				if tc.status == 401 && body.Message == nil {
					t.Errorf("a refused key is answered with a message field, as Inngest does: %s", res.Body)
				}
				if tc.status != 401 && tc.status != 200 && !strings.Contains(res.Body, `"ids":[]`) {
					t.Errorf("an error answer carries an empty ids array: %s", res.Body)
				}
				if tc.errHas != "" && !strings.Contains(body.Error, tc.errHas) {
					t.Errorf("error %q does not mention %q", body.Error, tc.errHas)
				}
				if int64(after-before) != tc.stored {
					t.Errorf("%d events stored, want %d", after-before, tc.stored)
				}
			})
		}
	})
}

// The real Inngest SDK, as an existing app uses it, sends events that start inkflow runs.
func TestIntakeWithTheInngestSDK(t *testing.T) {
	browser.NeedNode(t)
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ts, key := intakeServer(t, db)
		enginetest.StartWorkers(t, ts.Eng)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, "node", filepath.Join("testdata", "inngest_send.mjs"), ts.URL, key).CombinedOutput()
		if err != nil {
			t.Fatalf("node: %v\n%s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var got struct {
			One     struct{ IDs []string } `json:"one"`
			Many    struct{ IDs []string } `json:"many"`
			Again   struct{ IDs []string } `json:"again"`
			Refused *string                `json:"refused"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
			t.Fatalf("script output: %v\n%s", err, out)
		}
		if len(got.One.IDs) != 1 || len(got.Many.IDs) != 2 || len(got.Again.IDs) != 1 {
			t.Fatalf("ids answered: %s", out)
		}
		if got.Again.IDs[0] != got.Many.IDs[0] {
			t.Errorf("resending id order-2 answered %s, want the first event's id %s", got.Again.IDs[0], got.Many.IDs[0])
		}
		if got.Refused == nil || !strings.Contains(*got.Refused, "Event key not found") {
			t.Errorf("the SDK did not report the refused key: %v", got.Refused)
		}
		for _, id := range append(got.One.IDs, got.Many.IDs...) {
			ev, err := ts.Eng.GetEvent(ctx, id)
			if err != nil {
				t.Fatalf("event %s: %v", id, err)
			}
			if ev.Name != "shop/order.placed" || len(ev.Runs) != 1 {
				t.Fatalf("event %s: %+v", id, ev)
			}
			enginetest.Await(t, ts.Eng, ev.Runs[0], engine.StatusCompleted)
		}
		one, _ := ts.Eng.GetEvent(ctx, got.One.IDs[0])
		if one.User["email"] != "a@example.com" || one.Data["order"] != float64(1) {
			t.Errorf("event as stored: %+v", one.Event)
		}
		counts, err := ts.Eng.CountRuns(ctx, engine.RunFilter{FunctionID: "order-placed"})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range counts {
			n += c
		}
		if n != 3 {
			t.Errorf("%d runs, want 3 (the resent id starts nothing)", n)
		}
	})
}
