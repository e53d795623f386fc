package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// cli runs the inkflow CLI in process and returns its exit code and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func TestCLIContract(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "cli.db")
	cases := []struct {
		name string
		args []string
		code int
		out  func(string) bool
		err  string
	}{
		{"migrate", []string{"migrate", "--database-url", db}, 0, func(s string) bool { return strings.Contains(s, "applied") }, ""},
		{"user", []string{"users", "create", "--database-url", db, "--email", "ann@example.com", "--role", "admin", "--password", "correct horse battery"}, 0,
			func(s string) bool { _, err := strconv.Atoi(strings.TrimSpace(s)); return err == nil }, ""},
		{"duplicate user", []string{"users", "create", "--database-url", db, "--email", "ann@example.com", "--role", "admin"}, 1, nil, "email"},
		{"bad role", []string{"users", "create", "--database-url", db, "--email", "b@example.com", "--role", "king"}, 2, nil, "role"},
		{"token", []string{"tokens", "create", "--database-url", db, "--email", "ann@example.com"}, 0,
			func(s string) bool { return len(lastLine(s)) >= 20 && !strings.Contains(lastLine(s), " ") }, ""},
		{"token for nobody", []string{"tokens", "create", "--database-url", db, "--email", "nobody@example.com"}, 1, nil, "no user"},
		{"key", []string{"keys", "create", "--database-url", db, "--name", "ci"}, 0,
			func(s string) bool { return len(lastLine(s)) >= 20 && !strings.Contains(lastLine(s), " ") }, ""},
		{"send", []string{"send", "shop/order.placed", "--database-url", db, "--data", `{"id": 1}`}, 0,
			func(s string) bool { return len(strings.TrimSpace(s)) == 36 }, ""},
		{"send an engine event", []string{"send", "inkflow/retention.requested", "--database-url", db}, 0,
			func(s string) bool { return len(strings.TrimSpace(s)) == 36 }, ""},
		{"send a CMS event", []string{"send", "Blog-Post.approve-ai-suggestions", "--database-url", db, "--data", `{"id": 1}`}, 2, nil, "only from the CMS"},
		{"send an engine look-alike", []string{"send", "INKFLOW/run.failed", "--database-url", db}, 2, nil, "reserved"},
		{"send a spaced name", []string{"send", " inkflow/run.failed", "--database-url", db}, 2, nil, "starts with a space"},
		{"send a NUL", []string{"send", "a.b", "--database-url", db, "--data", `{"k": "v\u0000"}`}, 2, nil, "data.k"},
		{"send bad data", []string{"send", "x", "--database-url", db, "--data", `[1]`}, 2, nil, "JSON object"},
		{"send no name", []string{"send", "--database-url", db}, 2, nil, "name"},
		{"unknown command", []string{"frobnicate"}, 2, nil, "unknown command"},
		{"unknown flag", []string{"migrate", "--nope"}, 2, nil, "nope"},
		{"help", []string{"--help"}, 0, func(s string) bool { return strings.Contains(s, "commands:") }, ""},
		{"command help", []string{"migrate", "--help"}, 0, func(s string) bool { return strings.Contains(s, "-database-url") }, ""},
		{"subcommand help", []string{"users", "--help"}, 0, func(s string) bool { return strings.Contains(s, "set-password") }, ""},
		{"bad flag on stderr only", []string{"tokens", "create", "--nope"}, 2, func(s string) bool { return s == "" }, "nope"},
		{"invalid email is usage", []string{"users", "create", "--database-url", db, "--email", "nope", "--role", "viewer"}, 2, nil, "email"},
		{"signing key", []string{"apps", "signing-key", "--database-url", db}, 0,
			func(s string) bool { return strings.HasPrefix(lastLine(s), "signkey-prod-") && len(lastLine(s)) == 77 }, ""},
		{"apps sync refused", []string{"apps", "sync", "--database-url", db, "http://127.0.0.1:1/api/inngest"}, 2, nil, "INKFLOW_APP_URLS"},
		{"apps sync no url", []string{"apps", "sync", "--database-url", db}, 2, nil, "URL"},
		{"apps sync unreachable", []string{"apps", "sync", "--database-url", db, "--app-urls", "http://127.0.0.1:1", "http://127.0.0.1:1/api/inngest"}, 1, nil, "did not answer"},
		{"apps list", []string{"apps", "list", "--database-url", db}, 0, func(s string) bool { return strings.Contains(s, `"error"`) }, ""},
		{"apps remove no url", []string{"apps", "remove", "--database-url", db}, 2, nil, "URL"},
		{"apps remove", []string{"apps", "remove", "--database-url", db, "http://127.0.0.1:1/api/inngest"}, 0,
			func(s string) bool { return strings.Contains(s, "removed http://127.0.0.1:1/api/inngest") }, ""},
		{"apps remove again", []string{"apps", "remove", "--database-url", db, "http://127.0.0.1:1/api/inngest"}, 1, nil, "no app"},
		{"apps list after remove", []string{"apps", "list", "--database-url", db}, 0, func(s string) bool { return !strings.Contains(s, "127.0.0.1:1") }, ""},
		{"apps unknown", []string{"apps", "frob"}, 2, nil, "usage"},
		{"set password", []string{"users", "set-password", "--database-url", db, "--email", "ann@example.com", "--password", "another long passphrase"}, 0,
			func(s string) bool { return strings.Contains(s, "password set") }, ""},
	}
	for _, c := range cases {
		code, out, errOut := cli(t, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d (stdout %q, stderr %q)", c.name, code, c.code, out, errOut)
			continue
		}
		if c.out != nil && !c.out(out) {
			t.Errorf("%s: unexpected output %q", c.name, out)
		}
		if c.err != "" && !strings.Contains(errOut, c.err) {
			t.Errorf("%s: stderr %q does not mention %q", c.name, errOut, c.err)
		}
	}
}

// A malformed setting in the environment stops a command with its name instead of being
// replaced by a default without a word.
func TestBadEnvironmentIsRefused(t *testing.T) {
	db := "sqlite://" + filepath.Join(t.TempDir(), "cli.db")
	for name, value := range map[string]string{"INKFLOW_LEASE": "5x", "INKFLOW_CONCURRENCY": "many", "INKFLOW_INNGEST_DEV": "yes", "INKFLOW_APP_URLS": "ftp://x"} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			code, _, errOut := cli(t, "keys", "create", "--database-url", db, "--name", "x")
			if code != 2 || !strings.Contains(errOut, name) {
				t.Errorf("exit %d, stderr %q: want 2 naming %s", code, errOut, name)
			}
		})
	}
}
