// Package pgdriver opens PostgreSQL through pgx: a pgxpool (which River and
// other pgx-native users can share) exposed as a database/sql pool for the
// stores.
package pgdriver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Session timeouts every connection gets unless the URL sets its own
// (e.g. ?lock_timeout=2s): no wait on the database is unbounded, so a
// stuck transaction costs one request an error, never a node its pool.
var defaultTimeouts = map[string]string{
	// A writer waiting for a row lock gives up after this.
	"lock_timeout": "5s",
	// No single statement runs longer (the longest are sweeps over a
	// month of usage, well under a second).
	"statement_timeout": "30s",
	// A transaction left open by a stuck caller is ended by the server,
	// releasing its locks.
	"idle_in_transaction_session_timeout": "60s",
}

// Options tune the pool beyond what the URL says.
type Options struct {
	// MaxConns caps the pool (0: the URL's pool_max_conns, at least 8
	// when the URL sets none). Tests use 1 to prove that no code path
	// takes a second connection while it holds a transaction.
	MaxConns int32
}

// Open connects to the PostgreSQL database at url (postgres://…).
func Open(ctx context.Context, url string) (*db.DB, *pgxpool.Pool, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, url string, o Options) (*db.DB, *pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: bad url: %w", err)
	}
	switch {
	case o.MaxConns > 0:
		cfg.MaxConns = o.MaxConns
		cfg.MinConns = min(cfg.MinConns, o.MaxConns)
	case !strings.Contains(url, "pool_max_conns=") && cfg.MaxConns < 8:
		cfg.MaxConns = 8
	}
	rp := cfg.ConnConfig.RuntimeParams
	for k, v := range defaultTimeouts {
		if _, set := rp[k]; !set {
			rp[k] = v
		}
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

// Timeout names the session timeout err reports. None of them is retried
// by db.Tx: the wait already took its full bound.
func (dialect) Timeout(err error) string {
	switch code(err) {
	case "55P03": // lock_not_available
		return "lock timeout"
	case "57014": // query_canceled: statement_timeout
		return "statement timeout"
	case "25P03": // idle_in_transaction_session_timeout
		return "idle-in-transaction timeout"
	}
	return ""
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
