package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Headers of the protocol, both ways.
const (
	HeaderSDK                = "X-Inngest-Sdk"
	HeaderSignature          = "X-Inngest-Signature"
	HeaderServerKind         = "X-Inngest-Server-Kind"
	HeaderExpectedServerKind = "X-Inngest-Expected-Server-Kind"
	HeaderSyncKind           = "X-Inngest-Sync-Kind"
	HeaderReqVersion         = "X-Inngest-Req-Version"
	HeaderNoRetry            = "X-Inngest-No-Retry"
	HeaderRetryAfter         = "Retry-After"
)

// Server kinds, as X-Inngest-Server-Kind carries them.
const (
	KindDev   = "dev"
	KindCloud = "cloud"
)

// Sync kinds, as X-Inngest-Sync-Kind carries them.
const (
	SyncInBand    = "in_band"
	SyncOutOfBand = "out_of_band"
)

// Opcodes an app reports in a 206 answer.
const (
	OpStepRun        = "StepRun"
	OpStep           = "Step" // the legacy name of StepRun
	OpStepError      = "StepError"
	OpStepFailed     = "StepFailed"
	OpStepPlanned    = "StepPlanned"
	OpSleep          = "Sleep"
	OpWaitForEvent   = "WaitForEvent"
	OpInvokeFunction = "InvokeFunction"
	OpStepNotFound   = "StepNotFound"
	OpRunComplete    = "RunComplete"
)

// Inngest's internal event names, which the SDKs check a run's event against: inkflow's own
// names for the same events are presented under these.
const (
	EventScheduled      = "inngest/scheduled.timer"
	EventInvoked        = "inngest/function.invoked"
	EventFunctionFailed = "inngest/function.failed"
)

// DiscoveryStepID is the stepId of a call that asks the app what to do next.
const DiscoveryStepID = "step"

// RegisterRequest is what an SDK posts to /fn/register, and the body of an in-band sync answer.
type RegisterRequest struct {
	URL        string           `json:"url"`
	DeployType string           `json:"deployType,omitempty"`
	AppName    string           `json:"appName"`
	AppID      string           `json:"app_id,omitempty"` // in-band answers name it so
	SDK        string           `json:"sdk"`
	V          string           `json:"v,omitempty"`
	Framework  string           `json:"framework,omitempty"`
	Functions  []FunctionConfig `json:"functions"`
	// SDKLanguage and SDKVersion are how an in-band answer names its SDK.
	SDKLanguage string `json:"sdk_language,omitempty"`
	SDKVersion  string `json:"sdk_version,omitempty"`
}

// SDKName is the SDK as "lang:version" (sdk, or sdk_language and sdk_version in-band).
func (r *RegisterRequest) SDKName() string {
	if r.SDK == "" && r.SDKLanguage != "" {
		return r.SDKLanguage + ":" + r.SDKVersion
	}
	return r.SDK
}

// Name is the app's name: appName, or app_id in an in-band answer.
func (r *RegisterRequest) Name() string {
	if r.AppName != "" {
		return r.AppName
	}
	return r.AppID
}

// FunctionConfig is one function as an SDK registers it. ID is the composite
// "<appId>-<fnId>". Options inkflow does not apply yet are kept raw in Other, by name.
type FunctionConfig struct {
	ID          string                `json:"id"`
	Name        string                `json:"name"`
	Triggers    []TriggerConfig       `json:"triggers"`
	Steps       map[string]StepConfig `json:"steps"`
	Concurrency Concurrency           `json:"concurrency,omitempty"`
	Cancel      []CancelConfig        `json:"cancel,omitempty"`
	// Other holds every other option the SDK sent that is set (not null), by its JSON name;
	// it is written back beside the typed fields, as the SDK sent it.
	Other map[string]json.RawMessage `json:"-"`
}

// TriggerConfig is an event trigger (with an optional CEL expression) or a cron schedule.
type TriggerConfig struct {
	Event      string `json:"event,omitempty"`
	Expression string `json:"expression,omitempty"`
	Cron       string `json:"cron,omitempty"`
}

// StepConfig is the function's single HTTP entry point.
type StepConfig struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Runtime struct {
		Type string `json:"type,omitempty"`
		URL  string `json:"url"`
	} `json:"runtime"`
	Retries *struct {
		Attempts *int `json:"attempts"`
	} `json:"retries,omitempty"`
}

// CancelConfig cancels a run when a matching event arrives.
type CancelConfig struct {
	Event   string `json:"event"`
	If      string `json:"if,omitempty"`
	Timeout string `json:"timeout,omitempty"`
}

// ConcurrencyLimit is one concurrency limit.
type ConcurrencyLimit struct {
	Limit int    `json:"limit"`
	Key   string `json:"key,omitempty"`
	Scope string `json:"scope,omitempty"`
}

// Concurrency is a function's concurrency limits: the SDKs send a number, an object or a list.
type Concurrency []ConcurrencyLimit

