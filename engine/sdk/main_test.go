package sdk

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/internal/database"
)

// childDB names, in the environment, the database a child inkflow process of the crash tests
// runs on (crash_test.go); childAllow is the app URLs it may call.
const (
	childDB    = "INKFLOW_SDK_TEST_CHILD_DB"
	childAllow = "INKFLOW_SDK_TEST_CHILD_ALLOW"
)

// TestMain lets the test binary be one inkflow process of its own for the crash tests: with
// childDB set it runs an engine and a registry over that database until it is killed.
func TestMain(m *testing.M) {
	if url := os.Getenv(childDB); url != "" {
		if err := runChild(url, os.Getenv(childAllow)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild is a minimal `inkflow worker` with SDK apps: dev mode, a short lease so that a run
// of a killed child is taken over quickly.
func runChild(url, allow string) error {
	db, err := database.Open(url)
	if err != nil {
		return err
	}
	eng, err := engine.New(engine.Options{DB: db, URL: url, Lease: time.Second, Poll: 50 * time.Millisecond,
		BackoffBase: time.Millisecond, BackoffMax: 20 * time.Millisecond})
	if err != nil {
		return err
	}
	al, err := ParseAllowList(allow)
	if err != nil {
		return err
	}
	reg, err := New(Config{DB: db, Engine: eng, Dev: true, Allow: al})
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := reg.Load(ctx); err != nil {
		return err
	}
	go reg.Watch(ctx, 50*time.Millisecond)
	fmt.Println("child: started")
	return eng.Start(ctx)
}
