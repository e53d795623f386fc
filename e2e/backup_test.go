package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkflow/inkflow/bench"
	"github.com/inkflow/inkflow/engine"
	"github.com/inkflow/inkflow/engine/enginetest"
	"github.com/inkflow/inkflow/internal/database"
	"github.com/inkflow/inkflow/internal/testdb"
)

// All state lives in the database: a backup taken while runs wait (pg_dump on PostgreSQL,
// VACUUM INTO on SQLite) restores into a new database where a fresh `inkflow worker`
// finishes those runs when their events arrive, and the original database is untouched.
func TestBackupRestoresWaitingRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a worker")
	}
	bin := buildBinary(t)
	testdb.Each(t, func(t *testing.T, db *testdb.DB) {
		ctx := context.Background()
		const waiting = 20
		eng, err := engine.New(engine.Options{DB: db.DB, URL: db.URL, Poll: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Register(bench.Functions(db.DB)...); err != nil {
			t.Fatal(err)
		}
		events := make([]engine.Event, waiting)
		for i := range events {
			events[i] = engine.Event{Name: bench.EventWait, Data: map[string]any{"id": float64(i)}}
		}
		if _, err := eng.Send(ctx, events...); err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- eng.Start(runCtx) }()
		enginetest.Eventually(t, "the runs to wait", func() bool {
			return runsIn(t, eng, engine.RunFilter{FunctionID: "bench-wait"}, engine.StatusWaiting) == waiting
		})
		stop()
		<-done

		restored := backupAndRestore(t, db)
		w := startWorker(t, bin, restored.URL, 0)
		defer func() { w.cmd.Process.Kill(); w.cmd.Wait() }()
		resume := make([]engine.Event, waiting)
		for i := range resume {
			resume[i] = engine.Event{Name: bench.EventResume, Data: map[string]any{"id": float64(i)}}
		}
		sender, err := engine.New(engine.Options{DB: restored.DB})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sender.Send(ctx, resume...); err != nil {
			t.Fatal(err)
		}
		enginetest.Eventually(t, "the restored runs to complete", func() bool {
			return runsIn(t, sender, engine.RunFilter{FunctionID: "bench-wait"}, engine.StatusCompleted) == waiting
		})
		if n := runsIn(t, eng, engine.RunFilter{FunctionID: "bench-wait"}, engine.StatusWaiting); n != waiting {
			t.Errorf("the original database changed: %d of %d runs still waiting", n, waiting)
		}
	})
}

// backupAndRestore copies db into a new database the way an operator would and opens it.
func backupAndRestore(t *testing.T, db *testdb.DB) *testdb.DB {
	t.Helper()
	dir := t.TempDir()
	if db.Dialect == database.SQLite {
		// An online, consistent copy of a live SQLite database.
		path := filepath.Join(dir, "backup.db")
		if err := db.DB.Exec("VACUUM INTO ?", path).Error; err != nil {
			t.Fatalf("VACUUM INTO: %v", err)
		}
		return reopen(t, "sqlite://"+path, database.SQLite)
	}
	var schema string
	if err := db.DB.Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	base := os.Getenv("TEST_DATABASE_URL")
	dump := filepath.Join(dir, "inkflow.sql")
	if out, err := exec.Command("pg_dump", "--dbname="+plainURL(t, base), "--schema="+schema, "--no-owner", "--file="+dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	name := "inkflow_restore_" + randomName()
	admin, err := database.Open(base)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatalf("create database: %v", err)
	}
	newBase := withDatabase(t, base, name)
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		if sqlDB, err := admin.DB(); err == nil {
			sqlDB.Close()
		}
	})
	if out, err := exec.Command("psql", "--dbname="+plainURL(t, newBase), "-v", "ON_ERROR_STOP=1", "-q", "-f", dump).CombinedOutput(); err != nil {
		t.Fatalf("psql restore: %v\n%s", err, out)
	}
	u, err := database.WithSearchPath(newBase, schema)
	if err != nil {
		t.Fatal(err)
	}
	return reopen(t, u, database.Postgres)
}

func reopen(t *testing.T, u string, d database.Dialect) *testdb.DB {
	t.Helper()
	db, err := database.Open(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	n, err := database.Pending(context.Background(), db)
	if err != nil || n != 0 {
		t.Fatalf("restored database: %d migrations pending (%v)", n, err)
	}
	return &testdb.DB{DB: db, URL: u, Dialect: d}
}

// plainURL drops parameters libpq does not know (search_path is ours).
func plainURL(t *testing.T, u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Del("search_path")
	pu.RawQuery = q.Encode()
	return pu.String()
}

func withDatabase(t *testing.T, u, name string) string {
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	pu.Path = "/" + name
	return pu.String()
}

func randomName() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
