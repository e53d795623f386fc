package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeApp is a scripted Inngest SDK app on loopback. Its functions are Go closures over a tiny
// step tool with the SDKs' semantics, as measured: a step is known by the sha1 of its id; a
// memoized step returns its memo; the first new step of a discovery call (stepId=step) runs
// inside the call unless immediate execution is disabled, and is reported as StepRun,
// StepError or StepFailed (failed once attempt+1 >= max_attempts); a sleep or a wait is
// reported as an op; a returned value answers 200, an error 500 (400 + No-Retry when
// nonRetriable). Raw answers (a proxy's page, a 401) are scripted with answer.
type fakeApp struct {
	t   *testing.T
	srv *httptest.Server
	// key, when set, makes the app verify inkflow's signatures (signed mode).
	key string

	mu     sync.Mutex
	fns    map[string]fakeFn
	calls  []fakeCall
	answer func(c fakeCall) (status int, body string, header http.Header, ok bool)
	// forge, when set, changes an answer after the app signed it (what something on the way
	// between inkflow and the app could do).
	forge func(header http.Header, body []byte) []byte
}

type fakeFn func(s *fakeStep) (any, error)

type fakeCall struct {
	FnID, StepID string
	Req          CallRequest
}

// nonRetriable is the fake's NonRetriableError.
type nonRetriable struct{ msg string }

func (e nonRetriable) Error() string { return e.msg }

func newFakeApp(t *testing.T) *fakeApp {
	a := &fakeApp{t: t, fns: map[string]fakeFn{}}
	a.srv = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeApp) url() string { return a.srv.URL + "/api/inngest" }

// The settings below are read by the app's handlers, which the calls of other processes
// reach with no happens-before edge to the test's goroutine: set them under the lock.

func (a *fakeApp) setKey(key string) { a.mu.Lock(); a.key = key; a.mu.Unlock() }

func (a *fakeApp) signingKey() string { a.mu.Lock(); defer a.mu.Unlock(); return a.key }

func (a *fakeApp) setAnswer(fn func(c fakeCall) (int, string, http.Header, bool)) {
	a.mu.Lock()
	a.answer = fn
	a.mu.Unlock()
}

func (a *fakeApp) setForge(fn func(header http.Header, body []byte) []byte) {
	a.mu.Lock()
	a.forge = fn
	a.mu.Unlock()
}

func (a *fakeApp) add(id string, fn fakeFn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fns[id] = fn
}

// register is the app's register request for its functions with the given triggers.
func (a *fakeApp) register(fns ...FunctionConfig) RegisterRequest {
	for i := range fns {
		var s StepConfig
		s.ID, s.Name = "step", "step"
		s.Runtime.Type = "http"
		s.Runtime.URL = a.url() + "?fnId=" + fns[i].ID + "&stepId=step"
		fns[i].Steps = map[string]StepConfig{"step": s}
	}
	return RegisterRequest{URL: a.url(), AppName: "fake", SDK: "js:v3.54.2", Framework: "fake", Functions: fns}
}

func (a *fakeApp) callsOf(fnID string) []fakeCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []fakeCall
	for _, c := range a.calls {
		if c.FnID == fnID {
			out = append(out, c)
		}
	}
	return out
}

type fakeReply struct {
	status  int
	body    any
	noRetry bool
}

// serve answers as handle does and, in signed mode, signs the answer as inngest-js does:
// HMAC-SHA256 of the body as sent, then the timestamp (not canonicalized).
func (a *fakeApp) serve(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	a.handle(rec, r)
	body := rec.Body.Bytes()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	if key := a.signingKey(); key != "" && rec.Code != http.StatusUnauthorized && w.Header().Get(HeaderSignature) == "" {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		// inngestgo signs before its JSON encoder's newline; inngest-js has none.
		w.Header().Set(HeaderSignature, "t="+ts+"&s="+mac(bytes.TrimSuffix(body, []byte("\n")), key, ts))
	}
	a.mu.Lock()
	forge := a.forge
	a.mu.Unlock()
	if forge != nil {
		body = forge(w.Header(), body)
	}
	w.WriteHeader(rec.Code)
	w.Write(body)
}

