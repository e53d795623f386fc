package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine/enginetest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

// TestMain removes the binary built for the package's tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds the real inkflow binary once for all tests of this package.
func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the inkflow binary")
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "inkflow-reliability-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "inkflow")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/inkflow/inkflow").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is one inkflow process (worker or server) with its log file.
type proc struct {
	cmd  *exec.Cmd
	log  string
	once sync.Once
}

// start runs the binary with args and extra environment until kill or the test's end.
func start(t *testing.T, bin string, env []string, args ...string) *proc {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), args[0]+"-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	p := &proc{cmd: cmd, log: logf.Name()}
	t.Cleanup(p.kill)
	return p
}

// kill sends SIGKILL (no chance to clean up) and reaps the process.
func (p *proc) kill() {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	})
}

func (p *proc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// startWorker runs `inkflow bench worker` (the product's functions and the probes) with a short
// lease so killed workers' runs are taken over quickly. Not shorter than 2 s: on a loaded
// 2-core CI machine a live worker can be starved for a second, lose its lease, and send a
// step's model request after the worker that took the run over committed that step (seen
// once in TestWorkersKilledUnderMixedLoad with 1 s: a lease is not a fence on side effects).
func startWorker(t *testing.T, bin, dbURL string, env ...string) *proc {
	t.Helper()
	return start(t, bin, env, "bench", "worker", "--database-url", dbURL, "--lease", "2s", "--concurrency", "32")
}

// server is a running `inkflow serve` with an admin's API token.
type server struct {
	*proc
	url, token string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer creates an admin with an API token through the CLI, then runs `inkflow bench serve`
// (serve with the probe functions too) on a loopback port and waits for /readyz.
func startServer(t *testing.T, bin, dbURL string, env ...string) *server {
	t.Helper()
	cli := func(args ...string) string {
		out, err := exec.Command(bin, append(args, "--database-url", dbURL)...).CombinedOutput()
		if err != nil {
			t.Fatalf("inkflow %v: %v\n%s", args, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		return lines[len(lines)-1]
	}
	cli("users", "create", "--email", "admin@example.com", "--role", "admin", "--password", "correct horse battery")
	token := cli("tokens", "create", "--email", "admin@example.com")
	addr := freeAddr(t)
	p := start(t, bin, env, "bench", "serve", "--database-url", dbURL, "--addr", addr, "--lease", "1s")
	s := &server{proc: p, url: "http://" + addr, token: token}
	enginetest.Eventually(t, "the server to become ready", func() bool { return s.status("/readyz") == 200 })
	return s
}

// status GETs path and returns the status code (0 when the server does not answer).
func (s *server) status(path string) int {
	c := http.Client{Timeout: 2 * time.Second}
	res, err := c.Get(s.url + path)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// envInt reads a positive integer from the environment, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// rssMB reads a process's resident memory from /proc (0 when unavailable).
func rssMB(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if kb, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")))
			return n / 1024
		}
	}
	return 0
}

// decodeJSON is json.Unmarshal that fails the test.
func decodeJSON(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

var _ = context.Background
