package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/inkflow/inkflow/engine"
)

// maxFanOut bounds the calls one run makes to its app at once (planned parallel steps).
const maxFanOut = 16

// driver is the handler of one synced function: it runs the function by calling the app,
// recording what the app reports as the run's steps.
type driver struct {
	reg *Registry
	app string
	sdk string // "js:v3.54.2", "go:v0.16.0"
	fn  FunctionConfig
}

// callState is what one execution of the handler keeps between its calls.
type callState struct {
	mu        sync.Mutex
	version   int  // the request version the SDK answered with (-1 until it has)
	forcePlan bool // after a batch of ops, steps are planned, not run inside discovery
}

// handle runs the function: it resolves the steps the run waits on, then calls the app until
// it answers with the function's result, recording each op.
func (d *driver) handle(ctx context.Context, in *engine.Input) (any, error) {
	st := &callState{version: -1}
	d.resolvePending(ctx, in, st)
	progress := len(in.Step.Stored())
	for calls := 0; calls <= engine.MaxStepsPerRun; calls++ {
		ans, err := d.call(ctx, in, DiscoveryStepID, st, 0)
		if err != nil {
			return nil, err
		}
		switch ans.Status {
		case http.StatusOK:
			return result(ans.Body), nil
		case http.StatusPartialContent:
			ops, err := ans.Ops()
			if err != nil {
				return nil, fmt.Errorf("the app's 206 answer: %w", err)
			}
			if len(ops) == 0 {
				return nil, fmt.Errorf("the app answered 206 with no operations")
			}
			if len(ops) > 1 {
				st.mu.Lock()
				st.forcePlan = true
				st.mu.Unlock()
			}
			if err := d.apply(ctx, in, ops, ans, st); err != nil {
				return nil, err
			}
			n := len(in.Step.Stored())
			if n == progress {
				return nil, engine.NonRetriable(fmt.Errorf("the app reported only steps it had already reported (%s): the function is not deterministic", ops[0].Op))
			}
			progress = n
		default:
			return nil, answerError(ans)
		}
	}
	return nil, engine.NonRetriable(fmt.Errorf("the run called its app more than %d times", engine.MaxStepsPerRun))
}

// resolvePending brings every step the run waits on to its end, or suspends the run: sleeps
// and waits through the engine's resume paths, a retrying step by calling the app for it alone.
func (d *driver) resolvePending(ctx context.Context, in *engine.Input, st *callState) {
	var fns []func(ctx context.Context) error
	for _, s := range in.Step.Stored() {
		s := s
		switch s.Status {
		case engine.StepSleeping:
			fns = append(fns, func(ctx context.Context) error { return in.Step.Sleep(ctx, s.ID, 0) })
		case engine.StepWaiting:
			if s.Kind == engine.KindInvoke {
				fns = append(fns, func(ctx context.Context) error {
					_, err := in.Step.Invoke(ctx, s.ID, "", nil, 0)
					return ignoreStepError(err)
				})
				continue
			}
			var w struct {
				Event string `json:"event"`
			}
			_ = json.Unmarshal(s.Input, &w)
			fns = append(fns, func(ctx context.Context) error {
				_, err := in.Step.WaitForEvent(ctx, s.ID, engine.Wait{Event: w.Event})
				return ignoreStepError(err)
			})
		case engine.StepRetrying:
			fns = append(fns, func(ctx context.Context) error {
				_, err := in.Step.Run(ctx, s.ID, d.targeted(in, s.ID, st, s.Attempts), engine.WithName(s.Name))
				return ignoreStepError(err)
			})
		}
	}
	d.parallel(ctx, in, fns)
}

