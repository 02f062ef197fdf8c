// Package sqlstore is the one implementation of every domain's Store, in
// SQL that runs unchanged on PostgreSQL and SQLite.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// Store runs queries on a database, inside a transaction or not.
type Store struct {
	db   *db.DB
	q    db.Querier // the transaction, or nil outside one
	inTx bool
	jobs JobInserter // nil: EnqueueJob fails
}

// New returns a store on d.
func New(d *db.DB) *Store { return &Store{db: d} }

// DB returns the underlying database.
func (s *Store) DB() *db.DB { return s.db }

func (s *Store) r() db.Querier {
	if s.inTx {
		return s.q
	}
	return s.db.Read()
}

func (s *Store) w() db.Querier {
	if s.inTx {
		return s.q
	}
	return s.db.Write()
}

// tx runs fn inside a transaction; nested calls join the outer one.
func (s *Store) tx(ctx context.Context, fn func(*Store) error) error {
	if s.inTx {
		return fn(s)
	}
	return s.db.Tx(ctx, func(q db.Querier) error {
		return fn(&Store{db: s.db, q: q, inTx: true, jobs: s.jobs})
	})
}

// mapErr turns driver errors into kinds.
func (s *Store) mapErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return errs.NotFound(what)
	case s.db.Dialect().Timeout(err) != "":
		// Kept retryable (the cause stays in the chain) for db.Tx.
		return s.db.MapTimeout(err)
	case s.db.Dialect().IsUniqueViolation(err):
		return errs.Wrap(errs.KindConflict, err, what+" already exists")
	case s.db.Dialect().IsRetryable(err):
		// Keep retryable errors as they are, so db.Tx can run the
		// transaction again.
		return err
	}
	return errs.Wrap(errs.KindInternal, err, "database error")
}

// Per-domain views: each gives Tx the signature its domain's Store asks for.

// Tenancy is the tenancy.Store.
type Tenancy struct{ *Store }

// Tx implements tenancy.Store.
func (t Tenancy) Tx(ctx context.Context, fn func(tenancy.Store) error) error {
	return t.tx(ctx, func(s *Store) error { return fn(Tenancy{s}) })
}

// Objstore is the objstore.Store.
type Objstore struct{ *Store }

// Tx implements objstore.Store.
func (o Objstore) Tx(ctx context.Context, fn func(objstore.Store) error) error {
	return o.tx(ctx, func(s *Store) error { return fn(Objstore{s}) })
}

// Access is the access.Store.
type Access struct{ *Store }

// Tx implements access.Store.
func (a Access) Tx(ctx context.Context, fn func(access.Store) error) error {
	return a.tx(ctx, func(s *Store) error { return fn(Access{s}) })
}

// Metering is the metering.Store.
type Metering struct{ *Store }

// Tx implements metering.Store.
func (m Metering) Tx(ctx context.Context, fn func(metering.Store) error) error {
	return m.tx(ctx, func(s *Store) error { return fn(Metering{s}) })
}

var (
	_ tenancy.Store  = Tenancy{}
	_ objstore.Store = Objstore{}
	_ access.Store   = Access{}
	_ metering.Store = Metering{}
	_ audit.Store    = (*Store)(nil)
)

// scoped is the SQL condition "column's path is inside the scope": a prefix
// test written with substr so LIKE wildcards in paths cannot matter.
func scoped(col, param string) string {
	p := "CAST(" + param + " AS TEXT)"
	return "substr(" + col + ", 1, length(" + p + ")) = " + p
}

func conflict(field, msg string) error {
	return &errs.Error{Kind: errs.KindConflict, Field: field, Msg: msg}
}
