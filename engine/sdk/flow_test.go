package sdk

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
)

// An SDK function's flow options reach the engine as they would a workflow's config, so a
// function moved from Inngest keeps its debounce, throttle and the rest; what inkflow cannot
// honour is named, and left out whole rather than half applied.
func TestSDKFunctionFlowOptions(t *testing.T) {
	var fc FunctionConfig
	if err := json.Unmarshal([]byte(`{"id": "app-fn", "name": "fn", "triggers": [{"event": "app/x"}, {"event": "app/*"}],
		"concurrency": [{"limit": 2, "key": "event.data.user"}, {"limit": 5}, {"limit": 9}],
		"cancel": [{"event": "app/stop", "if": "event.data.id == async.data.id", "timeout": "1h"}],
		"throttle": {"limit": 10, "period": "1m", "burst": 2, "key": "event.data.user"},
		"rateLimit": {"limit": 1, "period": "24h", "key": "event.data.id"},
		"debounce": {"period": "30s", "key": "event.data.id", "timeout": "5m"},
		"batchEvents": {"maxSize": 10, "timeout": "5s", "if": "event.data.x == 1"},
		"idempotency": "event.data.id",
		"priority": {"run": "event.data.plan == 'pro' ? 120 : 0"},
		"singleton": {"key": "event.data.id", "mode": "cancel"},
		"timeouts": {"start": "10m", "finish": null},
		"steps": {"step": {"id": "step", "name": "step", "runtime": {"type": "http", "url": "http://127.0.0.1:1/api/inngest"}, "retries": {"attempts": 3}}}}`), &fc); err != nil {
		t.Fatal(err)
	}
	f, notApplied := functionFlow(fc)
	want := engine.Flow{
		Retries:     engine.Retries(3),
		Concurrency: []engine.Concurrency{{Limit: 2, Key: "event.data.user"}, {Limit: 5}},
		CancelOn:    []engine.CancelOn{{Event: "app/stop", If: "event.data.id == async.data.id", Timeout: time.Hour}},
		Throttle:    &engine.Throttle{Limit: 10, Period: time.Minute, Burst: 2, Key: "event.data.user"},
		RateLimit:   &engine.RateLimit{Limit: 1, Period: 24 * time.Hour, Key: "event.data.id"},
		Debounce:    &engine.Debounce{Period: 30 * time.Second, Key: "event.data.id", Timeout: 5 * time.Minute},
		Idempotency: "event.data.id",
		Priority:    &engine.Priority{Run: "event.data.plan == 'pro' ? 120 : 0"},
		Singleton:   &engine.Singleton{Key: "event.data.id", Mode: engine.SingletonCancel},
		Timeouts:    &engine.Timeouts{Start: 10 * time.Minute},
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("flow\n got %+v\nwant %+v", f, want)
	}
	if got := strings.Join(notApplied, ","); got != "batchEvents.if,concurrency[2],triggers[1] (wildcard event)" {
		t.Errorf("not applied = %s", got)
	}
	if err := f.Check(func(string) error { return nil }); err != nil {
		t.Errorf("the engine refuses the flow: %v", err)
	}

	var bad FunctionConfig
	if err := json.Unmarshal([]byte(`{"id": "bad", "triggers": [{"event": "app/y"}], "debounce": {"period": "1ms"}, "throttle": {"limit": 1, "period": "1m", "key": "event.data.("}}`), &bad); err != nil {
		t.Fatal(err)
	}
	if f, na := functionFlow(bad); f.Debounce != nil || f.Throttle != nil || strings.Join(na, ",") != "debounce,throttle" {
		t.Errorf("options that do not check: flow %+v, not applied %v; want neither applied, both named", f, na)
	}
}
