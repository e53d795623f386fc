// Package aitest is the one OpenAI-compatible chat completions server the tests use: the
// model is the edge of the world, so it is the one thing faked. It serves on loopback inside
// the test, answers the blog's tasks (toc, grammar, social: the JSON schema name of the
// request) the way a careful model would, and records every request, so a test can count the
// calls per task or prove a committed AI step was not asked again. A test that needs the
// model to misbehave sets Fail.
package aitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkflow/inkflow/actions/ai"
)

// Model is the model name the server reports and Provider asks for.
const Model = "test-model"

// Call is one request the server received.
type Call struct {
	Task   string    // the response format's JSON schema name: toc, grammar, social
	At     time.Time // when it arrived
	System string    // the first message
	User   string    // the second message: the post's text for toc and grammar
}

// Server is a running fake model. Its answers: a ToC entry per "- N #anchor Heading" line of
// the prompt, labelled "Section: Heading"; the markdown between "<<<" and ">>>" with "teh"
// fixed to "the" for grammar; as many social posts as "Write exactly N" asks (one without).
type Server struct {
	// URL is the API's base URL, ending in /v1, as OPENAI_BASE_URL takes it.
	URL string

	srv   *httptest.Server
	mu    sync.Mutex
	calls []Call
	fail  func(task string, n int, w http.ResponseWriter, r *http.Request) bool
}

// New starts a server, closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(s.srv.Close)
	return s
}

// Fail makes fail answer instead whenever it returns true; n counts the requests for task,
// this one included (1 for the first).
func (s *Server) Fail(fail func(task string, n int, w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = fail
}

// Provider is the blog's model client pointed at this server.
func (s *Server) Provider() ai.Provider {
	return ai.New(ai.Config{APIKey: "sk-test", BaseURL: s.URL, Model: Model})
}

// Env is what an inkflow process needs in its environment to use this server.
func (s *Server) Env() []string {
	return []string{"OPENAI_API_KEY=sk-test", "OPENAI_BASE_URL=" + s.URL, "OPENAI_MODEL=" + Model}
}

// Count is how many requests for task arrived.
func (s *Server) Count(task string) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Task == task {
			n++
		}
	}
	return n
}

// Calls lists every request so far, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

var (
	headingRE = regexp.MustCompile(`(?m)^- \d #(\S+) (.*)$`)
	countRE   = regexp.MustCompile(`Write exactly\s+(\d+)`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var req struct {
		Messages []struct {
			Content string `json:"content"`
		} `json:"messages"`
		ResponseFormat struct {
			JSONSchema struct {
				Name string `json:"name"`
			} `json:"json_schema"`
		} `json:"response_format"`
	}
	if err := json.Unmarshal(raw, &req); err != nil || len(req.Messages) < 2 {
		http.Error(w, `{"error":{"message":"want a JSON body with a system and a user message"}}`, http.StatusBadRequest)
		return
	}
	call := Call{Task: req.ResponseFormat.JSONSchema.Name, At: at, System: req.Messages[0].Content, User: req.Messages[1].Content}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	n := 0
	for _, c := range s.calls {
		if c.Task == call.Task {
			n++
		}
	}
	fail := s.fail
	s.mu.Unlock()
	if fail != nil && fail(call.Task, n, w, r) {
		return
	}
	text, _ := json.Marshal(answer(call))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "c", "object": "chat.completion", "model": Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": string(text)}}},
		"usage": map[string]any{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
	})
}

// answer is what a careful model returns for the call's task.
func answer(c Call) any {
	switch c.Task {
	case "toc":
		entries := []map[string]string{}
		for _, m := range headingRE.FindAllStringSubmatch(c.User, -1) {
			entries = append(entries, map[string]string{"anchor": m[1], "label": "Section: " + m[2]})
		}
		return map[string]any{"entries": entries}
	case "grammar":
		md := c.User
		if i, j := strings.Index(md, "<<<\n"), strings.LastIndex(md, "\n>>>"); i >= 0 && j > i {
			md = md[i+4 : j]
		}
		return map[string]any{"markdown": strings.ReplaceAll(md, "teh", "the"),
			"changes": []map[string]string{{"original": "teh", "revised": "the", "reason": "spelling"}}}
	default:
		count := 1
		if m := countRE.FindStringSubmatch(c.System); m != nil {
			fmt.Sscan(m[1], &count)
		}
		posts := make([]string, count)
		for i := range posts {
			posts[i] = fmt.Sprintf("Post %d about the blog", i+1)
		}
		return map[string]any{"posts": posts}
	}
}
