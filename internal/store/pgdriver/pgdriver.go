// Package pgdriver opens PostgreSQL through pgx: a pgxpool (which River and
// other pgx-native users can share) exposed as a database/sql pool for the
// stores.
package pgdriver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Open connects to the PostgreSQL database at url (postgres://…).
func Open(ctx context.Context, url string) (*db.DB, *pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: bad url: %w", err)
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	sqldb := stdlib.OpenDBFromPool(pool)
	d := db.New(sqldb, sqldb, dialect{})
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqldb.PingContext(pctx); err != nil {
		_ = sqldb.Close()
		pool.Close()
		return nil, nil, fmt.Errorf("postgres: %w", err)
	}
	return d, pool, nil
}

type dialect struct{}

func (dialect) Name() string { return "postgres" }

func code(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func (dialect) IsUniqueViolation(err error) bool { return code(err) == "23505" }

func (dialect) IsRetryable(err error) bool {
	switch code(err) {
	case "40001", "40P01": // serialization_failure, deadlock_detected
		return true
	}
	return false
}

func (dialect) Arg(v any) any {
	switch t := v.(type) {
	case time.Time:
		return t.UTC()
	case *time.Time:
		if t == nil {
			return nil
		}
		return t.UTC()
	}
	return v
}