// UnmarshalJSON accepts a number, an object or a list of objects.
func (c *Concurrency) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*c = nil
	case b[0] == '[':
		var l []ConcurrencyLimit
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("concurrency: %w", err)
		}
		*c = l
	case b[0] == '{':
		var l ConcurrencyLimit
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("concurrency: %w", err)
		}
		*c = Concurrency{l}
	default:
		var n int
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("concurrency: must be a number, an object or a list: %w", err)
		}
		*c = Concurrency{{Limit: n}}
	}
	return nil
}

// knownFields are the function options decoded into FunctionConfig's typed fields.
var knownFields = map[string]bool{"id": true, "name": true, "triggers": true, "steps": true,
	"concurrency": true, "cancel": true}

// UnmarshalJSON decodes leniently: options inkflow does not know land in Other, null ones
// (Go sends "Singleton": null) are dropped.
func (f *FunctionConfig) UnmarshalJSON(b []byte) error {
	type plain FunctionConfig
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	p.Other = nil
	for k, v := range all {
		if knownFields[k] || string(bytes.TrimSpace(v)) == "null" {
			continue
		}
		if p.Other == nil {
			p.Other = map[string]json.RawMessage{}
		}
		p.Other[k] = v
	}
	*f = FunctionConfig(p)
	return nil
}

