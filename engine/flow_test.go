package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// TestFlowCheckNamesTheOption: every invalid flow option is refused at registration with an
// invalid-input error whose field is the option's JSON name, and valid ones are accepted.
func TestFlowCheckNamesTheOption(t *testing.T) {
	t.Parallel()
	eng := enginetest.New(t, testdb.SQLite(t), engine.Options{})
	cases := []struct {
		name  string
		flow  engine.Flow
		field string // "" means valid
	}{
		{"nothing", engine.Flow{}, ""},
		{"everything valid", engine.Flow{
			Retries:     engine.Retries(3),
			Concurrency: []engine.Concurrency{{Limit: 2, Key: "event.data.id"}},
			Throttle:    &engine.Throttle{Limit: 10, Period: time.Minute, Burst: 2, Key: "event.data.id"},
			RateLimit:   &engine.RateLimit{Limit: 1, Period: 24 * time.Hour, Key: "event.data.id"},
			Debounce:    &engine.Debounce{Period: 30 * time.Second, Key: "event.data.id", Timeout: 5 * time.Minute},
			Idempotency: "event.data.id",
			Priority:    &engine.Priority{Run: "event.data.plan == 'pro' ? 120 : 0"},
			CancelOn:    []engine.CancelOn{{Event: "post.unpublished", If: "event.data.id == async.data.id", Timeout: time.Hour}},
			Timeouts:    &engine.Timeouts{Start: 10 * time.Minute, Finish: time.Hour},
		}, ""},
		{"batch and singleton elsewhere valid", engine.Flow{BatchEvents: &engine.BatchEvents{MaxSize: 100, Timeout: 10 * time.Second, Key: "event.data.id"}}, ""},
		{"singleton valid", engine.Flow{Singleton: &engine.Singleton{Key: "event.data.id", Mode: engine.SingletonCancel}}, ""},
		{"negative retries", engine.Flow{Retries: engine.Retries(-1)}, "retries"},
		{"too many retries", engine.Flow{Retries: engine.Retries(21)}, "retries"},
		{"three concurrency limits", engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1}, {Limit: 1}, {Limit: 1}}}, "concurrency"},
		{"zero concurrency", engine.Flow{Concurrency: []engine.Concurrency{{Limit: 0}}}, "concurrency[0].limit"},
		{"bad concurrency key", engine.Flow{Concurrency: []engine.Concurrency{{Limit: 1, Key: "event.data.("}}}, "concurrency[0].key"},
		{"zero throttle", engine.Flow{Throttle: &engine.Throttle{Period: time.Second}}, "throttle.limit"},
		{"throttle without period", engine.Flow{Throttle: &engine.Throttle{Limit: 1}}, "throttle.period"},
		{"negative burst", engine.Flow{Throttle: &engine.Throttle{Limit: 1, Period: time.Second, Burst: -1}}, "throttle.burst"},
		{"zero rate", engine.Flow{RateLimit: &engine.RateLimit{Period: time.Second}}, "rateLimit.limit"},
		{"rate period over a day", engine.Flow{RateLimit: &engine.RateLimit{Limit: 1, Period: 25 * time.Hour}}, "rateLimit.period"},
		{"bad rate key", engine.Flow{RateLimit: &engine.RateLimit{Limit: 1, Period: time.Second, Key: "1 +"}}, "rateLimit.key"},
		{"debounce without period", engine.Flow{Debounce: &engine.Debounce{Key: "event.data.id"}}, "debounce.period"},
		{"bad debounce key", engine.Flow{Debounce: &engine.Debounce{Period: time.Second, Key: "event.data.("}}, "debounce.key"},
		{"negative debounce timeout", engine.Flow{Debounce: &engine.Debounce{Period: time.Second, Timeout: -time.Second}}, "debounce.timeout"},
		{"empty batch", engine.Flow{BatchEvents: &engine.BatchEvents{Timeout: time.Second}}, "batchEvents.maxSize"},
		{"huge batch", engine.Flow{BatchEvents: &engine.BatchEvents{MaxSize: 1_000_000, Timeout: time.Second}}, "batchEvents.maxSize"},
		{"batch without timeout", engine.Flow{BatchEvents: &engine.BatchEvents{MaxSize: 2}}, "batchEvents.timeout"},
		{"debounce under a second", engine.Flow{Debounce: &engine.Debounce{Period: 500 * time.Millisecond}}, "debounce.period"},
		{"rate period under a second", engine.Flow{RateLimit: &engine.RateLimit{Limit: 1, Period: time.Millisecond}}, "rateLimit.period"},
		{"batch timeout under a second", engine.Flow{BatchEvents: &engine.BatchEvents{MaxSize: 2, Timeout: time.Millisecond}}, "batchEvents.timeout"},
		{"bad idempotency", engine.Flow{Idempotency: "event.("}, "idempotency"},
		{"empty priority", engine.Flow{Priority: &engine.Priority{}}, "priority.run"},
		{"singleton mode", engine.Flow{Singleton: &engine.Singleton{Mode: "queue"}}, "singleton.mode"},
		{"bad singleton key", engine.Flow{Singleton: &engine.Singleton{Mode: engine.SingletonSkip, Key: "]"}}, "singleton.key"},
		{"cancel without event", engine.Flow{CancelOn: []engine.CancelOn{{If: "true"}}}, "cancel[0].event"},
		{"bad cancel if", engine.Flow{CancelOn: []engine.CancelOn{{Event: "a.b"}, {Event: "a.b", If: "async.("}}}, "cancel[1].if"},
		{"negative cancel timeout", engine.Flow{CancelOn: []engine.CancelOn{{Event: "a.b", Timeout: -1}}}, "cancel[0].timeout"},
		{"negative start timeout", engine.Flow{Timeouts: &engine.Timeouts{Start: -time.Second}}, "timeouts.start"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := eng.CheckFlow(c.flow)
			fn := &engine.Function{ID: "f", Triggers: []engine.Trigger{{Event: "t/x"}}, Flow: c.flow,
				Handler: func(context.Context, *engine.Input) (any, error) { return nil, nil }}
			regErr := eng.CheckFunction(fn)
			if c.field == "" {
				if err != nil || regErr != nil {
					t.Fatalf("valid flow refused: %v / %v", err, regErr)
				}
				return
			}
			for _, err := range []error{err, regErr} {
				if err == nil {
					t.Fatalf("want an error naming %s, got none", c.field)
				}
				if engine.ErrorCode(err) != engine.EInvalid {
					t.Fatalf("code %s, want invalid (%v)", engine.ErrorCode(err), err)
				}
				var de *engine.Error
				if !errors.As(err, &de) || de.Fields[c.field] == "" || len(de.Fields) != 1 {
					t.Fatalf("fields %v, want only %s (%v)", de.Fields, c.field, err)
				}
			}
			if msg := engine.ErrorMessage(regErr); !strings.HasPrefix(msg, `function "f" `+c.field+": ") {
				t.Fatalf("message %q does not start with the function and %s", msg, c.field)
			}
		})
	}
}
