package main

import (
	"fmt"
	"os"

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
	if err := ops.RegisterKinds(reg, ops.KindDeps{CMS: a.cms, DB: a.db}); err != nil {
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
	fns, err := ops.RetentionFunctions(ops.RetentionConfig{DB: a.db, Retention: keep,
		Schedule: os.Getenv("INKFLOW_RETENTION_AT"), TZ: os.Getenv("INKFLOW_TIMEZONE")})
	if err != nil {
		return nil, fmt.Errorf("retention (INKFLOW_RETENTION_AT, INKFLOW_TIMEZONE): %w", err)
	}
	return fns, nil
}
