package browser

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inkflow/inkflow/internal/testdb"
)

// DefaultChromium is Debian's Chromium, the only browser the tests use: nothing is downloaded.
const DefaultChromium = "/usr/bin/chromium"

// Timeout bounds one script run; a script that hangs is killed and the test fails.
const Timeout = 3 * time.Minute

// Env names the variables Run sets for every script (besides the caller's own).
var Env = struct {
	Chromium, UserDataDir, OutDir, Lib string
}{
	Chromium:    "CHROMIUM",      // path of the Chromium executable
	UserDataDir: "USER_DATA_DIR", // a fresh, empty profile directory for this run
	OutDir:      "OUT_DIR",       // the calling package's testdata/out/ (screenshots)
	Lib:         "BROWSER_LIB",   // file:// URL of browser.mjs, for `await import(...)`
}

// Run executes `node script` from the calling package's directory with env added to the
// environment and returns what the script printed. It fails the test, showing the output,
// when the script exits non-zero or runs longer than Timeout, and skips the test (or fails it
// under INKFLOW_REQUIRE_ALL=1) when node or Chromium is missing; missing npm packages are
// installed first (NeedNode).
// A relative script path is taken from the calling package's directory (the test's working
// directory).
func Run(t testing.TB, script string, env map[string]string) string {
	t.Helper()
	root := Need(t)
	abs, err := filepath.Abs(script)
	if err != nil {
		t.Fatalf("browser script %s: %v", script, err)
	}
	out, err := filepath.Abs(filepath.Join("testdata", "out"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatalf("create screenshot folder: %v", err)
	}
	vars := map[string]string{
		Env.Chromium:    chromiumPath(),
		Env.UserDataDir: t.TempDir(),
		Env.OutDir:      out,
		Env.Lib:         (&url.URL{Scheme: "file", Path: filepath.Join(root, "internal", "browser", "browser.mjs")}).String(),
	}
	for k, v := range env {
		vars[k] = v
	}
	output, err := node(abs, vars)
	if err != nil {
		t.Fatalf("browser script %s: %v\n--- output ---\n%s", filepath.Base(script), err, output)
	}
	t.Logf("browser script %s output:\n%s", filepath.Base(script), output)
	return output
}

// Need checks that everything a browser test needs is installed (see NeedNode for the npm
// packages, playwright-core among them) and returns the repository root. It skips the test
// (fails it under INKFLOW_REQUIRE_ALL=1) when node or Chromium is missing.
func Need(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath()); err != nil {
		testdb.Need(t, "chromium is not installed: apt-get install chromium")
	}
	return NeedNode(t)
}

// chromiumPath lets a developer point at another Chromium build with CHROMIUM; CI uses
// Debian's.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return DefaultChromium
}

// node runs the script in its own process group so that Chromium, a grandchild, dies with it
// on timeout instead of outliving the test.
func node(script string, vars map[string]string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script)
	cmd.Env = os.Environ()
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %w", Timeout, err)
	}
	// Whatever the outcome, leave no browser behind.
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return strings.TrimRight(buf.String(), "\n"), err
}
