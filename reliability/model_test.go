package reliability

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// model is an OpenAI-compatible chat completions server inside the test (the only fake: the
// edge of the world). It answers the blog's toc and grammar tasks and records when each
// request for each post arrived, so the test can prove no committed AI step was asked again.
type model struct {
	srv *httptest.Server
	mu  sync.Mutex
	// calls[task][post marker] lists the arrival times (Unix ms) of requests.
	calls map[string]map[int][]int64
}

var (
	markerRE  = regexp.MustCompile(`relpost-(\d+)`)
	headingRE = regexp.MustCompile(`(?m)^- \d #(\S+) (.*)$`)
)

func newModel(t *testing.T) *model {
	m := &model{calls: map[string]map[int][]int64{}}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	return m
}

// env is what a worker process needs to use this model.
func (m *model) env() []string {
	return []string{"OPENAI_API_KEY=sk-reliability", "OPENAI_BASE_URL=" + m.srv.URL + "/v1", "OPENAI_MODEL=reliability-model"}
}

// after returns how many requests for task and post arrived after ms.
func (m *model) after(task string, post int, ms int64) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, at := range m.calls[task][post] {
		if at > ms {
			n++
		}
	}
	return n
}

func (m *model) total() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, posts := range m.calls {
		for _, ts := range posts {
			n += len(ts)
		}
	}
	return n
}

func (m *model) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now().UnixMilli()
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
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	task, user := req.ResponseFormat.JSONSchema.Name, req.Messages[1].Content
	post := -1
	if mm := markerRE.FindStringSubmatch(user); mm != nil {
		post, _ = strconv.Atoi(mm[1])
	}
	m.mu.Lock()
	if m.calls[task] == nil {
		m.calls[task] = map[int][]int64{}
	}
	m.calls[task][post] = append(m.calls[task][post], at)
	m.mu.Unlock()

	var content any
	switch task {
	case "toc":
		entries := []map[string]string{}
		for _, mm := range headingRE.FindAllStringSubmatch(user, -1) {
			entries = append(entries, map[string]string{"anchor": mm[1], "label": mm[2]})
		}
		content = map[string]any{"entries": entries}
	case "grammar":
		md := user
		if i, j := strings.Index(user, "<<<\n"), strings.LastIndex(user, "\n>>>"); i >= 0 && j > i {
			md = user[i+4 : j]
		}
		content = map[string]any{"markdown": strings.ReplaceAll(md, "teh", "the"),
			"changes": []map[string]string{{"original": "teh", "revised": "the", "reason": "spelling"}}}
	default:
		content = map[string]any{"posts": []string{"A post"}}
	}
	text, _ := json.Marshal(content)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"id": "c", "object": "chat.completion", "model": "reliability-model",
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": string(text)}}},
		"usage": map[string]any{"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
	})
}
