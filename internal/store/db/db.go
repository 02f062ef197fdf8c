// Package db is the thin layer every SQL store runs on: one Querier
// interface for both databases, transactions with retry, and the few places
// where PostgreSQL and SQLite differ (the Dialect).
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Querier runs SQL. The same SQL text runs on both databases: placeholders
// are $1, $2, … and times are passed as time.Time.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Dialect holds what differs between the databases.
type Dialect interface {
	// Name is "postgres" or "sqlite".
	Name() string
	// IsUniqueViolation reports a unique or primary-key constraint failure.
	IsUniqueViolation(err error) bool
	// IsRetryable reports an error after which the whole transaction may be
	// run again (busy database, serialization failure, deadlock).
	IsRetryable(err error) bool
	// Timeout names the wait err reports the database gave up on (a lock
	// or statement timeout, a busy database), "" for any other error.
	Timeout(err error) string
	// Arg converts an argument to the form the driver stores (SQLite keeps
	// times as fixed-width UTC text so they sort and compare as strings).
	Arg(v any) any
}

// DB is an open database: a pool for writes and transactions, and one for
// reads outside transactions (the same pool on PostgreSQL; on SQLite a
// single-connection writer and a reader pool, since SQLite has one writer).
type DB struct {
	write   *sql.DB
	read    *sql.DB
	dialect Dialect
	retries int
	stmts   *stmtCache // nil: statements are not cached
	tr      *tracer    // nil: no spans (see Traced)
}

// New wraps the pools. read may equal write.
func New(write, read *sql.DB, d Dialect) *DB {
	return &DB{write: write, read: read, dialect: d, retries: 20}
}

// CacheStatements makes the DB prepare each distinct SQL text once per
// connection and reuse it, for drivers that do not cache themselves (SQLite
// spends most of a simple query parsing it; pgx caches on its own).
func (d *DB) CacheStatements() { d.stmts = newStmtCache() }

// DialectName is the dialect's name, "postgres" or "sqlite" (for
// packages that must not import this one, such as the job queue).
func (d *DB) DialectName() string { return d.dialect.Name() }

// Dialect returns the database's dialect.
func (d *DB) Dialect() Dialect { return d.dialect }

// Writer returns the pool used for writes (for migrations and stats).
func (d *DB) Writer() *sql.DB { return d.write }

// Reader returns the pool used for reads.
func (d *DB) Reader() *sql.DB { return d.read }

// Read returns a Querier for reads outside a transaction.
func (d *DB) Read() Querier {
	return conv{q: d.read, d: d.dialect, pool: d.read, stmts: d.stmts, tr: d.tr}
}

// Write returns a Querier for single-statement writes outside a transaction.
func (d *DB) Write() Querier {
	return conv{q: d.write, d: d.dialect, pool: d.write, stmts: d.stmts, tr: d.tr}
}

// Ping checks the database is reachable.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.write.PingContext(ctx); err != nil {
		return err
	}
	if d.read != d.write {
		return d.read.PingContext(ctx)
	}
	return nil
}

// Close closes both pools.
func (d *DB) Close() error {
	if d.stmts != nil {
		d.stmts.close()
	}
	err := d.write.Close()
	if d.read != d.write {
		err = errors.Join(err, d.read.Close())
	}
	return err
}

// MapTimeout returns err as errs.KindUnavailable (503: try again) when the
// database gave up waiting (lock, statement or idle-in-transaction
// timeout; SQLite still busy after the retries), err otherwise. The cause
// stays in the chain, so IsRetryable still sees it.
func (d *DB) MapTimeout(err error) error {
	if err == nil || errs.Is(err, errs.KindUnavailable) {
		return err
	}
	if what := d.dialect.Timeout(err); what != "" {
		return errs.Wrap(errs.KindUnavailable, err, "the database gave up waiting ("+what+"); try again")
	}
	return err
}

