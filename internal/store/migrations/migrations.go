// Package migrations holds the schema of both databases as goose migrations.
// The two folders must list the same versions: a test checks it.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/trellis-cloud/trellis/internal/jobs"

	"github.com/trellis-cloud/trellis/internal/store/db"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// FS returns the migration files of one database ("postgres" or "sqlite").
func FS(dialect string) (fs.FS, error) {
	return fs.Sub(files, dialect)
}

// Up applies every pending migration. On PostgreSQL it holds a session
// advisory lock, so several nodes starting at once apply each migration once.
func Up(ctx context.Context, d *db.DB) error {
	p, err := provider(d)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return migrateRiver(ctx, d)
}

// Version returns the current schema version.
// RiverVersion is the version of River's own schema (river_job,
// river_leader …) that this build of River needs.
const RiverVersion = 8

// riverLockKey is the PostgreSQL advisory lock held while River's schema is
// migrated, so nodes starting together apply it once.
const riverLockKey = 7_400_012_004

// migrateRiver brings River's schema to RiverVersion with River's own
// migrator, after goose (goose keeps its connection for the whole run, and
// SQLite has one writer connection, so River cannot run inside it).
func migrateRiver(ctx context.Context, d *db.DB) error {
	driver, err := jobs.Driver(d)
	if err != nil {
		return err
	}
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if d.Dialect().Name() == "postgres" {
		// Each step in a transaction of its own (a step may add an enum
		// value a later one uses) that holds the lock and runs the step
		// on one connection: a node whose pool is busy, or has one
		// connection, cannot wait on itself.
		for {
			n, err := riverStep(ctx, d, m)
			if err != nil {
				return fmt.Errorf("migrate river: %w", err)
			}
			if n == 0 {
				return nil
			}
		}
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{TargetVersion: RiverVersion}); err != nil {
		return fmt.Errorf("migrate river: %w", err)
	}
	return nil
}

// riverStep applies River's next pending migration, if any, under the
// lock; it returns how many it applied (0: the schema is current).
func riverStep(ctx context.Context, d *db.DB, m *rivermigrate.Migrator[*sql.Tx]) (int, error) {
	tx, err := d.Writer().BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }()
	// Another node may be migrating: wait for it longer than a request
	// waits for a lock.
	if _, err := tx.ExecContext(ctx, "SET LOCAL lock_timeout = '60s'"); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", riverLockKey); err != nil {
		return 0, err
	}
	//lint:ignore SA1019 one step per transaction (MaxSteps 1): the batching the deprecation warns of never happens
	res, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, &rivermigrate.MigrateOpts{MaxSteps: 1, TargetVersion: RiverVersion})
	if err != nil {
		return 0, err
	}
	return len(res.Versions), tx.Commit()
}

func Version(ctx context.Context, d *db.DB) (int64, error) {
	p, err := provider(d)
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

func provider(d *db.DB) (*goose.Provider, error) {
	name := d.Dialect().Name()
	fsys, err := FS(name)
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if name == "postgres" {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, d.Writer(), fsys, opts...)
}
