package actions_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/inkflow/inkflow/actions"
	"github.com/inkflow/inkflow/actions/ai"
	"github.com/inkflow/inkflow/cms"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/workflow"
	"github.com/inkflow/inkflow/internal/database"
)

// workerEnv, when set to a database URL, makes the test binary run as a workflow worker
// process instead of running tests: the crash test starts such processes and SIGKILLs them.
// The worker is wired as a server's would be (engine, CMS, blog kinds, workflow runner),
// with the model configured by OPENAI_API_KEY and OPENAI_BASE_URL.
const workerEnv = "ACTIONS_TEST_WORKER_DB"

func TestMain(m *testing.M) {
	if url := os.Getenv(workerEnv); url != "" {
		if err := runWorker(url); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runWorker(url string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	db, err := database.Open(url)
	if err != nil {
		return err
	}
	eng, err := engine.New(engine.Options{DB: db, URL: url, Lease: time.Second, Poll: 200 * time.Millisecond,
		BackoffBase: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	if err != nil {
		return err
	}
	c := cms.New(cms.Options{DB: db, Engine: eng})
	reg := workflow.NewRegistry()
	provider := ai.New(ai.Config{APIKey: os.Getenv("OPENAI_API_KEY"), BaseURL: os.Getenv("OPENAI_BASE_URL"), Model: os.Getenv("OPENAI_MODEL")})
	if err := actions.Register(reg, actions.Deps{Posts: c.Posts, AI: provider}); err != nil {
		return err
	}
	if err := eng.Register(workflow.NewRunner(workflow.NewStore(db, reg)).Functions()...); err != nil {
		return err
	}
	return eng.Start(ctx)
}