func (a *fakeApp) handle(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if key := a.signingKey(); key != "" && r.Method == http.MethodPost {
		if err := Verify(body, r.Header.Get(HeaderSignature), time.Now(), key); err != nil {
			w.Header().Set(HeaderSDK, "js:v3.54.2")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"message":%q}`, err.Error())
			return
		}
	}
	if r.Method == http.MethodPut {
		a.sync(w, r, body)
		return
	}
	var req CallRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c := fakeCall{FnID: r.URL.Query().Get("fnId"), StepID: r.URL.Query().Get("stepId"), Req: req}
	a.mu.Lock()
	a.calls = append(a.calls, c)
	fn := a.fns[c.FnID]
	answer := a.answer
	a.mu.Unlock()
	w.Header().Set(HeaderSDK, "js:v3.54.2")
	w.Header().Set(HeaderReqVersion, "1")
	if answer != nil {
		if status, b, h, ok := answer(c); ok {
			for k, v := range h {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			io.WriteString(w, b)
			return
		}
	}
	if fn == nil {
		w.WriteHeader(http.StatusGone)
		return
	}
	rep := a.run(fn, c)
	if rep.noRetry {
		w.Header().Set(HeaderNoRetry, "true")
	} else {
		w.Header().Set(HeaderNoRetry, "false")
	}
	b, _ := json.Marshal(rep.body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	w.Write(b)
}

// sync answers an in-band sync (signed mode) with the function list.
func (a *fakeApp) sync(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set(HeaderSDK, "js:v3.54.2")
	key := a.signingKey()
	if r.Header.Get(HeaderSyncKind) != SyncInBand || key == "" {
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"message":"this fake syncs in-band only"}`)
		return
	}
	if err := Verify(body, r.Header.Get(HeaderSignature), time.Now(), key); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"message":%q}`, err.Error())
		return
	}
	a.mu.Lock()
	var fcs []FunctionConfig
	for id := range a.fns {
		fcs = append(fcs, FunctionConfig{ID: id, Name: id, Triggers: []TriggerConfig{{Event: "fake/" + id}}})
	}
	a.mu.Unlock()
	reg := a.register(fcs...)
	out := map[string]any{"app_id": "fake", "url": reg.URL, "sdk": reg.SDK, "framework": "fake", "functions": reg.Functions}
	w.Header().Set(HeaderSyncKind, SyncInBand)
	json.NewEncoder(w).Encode(out)
}

func (a *fakeApp) run(fn fakeFn, c fakeCall) (rep fakeReply) {
	s := &fakeStep{c: c, seen: map[string]int{}}
	defer func() {
		if r := recover(); r != nil {
			if fr, ok := r.(fakeReply); ok {
				rep = fr
				return
			}
			panic(r)
		}
	}()
	out, err := fn(s)
	var nr nonRetriable
	switch {
	case errors.As(err, &nr):
		return fakeReply{status: 400, body: OpError{Name: "NonRetriableError", Message: nr.msg}, noRetry: true}
	case err != nil:
		return fakeReply{status: 500, body: OpError{Name: "Error", Message: err.Error()}}
	}
	return fakeReply{status: 200, body: out}
}

// fakeStep is the fake SDK's step tool for one call.
type fakeStep struct {
	c    fakeCall
	seen map[string]int
}

// Event is the run's event as the app received it.
func (s *fakeStep) Event() CallEvent { return s.c.Req.Event }

func (s *fakeStep) hash(id string) string {
	n := s.seen[id]
	s.seen[id] = n + 1
	if n > 0 {
		id += ":" + strconv.Itoa(n)
	}
	return HashStepID(id)
}

// Run runs fn as a step, or returns its memo. A failed step's error comes back as err.
func (s *fakeStep) Run(id string, fn func() (any, error)) (json.RawMessage, error) {
	h := s.hash(id)
	if m, ok := s.c.Req.Steps[h]; ok {
		var memo struct {
			Data  json.RawMessage `json:"data"`
			Error *OpError        `json:"error"`
		}
		if err := json.Unmarshal(m, &memo); err != nil {
			panic(fmt.Sprintf("memo of %s is not {data|error}: %s", id, m))
		}
		if memo.Error != nil {
			return nil, errors.New(memo.Error.Message)
		}
		return memo.Data, nil
	}
	runNow := s.c.StepID == h || (s.c.StepID == DiscoveryStepID && !s.c.Req.Ctx.DisableImmediateExecution)
	if !runNow {
		panic(fakeReply{status: 206, body: []Op{{Op: OpStepPlanned, ID: h, Name: id, DisplayName: id}}})
	}
	out, err := fn()
	if err == nil {
		b, _ := json.Marshal(out)
		panic(fakeReply{status: 206, body: []Op{{Op: OpStepRun, ID: h, Name: id, DisplayName: id, Data: b}}})
	}
	var nr nonRetriable
	final := errors.As(err, &nr) || s.c.Req.Ctx.Attempt+1 >= s.c.Req.Ctx.MaxAttempts
	op := Op{Op: OpStepError, ID: h, Name: id, DisplayName: id, Error: &OpError{Name: "Error", Message: err.Error()}}
	if final {
		op.Op = OpStepFailed
	}
	panic(fakeReply{status: 206, body: []Op{op}, noRetry: final})
}

// Sleep sleeps for a duration in the SDK's notation ("1h") or until an RFC 3339 date.
func (s *fakeStep) Sleep(id, spec string) {
	h := s.hash(id)
	if _, ok := s.c.Req.Steps[h]; ok {
		return
	}
	panic(fakeReply{status: 206, body: []Op{{Op: OpSleep, ID: h, Name: spec, DisplayName: id}}})
}

// WaitForEvent waits for event (CEL if over event and async) until timeout; nil on timeout.
func (s *fakeStep) WaitForEvent(id, event, ifExpr, timeout string) *CallEvent {
	h := s.hash(id)
	if m, ok := s.c.Req.Steps[h]; ok {
		if string(m) == "null" {
			return nil
		}
		var ev CallEvent
		if err := json.Unmarshal(m, &ev); err != nil {
			panic(fmt.Sprintf("wait memo %s: %v", m, err))
		}
		return &ev
	}
	panic(fakeReply{status: 206, body: []Op{{Op: OpWaitForEvent, ID: h, Name: event, DisplayName: id,
		Opts: OpOpts{Timeout: timeout, If: ifExpr}}}})
}

// Parallel reports several steps at once, as Promise.all does: each new one planned.
func (s *fakeStep) Parallel(ids ...string) []json.RawMessage {
	var planned []Op
	out := make([]json.RawMessage, len(ids))
	for i, id := range ids {
		h := s.hash(id)
		if m, ok := s.c.Req.Steps[h]; ok {
			var memo struct {
				Data json.RawMessage `json:"data"`
			}
			_ = json.Unmarshal(m, &memo)
			out[i] = memo.Data
			continue
		}
		if s.c.StepID == h {
			b, _ := json.Marshal("done " + id)
			panic(fakeReply{status: 206, body: []Op{{Op: OpStepRun, ID: h, Name: id, DisplayName: id, Data: b}}})
		}
		planned = append(planned, Op{Op: OpStepPlanned, ID: h, Name: id, DisplayName: id})
	}
	if len(planned) > 0 {
		panic(fakeReply{status: 206, body: planned})
	}
	return out
}

// Invoke invokes function fnID with data and returns its result (or its error).
func (s *fakeStep) Invoke(id, fnID string, data map[string]any) (json.RawMessage, error) {
	h := s.hash(id)
	if m, ok := s.c.Req.Steps[h]; ok {
		var memo struct {
			Data  json.RawMessage `json:"data"`
			Error *OpError        `json:"error"`
		}
		_ = json.Unmarshal(m, &memo)
		if memo.Error != nil {
			return nil, errors.New(memo.Error.Message)
		}
		return memo.Data, nil
	}
	payload, _ := json.Marshal(map[string]any{"data": data})
	panic(fakeReply{status: 206, body: []Op{{Op: OpInvokeFunction, ID: h, Name: id, DisplayName: id,
		Opts: OpOpts{FunctionID: fnID, Payload: payload, Timeout: "1h"}}}})
}
