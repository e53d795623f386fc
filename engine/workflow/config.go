package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/expr"
)

// Config is a workflow's flow control as the API and the editor write it: Inngest's option
// names, durations as strings ("30s", "1m", "24h"), keys and conditions as CEL over `event`
// (and `async` in cancel.if). It is stored with each version as it was saved (so GET echoes
// it) and turned into an engine.Flow for every run the version starts (Flow).
type Config struct {
	Concurrency []ConcurrencyConfig `json:"concurrency,omitempty"`
	Throttle    *ThrottleConfig     `json:"throttle,omitempty"`
	RateLimit   *RateLimitConfig    `json:"rateLimit,omitempty"`
	Debounce    *DebounceConfig     `json:"debounce,omitempty"`
	BatchEvents *BatchEventsConfig  `json:"batchEvents,omitempty"`
	Idempotency string              `json:"idempotency,omitempty"`
	Priority    *PriorityConfig     `json:"priority,omitempty"`
	Singleton   *SingletonConfig    `json:"singleton,omitempty"`
	Cancel      []CancelConfig      `json:"cancel,omitempty"`
	Timeouts    *TimeoutsConfig     `json:"timeouts,omitempty"`
	Retries     *int                `json:"retries,omitempty"`
}

// ConcurrencyConfig is one concurrency limit, overall or per key value.
type ConcurrencyConfig struct {
	Limit int    `json:"limit"`
	Key   string `json:"key,omitempty"`
}

// ThrottleConfig delays starts beyond limit+burst per period.
type ThrottleConfig struct {
	Limit  int    `json:"limit"`
	Period string `json:"period"`
	Burst  int    `json:"burst,omitempty"`
	Key    string `json:"key,omitempty"`
}

// RateLimitConfig drops starts beyond limit per period.
type RateLimitConfig struct {
	Limit  int    `json:"limit"`
	Period string `json:"period"`
	Key    string `json:"key,omitempty"`
}

// DebounceConfig folds a flurry of events into one run of the last.
type DebounceConfig struct {
	Period  string `json:"period"`
	Key     string `json:"key,omitempty"`
	Timeout string `json:"timeout,omitempty"`
}

// BatchEventsConfig folds up to maxSize events into one run.
type BatchEventsConfig struct {
	MaxSize int    `json:"maxSize"`
	Timeout string `json:"timeout"`
	Key     string `json:"key,omitempty"`
}

// PriorityConfig: run is CEL giving seconds, -600..600.
type PriorityConfig struct {
	Run string `json:"run"`
}

// SingletonConfig allows one run in progress per key; mode is "skip" or "cancel".
type SingletonConfig struct {
	Key  string `json:"key,omitempty"`
	Mode string `json:"mode"`
}

// CancelConfig cancels a run when a matching event arrives.
type CancelConfig struct {
	Event   string `json:"event"`
	If      string `json:"if,omitempty"`
	Match   string `json:"match,omitempty"`
	Timeout string `json:"timeout,omitempty"`
}

// TimeoutsConfig: start bounds the wait to start, finish the time from start to end.
type TimeoutsConfig struct {
	Start  string `json:"start,omitempty"`
	Finish string `json:"finish,omitempty"`
}

// The bounds of config values beyond the engine's own (engine.Flow.Check, which every config
// also passes): limits and the number of cancel conditions are capped so hostile input stays
// cheap, and periods are whole seconds at least, as Inngest's are.
const (
	MaxLimit   = 10000
	MaxCancels = 5
)

var (
	maxBatchTimeout   = engine.MaxBatchTimeout
	maxRateLimitSpan  = engine.MaxRateLimitPeriod
	maxFlowPeriod     = engine.MaxThrottlePeriod
	minFlowPeriod     = time.Second
	singletonModes    = []string{string(engine.SingletonSkip), string(engine.SingletonCancel)}
	configKeys        = []string{"concurrency", "throttle", "rateLimit", "debounce", "batchEvents", "idempotency", "priority", "singleton", "cancel", "timeouts", "retries"}
	configEventEnv    = mustEnv("workflow-config", cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)))
	configEventAsync  = mustEnv("workflow-config-async", cel.Variable("event", cel.MapType(cel.StringType, cel.DynType)), cel.Variable("async", cel.MapType(cel.StringType, cel.DynType)))
	errConfigNotAnObj = engine.FieldError("config", "must be a JSON object")
)

func mustEnv(name string, opts ...cel.EnvOption) *expr.Env {
	env, err := expr.NewEnv(name, opts...)
	if err != nil {
		panic(err)
	}
	return env
}

// IsZero reports whether c limits nothing (no run gets a Flow of its own).
func (c Config) IsZero() bool {
	b, _ := json.Marshal(c)
	return string(b) == "{}"
}

