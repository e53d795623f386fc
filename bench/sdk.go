package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/sdk"
	"github.com/inkflow/inkflow/internal/database"
)

// SDKScenarios run an Inngest SDK app's functions through inkflow: the inngestgo app of
// e2e/sdkapps/go (one-step and ten-step functions) served on loopback, synced in signed mode.
var SDKScenarios = []string{"sdk-one-step", "sdk-ten-step"}

// RunSDK measures SDKScenarios on db (migrated, empty): it starts app (a command that serves
// the inngestgo app and prints "listening PORT"), syncs it in-band and sends events to its
// one-step and ten-step functions. Each step is an HTTP call to the app, signed both ways.
func RunSDK(ctx context.Context, db *gorm.DB, url string, app []string, sizes Sizes, emit func(Result)) error {
	e, err := engine.New(engine.Options{DB: db, URL: url, Concurrency: concurrencyFor(db), Logger: quietLogger()})
	if err != nil {
		return err
	}
	key := "signkey-prod-" + randomKey()
	if err := db.Exec(`INSERT INTO sdk_signing_keys (id, signing_key, created_at) VALUES (1, ?, 0)`, key).Error; err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	cmd := exec.CommandContext(ctx, app[0], app[1:]...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "INNGEST_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	// Nothing is sent to these addresses: the app is synced in-band and events go straight in.
	cmd.Env = append(cmd.Env, "INNGEST_SIGNING_KEY="+key, "INNGEST_EVENT_KEY=bench", "INNGEST_BASE_URL=http://127.0.0.1:9")
	origin, err := startApp(cmd)
	if err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	allow, _ := sdk.ParseAllowList(origin)
	reg, err := sdk.New(sdk.Config{DB: db, Engine: e, Allow: allow, Logger: quietLogger()})
	if err != nil {
		return err
	}
	if _, err := reg.Sync(ctx, origin+"/api/inngest"); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Start(runCtx) }()
	defer func() { stop(); <-done }()
	b := &bencher{e: e, dialect: string(database.DialectOf(db))}
	for _, sc := range []struct {
		name, event, fn string
		runs, steps     int
	}{
		{"sdk-one-step", "go/bench.one", "go-app-one-step", sizes.OneStep / 2, 1},
		{"sdk-ten-step", "go/bench.ten", "go-app-ten-step", sizes.TenStep / 2, 10},
	} {
		events := make([]engine.Event, sc.runs)
		for i := range events {
			events[i] = engine.Event{Name: sc.event, Data: map[string]any{"n": i}}
		}
		start := time.Now()
		if err := b.sendAll(ctx, events); err != nil {
			return err
		}
		if err := b.awaitCount(ctx, sc.fn, engine.StatusCompleted, start.Add(-time.Second), sc.runs, 10*time.Minute); err != nil {
			return err
		}
		secs := time.Since(start).Seconds()
		p50, p99 := b.startLatency(ctx, sc.fn, start.Add(-time.Second))
		emit(Result{Scenario: sc.name, DB: b.dialect, Runs: sc.runs, RunsPerS: float64(sc.runs) / secs,
			StepsPerS: float64(sc.runs*sc.steps) / secs, P50MS: p50, P99MS: p99, RSSMB: rssMB(),
			Note: fmt.Sprintf("inngestgo app on loopback, signed; %d HTTP calls per run", sc.steps+1)})
	}
	return nil
}

// startApp starts cmd and returns its origin once it prints "listening PORT".
func startApp(cmd *exec.Cmd) (string, error) {
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start the SDK app: %w", err)
	}
	port := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			if p, ok := strings.CutPrefix(lines.Text(), "listening "); ok {
				port <- p
			}
		}
	}()
	select {
	case p := <-port:
		return "http://127.0.0.1:" + p, nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return "", fmt.Errorf("the SDK app did not start within 30s")
	}
}

func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
