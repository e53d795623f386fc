// Package testdb gives each test its own real, migrated database: a SQLite file in the test's
// temp folder, and a fresh PostgreSQL schema when TEST_DATABASE_URL is set. No mocks: storage
// tests run against the same engines production uses.
//
// With INKFLOW_REQUIRE_ALL=1 (set by .ci/run) a test that needs a missing service fails
// instead of skipping, so CI can never pass by running less.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/gorm"

	"github.com/inkflow/inkflow/internal/database"
)

// DB is a migrated test database.
type DB struct {
	*gorm.DB
	// URL reaches the same database from another process (a worker binary, a server).
	URL     string
	Dialect database.Dialect
}

// Each runs fn as a subtest on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
// Under INKFLOW_REQUIRE_ALL=1 a missing TEST_DATABASE_URL fails the test.
func Each(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// Need skips the test for lack of a service, or fails it when INKFLOW_REQUIRE_ALL=1.
func Need(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("INKFLOW_REQUIRE_ALL") == "1" {
		t.Fatalf("required service missing (INKFLOW_REQUIRE_ALL=1): %s", why)
	}
	t.Skipf("skipped: %s", why)
}

// SQLite returns a migrated SQLite database in a file under t.TempDir().
func SQLite(t testing.TB) *DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inkflow.db")
	u := "sqlite://" + path
	return open(t, u, database.SQLite)
}

// Postgres returns a migrated, empty PostgreSQL schema of its own, dropped after the test.
func Postgres(t testing.TB) *DB {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		Need(t, "TEST_DATABASE_URL is not set (PostgreSQL tests)")
	}
	schema := "t_" + randomHex(6)
	admin, err := database.Open(base)
	if err != nil {
		t.Fatalf("open TEST_DATABASE_URL: %v", err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if sqlDB, err := admin.DB(); err == nil {
			sqlDB.Close()
		}
	})
	u, err := database.WithSearchPath(base, schema)
	if err != nil {
		t.Fatal(err)
	}
	return open(t, u, database.Postgres)
}

func open(t testing.TB, u string, d database.Dialect) *DB {
	t.Helper()
	db, err := database.Open(u)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.Close()
		}
	})
	if err := database.Migrate(context.Background(), db); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return &DB{DB: db, URL: u, Dialect: d}
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
