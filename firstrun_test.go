package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inkflow/inkflow/cms"
)

// Without INKFLOW_BASE_URL the public URL follows the listen address, so feeds and links
// point at the port the server really answers on.
func TestBaseURLFollowsTheListenAddress(t *testing.T) {
	cases := []struct{ addr, base, want string }{
		{":8080", "", "http://localhost:8080"},
		{":9090", "", "http://localhost:9090"},
		{"0.0.0.0:3000", "", "http://localhost:3000"},
		{"[::]:3000", "", "http://localhost:3000"},
		{"127.0.0.1:4000", "", "http://127.0.0.1:4000"},
		{"blog.internal:80", "", "http://blog.internal"},
		{":9090", "https://blog.example.com/", "https://blog.example.com"},
	}
	for _, c := range cases {
		t.Setenv("INKFLOW_ADDR", c.addr)
		t.Setenv("INKFLOW_BASE_URL", c.base)
		cfg := loadConfig(flag.NewFlagSet("t", flag.ContinueOnError))
		if got := cfg.baseURL(); got != c.want {
			t.Errorf("addr %q base %q: %s, want %s", c.addr, c.base, got, c.want)
		}
	}
}

// The first start tells the operator which URL to open and, on a fresh install, the setup
// link; once an admin exists it points at the admin instead.
func TestFirstStartLogsWhereToGo(t *testing.T) {
	t.Setenv("INKFLOW_ADDR", "127.0.0.1:9191")
	t.Setenv("INKFLOW_BASE_URL", "")
	cfg := loadConfig(flag.NewFlagSet("t", flag.ContinueOnError))
	cfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "first.db")
	ctx := context.Background()
	a, err := openApp(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	logs := func() string {
		var buf bytes.Buffer
		a.log = slog.New(slog.NewTextHandler(&buf, nil))
		a.logStart(ctx, cfg)
		return buf.String()
	}
	out := logs()
	for _, want := range []string{"url=http://127.0.0.1:9191/", "setup=http://127.0.0.1:9191/setup"} {
		if !strings.Contains(out, want) {
			t.Errorf("first start log lacks %s:\n%s", want, out)
		}
	}
	if _, err := a.cms.Users.Create(ctx, cms.NewUser{Email: "a@example.com", Role: cms.RoleAdmin, Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	if out := logs(); strings.Contains(out, "/setup") || !strings.Contains(out, "admin=http://127.0.0.1:9191/admin") {
		t.Errorf("after setup the log still offers /setup or lacks the admin link:\n%s", out)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
}
