// Package database opens inkflow's database (SQLite or PostgreSQL, chosen by the URL) and
// applies the embedded migrations. Everything else receives the *gorm.DB it returns.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"hash/crc64"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/inkflow/inkflow/migrations"
)

// Dialect names the SQL dialect behind a *gorm.DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DefaultURL is where `go run .` keeps its data when DATABASE_URL is unset.
const DefaultURL = "sqlite://data/inkflow.db"

// DialectOf tells which dialect a gorm handle speaks.
func DialectOf(db *gorm.DB) Dialect {
	if db.Dialector.Name() == "postgres" {
		return Postgres
	}
	return SQLite
}

// IsPostgres reports whether url points at PostgreSQL.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// WithSearchPath returns a PostgreSQL URL whose connections use schema (for isolated tests
// and benchmarks inside one database).
func WithSearchPath(base, schema string) (string, error) {
	pu, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse database URL: %w", err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String(), nil
}

// Open connects to url: postgres://... or postgresql://... for PostgreSQL, sqlite://PATH or a
// bare file path for SQLite (the file's folder is created). It does not migrate.
func Open(dsn string) (*gorm.DB, error) {
	cfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	if IsPostgres(dsn) {
		db, err := gorm.Open(postgres.New(postgres.Config{DSN: dsn}), cfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, err
		}
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		return db, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite://")
	if path == "" {
		return nil, fmt.Errorf("open sqlite: empty path in %q", dsn)
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open sqlite: create folder %s: %w", dir, err)
		}
	}
	// One connection: SQLite has one writer, and a single connection turns "database is
	// locked" races into plain queueing. WAL keeps readers of other processes unblocked.
	sqliteDSN := path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := gorm.Open(sqlite.Open(sqliteDSN), cfg)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(1)
	return db, nil
}

// Migrate applies every embedded migration of db's dialect that is not applied yet.
func Migrate(ctx context.Context, db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return migrate(ctx, sqlDB, DialectOf(db))
}

// Pending reports how many embedded migrations are not applied yet (used by /readyz).
func Pending(ctx context.Context, db *gorm.DB) (int, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return 0, err
	}
	// No session lock: reading the status needs none, and a readiness probe must not wait
	// out another instance's migration and report this one as down.
	p, err := provider(sqlDB, DialectOf(db))
	if err != nil {
		return 0, err
	}
	status, err := p.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("migration status: %w", err)
	}
	n := 0
	for _, s := range status {
		if s.State == goose.StatePending {
			n++
		}
	}
	return n, nil
}

func migrate(ctx context.Context, sqlDB *sql.DB, d Dialect) error {
	var opts []goose.ProviderOption
	if d == Postgres {
		// Several instances may start together: one migrates, the others wait for it. The
		// lock is the schema's (the advisory lock space is the whole database): installs in
		// other schemas of one database, and tests each in a schema of their own, do not
		// queue behind each other; and a waiting instance looks again every second, not
		// every five (goose's default).
		var schema string
		if err := sqlDB.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			return fmt.Errorf("migrate: read the current schema: %w", err)
		}
		locker, err := lock.NewPostgresSessionLocker(
			lock.WithLockID(int64(crc64.Checksum([]byte("inkflow migrations "+schema), crc64.MakeTable(crc64.ECMA))>>1)),
			lock.WithLockTimeout(1, 300))
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := provider(sqlDB, d, opts...)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s: %w", d, err)
	}
	return nil
}

// provider builds the goose provider for d's embedded migrations.
func provider(sqlDB *sql.DB, d Dialect, opts ...goose.ProviderOption) (*goose.Provider, error) {
	fsys, err := migrations.FS(string(d))
	if err != nil {
		return nil, err
	}
	gd := goose.DialectSQLite3
	if d == Postgres {
		gd = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gd, sqlDB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", d, err)
	}
	return p, nil
}