// apply records the ops of one 206 answer. Ops of one answer are handled together, so a run
// that sleeps in one branch and waits in another registers both before it suspends.
func (d *driver) apply(ctx context.Context, in *engine.Input, ops []Op, ans Answer, st *callState) error {
	ended := map[string]bool{}
	for _, st := range in.Step.Stored() {
		ended[st.ID] = st.Status == engine.StepCompleted || st.Status == engine.StepFailed
	}
	fns := make([]func(ctx context.Context) error, 0, len(ops))
	for _, op := range ops {
		op := op
		if ended[op.ID] {
			// Its memo was sent (or fetched): an app that reports it again did not read it.
			return engine.NonRetriable(fmt.Errorf("the app reported step %q again although it has ended (the app did not read the run's memo)", op.DisplayLabel()))
		}
		name := engine.WithName(op.DisplayLabel())
		in.Step.Label(op.ID, op.DisplayLabel())
		switch op.Op {
		case OpStepRun, OpStep:
			data := op.Data
			fns = append(fns, func(ctx context.Context) error {
				_, err := in.Step.Run(ctx, op.ID, func(context.Context) (any, error) { return rawOrNull(data), nil }, name)
				return ignoreStepError(err)
			})
		case OpStepError, OpStepFailed:
			failed := op.Op == OpStepFailed || ans.NoRetry
			stepErr := errors.New(op.Error.String())
			if failed {
				stepErr = engine.NonRetriable(stepErr)
			} else if ans.RetryAfter > 0 {
				stepErr = engine.RetryAfter(ans.RetryAfter, stepErr)
			}
			fns = append(fns, func(ctx context.Context) error {
				_, err := in.Step.Run(ctx, op.ID, func(context.Context) (any, error) { return nil, stepErr }, name)
				return ignoreStepError(err)
			})
		case OpStepPlanned:
			fns = append(fns, func(ctx context.Context) error {
				_, err := in.Step.Run(ctx, op.ID, d.targeted(in, op.ID, st, d.attempts(in, op.ID)), name)
				return ignoreStepError(err)
			})
		case OpSleep:
			until, err := op.SleepUntil(d.reg.cfg.Engine.Now())
			if err != nil {
				return engine.NonRetriable(fmt.Errorf("sleep %q: %w", op.DisplayLabel(), err))
			}
			fns = append(fns, func(ctx context.Context) error { return in.Step.SleepUntil(ctx, op.ID, until) })
		case OpWaitForEvent:
			w := engine.Wait{Event: op.WaitEvent(), If: op.Opts.If}
			if op.Opts.Timeout != "" {
				d, err := ParseDuration(op.Opts.Timeout)
				if err != nil {
					return engine.NonRetriable(fmt.Errorf("wait %q: timeout: %w", op.DisplayLabel(), err))
				}
				w.Timeout = d
			}
			fns = append(fns, func(ctx context.Context) error {
				_, err := in.Step.WaitForEvent(ctx, op.ID, w)
				return ignoreStepError(err)
			})
		case OpInvokeFunction:
			var payload struct {
				Data map[string]any `json:"data"`
			}
			_ = json.Unmarshal(op.Opts.Payload, &payload)
			var timeout time.Duration
			if op.Opts.Timeout != "" {
				t, err := ParseDuration(op.Opts.Timeout)
				if err != nil {
					return engine.NonRetriable(fmt.Errorf("invoke %q: timeout: %w", op.DisplayLabel(), err))
				}
				timeout = t
			}
			fns = append(fns, func(ctx context.Context) error {
				_, err := in.Step.Invoke(ctx, op.ID, op.Opts.FunctionID, payload.Data, timeout)
				return ignoreStepError(err)
			})
		default:
			return engine.NonRetriable(fmt.Errorf("the app asked for %q, which inkflow does not support", op.Op))
		}
	}
	return d.parallel(ctx, in, fns)
}

// parallel runs fns as parallel steps (one alone needs no goroutine).
func (d *driver) parallel(ctx context.Context, in *engine.Input, fns []func(ctx context.Context) error) error {
	switch len(fns) {
	case 0:
		return nil
	case 1:
		return fns[0](ctx)
	}
	sem := make(chan struct{}, maxFanOut)
	wrapped := make([]func(ctx context.Context) error, len(fns))
	for i, fn := range fns {
		wrapped[i] = func(ctx context.Context) error {
			sem <- struct{}{}
			defer func() { <-sem }()
			return fn(ctx)
		}
	}
	return in.Step.Parallel(ctx, wrapped...)
}

