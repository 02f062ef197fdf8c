package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river/rivermigrate"
)

// Migrate brings River's schema to RiverVersion with River's own
// migrator. The app runs it after Trellis's goose migrations (goose keeps
// its connection for the whole run, and SQLite has one writer connection,
// so River cannot run inside it).
func Migrate(ctx context.Context, d DB) error {
	return migrateRiver(ctx, d)
}

// RiverVersion is the version of River's own schema (river_job,
// river_leader …) that this build of River needs.
const RiverVersion = 8

// riverLockKey is the PostgreSQL advisory lock held while River's schema is
// migrated, so nodes starting together apply it once.
const riverLockKey = 7_400_012_004

// migrateRiver brings River's schema to RiverVersion with River's own
// migrator, after goose (goose keeps its connection for the whole run, and
// SQLite has one writer connection, so River cannot run inside it).
func migrateRiver(ctx context.Context, d DB) error {
	driver, err := Driver(d)
	if err != nil {
		return err
	}
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if d.DialectName() == "postgres" {
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
func riverStep(ctx context.Context, d DB, m *rivermigrate.Migrator[*sql.Tx]) (int, error) {
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
