package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/sdk"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/database"
)

// app is inkflow wired together: the database, the engine with every function registered,
// and the CMS services. The same wiring serves `serve`, `worker` and the CLI commands, so a
// worker process runs exactly what a server would.
type app struct {
	cfg       *config
	log       *slog.Logger
	db        *gorm.DB
	engine    *engine.Engine
	cms       *cms.CMS
	workflows *workflow.Store
	// apps is the Inngest SDK apps registry: their functions are loaded into the engine.
	apps *sdk.Registry
}

func newLogger(format string) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}

// openApp connects to the database, applies migrations and registers every function of the
// product, and those more returns (the benchmark's probes for `inkflow bench worker`).
func openApp(ctx context.Context, cfg *config, more ...func(*gorm.DB) []*engine.Function) (*app, error) {
	if len(cfg.bad) > 0 {
		return nil, usagef("%s", strings.Join(cfg.bad, "; "))
	}
	if cfg.Lease < time.Second || cfg.Concurrency < 1 {
		return nil, usagef("--lease must be at least 1s and --concurrency above 0")
	}
	log := newLogger(cfg.LogFormat)
	slog.SetDefault(log) // engine.Log outside a run, and libraries, log the same way
	db, err := database.Open(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := database.Migrate(ctx, db); err != nil {
		return nil, err
	}
	url := ""
	if database.IsPostgres(cfg.DatabaseURL) {
		url = cfg.DatabaseURL
	}
	eng, err := engine.New(engine.Options{DB: db, URL: url, Logger: log, Concurrency: cfg.Concurrency, Lease: cfg.Lease})
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, db: db, engine: eng}
	var mail func(ctx context.Context, to, subject, body string) error
	if cfg.SMTPURL != "" {
		mail = func(ctx context.Context, to, subject, body string) error {
			return workflow.SendMail(ctx, workflow.EmailConfig{URL: cfg.SMTPURL, Timeout: 20 * time.Second}, to, subject, body)
		}
	}
	a.cms = cms.New(cms.Options{DB: db, Engine: eng, EventKey: cfg.EventKey, Site: cms.Site{Title: "inkflow", BaseURL: cfg.baseURL(), TimeZone: "UTC"},
		Mail: mail})

	// Action kinds: the generic ones and the blog's, then the store and the runner that
	// executes enabled workflows for each event.
	reg := workflow.NewRegistry()
	if err := workflow.RegisterBuiltins(reg, workflow.BuiltinConfig{AllowPrivateWebhooks: cfg.AllowPrivate, Logger: log,
		CheckEventName: cms.CheckEventName}); err != nil {
		return nil, fmt.Errorf("register built-in actions: %w", err)
	}
	model := ai.New(ai.Config{APIKey: cfg.OpenAIKey, BaseURL: cfg.OpenAIBase, Model: cfg.OpenAIModel})
	if err := actions.Register(reg, actions.Deps{Posts: a.cms.Posts, AI: model, BaseURL: cfg.baseURL(), Settings: a.cms.Settings}); err != nil {
		return nil, fmt.Errorf("register blog actions: %w", err)
	}
	if err := opsKinds(a, reg); err != nil {
		return nil, err
	}
	a.workflows = workflow.NewStore(db, reg)
	fns := workflow.NewRunner(a.workflows).Functions()
	fns = append(fns, cms.PostFunctions(a.cms.Posts)...)
	for _, m := range more {
		fns = append(fns, m(db)...)
	}
	opsFns, err := opsFunctions(a)
	if err != nil {
		return nil, err
	}
	fns = append(fns, opsFns...)
	if err := eng.Register(fns...); err != nil {
		return nil, fmt.Errorf("register functions: %w", err)
	}
	allow, err := sdk.ParseAllowList(cfg.AppURLs)
	if err != nil {
		return nil, usagef("%v", err)
	}
	a.apps, err = sdk.New(sdk.Config{DB: db, Engine: eng, Dev: cfg.InngestDev, Allow: allow, Logger: log})
	if err != nil {
		return nil, err
	}
	if err := a.apps.Load(ctx); err != nil {
		return nil, fmt.Errorf("load Inngest SDK apps: %w", err)
	}
	return a, nil
}

func (a *app) close() {
	if sqlDB, err := a.db.DB(); err == nil {
		sqlDB.Close()
	}
}