// Tx runs fn in a transaction and commits if fn returns nil. If the database
// reports a transient conflict (busy, serialization failure, deadlock) the
// whole function runs again, so fn must not have effects outside the
// transaction.
func (d *DB) Tx(ctx context.Context, fn func(Querier) error) (err error) {
	ctx, span := d.tr.startTx(ctx)
	defer func() { end(span, err) }()
	var misses []string
	defer func() {
		if d.stmts != nil {
			for _, q := range misses {
				_, release := d.stmts.get(ctx, d.write, q)
				release()
			}
		}
	}()
	for attempt := 0; ; attempt++ {
		err = d.tx(ctx, fn, &misses)
		if err == nil || !d.dialect.IsRetryable(err) || attempt >= d.retries {
			// Timeouts are not retryable: one wait bounded by them is
			// all a request gets.
			return d.MapTimeout(err)
		}
		if span != nil {
			span.AddEvent("retry", trace.WithAttributes(attribute.String("error", err.Error())))
		}
		// Back off a little, growing, so racing writers spread out.
		delay := time.Duration(attempt+1) * 2 * time.Millisecond
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// tx runs one attempt. Queries it ran unprepared are added to misses, to
// be prepared by the caller once the transaction's connection is free.
func (d *DB) tx(ctx context.Context, fn func(Querier) error, misses *[]string) (err error) {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	c := conv{q: tx, d: d.dialect, pool: d.write, tx: tx, stmts: d.stmts, misses: misses, tr: d.tr}
	if sp := trace.SpanFromContext(ctx); d.tr != nil && sp.SpanContext().IsValid() {
		c.span = sp // Tx's span: the statements' parent
	}
	if err = fn(c); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// conv converts arguments through the dialect before they reach the driver,
// and runs cached prepared statements where the DB caches them.
type conv struct {
	q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	}
	d      Dialect
	pool   *sql.DB // the pool q runs on (statements are prepared on it)
	tx     *sql.Tx // the transaction q is, if any
	stmts  *stmtCache
	misses *[]string // in a transaction: queries not yet prepared
	tr     *tracer
	span   trace.Span // in a traced transaction: its span
}

// SQLTx returns the database/sql transaction behind a Querier that DB.Tx
// handed out, for libraries that take a *sql.Tx (the job queue inserts its
// jobs in the caller's transaction); ok is false outside a transaction.
func SQLTx(q Querier) (tx *sql.Tx, ok bool) {
	c, isConv := q.(conv)
	if !isConv || c.tx == nil {
		return nil, false
	}
	return c.tx, true
}

// args converts args into a new slice: the caller's stays as it was (it
// may reuse it, or share it with another goroutine).
func (c conv) args(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = c.d.Arg(a)
	}
	return out
}

// stmt returns a prepared statement for query (bound to c's transaction
// if any), or nil to run the query unprepared, and the function to call
// once the statement has run.
func (c conv) stmt(ctx context.Context, query string) (*sql.Stmt, func()) {
	if c.stmts == nil {
		return nil, func() {}
	}
	if c.tx == nil {
		return c.stmts.get(ctx, c.pool, query)
	}
	if !cacheable(query) {
		return nil, func() {}
	}
	st, release := c.stmts.lookup(c.pool, query)
	if st == nil {
		*c.misses = append(*c.misses, query)
		return nil, release
	}
	return c.tx.StmtContext(ctx, st), release
}

func (c conv) ExecContext(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	ctx, span := c.tr.startStmt(ctx, c.span, query)
	defer func() { end(span, err) }()
	st, release := c.stmt(ctx, query)
	defer release()
	if st != nil {
		return st.ExecContext(ctx, c.args(args)...)
	}
	return c.q.ExecContext(ctx, query, c.args(args)...)
}

func (c conv) QueryContext(ctx context.Context, query string, args ...any) (rows *sql.Rows, err error) {
	ctx, span := c.tr.startStmt(ctx, c.span, query)
	defer func() { end(span, err) }()
	// Rows keep their statement open on their own (database/sql closes an
	// evicted statement only after its rows), so release may come first.
	st, release := c.stmt(ctx, query)
	defer release()
	if st != nil {
		return st.QueryContext(ctx, c.args(args)...)
	}
	return c.q.QueryContext(ctx, query, c.args(args)...)
}

func (c conv) QueryRowContext(ctx context.Context, query string, args ...any) (row *sql.Row) {
	ctx, span := c.tr.startStmt(ctx, c.span, query)
	if span != nil {
		defer func() { end(span, row.Err()) }()
	}
	st, release := c.stmt(ctx, query)
	defer release()
	if st != nil {
		return st.QueryRowContext(ctx, c.args(args)...)
	}
	return c.q.QueryRowContext(ctx, query, c.args(args)...)
}

const Varying = "/* varying */ "
