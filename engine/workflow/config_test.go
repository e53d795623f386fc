package workflow

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/testdb"
)

// fullConfig uses every option, in DESIGN.md's shape.
const fullConfig = `{
  "concurrency": [{"limit": 2, "key": "event.data.id"}, {"limit": 10}],
  "throttle": {"limit": 10, "period": "1m", "burst": 2, "key": "event.data.user"},
  "rateLimit": {"limit": 1, "period": "24h", "key": "event.data.id"},
  "debounce": {"period": "30s", "key": "event.data.id", "timeout": "5m"},
  "batchEvents": {"maxSize": 100, "timeout": "10s", "key": "event.data.id"},
  "idempotency": "event.data.id",
  "priority": {"run": "event.data.plan == 'pro' ? 120 : 0"},
  "singleton": {"key": "event.data.id", "mode": "cancel"},
  "cancel": [{"event": "blog-post.unpublished", "if": "event.data.id == async.data.id", "timeout": "1h"}],
  "timeouts": {"start": "10m", "finish": "1h"},
  "retries": 4
}`

func TestParseConfigBecomesFlow(t *testing.T) {
	c, err := ParseConfig(json.RawMessage(fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Flow()
	if err != nil {
		t.Fatal(err)
	}
	four := 4
	want := &engine.Flow{
		Retries:     &four,
		Concurrency: []engine.Concurrency{{Limit: 2, Key: "event.data.id"}, {Limit: 10}},
		Throttle:    &engine.Throttle{Limit: 10, Period: time.Minute, Burst: 2, Key: "event.data.user"},
		RateLimit:   &engine.RateLimit{Limit: 1, Period: 24 * time.Hour, Key: "event.data.id"},
		Debounce:    &engine.Debounce{Period: 30 * time.Second, Key: "event.data.id", Timeout: 5 * time.Minute},
		BatchEvents: &engine.BatchEvents{MaxSize: 100, Timeout: 10 * time.Second, Key: "event.data.id"},
		Idempotency: "event.data.id",
		Priority:    &engine.Priority{Run: "event.data.plan == 'pro' ? 120 : 0"},
		Singleton:   &engine.Singleton{Key: "event.data.id", Mode: engine.SingletonCancel},
		CancelOn:    []engine.CancelOn{{Event: "blog-post.unpublished", If: "event.data.id == async.data.id", Timeout: time.Hour}},
		Timeouts:    &engine.Timeouts{Start: 10 * time.Minute, Finish: time.Hour},
	}
	if dump(f) != dump(want) {
		t.Errorf("flow\n got %s\nwant %s", dump(f), dump(want))
	}
	// Saved and read back, the config is the same JSON that was sent.
	out, _ := json.Marshal(c)
	if !sameJSON(t, out, []byte(fullConfig)) {
		t.Errorf("config re-encoded as %s", out)
	}
	for _, empty := range []string{``, `null`, `{}`} {
		if c, err := ParseConfig(json.RawMessage(empty)); err != nil || !c.IsZero() {
			t.Errorf("%q: %+v %v", empty, c, err)
		}
	}
}

func TestParseConfigNamesTheField(t *testing.T) {
	cases := []struct{ config, field string }{
		{`[]`, "config"},
		{`{"debounce": {"period": "soon"}}`, "config.debounce.period"},
		{`{"debounce": {"period": 30}}`, "config.debounce.period"},
		{`{"debounce": {"key": "event.data.id"}}`, "config.debounce.period"},
		{`{"debounce": {"period": "30s", "timeout": "10s"}}`, "config.debounce.timeout"},
		{`{"debounce": {"period": "30s", "key": "event.data.id +"}}`, "config.debounce.key"},
		{`{"debounce": {"period": "30s", "wait": "1m"}}`, "config.debounce.wait"},
		{`{"debounce": "30s"}`, "config.debounce"},
		{`{"debounse": {"period": "30s"}}`, "config.debounse"},
		{`{"concurrency": [{"limit": 0}]}`, "config.concurrency[0].limit"},
		{`{"concurrency": [{"limit": 1}, {"limit": 2, "key": "event.data.id)"}]}`, "config.concurrency[1].key"},
		{`{"concurrency": [{"limit": 1}, {"limit": 1}, {"limit": 1}]}`, "config.concurrency"},
		{`{"concurrency": [{"limit": 1.5}]}`, "config.concurrency[0].limit"},
		{`{"concurrency": [{"limit": "2"}]}`, "config.concurrency[0].limit"},
		{`{"concurrency": 3}`, "config.concurrency"},
		{`{"throttle": {"limit": 10}}`, "config.throttle.period"},
		{`{"throttle": {"limit": 10, "period": "1m", "burst": -1}}`, "config.throttle.burst"},
		{`{"throttle": {"limit": 10, "period": "500ms"}}`, "config.throttle.period"},
		{`{"rateLimit": {"limit": 1, "period": "48h"}}`, "config.rateLimit.period"},
		{`{"rateLimit": {"period": "1h"}}`, "config.rateLimit.limit"},
		{`{"batchEvents": {"maxSize": 1001, "timeout": "10s"}}`, "config.batchEvents.maxSize"},
		{`{"batchEvents": {"maxSize": 10, "timeout": "8d"}}`, "config.batchEvents.timeout"},
		{`{"idempotency": "event.data.id +"}`, "config.idempotency"},
		{`{"idempotency": 5}`, "config.idempotency"},
		{`{"priority": {"run": ""}}`, "config.priority.run"},
		{`{"priority": {"run": "nope("}}`, "config.priority.run"},
		{`{"singleton": {"mode": "queue"}}`, "config.singleton.mode"},
		{`{"singleton": {"mode": "skip", "key": "async.data.id"}}`, "config.singleton.key"},
		{`{"cancel": [{"event": ""}]}`, "config.cancel[0].event"},
		{`{"cancel": [{"event": "a.b", "if": "event.data.id == "}]}`, "config.cancel[0].if"},
		{`{"cancel": [{"event": "a.b", "timeout": "forever"}]}`, "config.cancel[0].timeout"},
		{`{"timeouts": {"start": "0s"}}`, "config.timeouts.start"},
		{`{"timeouts": {"finish": "11y"}}`, "config.timeouts.finish"},
		{`{"retries": 21}`, "config.retries"},
		{`{"retries": "4"}`, "config.retries"},
	}
	for _, tt := range cases {
		_, err := ParseConfig(json.RawMessage(tt.config))
		if engine.ErrorCode(err) != engine.EInvalid {
			t.Errorf("%s: %v, want EInvalid", tt.config, err)
			continue
		}
		if _, ok := fieldsOf(err)[tt.field]; !ok {
			t.Errorf("%s: fields %v, want %s (%v)", tt.config, fieldsOf(err), tt.field, err)
		}
	}
}

// TestConfigSavedWithVersions: the config is stored with each version, echoed as saved, kept
// by a save of the graph alone, versioned by a save of the config alone, and carried by
// export and import.
func TestConfigSavedWithVersions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := NewStore(db.DB, testRegistry(t))
		rec, err := s.Create(ctx, Draft{Trigger: ptr("blog-post.updated"), Workflow: json.RawMessage(chainJSON),
			Config: json.RawMessage(`{"debounce": {"period": "30s", "key": "event.data.id"}}`)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := json.Marshal(got.Config); string(b) != `{"debounce":{"period":"30s","key":"event.data.id"}}` {
			t.Fatalf("config read back as %s", b)
		}
		// The graph alone: a new version with the same config.
		upd, err := s.Update(ctx, rec.ID, Draft{Workflow: json.RawMessage(chainJSON)})
		if err != nil || upd.Version != 2 || upd.Config.Debounce == nil {
			t.Fatalf("graph save: %+v %v", upd, err)
		}
		// The config alone: a new version of the same graph.
		upd, err = s.Update(ctx, rec.ID, Draft{Config: json.RawMessage(`{"concurrency": [{"limit": 3}]}`)})
		if err != nil || upd.Version != 3 || upd.Config.Debounce != nil || len(upd.Config.Concurrency) != 1 || len(upd.Workflow.Actions) != 2 {
			t.Fatalf("config save: %+v %v", upd, err)
		}
		// A refused config stores nothing.
		if _, err := s.Update(ctx, rec.ID, Draft{Name: ptr("renamed"), Config: json.RawMessage(`{"concurrency": [{"limit": -1}]}`)}); fieldsOf(err)["config.concurrency[0].limit"] == "" {
			t.Fatalf("bad config: %v", err)
		}
		if got, _ := s.Get(ctx, rec.ID); got.Version != 3 || got.Name == "renamed" {
			t.Fatalf("after a refused save: %+v", got)
		}
		v1, err := s.Version(ctx, rec.ID, 1)
		if err != nil || v1.Config.Debounce == nil || v1.Config.Debounce.Period != "30s" {
			t.Fatalf("version 1: %+v %v", v1, err)
		}
		// Export carries the config; importing the export gives the same workflow.
		out, err := s.Export(ctx, rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		imp, err := s.Import(ctx, out, Draft{})
		if err != nil {
			t.Fatalf("import %s: %v", out, err)
		}
		if dump(imp.Config) != dump(upd.Config) || dump(imp.Triggers) != dump(upd.Triggers) || imp.Trigger != "blog-post.updated" {
			t.Fatalf("imported %s from %s", dump(imp), out)
		}
		// null clears it.
		upd, err = s.Update(ctx, rec.ID, Draft{Config: json.RawMessage(`null`)})
		if err != nil || !upd.Config.IsZero() || upd.Version != 4 {
			t.Fatalf("cleared: %+v %v", upd, err)
		}
	})
}

// The per-workflow concurrency key and config.concurrency both say the first limit: a save
// with both is refused, naming concurrency_key, and stores nothing.
func TestConcurrencyKeyAndConfigConcurrencyConflict(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		s := NewStore(db.DB, testRegistry(t))
		_, err := s.Create(ctx, Draft{Trigger: ptr("a.b"), ConcurrencyKey: ptr("event.data.id"), Workflow: json.RawMessage(chainJSON),
			Config: json.RawMessage(`{"concurrency": [{"limit": 2}]}`)})
		if fieldsOf(err)["concurrency_key"] == "" {
			t.Fatalf("create with both: %v", err)
		}
		rec, err := s.Create(ctx, Draft{Trigger: ptr("a.b"), ConcurrencyKey: ptr("event.data.id"), Workflow: json.RawMessage(chainJSON)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, rec.ID, Draft{Config: json.RawMessage(`{"concurrency": [{"limit": 2}]}`)}); fieldsOf(err)["concurrency_key"] == "" {
			t.Fatalf("adding config.concurrency beside the key: %v", err)
		}
		// Moving it: the key cleared and the limit in the config, in one save.
		upd, err := s.Update(ctx, rec.ID, Draft{ConcurrencyKey: ptr(""), Config: json.RawMessage(`{"concurrency": [{"limit": 1, "key": "event.data.id"}]}`)})
		if err != nil || upd.ConcurrencyKey != "" || upd.Version != 2 {
			t.Fatalf("moved: %+v %v", upd, err)
		}
	})
}