// ignoreStepError drops the error of a step that failed for good: it is in the memo, and the
// app's code decides what it means.
func ignoreStepError(err error) error {
	var se *engine.StepError
	if errors.As(err, &se) {
		return nil
	}
	return err
}

// attempts is how many attempts step id has had.
func (d *driver) attempts(in *engine.Input, id string) int {
	for _, s := range in.Step.Stored() {
		if s.ID == id {
			return s.Attempts
		}
	}
	return 0
}

// targeted is a Step.Run fn that asks the app to run step id alone and returns its outcome.
func (d *driver) targeted(in *engine.Input, id string, st *callState, attempt int) func(ctx context.Context) (any, error) {
	return func(ctx context.Context) (any, error) {
		ans, err := d.call(ctx, in, id, st, attempt)
		if err != nil {
			return nil, err
		}
		if ans.Status != http.StatusPartialContent {
			return nil, answerError(ans)
		}
		ops, err := ans.Ops()
		if err != nil {
			return nil, fmt.Errorf("the app's 206 answer: %w", err)
		}
		for _, op := range ops {
			if op.ID != id {
				continue
			}
			switch op.Op {
			case OpStepRun, OpStep:
				return rawOrNull(op.Data), nil
			case OpStepError, OpStepFailed:
				stepErr := errors.New(op.Error.String())
				if op.Op == OpStepFailed || ans.NoRetry {
					return nil, engine.NonRetriable(stepErr)
				}
				if ans.RetryAfter > 0 {
					return nil, engine.RetryAfter(ans.RetryAfter, stepErr)
				}
				return nil, stepErr
			}
		}
		if len(ops) > 0 && ops[0].Op == OpStepNotFound {
			return nil, fmt.Errorf("the app has no step %s (was the function changed?)", id)
		}
		return nil, fmt.Errorf("the app did not run step %s when asked to", id)
	}
}