// MarshalJSON writes the typed fields and Other side by side.
func (f FunctionConfig) MarshalJSON() ([]byte, error) {
	type plain FunctionConfig
	b, err := json.Marshal(plain(f))
	if err != nil || len(f.Other) == 0 {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, v := range f.Other {
		if _, typed := all[k]; !typed {
			all[k] = v
		}
	}
	return json.Marshal(all)
}

// Entry returns the function's step entry (the SDKs register exactly one, "step").
func (f *FunctionConfig) Entry() (StepConfig, bool) {
	if s, ok := f.Steps[DiscoveryStepID]; ok {
		return s, true
	}
	for _, s := range f.Steps {
		return s, true
	}
	return StepConfig{}, false
}

// Retries is the function's retry count: retries.attempts, or -1 when the SDK left it out.
func (f *FunctionConfig) Retries() int {
	s, ok := f.Entry()
	if !ok || s.Retries == nil || s.Retries.Attempts == nil {
		return -1
	}
	return *s.Retries.Attempts
}

// Validate checks what inkflow needs of a function: an id, a call URL and triggers that say
// what starts it. Messages name the function and the field.
func (f *FunctionConfig) Validate() error {
	if f.ID == "" {
		return fmt.Errorf("functions: a function has no id")
	}
	s, ok := f.Entry()
	if !ok || s.Runtime.URL == "" {
		return fmt.Errorf("function %q: steps.step.runtime.url is required", f.ID)
	}
	if u, err := url.Parse(s.Runtime.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("function %q: steps.step.runtime.url %q is not an http(s) URL", f.ID, s.Runtime.URL)
	}
	if len(f.Triggers) == 0 {
		return fmt.Errorf("function %q: triggers: at least one event or cron trigger is required", f.ID)
	}
	for i, t := range f.Triggers {
		if (t.Event == "") == (t.Cron == "") {
			return fmt.Errorf("function %q: triggers[%d]: needs an event or a cron schedule", f.ID, i)
		}
	}
	return nil
}

// CallURL is the URL to call the function at for one step: the registered URL with fnId kept,
// stepId set (Go registers "step=step", JS "stepId=step") and deployId dropped (v3 leaves it in).
func CallURL(registered, stepID string) (string, error) {
	u, err := url.Parse(registered)
	if err != nil {
		return "", fmt.Errorf("call url %q: %w", registered, err)
	}
	q := u.Query()
	q.Del("deployId")
	q.Del("step")
	q.Set("stepId", stepID)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// CallEvent is an event as the SDKs expect it in a call (user must be an object).
type CallEvent struct {
	ID   string         `json:"id,omitempty"`
	Name string         `json:"name"`
	Data map[string]any `json:"data"`
	User map[string]any `json:"user"`
	TS   int64          `json:"ts"`
	V    string         `json:"v,omitempty"`
}

// CallRequest is the body inkflow posts to an app to run a function.
type CallRequest struct {
	Event   CallEvent                  `json:"event"`
	Events  []CallEvent                `json:"events"`
	Steps   map[string]json.RawMessage `json:"steps"`
	Ctx     CallCtx                    `json:"ctx"`
	Version int                        `json:"version"`
}

// CallCtx is the call's context. It never carries fn_id: with it inngest-js v4 switches to
// checkpointing and inngestgo decodes it as a UUID.
type CallCtx struct {
	RunID                     string    `json:"run_id"`
	Attempt                   int       `json:"attempt"`
	MaxAttempts               int       `json:"max_attempts"`
	DisableImmediateExecution bool      `json:"disable_immediate_execution"`
	UseAPI                    bool      `json:"use_api"`
	Stack                     CallStack `json:"stack"`
}

// CallStack lists the memoized steps' ids in the order they completed.
type CallStack struct {
	Stack   []string `json:"stack"`
	Current int      `json:"current"`
}

// Op is one operation of a 206 answer.
type Op struct {
	Op          string          `json:"op"`
	ID          string          `json:"id"`
	Name        string          `json:"name,omitempty"`
	DisplayName string          `json:"displayName,omitempty"`
	Data        json.RawMessage `json:"data,omitempty"`
	Error       *OpError        `json:"error,omitempty"`
	Opts        OpOpts          `json:"opts,omitempty"`
}

// OpError is an error as the SDKs serialize it.
type OpError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Stack   string `json:"stack,omitempty"`
}

// String is "Name: message", the form inkflow stores and parses back with ParseOpError.
func (e *OpError) String() string {
	if e == nil {
		return "Error: unknown error"
	}
	name := e.Name
	if name == "" {
		name = "Error"
	}
	return name + ": " + e.Message
}

// ParseOpError reverses OpError.String (the stack is not kept).
func ParseOpError(s string) OpError {
	name, msg, ok := strings.Cut(s, ": ")
	if !ok || name == "" || strings.ContainsAny(name, " \n") {
		return OpError{Name: "Error", Message: s}
	}
	return OpError{Name: name, Message: msg}
}

// OpOpts are an op's options; which are set depends on the op and the SDK.
type OpOpts struct {
	Duration   string          `json:"duration,omitempty"` // Sleep (Go)
	Event      string          `json:"event,omitempty"`    // WaitForEvent (Go)
	Timeout    string          `json:"timeout,omitempty"`  // WaitForEvent, InvokeFunction
	If         string          `json:"if,omitempty"`       // WaitForEvent
	FunctionID string          `json:"function_id,omitempty"`
	Payload    json.RawMessage `json:"payload,omitempty"`
	Input      json.RawMessage `json:"input,omitempty"`
	Type       string          `json:"type,omitempty"`
}

// UnmarshalJSON accepts opts of any shape: an SDK's odd opts never fail a whole answer.
func (o *OpOpts) UnmarshalJSON(b []byte) error {
	type plain OpOpts
	var p plain
	if json.Unmarshal(b, &p) == nil {
		*o = OpOpts(p)
	}
	return nil
}

// DisplayLabel is the op's name for people: displayName, else name, else the id.
func (op *Op) DisplayLabel() string {
	switch {
	case op.DisplayName != "":
		return op.DisplayName
	case op.Name != "":
		return op.Name
	}
	return op.ID
}

// SleepUntil returns when a Sleep op ends: JS puts a duration ("2s") or an RFC 3339 date in
// name, Go a duration in opts.duration.
func (op *Op) SleepUntil(now time.Time) (time.Time, error) {
	spec := op.Opts.Duration
	if spec == "" {
		spec = op.Name
	}
	return ParseDurationOrDate(spec, now)
}

// WaitEvent is the event name a WaitForEvent op waits for (JS: name, Go: opts.event).
func (op *Op) WaitEvent() string {
	if op.Opts.Event != "" {
		return op.Opts.Event
	}
	return op.Name
}

// Answer is an app's answer to a call, as inkflow reads it.
type Answer struct {
	Status int
	// SDK is the X-Inngest-SDK header: empty means the answer did not come from an SDK (a
	// proxy, a login page) and is treated as a retriable error.
	SDK        string
	NoRetry    bool
	RetryAfter time.Duration
	ReqVersion int
	Body       []byte
}

// ReadAnswer reads the protocol's headers from an answer; body is already read.
func ReadAnswer(h http.Header, status int, body []byte, now time.Time) Answer {
	a := Answer{Status: status, SDK: h.Get(HeaderSDK), Body: body}
	a.NoRetry = strings.EqualFold(h.Get(HeaderNoRetry), "true")
	a.RetryAfter = ParseRetryAfter(h.Get(HeaderRetryAfter), now)
	if v, err := strconv.Atoi(h.Get(HeaderReqVersion)); err == nil {
		a.ReqVersion = v
	}
	return a
}

// Ops decodes a 206 answer's body: a list of ops (an SDK may also send one op alone).
func (a *Answer) Ops() ([]Op, error) {
	b := bytes.TrimSpace(a.Body)
	if len(b) > 0 && b[0] == '{' {
		var op Op
		if err := json.Unmarshal(b, &op); err != nil {
			return nil, fmt.Errorf("decode op: %w", err)
		}
		return []Op{op}, nil
	}
	var ops []Op
	if err := json.Unmarshal(b, &ops); err != nil {
		return nil, fmt.Errorf("decode ops: %w", err)
	}
	return ops, nil
}

// ParseRetryAfter reads a Retry-After header: seconds or an HTTP or RFC 3339 date; zero when
// absent or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	for _, layout := range []string{time.RFC3339, http.TimeFormat} {
		if t, err := time.Parse(layout, v); err == nil {
			if d := t.Sub(now); d > 0 {
				return d
			}
			return 0
		}
	}
	return 0
}