// ParseConfig decodes and checks a config object. Every error is a field error naming the
// config field (config.debounce.period, config.concurrency[1].key); null or {} is the empty
// config. Unknown keys are refused, so a misspelt option is not silently ignored.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || isNull(raw) {
		return c, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return c, errConfigNotAnObj
	}
	for k := range top {
		if !slices.Contains(configKeys, k) {
			return c, engine.FieldError("config."+k, "is not a flow control option (one of %s)", strings.Join(configKeys, ", "))
		}
	}
	d := decoder{path: "config"}
	d.list(top, "concurrency", &c.Concurrency, []string{"limit", "key"})
	d.object(top, "throttle", &c.Throttle, []string{"limit", "period", "burst", "key"})
	d.object(top, "rateLimit", &c.RateLimit, []string{"limit", "period", "key"})
	d.object(top, "debounce", &c.Debounce, []string{"period", "key", "timeout"})
	d.object(top, "batchEvents", &c.BatchEvents, []string{"maxSize", "timeout", "key"})
	d.value(top, "idempotency", &c.Idempotency)
	d.object(top, "priority", &c.Priority, []string{"run"})
	d.object(top, "singleton", &c.Singleton, []string{"key", "mode"})
	d.list(top, "cancel", &c.Cancel, []string{"event", "if", "match", "timeout"})
	d.object(top, "timeouts", &c.Timeouts, []string{"start", "finish"})
	d.value(top, "retries", &c.Retries)
	if d.err != nil {
		return Config{}, d.err
	}
	if _, err := c.Flow(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Flow checks c and turns it into the engine's flow control. Errors name the config field.
func (c Config) Flow() (*engine.Flow, error) {
	f := &engine.Flow{Idempotency: c.Idempotency}
	if len(c.Concurrency) > engine.MaxConcurrencyKeys {
		return nil, engine.FieldError("config.concurrency", "has %d limits; at most %d", len(c.Concurrency), engine.MaxConcurrencyKeys)
	}
	for i, l := range c.Concurrency {
		p := fmt.Sprintf("config.concurrency[%d]", i)
		if err := checkLimit(p+".limit", l.Limit, 1); err != nil {
			return nil, err
		}
		if err := checkKey(p+".key", l.Key, false); err != nil {
			return nil, err
		}
		f.Concurrency = append(f.Concurrency, engine.Concurrency{Limit: l.Limit, Key: l.Key})
	}
	if t := c.Throttle; t != nil {
		period, err := checkPeriod("config.throttle.period", t.Period, true, maxFlowPeriod)
		if err == nil {
			err = checkLimit("config.throttle.limit", t.Limit, 1)
		}
		if err == nil && (t.Burst < 0 || t.Burst > MaxLimit) {
			err = engine.FieldError("config.throttle.burst", "must be 0 to %d", MaxLimit)
		}
		if err == nil {
			err = checkKey("config.throttle.key", t.Key, false)
		}
		if err != nil {
			return nil, err
		}
		f.Throttle = &engine.Throttle{Limit: t.Limit, Period: period, Burst: t.Burst, Key: t.Key}
	}
	if r := c.RateLimit; r != nil {
		period, err := checkPeriod("config.rateLimit.period", r.Period, true, maxRateLimitSpan)
		if err == nil {
			err = checkLimit("config.rateLimit.limit", r.Limit, 1)
		}
		if err == nil {
			err = checkKey("config.rateLimit.key", r.Key, false)
		}
		if err != nil {
			return nil, err
		}
		f.RateLimit = &engine.RateLimit{Limit: r.Limit, Period: period, Key: r.Key}
	}
	if d := c.Debounce; d != nil {
		period, err := checkPeriod("config.debounce.period", d.Period, true, engine.MaxDebouncePeriod)
		if err != nil {
			return nil, err
		}
		timeout, err := checkPeriod("config.debounce.timeout", d.Timeout, false, engine.MaxDebouncePeriod)
		if err != nil {
			return nil, err
		}
		if timeout != 0 && timeout < period {
			return nil, engine.FieldError("config.debounce.timeout", "(%s) is shorter than the period (%s): the run would never wait a whole period", d.Timeout, d.Period)
		}
		if err := checkKey("config.debounce.key", d.Key, false); err != nil {
			return nil, err
		}
		f.Debounce = &engine.Debounce{Period: period, Key: d.Key, Timeout: timeout}
	}
	if b := c.BatchEvents; b != nil {
		if b.MaxSize < 1 || b.MaxSize > engine.MaxBatchSize {
			return nil, engine.FieldError("config.batchEvents.maxSize", "must be 1 to %d", engine.MaxBatchSize)
		}
		timeout, err := checkPeriod("config.batchEvents.timeout", b.Timeout, true, maxBatchTimeout)
		if err != nil {
			return nil, err
		}
		if err := checkKey("config.batchEvents.key", b.Key, false); err != nil {
			return nil, err
		}
		f.BatchEvents = &engine.BatchEvents{MaxSize: b.MaxSize, Timeout: timeout, Key: b.Key}
	}
	if err := checkKey("config.idempotency", c.Idempotency, false); err != nil {
		return nil, err
	}
	if p := c.Priority; p != nil {
		if strings.TrimSpace(p.Run) == "" {
			return nil, engine.FieldError("config.priority.run", "is required: a CEL expression giving seconds (-%d to %d)", engine.MaxPriority, engine.MaxPriority)
		}
		if err := checkKey("config.priority.run", p.Run, false); err != nil {
			return nil, err
		}
		f.Priority = &engine.Priority{Run: p.Run}
	}
	if s := c.Singleton; s != nil {
		if !slices.Contains(singletonModes, s.Mode) {
			return nil, engine.FieldError("config.singleton.mode", "must be %q or %q", engine.SingletonSkip, engine.SingletonCancel)
		}
		if err := checkKey("config.singleton.key", s.Key, false); err != nil {
			return nil, err
		}
		f.Singleton = &engine.Singleton{Key: s.Key, Mode: engine.SingletonMode(s.Mode)}
	}
	if len(c.Cancel) > MaxCancels {
		return nil, engine.FieldError("config.cancel", "has %d entries; at most %d", len(c.Cancel), MaxCancels)
	}
	for i, cc := range c.Cancel {
		p := fmt.Sprintf("config.cancel[%d]", i)
		if _, err := CheckTrigger(cc.Event); err != nil || strings.TrimSpace(cc.Event) == "" || strings.HasPrefix(strings.TrimSpace(cc.Event), CronPrefix) {
			return nil, engine.FieldError(p+".event", "must be an event name")
		}
		if err := checkKey(p+".if", cc.If, true); err != nil {
			return nil, err
		}
		if strings.ContainsAny(cc.Match, " \t\r\n") || len(cc.Match) > MaxTriggerLength {
			return nil, engine.FieldError(p+".match", "must be a dotted path such as data.id")
		}
		timeout, err := checkPeriod(p+".timeout", cc.Timeout, false, MaxDuration)
		if err != nil {
			return nil, err
		}
		f.CancelOn = append(f.CancelOn, engine.CancelOn{Event: strings.TrimSpace(cc.Event), Match: cc.Match, If: cc.If, Timeout: timeout})
	}
	if t := c.Timeouts; t != nil {
		start, err := checkPeriod("config.timeouts.start", t.Start, false, MaxDuration)
		if err != nil {
			return nil, err
		}
		finish, err := checkPeriod("config.timeouts.finish", t.Finish, false, MaxDuration)
		if err != nil {
			return nil, err
		}
		f.Timeouts = &engine.Timeouts{Start: start, Finish: finish}
	}
	if r := c.Retries; r != nil {
		if *r < 0 || *r > engine.MaxRetries {
			return nil, engine.FieldError("config.retries", "must be 0 to %d", engine.MaxRetries)
		}
		n := *r
		f.Retries = &n
	}
	// The engine's own rules hold too (the same ones a Go function's Flow passes).
	if err := f.Check(func(src string) error { _, err := configEventAsync.Compile(src); return err }); err != nil {
		return nil, configFieldError(err)
	}
	return f, nil
}

// configFieldError renames an engine.Flow.Check error's field into the config
// (debounce.period -> config.debounce.period).
func configFieldError(err error) error {
	var de *engine.Error
	if !errors.As(err, &de) || len(de.Fields) == 0 {
		return err
	}
	out := &engine.Error{Code: de.Code, Message: "config." + de.Message, Fields: map[string]string{}}
	for k, v := range de.Fields {
		out.Fields["config."+k] = v
	}
	return out
}

func checkLimit(field string, n, least int) error {
	if n < least || n > MaxLimit {
		return engine.FieldError(field, "must be %d to %d", least, MaxLimit)
	}
	return nil
}

// checkPeriod parses a duration field; an empty optional one is 0.
func checkPeriod(field, s string, required bool, most time.Duration) (time.Duration, error) {
	if strings.TrimSpace(s) == "" {
		if required {
			return 0, engine.FieldError(field, "is required: a duration such as \"30s\", \"1m\" or \"24h\"")
		}
		return 0, nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return 0, engine.FieldError(field, "%v", err)
	}
	if d < minFlowPeriod {
		return 0, engine.FieldError(field, "must be at least 1s")
	}
	if d > most {
		return 0, engine.FieldError(field, "must be at most %s", formatSpan(most))
	}
	return d, nil
}

// CheckExpr compiles a CEL key or condition of a config (over event, and async when async
// is set) within the process's limits; the error names field. The editor checks keys as
// they are typed through POST /api/workflows/validate, which calls this.
func CheckExpr(field, src string, async bool) error { return checkKey(field, src, async) }

func checkKey(field, src string, async bool) error {
	if src == "" {
		return nil
	}
	env := configEventEnv
	if async {
		env = configEventAsync
	}
	if _, err := env.Compile(src); err != nil {
		return engine.FieldError(field, "%v", err)
	}
	return nil
}

func formatSpan(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// decoder reads config fields strictly, remembering the first error (named by field path).
type decoder struct {
	path string
	err  error
}

func (d *decoder) fail(field, format string, args ...any) {
	if d.err == nil {
		d.err = engine.FieldError(field, format, args...)
	}
}

// value decodes top[key] into dst (a string, int or *int).
func (d *decoder) value(top map[string]json.RawMessage, key string, dst any) {
	raw, ok := top[key]
	if !ok || d.err != nil || isNull(raw) {
		return
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		d.fail(d.path+"."+key, "%s", typeWant(dst))
	}
}

// object decodes top[key], an object with only the allowed fields, into *dst.
func (d *decoder) object(top map[string]json.RawMessage, key string, dst any, allowed []string) {
	raw, ok := top[key]
	if !ok || d.err != nil || isNull(raw) {
		return
	}
	d.strict(d.path+"."+key, raw, dst, allowed)
}

// list decodes top[key], an array of such objects, into *dst.
func (d *decoder) list(top map[string]json.RawMessage, key string, dst any, allowed []string) {
	raw, ok := top[key]
	if !ok || d.err != nil || isNull(raw) {
		return
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		// A single object is accepted for a list, as Inngest's SDKs accept it.
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
			items = []json.RawMessage{raw}
		} else {
			d.fail(d.path+"."+key, "must be a list of objects")
			return
		}
	}
	for i, item := range items {
		d.strict(fmt.Sprintf("%s.%s[%d]", d.path, key, i), item, nil, allowed)
	}
	if d.err != nil {
		return
	}
	if err := json.Unmarshal(mustList(items), dst); err != nil {
		d.fail(d.path+"."+key, "must be a list of objects")
	}
}

// strict checks that raw is an object with only allowed fields, each of the right type; dst
// (when not nil) receives it.
func (d *decoder) strict(path string, raw json.RawMessage, dst any, allowed []string) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		d.fail(path, "must be an object")
		return
	}
	for k := range fields {
		if !slices.Contains(allowed, k) {
			d.fail(path+"."+k, "is not a field here (one of %s)", strings.Join(allowed, ", "))
			return
		}
	}
	for k, v := range fields {
		var probe any
		_ = json.Unmarshal(v, &probe)
		want := fieldKinds[k]
		switch p := probe.(type) {
		case nil:
		case string:
			if want != "string" {
				d.fail(path+"."+k, "must be a whole number")
				return
			}
		case float64:
			if want != "int" {
				d.fail(path+"."+k, "must be text (%s)", textHint(k))
				return
			}
			if p != float64(int(p)) || p > 1e9 || p < -1e9 {
				d.fail(path+"."+k, "must be a whole number")
				return
			}
		default:
			if want == "int" {
				d.fail(path+"."+k, "must be a whole number")
			} else {
				d.fail(path+"."+k, "must be text (%s)", textHint(k))
			}
			return
		}
	}
	if dst != nil {
		if err := json.Unmarshal(raw, dst); err != nil {
			d.fail(path, "%v", err)
		}
	}
}

// fieldKinds is each config field's JSON type: numbers are "int", the rest text.
var fieldKinds = map[string]string{
	"limit": "int", "burst": "int", "maxSize": "int",
	"key": "string", "period": "string", "timeout": "string", "run": "string", "mode": "string",
	"event": "string", "if": "string", "match": "string", "start": "string", "finish": "string",
}

func textHint(field string) string {
	switch field {
	case "period", "timeout", "start", "finish":
		return "a duration such as \"30s\""
	case "key", "if", "run":
		return "a CEL expression over event"
	}
	return "a string"
}

func typeWant(dst any) string {
	switch dst.(type) {
	case *string:
		return "must be text (a CEL expression over event)"
	}
	return "must be a whole number"
}

func mustList(items []json.RawMessage) []byte {
	b, _ := json.Marshal(items)
	return b
}
