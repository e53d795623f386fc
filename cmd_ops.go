package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	// The time zone database inside the binary: the retention schedule and cron triggers
	// name zones (TZ=Europe/Paris), and the container image has no /usr/share/zoneinfo.
	_ "time/tzdata"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/ops"
)

// Operations wiring: the housekeeping functions and the operations action kinds, registered
// by openApp like the blog's own so that every serve and worker process runs them.
//
// Environment:
//
//	INKFLOW_RETENTION     how long finished runs and old events are kept: 30d (default), 720h
//	INKFLOW_RETENTION_AT  when the clean-up runs, five-field cron (default "30 3 * * *")
//	INKFLOW_TIMEZONE      the IANA zone schedules are read in (default UTC)
//	SMTP_URL              where send_email delivers: smtp://user:pass@host:587?from=a@b

// opsKinds registers send_email, editorial_report and admin_emails on reg.
func opsKinds(a *app, reg *workflow.Registry) error {
	if err := workflow.RegisterEmail(reg, workflow.EmailConfig{URL: a.cfg.SMTPURL}); err != nil {
		return fmt.Errorf("register send_email: %w", err)
	}
	if err := ops.RegisterKinds(reg, ops.KindDeps{CMS: a.cms, Engine: a.engine}); err != nil {
		return fmt.Errorf("register operations actions: %w", err)
	}
	return nil
}

// opsFunctions returns the retention functions configured from the environment.
func opsFunctions(a *app) ([]*engine.Function, error) {
	keep, err := ops.ParseRetention(os.Getenv("INKFLOW_RETENTION"))
	if err != nil {
		return nil, fmt.Errorf("INKFLOW_RETENTION: %w", err)
	}
	fns, err := ops.RetentionFunctions(ops.RetentionConfig{Engine: a.engine, DB: a.db, Retention: keep,
		Schedule: os.Getenv("INKFLOW_RETENTION_AT"), TZ: os.Getenv("INKFLOW_TIMEZONE")})
	if err != nil {
		return nil, fmt.Errorf("retention (INKFLOW_RETENTION_AT, INKFLOW_TIMEZONE): %w", err)
	}
	return fns, nil
}

// cmdReady asks the local server's /readyz and exits 0 when it answers 200: a container
// health check for images without curl (docker compose, the Dockerfile's distroless base).
func cmdReady(ctx context.Context, args []string, out io.Writer) error {
	fs := flags("ready", out)
	addr := fs.String("addr", env("INKFLOW_ADDR", ":8080"), "the server's listen address (env INKFLOW_ADDR) or a base URL")
	if err := parse(fs, args); err != nil {
		return err
	}
	u := *addr
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		if strings.HasPrefix(u, ":") {
			u = "127.0.0.1" + u
		}
		u = "http://" + u
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(u, "/")+"/readyz", nil)
	if err != nil {
		return usagef("--addr %q: %v", *addr, err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("not ready: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("not ready: %d %s", res.StatusCode, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(out, "ready")
	return nil
}
