package sdk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// Vectors computed with node's crypto and the canonicalize package the SDK uses, and the
// RFC 8785 example.
func TestCanonical(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{`{"z":1,"a":{"b":[1,2.5,"é<>&"]},"event":{"name":"app/x","data":{"n":1e21,"m":0.000001}}}`,
			`{"a":{"b":[1,2.5,"é<>&"]},"event":{"data":{"m":0.000001,"n":1e+21},"name":"app/x"},"z":1}`},
		{`{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/","literals":[null,true,false]}`,
			`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`},
		{`[-0, 1e-7, 123456789012345680000, -0.5, 100]`, `[0,1e-7,123456789012345680000,-0.5,100]`},
		{`{"\u00e9":1,"e":2,"\ud83d\ude00":3,"\uffff":4}`, `{"e":2,"é":1,"😀":3,"` + "\uffff" + `":4}`},
	}
	for _, c := range cases {
		got, err := Canonical([]byte(c.in))
		if err != nil {
			t.Fatalf("Canonical(%s): %v", c.in, err)
		}
		if string(got) != c.want {
			t.Errorf("Canonical(%s)\n got %s\nwant %s", c.in, got, c.want)
		}
	}
	if _, err := Canonical([]byte(`{"a":`)); err == nil {
		t.Error("Canonical accepted broken JSON")
	}
}

