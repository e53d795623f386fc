package ai_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/engine"
)

// modelServer is an OpenAI-compatible chat completions server: it records every request and
// answers with the next scripted reply.
type modelServer struct {
	t        *testing.T
	mu       sync.Mutex
	requests []recorded
	replies  []reply
	srv      *httptest.Server
}

type recorded struct {
	Header http.Header
	Body   map[string]any
}

type reply func(w http.ResponseWriter, r *http.Request)

func newModelServer(t *testing.T, replies ...reply) *modelServer {
	t.Helper()
	m := &modelServer{t: t, replies: replies}
	m.srv = httptest.NewServer(m)
	t.Cleanup(m.srv.Close)
	return m
}

func (m *modelServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		m.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		m.t.Errorf("request body is not JSON: %v", err)
	}
	m.mu.Lock()
	m.requests = append(m.requests, recorded{Header: r.Header.Clone(), Body: body})
	var next reply
	if len(m.replies) > 0 {
		next, m.replies = m.replies[0], m.replies[1:]
	}
	m.mu.Unlock()
	if next == nil {
		m.t.Errorf("model server: no reply scripted for request %d", len(m.requests))
		http.Error(w, `{"error":{"message":"no reply scripted"}}`, http.StatusTeapot)
		return
	}
	next(w, r)
}

func (m *modelServer) provider(opts ...func(*ai.Config)) ai.Provider {
	cfg := ai.Config{APIKey: "sk-test", BaseURL: m.srv.URL + "/v1", Model: "test-model", Timeout: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	return ai.New(cfg)
}

func (m *modelServer) got() []recorded {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]recorded(nil), m.requests...)
}

// answer replies with a completion whose message content is content.
func answer(content string, promptTokens, completionTokens int) reply {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "test-model-2024",
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": content}}},
			"usage": map[string]any{"prompt_tokens": promptTokens, "completion_tokens": completionTokens,
				"total_tokens": promptTokens + completionTokens},
		})
	}
}