// call posts one call request to the app and reads its answer. A transport failure or an
// answer that does not come from an SDK is a retriable error.
func (d *driver) call(ctx context.Context, in *engine.Input, stepID string, st *callState, attempt int) (Answer, error) {
	entry, _ := d.fn.Entry()
	target, err := CallURL(entry.Runtime.URL, stepID)
	if err != nil {
		return Answer{}, engine.NonRetriable(err)
	}
	if err := d.reg.cfg.Allow.Check(target); err != nil {
		return Answer{}, engine.NonRetriable(err)
	}
	st.mu.Lock()
	call := d.request(in, st, attempt)
	st.mu.Unlock()
	body, err := json.Marshal(call)
	if err != nil {
		return Answer{}, engine.NonRetriable(fmt.Errorf("encode call: %w", err))
	}
	if len(body) > d.reg.cfg.UseAPIAbove && strings.HasPrefix(d.sdk, "js:") {
		// Too large to post: the SDK fetches the memo and the events from /v0 (api.go).
		call.Steps, call.Events, call.Ctx.UseAPI = map[string]json.RawMessage{}, []CallEvent{}, true
		if body, err = json.Marshal(call); err != nil {
			return Answer{}, engine.NonRetriable(fmt.Errorf("encode call: %w", err))
		}
	}
	now := d.reg.cfg.Now()
	var sig, key string
	if !d.reg.cfg.Dev {
		if key, err = d.reg.SigningKey(ctx); err != nil {
			return Answer{}, err
		}
		if sig, body, err = Sign(body, key, now); err != nil {
			return Answer{}, engine.NonRetriable(err)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Answer{}, engine.NonRetriable(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderServerKind, d.reg.ServerKind())
	if sig != "" {
		req.Header.Set(HeaderSignature, sig)
	}
	resp, err := d.reg.cfg.Client.Do(req)
	if err != nil {
		return Answer{}, fmt.Errorf("call the app at %s: %w", d.app, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes+1))
	if err != nil {
		return Answer{}, fmt.Errorf("read the app's answer: %w", err)
	}
	if len(b) > MaxAnswerBytes {
		return Answer{}, engine.NonRetriable(&engine.Error{Code: engine.ETooLarge, Message: fmt.Sprintf("the app's answer is over %d bytes", MaxAnswerBytes)})
	}
	ans := ReadAnswer(resp.Header, resp.StatusCode, b, now)
	if resp.StatusCode == http.StatusUnauthorized {
		// The SDKs answer a refused signature without their header: fail fast either way.
		return Answer{}, answerError(ans)
	}
	if ans.SDK == "" {
		return Answer{}, fmt.Errorf("the app at %s answered %d without %s, so not from an Inngest SDK (a proxy or a login page?): %s",
			d.app, resp.StatusCode, HeaderSDK, answerMessage(b))
	}
	if key != "" {
		if err := d.checkSignature(resp.Header.Get(HeaderSignature), b, key); err != nil {
			return Answer{}, err
		}
	}
	if ans.ReqVersion > 0 {
		st.mu.Lock()
		st.version = ans.ReqVersion
		st.mu.Unlock()
	}
	return ans, nil
}

// checkSignature refuses, in signed mode, an answer whose X-Inngest-Signature does not match
// the signing key: it was forged or changed on its way, and nothing of it is recorded (the call
// is retried). inngest-js signs every answer to a signed call, so an unsigned one is refused
// too; inngestgo (v0.16) signs only its in-band sync answer, so its call answers are taken
// unsigned.
func (d *driver) checkSignature(header string, body []byte, key string) error {
	if header == "" {
		if strings.HasPrefix(d.sdk, "js:") {
			return fmt.Errorf("the answer from %s has no %s although inngest-js signs every answer in signed mode: refused (was it forged on its way?)", d.app, HeaderSignature)
		}
		return nil
	}
	if err := VerifyAnswer(body, header, d.reg.cfg.Now(), key); err != nil {
		return fmt.Errorf("the answer from %s is refused, its %s is not inkflow's signing key's (forged or changed on its way?): %w", d.app, HeaderSignature, err)
	}
	return nil
}

// request builds the call request: the run's event as the SDK expects it, the memo of every
// step that ended, and the stack in the order they ended.
func (d *driver) request(in *engine.Input, st *callState, attempt int) CallRequest {
	ev := present(in.Event)
	steps := map[string]json.RawMessage{}
	var ended []engine.StoredStep
	for _, s := range in.Step.Stored() {
		if m, ok := memo(s); ok {
			steps[s.ID] = m
			ended = append(ended, s)
		}
	}
	sort.SliceStable(ended, func(i, j int) bool {
		a, b := ended[i].EndedAt, ended[j].EndedAt
		if a != nil && b != nil && !a.Equal(*b) {
			return a.Before(*b)
		}
		return ended[i].Seq < ended[j].Seq
	})
	stack := make([]string, len(ended))
	for i, s := range ended {
		stack[i] = s.ID
	}
	retries := d.fn.Retries()
	if retries < 0 {
		retries = engine.DefaultRetries
	}
	events := []CallEvent{ev}
	if len(in.Events) > 1 { // a batched run (batchEvents): every event, in order
		events = make([]CallEvent, len(in.Events))
		for i, e := range in.Events {
			events[i] = present(e)
		}
	}
	return CallRequest{
		Event:   ev,
		Events:  events,
		Steps:   steps,
		Version: st.version,
		Ctx: CallCtx{RunID: in.Run.ID, Attempt: attempt, MaxAttempts: retries + 1,
			DisableImmediateExecution: st.forcePlan, Stack: CallStack{Stack: stack, Current: len(stack)}},
	}
}

// memo is a step's memo as the SDKs read it, for steps that ended.
func memo(s engine.StoredStep) (json.RawMessage, bool) {
	errMemo := func() json.RawMessage {
		// inngestgo decodes the error's data (a step's partial result) and needs it present.
		e := ParseOpError(s.Error)
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"name": e.Name, "message": e.Message, "data": nil}})
		return b
	}
	dataMemo := func() json.RawMessage {
		out := s.Output
		if len(out) == 0 {
			out = json.RawMessage("null")
		}
		return json.RawMessage(`{"data":` + string(out) + `}`)
	}
	switch s.Status {
	case engine.StepFailed:
		return errMemo(), true
	case engine.StepCompleted:
	default:
		return nil, false
	}
	switch s.Kind {
	case engine.KindSleep:
		return json.RawMessage("null"), true
	case engine.KindWait:
		if len(s.Output) == 0 || string(bytes.TrimSpace(s.Output)) == "null" {
			return json.RawMessage("null"), true
		}
		var ev engine.Event
		if json.Unmarshal(s.Output, &ev) != nil {
			return s.Output, true
		}
		b, _ := json.Marshal(present(ev))
		return b, true
	}
	return dataMemo(), true
}

