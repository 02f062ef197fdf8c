// Package migrations holds the schema of both databases as goose migrations.
// The two folders must list the same versions: a test checks it.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/trellis-cloud/trellis/internal/store/db"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// FS returns the migration files of one database ("postgres" or "sqlite").
func FS(dialect string) (fs.FS, error) {
	return fs.Sub(files, dialect)
}

// Up applies every pending migration of Trellis's own schema. On PostgreSQL
// it holds a session advisory lock, so several nodes starting at once apply
// each migration once. River's schema is the job queue's (jobs.Migrate);
// the app runs both (app.Migrate).
func Up(ctx context.Context, d *db.DB) error {
	p, err := provider(d)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Version returns the current schema version.
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