func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"z":1,"a":{"b":[1,2.5,"é<>&"]},"event":{"name":"app/x","data":{"n":1e21,"m":0.000001}}}`)
	at := time.Unix(1700000000, 0)
	key := "signkey-test-0123456789abcdef"
	h, canon, err := Sign(body, key, at)
	if err != nil {
		t.Fatal(err)
	}
	want := "t=1700000000&s=8039d49ccec856f70f0044c978360f5491186ab5f85d98db4411373f2f7126e7"
	if h != want {
		t.Fatalf("Sign = %s, want %s", h, want)
	}
	if !strings.HasPrefix(string(canon), `{"a":`) {
		t.Errorf("signed bytes are not canonical: %s", canon)
	}
	if err := Verify(body, h, at.Add(time.Minute), key); err != nil {
		t.Errorf("Verify own signature: %v", err)
	}
	if err := Verify(body, h, at, "signkey-test-ffff", key); err != nil {
		t.Errorf("Verify with the fallback key second: %v", err)
	}
	for name, c := range map[string]struct {
		body, header string
		now          time.Time
	}{
		"other key":     {string(body), h, at},
		"changed body":  {`{"z":2}`, h, at},
		"old timestamp": {string(body), h, at.Add(6 * time.Minute)},
		"no signature":  {string(body), "t=1700000000", at},
		"garbage":       {string(body), "nonsense", at},
	} {
		keys := []string{key}
		if name == "other key" {
			keys = []string{"signkey-test-ffff"}
		}
		if err := Verify([]byte(c.body), c.header, c.now, keys...); err == nil {
			t.Errorf("%s: Verify accepted it", name)
		}
	}
}

func TestHashes(t *testing.T) {
	t.Parallel()
	if got, want := HashedKey("signkey-prod-12345678"), "signkey-prod-b2ed992186a5cb19f6668aade821f502c1d00970dfd0e35128d51bac4649916c"; got != want {
		t.Errorf("HashedKey = %s, want %s", got, want)
	}
	if got, want := HashStepID("my-step-id"), "e7d8a2f140845095749d60246ff1110c9d01d76a"; got != want {
		t.Errorf("HashStepID = %s, want %s", got, want)
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	cases := map[string]time.Duration{
		"2s": 2 * time.Second, "1d": 24 * time.Hour, "2h30m10s": 2*time.Hour + 30*time.Minute + 10*time.Second,
		"1w": 7 * 24 * time.Hour, "1.5h": 90 * time.Minute, "500ms": 500 * time.Millisecond, "1d2h": 26 * time.Hour,
		"1h30m0s": 90 * time.Minute, "10us": 10 * time.Microsecond,
	}
	for in, want := range cases {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "s", "10", "1x", "abc", "1e400h"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted it", bad)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got, _ := ParseDurationOrDate("2030-01-02T03:04:05.000Z", now); !got.Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("date = %v", got)
	}
	if got, _ := ParseDurationOrDate("1h", now); !got.Equal(now.Add(time.Hour)) {
		t.Errorf("duration from now = %v", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "30": 30 * time.Second, "2026-01-01T00:01:00Z": time.Minute,
		"Thu, 01 Jan 2026 00:00:10 GMT": 10 * time.Second, "soon": 0, "2025-01-01T00:00:00Z": 0,
	} {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func readRegister(t *testing.T, name string) RegisterRequest {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var r RegisterRequest
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return r
}

func TestRegisterRequestJS(t *testing.T) {
	t.Parallel()
	r := readRegister(t, "register-js-v3.json")
	if r.Name() != "blog-cms" || r.SDK != "js:v3.54.2" || len(r.Functions) != 3 {
		t.Fatalf("decoded %+v", r)
	}
	wf, cron, fail := r.Functions[0], r.Functions[1], r.Functions[2]
	for _, f := range r.Functions {
		if err := f.Validate(); err != nil {
			t.Errorf("Validate(%s): %v", f.ID, err)
		}
	}
	if wf.Retries() != -1 || cron.Retries() != 2 || fail.Retries() != 1 {
		t.Errorf("retries = %d %d %d", wf.Retries(), cron.Retries(), fail.Retries())
	}
	if wf.Triggers[1].Expression != "event.data.id > 0" || cron.Triggers[0].Cron != "TZ=Europe/Lisbon 0 9 * * *" {
		t.Errorf("triggers = %+v %+v", wf.Triggers, cron.Triggers)
	}
	if len(cron.Concurrency) != 1 || cron.Concurrency[0].Limit != 2 {
		t.Errorf("concurrency from a number = %+v", cron.Concurrency)
	}
	if len(cron.Cancel) != 1 || cron.Cancel[0].If != "event.data.id == async.data.id" {
		t.Errorf("cancel = %+v", cron.Cancel)
	}
	if _, ok := cron.Other["debounce"]; !ok || len(cron.Other) != 1 {
		t.Errorf("options kept aside = %v; want debounce only", keys(cron.Other))
	}
	again, _ := json.Marshal(cron)
	var back FunctionConfig
	if err := json.Unmarshal(again, &back); err != nil || len(back.Other) != 1 || back.Retries() != 2 || back.Cancel[0].Timeout != "1h" {
		t.Errorf("a stored function does not read back: %s", again)
	}
	entry, _ := wf.Entry()
	got, err := CallURL(entry.Runtime.URL, "abc123")
	if err != nil || got != "http://127.0.0.1:3000/api/inngest?fnId=blog-cms-blog-post-workflow&stepId=abc123" {
		t.Errorf("CallURL = %s, %v", got, err)
	}
}

func TestRegisterRequestGo(t *testing.T) {
	t.Parallel()
	r := readRegister(t, "register-go.json")
	f := r.Functions[0]
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(f.Concurrency) != 2 || f.Concurrency[0].Key != "event.data.tenant" || f.Retries() != 3 {
		t.Errorf("decoded %+v", f)
	}
	if _, ok := f.Other["rateLimit"]; !ok || len(f.Other) != 1 {
		t.Errorf("options kept aside = %v; want rateLimit only (nulls dropped)", keys(f.Other))
	}
	entry, _ := f.Entry()
	got, _ := CallURL(entry.Runtime.URL, DiscoveryStepID)
	if got != "http://127.0.0.1:4000/api/inngest?fnId=smart-logs-ingest&stepId=step" {
		t.Errorf("CallURL = %s", got)
	}
}

func TestValidateRefuses(t *testing.T) {
	t.Parallel()
	for name, js := range map[string]string{
		"no id":        `{"triggers":[{"event":"a"}],"steps":{"step":{"runtime":{"url":"http://x/"}}}}`,
		"no url":       `{"id":"a","triggers":[{"event":"a"}],"steps":{"step":{"runtime":{}}}}`,
		"ftp url":      `{"id":"a","triggers":[{"event":"a"}],"steps":{"step":{"runtime":{"url":"ftp://x/"}}}}`,
		"no triggers":  `{"id":"a","steps":{"step":{"runtime":{"url":"http://x/"}}}}`,
		"both":         `{"id":"a","triggers":[{"event":"a","cron":"* * * * *"}],"steps":{"step":{"runtime":{"url":"http://x/"}}}}`,
		"empty target": `{"id":"a","triggers":[{}],"steps":{"step":{"runtime":{"url":"http://x/"}}}}`,
	} {
		var f FunctionConfig
		if err := json.Unmarshal([]byte(js), &f); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := f.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
	var f FunctionConfig
	if err := json.Unmarshal([]byte(`{"id":"a","concurrency":"lots"}`), &f); err == nil {
		t.Error("a string concurrency was accepted")
	}
}

func TestOps(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	read := func(name string) []Op {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		a := ReadAnswer(http.Header{}, 206, b, now)
		ops, err := a.Ops()
		if err != nil {
			t.Fatal(err)
		}
		return ops
	}
	js := read("ops-js.json")
	if js[0].Op != OpStepRun || string(js[0].Data) != `{"ok": true}` || js[0].DisplayLabel() != "My step" {
		t.Errorf("StepRun = %+v", js[0])
	}
	if until, err := js[1].SleepUntil(now); err != nil || !until.Equal(now.Add(150*time.Minute)) {
		t.Errorf("JS sleep = %v, %v", until, err)
	}
	if until, err := js[2].SleepUntil(now); err != nil || until.Year() != 2030 {
		t.Errorf("JS sleepUntil = %v, %v", until, err)
	}
	if js[3].WaitEvent() != "blog-post.approve-ai-suggestions" || js[3].Opts.If == "" || js[3].Opts.Timeout != "1d" {
		t.Errorf("JS wait = %+v", js[3])
	}
	if js[4].Error == nil || js[4].Error.String() != "Error: boom" {
		t.Errorf("StepError = %+v", js[4])
	}
	gops := read("ops-go.json")
	if until, err := gops[0].SleepUntil(now); err != nil || !until.Equal(now.Add(26*time.Hour)) {
		t.Errorf("Go sleep = %v, %v", until, err)
	}
	if gops[1].WaitEvent() != "approve" || gops[1].Opts.If != "" {
		t.Errorf("Go wait = %+v", gops[1])
	}
	one := Answer{Body: []byte(`{"op":"StepRun","id":"x","data":1}`)}
	if ops, err := one.Ops(); err != nil || len(ops) != 1 || ops[0].ID != "x" {
		t.Errorf("a single op = %v, %v", ops, err)
	}
	if _, err := (&Answer{Body: []byte(`<html>`)}).Ops(); err == nil {
		t.Error("an HTML body decoded as ops")
	}
}

func TestOpErrorRoundTrip(t *testing.T) {
	t.Parallel()
	for _, e := range []OpError{{Name: "NonRetriableError", Message: "no: really"}, {Name: "Error", Message: "boom"}} {
		if got := ParseOpError(e.String()); got != e {
			t.Errorf("round trip of %+v = %+v", e, got)
		}
	}
	if got := ParseOpError("plain failure text"); got.Name != "Error" || got.Message != "plain failure text" {
		t.Errorf("plain text = %+v", got)
	}
}

func TestReadAnswer(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set(HeaderSDK, "js:v3.54.2")
	h.Set(HeaderNoRetry, "true")
	h.Set(HeaderRetryAfter, "5")
	h.Set(HeaderReqVersion, "1")
	a := ReadAnswer(h, 400, nil, time.Now())
	if a.SDK != "js:v3.54.2" || !a.NoRetry || a.RetryAfter != 5*time.Second || a.ReqVersion != 1 {
		t.Errorf("answer = %+v", a)
	}
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// BenchmarkSignCall signs a ten-step run's last call request (every step's memo), as the
// driver does before each call.
func BenchmarkSignCall(b *testing.B) {
	steps := map[string]json.RawMessage{}
	for i := range 10 {
		steps[HashStepID(fmt.Sprintf("step-%d", i))] = json.RawMessage(fmt.Sprintf(`{"data":{"n":%d,"title":"Post number %d","tags":["go","inngest"],"score":0.5}}`, i, i))
	}
	ev := CallEvent{ID: "01JD0000000000000000000000", Name: "go/bench.ten", Data: map[string]any{"n": 7, "post": map[string]any{"id": 42, "title": "Hello, world"}}, User: map[string]any{}, TS: 1764633600000}
	req := CallRequest{Event: ev, Events: []CallEvent{ev}, Steps: steps, Version: 1,
		Ctx: CallCtx{RunID: "01JD0000000000000000000001", Attempt: 0, MaxAttempts: 5, Stack: CallStack{Stack: []string{"a", "b"}, Current: 2}}}
	body, err := json.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := Sign(body, "signkey-prod-abcdef", now); err != nil {
			b.Fatal(err)
		}
	}
}