// present is an event as the SDKs expect it: inkflow's own event names shown as Inngest's
// (the SDKs check them), a failure's error as an error object, user always an object.
func present(ev engine.Event) CallEvent {
	out := CallEvent{ID: ev.ID, Name: ev.Name, Data: ev.Data, User: ev.User, TS: ev.TS, V: ev.V}
	if out.Data == nil {
		out.Data = map[string]any{}
	}
	if out.User == nil {
		out.User = map[string]any{}
	}
	switch ev.Name {
	case engine.EventCron:
		out.Name = EventScheduled
	case engine.EventInvoked:
		out.Name = EventInvoked
	case engine.EventRunFailed:
		out.Name = EventFunctionFailed
		data := make(map[string]any, len(ev.Data))
		for k, v := range ev.Data {
			data[k] = v
		}
		if msg, ok := data["error"].(string); ok {
			data["error"] = ParseOpError(answeredPrefix.ReplaceAllString(msg, ""))
		}
		if inner, ok := data["event"].(map[string]any); ok {
			b, _ := json.Marshal(inner)
			var e engine.Event
			if json.Unmarshal(b, &e) == nil {
				data["event"] = present(e)
			}
		}
		out.Data = data
	}
	return out
}

// answeredPrefix starts the run error of an app's error answer; the failure event carries the
// app's own error after it.
var answeredPrefix = regexp.MustCompile(`^the app answered \d+: `)

// result is a 200 answer's body as the run's output (text that is not JSON is kept as text).
func result(b []byte) json.RawMessage {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	if !json.Valid(b) {
		s, _ := json.Marshal(string(b))
		return s
	}
	return b
}

func rawOrNull(b json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// answerError maps an answer that is neither 200 nor 206 to the run's error: a No-Retry answer
// (NonRetriableError, a validation failure) or a refused signature fails the run; others
// are retried, after Retry-After when the app gave one.
func answerError(ans Answer) error {
	msg := errorText(ans.Body)
	var err error
	switch {
	case ans.Status == http.StatusUnauthorized:
		return engine.NonRetriable(fmt.Errorf("the app refused inkflow's signature (401): the app's INNGEST_SIGNING_KEY is not inkflow's signing key: %s", msg))
	case ans.Status == http.StatusCreated:
		return engine.NonRetriable(fmt.Errorf("the app answered in streaming mode (201), which inkflow does not support: unset INNGEST_STREAMING"))
	default:
		err = fmt.Errorf("the app answered %d: %s", ans.Status, msg)
	}
	if ans.NoRetry {
		return engine.NonRetriable(err)
	}
	if ans.RetryAfter > 0 {
		return engine.RetryAfter(ans.RetryAfter, err)
	}
	return err
}

// errorText is an error answer's message: "Name: message" from the SDK's error object.
func errorText(b []byte) string {
	var e OpError
	if json.Unmarshal(b, &e) == nil && e.Message != "" {
		return e.String()
	}
	return answerMessage(b)
}
