package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/database"
	"github.com/inkflow/inkflow/web"
)

func cmdMigrate(ctx context.Context, args []string, out io.Writer) error {
	fs := flags("migrate", out)
	cfg := loadConfig(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	db, err := database.Open(cfg.DatabaseURL)
	if err != nil {
		return err
	}
	if err := database.Migrate(ctx, db); err != nil {
		return err
	}
	fmt.Fprintln(out, "migrations applied")
	return nil
}

func cmdSend(ctx context.Context, args []string, out io.Writer) error {
	fs := flags("send", out)
	cfg := loadConfig(fs)
	data := fs.String("data", "{}", "the event's data, a JSON object")
	id := fs.String("id", "", "idempotency id: the same id within 24h starts nothing again")
	client := clientFlags(fs)
	// Accept the name before or after the flags.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	if name == "" {
		return usagef("an event name is required: inkflow send NAME --data '{...}'")
	}
	// The operator may send the engine's own names, as an admin may; blog-post.* only the CMS.
	if err := cms.CheckSentName(name, true); err != nil {
		return usagef("%s", engine.ErrorMessage(err))
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(*data), &d); err != nil {
		return usagef("--data must be a JSON object: %v", err)
	}
	viaAPI := os.Getenv("INKFLOW_SERVER") != ""
	fs.Visit(func(f *flag.Flag) { viaAPI = viaAPI || f.Name == "server" })
	if viaAPI {
		// Given a server, send through its API (token required) rather than the database.
		evID, err := apiSend(ctx, client, name, *id, d)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, evID)
		return nil
	}
	a, err := openApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.close()
	res, err := a.engine.Send(ctx, engine.Event{ID: *id, Name: name, Data: d})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, res.IDs[0])
	return nil
}

func cmdWorker(ctx context.Context, args []string, out io.Writer) error {
	return runWorker(ctx, "worker", args, out)
}

// runWorker runs the engine's workers until ctx ends, with the functions more returns
// registered beside the product's.
func runWorker(ctx context.Context, name string, args []string, out io.Writer, more ...func(*gorm.DB) []*engine.Function) error {
	fs := flags(name, out)
	cfg := loadConfig(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, more...)
	if err != nil {
		return err
	}
	defer a.close()
	a.log.Info(name+" started", "database", database.DialectOf(a.db), "concurrency", cfg.Concurrency)
	go a.apps.Watch(ctx, time.Second) // apps synced through a server reach this worker
	return a.engine.Start(ctx)
}

func cmdServe(ctx context.Context, args []string, out io.Writer) error {
	return runServe(ctx, "serve", args, out)
}

// runServe serves HTTP and runs workers until ctx ends, with the functions more returns
// registered beside the product's.
func runServe(ctx context.Context, name string, args []string, out io.Writer, more ...func(*gorm.DB) []*engine.Function) error {
	fs := flags(name, out)
	cfg := loadConfig(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, more...)
	if err != nil {
		return err
	}
	defer a.close()
	srv, err := web.New(web.Config{DB: a.db, Engine: a.engine, CMS: a.cms, Workflows: a.workflows, Logger: a.log, BaseURL: cfg.baseURL(),
		EventKey: cfg.EventKey, SMTPURL: cfg.SMTPURL, Google: web.GoogleConfig{ClientID: cfg.GoogleID, ClientSecret: cfg.GoogleSecret}, Apps: a.apps})
	if err != nil {
		return err
	}
	// Requests share the serve context, so open live streams end when shutdown begins.
	hs := &http.Server{Addr: cfg.Addr, Handler: srv.Handler(), BaseContext: func(net.Listener) context.Context { return ctx }}
	web.ConfigureHTTP(hs) // read, write (not for live streams), idle and header timeouts
	workers := make(chan error, 1)
	go func() { workers <- a.engine.Start(ctx) }()
	go a.apps.Watch(ctx, time.Second)
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.ListenAndServe() }()
	a.logStart(ctx, cfg)
	select {
	case err := <-serveErr:
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		a.log.Warn("http shutdown", "err", err)
	}
	return <-workers
}

// logStart says where to open the server: the admin when it has accounts, the setup page on a
// fresh install. The URL is the site's base URL (what /admin/settings or --base-url say).
func (a *app) logStart(ctx context.Context, cfg *config) {
	base := cfg.baseURL()
	if site, err := a.cms.Settings.Site(ctx); err == nil && site.BaseURL != "" {
		base = site.BaseURL
	}
	a.log.Info("inkflow serving", "addr", cfg.Addr, "url", base+"/", "database", database.DialectOf(a.db))
	n, err := a.cms.Users.Count(ctx)
	switch {
	case err != nil:
		a.log.Warn("count users", "err", err)
	case n == 0:
		a.log.Info("fresh install: open the setup page to create the first admin", "setup", base+"/setup")
	default:
		a.log.Info("sign in to write and publish", "admin", base+"/admin")
	}
}