// failure replies with an OpenAI-style error body, status and headers.
func failure(status int, message string, headers ...string) reply {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"test_error"}}`, message)
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var post = ai.Post{
	Title:    "Durable workflows in Go",
	Markdown: "# Durable workflows\n\nWe build teh engine.\n\n## Steps\n\nSteps are memoized.\n",
	Summary:  "How inkflow runs workflows that survive crashes.",
	Tags:     []string{"go", "workflows"},
	URL:      "https://blog.example/posts/durable-workflows",
}

func TestGrammarSendsSchemaRequestAndReturnsAnswer(t *testing.T) {
	good := ai.GrammarAnswer{
		Markdown: strings.Replace(post.Markdown, "teh", "the", 1),
		Changes:  []ai.Change{{Original: "teh", Revised: "the", Reason: "spelling"}},
	}
	m := newModelServer(t, answer(toJSON(t, good), 120, 40))
	got, err := m.provider().Grammar(context.Background(), ai.GrammarRequest{
		Post: post, Inputs: map[string]any{"instructions": "Use British spelling."}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Markdown != good.Markdown || len(got.Changes) != 1 || got.Changes[0].Reason != "spelling" {
		t.Errorf("answer = %+v, want %+v", got, good)
	}
	wantUsage := ai.Usage{Provider: "openai", Model: "test-model-2024", PromptTokens: 120, CompletionTokens: 40, TotalTokens: 160}
	if got.Usage != wantUsage {
		t.Errorf("usage = %+v, want %+v", got.Usage, wantUsage)
	}

	reqs := m.got()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	req := reqs[0]
	if auth := req.Header.Get("Authorization"); auth != "Bearer sk-test" {
		t.Errorf("Authorization = %q", auth)
	}
	if req.Body["model"] != "test-model" {
		t.Errorf("model = %v, want test-model", req.Body["model"])
	}
	msgs := req.Body["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("messages = %d, want system and user", len(msgs))
	}
	system, user := msgs[0].(map[string]any), msgs[1].(map[string]any)
	if system["role"] != "system" || !strings.Contains(system["content"].(string), "copy editor") {
		t.Errorf("system message = %v", system)
	}
	for _, want := range []string{post.Title, "We build teh engine.", "Use British spelling."} {
		if user["role"] != "user" || !strings.Contains(user["content"].(string), want) {
			t.Errorf("user message lacks %q: %v", want, user["content"])
		}
	}
	format := req.Body["response_format"].(map[string]any)
	schema := format["json_schema"].(map[string]any)
	if format["type"] != "json_schema" || schema["name"] != "grammar" || schema["strict"] != true {
		t.Errorf("response_format = %v", format)
	}
	required := toJSON(t, schema["schema"].(map[string]any)["required"])
	if required != `["markdown","changes"]` {
		t.Errorf("schema required = %s", required)
	}
}

func TestMalformedAnswersAreAskedAgain(t *testing.T) {
	headings := []ai.Heading{{Level: 1, Text: "Durable workflows", Anchor: "durable-workflows"}, {Level: 2, Text: "Steps", Anchor: "steps"}}
	goodTOC := `{"entries":[{"anchor":"durable-workflows","label":"Overview"},{"anchor":"steps","label":"Steps"}]}`
	longPost := strings.Repeat("x", 281)
	tests := []struct {
		name    string
		bad     string
		good    string
		call    func(ai.Provider) (ai.Usage, error)
		complai string // what the retry message must quote
	}{
		{"not JSON", "Sure! Here is your table of contents.", goodTOC, tocCall(headings), "not the expected JSON"},
		{"wrong anchor", `{"entries":[{"anchor":"intro","label":"Intro"},{"anchor":"steps","label":"Steps"}]}`, goodTOC, tocCall(headings), `anchor "intro"`},
		{"label too long", `{"entries":[{"anchor":"durable-workflows","label":"` + strings.Repeat("word ", 30) + `"},{"anchor":"steps","label":"Steps"}]}`, goodTOC, tocCall(headings), "keep labels under 120"},
		{"missing entry", `{"entries":[{"anchor":"steps","label":"Steps"}]}`, goodTOC, tocCall(headings), "expected 2 entries"},
		{"post over 280", toJSON(t, map[string]any{"posts": []string{longPost}}), `{"posts":["Durable workflows, explained https://blog.example/p"]}`, xCall, "281 characters"},
		{"empty revision", `{"markdown":"","changes":[]}`, toJSON(t, ai.GrammarAnswer{Markdown: post.Markdown, Changes: []ai.Change{}}), grammarCall, "empty"},
		{"change without reason", toJSON(t, ai.GrammarAnswer{Markdown: post.Markdown, Changes: []ai.Change{{Original: "a", Revised: "b"}}}),
			toJSON(t, ai.GrammarAnswer{Markdown: post.Markdown, Changes: []ai.Change{}}), grammarCall, "no reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModelServer(t, answer(tt.bad, 10, 5), answer(tt.good, 20, 6))
			usage, err := tt.call(m.provider())
			if err != nil {
				t.Fatalf("second, valid answer must be accepted: %v", err)
			}
			if usage.PromptTokens != 30 || usage.CompletionTokens != 11 {
				t.Errorf("usage = %+v, want the tokens of both answers summed (30, 11)", usage)
			}
			reqs := m.got()
			if len(reqs) != 2 {
				t.Fatalf("server got %d requests, want 2", len(reqs))
			}
			msgs := reqs[1].Body["messages"].([]any)
			if len(msgs) != 4 {
				t.Fatalf("retry has %d messages, want system, user, the bad answer and the complaint", len(msgs))
			}
			if c := msgs[2].(map[string]any)["content"]; c != tt.bad {
				t.Errorf("retry does not quote the bad answer: %v", c)
			}
			if c := msgs[3].(map[string]any)["content"].(string); !strings.Contains(c, tt.complai) {
				t.Errorf("retry complaint %q does not mention %q", c, tt.complai)
			}
		})
	}
}

func tocCall(headings []ai.Heading) func(ai.Provider) (ai.Usage, error) {
	return func(p ai.Provider) (ai.Usage, error) {
		a, err := p.TOC(context.Background(), ai.TOCRequest{Post: post, Headings: headings})
		if err != nil {
			return ai.Usage{}, err
		}
		return a.Usage, nil
	}
}

func xCall(p ai.Provider) (ai.Usage, error) {
	a, err := p.Social(context.Background(), ai.SocialRequest{Post: post, Network: ai.X, Count: 1, Tone: "casual"})
	if err != nil {
		return ai.Usage{}, err
	}
	return a.Usage, nil
}

func grammarCall(p ai.Provider) (ai.Usage, error) {
	a, err := p.Grammar(context.Background(), ai.GrammarRequest{Post: post})
	if err != nil {
		return ai.Usage{}, err
	}
	return a.Usage, nil
}

func TestMalformedAnswerFailsClearlyAfterAttempts(t *testing.T) {
	m := newModelServer(t, answer("nope", 1, 1), answer("still nope", 1, 1), answer("{", 1, 1))
	_, err := m.provider(func(c *ai.Config) { c.Attempts = 3 }).Grammar(context.Background(), ai.GrammarRequest{Post: post})
	if err == nil {
		t.Fatal("want an error after three malformed answers")
	}
	if !engine.IsNonRetriable(err) {
		t.Errorf("a model that keeps answering garbage must fail the step at once: %v", err)
	}
	if msg := engine.ErrorMessage(err); !strings.Contains(msg, "no usable grammar answer in 3 attempts") {
		t.Errorf("message = %q", msg)
	}
	if n := len(m.got()); n != 3 {
		t.Errorf("server got %d requests, want 3", n)
	}
}

func TestErrorsAreClassifiedForTheDurableStep(t *testing.T) {
	tests := []struct {
		name       string
		reply      reply
		retriable  bool
		retryAfter time.Duration
		message    string
	}{
		{"429 with Retry-After seconds", failure(429, "Rate limit reached", "Retry-After", "7"), true, 7 * time.Second, "429"},
		{"429 with retry-after-ms", failure(429, "Rate limit reached", "Retry-After-Ms", "1500", "Retry-After", "2"), true, 1500 * time.Millisecond, "Rate limit"},
		{"429 without header", failure(429, "Rate limit reached"), true, 0, "will retry"},
		{"503 with huge Retry-After is capped", failure(503, "overloaded", "Retry-After", "86400"), true, time.Hour, "503"},
		{"500", failure(500, "The server had an error"), true, 0, "500"},
		{"401 bad key", failure(401, "Incorrect API key provided"), false, 0, "check OPENAI_API_KEY"},
		{"404 unknown model", failure(404, "The model does not exist"), false, 0, "check OPENAI_MODEL"},
		{"400 bad request", failure(400, "messages too long"), false, 0, "rejected the request (400): messages too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newModelServer(t, tt.reply)
			_, err := m.provider().Grammar(context.Background(), ai.GrammarRequest{Post: post})
			if err == nil {
				t.Fatal("want an error")
			}
			var ce *ai.CallError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ai.CallError", err)
			}
			if ce.Retriable != tt.retriable || engine.IsNonRetriable(err) == tt.retriable {
				t.Errorf("retriable = %v, IsNonRetriable = %v; want retriable %v", ce.Retriable, engine.IsNonRetriable(err), tt.retriable)
			}
			if ce.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", ce.RetryAfter, tt.retryAfter)
			}
			if msg := engine.ErrorMessage(err); !strings.Contains(msg, tt.message) {
				t.Errorf("message %q lacks %q", msg, tt.message)
			}
			if n := len(m.got()); n != 1 {
				t.Errorf("server got %d requests; HTTP failures are retried by the durable step, not here", n)
			}
		})
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	m := newModelServer(t, failure(500, "boom"), answer(`{"posts":["One","Two"]}`, 5, 5))
	p := m.provider()
	req := ai.SocialRequest{Post: post, Network: ai.LinkedIn, Count: 2, Tone: "professional"}
	if _, err := p.Social(context.Background(), req); err == nil || engine.IsNonRetriable(err) {
		t.Fatalf("first attempt: want a retriable error, got %v", err)
	}
	got, err := p.Social(context.Background(), req) // what the step's next attempt does
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Posts) != 2 || got.Posts[0] != "One" {
		t.Errorf("posts = %v", got.Posts)
	}
}

func TestSchemaRefusedFallsBackToJSONMode(t *testing.T) {
	m := newModelServer(t,
		failure(400, "response_format type json_schema is not supported by this model"),
		answer(`{"posts":["a"]}`, 1, 1),
		answer(`{"posts":["b"]}`, 1, 1))
	p := m.provider()
	req := ai.SocialRequest{Post: post, Network: ai.X, Count: 1}
	for i := 0; i < 2; i++ {
		if _, err := p.Social(context.Background(), req); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	reqs := m.got()
	if len(reqs) != 3 {
		t.Fatalf("server got %d requests, want 3", len(reqs))
	}
	for i, want := range []string{"json_schema", "json_object", "json_object"} {
		if got := reqs[i].Body["response_format"].(map[string]any)["type"]; got != want {
			t.Errorf("request %d response_format = %v, want %s", i+1, got, want)
		}
	}
}

func TestPerCallTimeout(t *testing.T) {
	m := newModelServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	_, err := m.provider(func(c *ai.Config) { c.Timeout = 50 * time.Millisecond }).
		Grammar(context.Background(), ai.GrammarRequest{Post: post})
	var ce *ai.CallError
	if !errors.As(err, &ce) || !ce.Retriable || engine.IsNonRetriable(err) {
		t.Fatalf("a timeout must be a retriable CallError, got %v", err)
	}
	if msg := engine.ErrorMessage(err); !strings.Contains(msg, "did not answer within 50ms") {
		t.Errorf("message = %q", msg)
	}
}

func TestCancelledCallerIsNotAProviderError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := newModelServer(t, func(w http.ResponseWriter, r *http.Request) { cancel(); <-r.Context().Done() })
	_, err := m.provider().Grammar(ctx, ai.GrammarRequest{Post: post})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled so the worker's shutdown is not blamed on the model", err)
	}
}
