package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/testdb"
)

// server is a real `inkflow serve` process.
type server struct {
	url, token string
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer runs `inkflow serve` on dbURL with an admin token, until the test ends.
func startServer(t *testing.T, bin, dbURL string) *server {
	t.Helper()
	run := func(args ...string) string {
		out, err := exec.Command(bin, append(args, "--database-url", dbURL)...).CombinedOutput()
		if err != nil {
			t.Fatalf("inkflow %v: %v\n%s", args, err, out)
		}
		return lastLine(string(out))
	}
	run("users", "create", "--email", "admin@example.com", "--role", "admin", "--password", "correct horse battery")
	token := run("tokens", "create", "--email", "admin@example.com")
	addr := freePort(t)
	logf, _ := os.Create(filepath.Join(t.TempDir(), "serve.log"))
	cmd := exec.Command(bin, "serve", "--database-url", dbURL, "--addr", addr)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(logf.Name())
			t.Logf("server log:\n%s", log)
		}
	})
	s := &server{url: "http://" + addr, token: token}
	enginetest.Eventually(t, "the server to become ready", func() bool {
		res, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	return s
}

// call makes an API request and decodes the JSON answer into out (when not nil).
func (s *server) call(t *testing.T, method, path string, body any, want int, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, s.url+path, r)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s (want %d)", method, path, res.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// The whole product through the real binary: an admin saves the blog's review workflow, an
// editor's post sent to review starts it, the run pauses for approval, the approval resumes
// it and the AI's working copy becomes the post.
func TestReviewWorkflowThroughTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	bin := buildBinary(t)
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		s := startServer(t, bin, db.URL)
		var wf struct {
			ID int64 `json:"id"`
		}
		s.call(t, "POST", "/api/workflows", map[string]any{
			"name": "Review", "trigger": "blog-post.updated", "enabled": true,
			"workflow": map[string]any{
				"actions": []map[string]any{
					{"id": "toc", "kind": "add_ToC"},
					{"id": "grammar", "kind": "grammar_review"},
					{"id": "approval", "kind": "wait_for_approval"},
					{"id": "apply", "kind": "apply_changes"},
				},
				"edges": []map[string]any{
					{"from": "$source", "to": "toc"}, {"from": "toc", "to": "grammar"},
					{"from": "grammar", "to": "approval"}, {"from": "approval", "to": "apply"},
				},
			},
		}, http.StatusCreated, &wf)

		var post struct {
			ID       int64  `json:"id"`
			Status   string `json:"status"`
			Markdown string `json:"markdown"`
		}
		md := "# Hello\n\nThis is the the post.\n\n## First part\n\nText.\n\n## Second part\n\nMore text.\n"
		s.call(t, "POST", "/api/posts", map[string]any{"title": "Hello", "markdown": md}, http.StatusCreated, &post)
		s.call(t, "POST", fmt.Sprintf("/api/posts/%d/review", post.ID), nil, http.StatusOK, &post)

		var runs struct {
			Runs []struct {
				ID         string `json:"id"`
				Status     string `json:"status"`
				WorkflowID *int64 `json:"workflow_id"`
			} `json:"runs"`
		}
		awaitPost := func(status string) {
			enginetest.Eventually(t, "the post to be "+status, func() bool {
				s.call(t, "GET", fmt.Sprintf("/api/posts/%d", post.ID), nil, http.StatusOK, &post)
				return post.Status == status
			}, func() string { return "it is " + post.Status })
		}
		awaitPost("needs_approval")
		s.call(t, "GET", fmt.Sprintf("/api/runs?workflow=%d", wf.ID), nil, http.StatusOK, &runs)
		if len(runs.Runs) != 1 || runs.Runs[0].WorkflowID == nil || *runs.Runs[0].WorkflowID != wf.ID {
			t.Fatalf("runs of the workflow: %+v", runs.Runs)
		}
		s.call(t, "POST", fmt.Sprintf("/api/posts/%d/approve", post.ID), nil, http.StatusOK, nil)
		var run struct {
			Status string `json:"status"`
			Steps  []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"steps"`
		}
		enginetest.Eventually(t, "the run to complete after approval", func() bool {
			s.call(t, "GET", "/api/runs/"+runs.Runs[0].ID, nil, http.StatusOK, &run)
			return run.Status == "completed"
		}, func() string { return fmt.Sprintf("it is %s: %+v", run.Status, run.Steps) })
		s.call(t, "GET", fmt.Sprintf("/api/posts/%d", post.ID), nil, http.StatusOK, &post)
		if !strings.Contains(post.Markdown, "First part](#") || strings.Contains(post.Markdown, "the the") {
			t.Errorf("the approved working copy did not become the post:\n%q (run steps %+v)", post.Markdown, run.Steps)
		}
	})
}
