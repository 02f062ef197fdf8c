package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Traced returns a DB on the same pools whose transactions and statements
// are spans of tp: one per DB.Tx (all its attempts, ending at the commit or
// rollback) and one per statement, a child of its transaction's span (or
// of the caller's span outside a transaction), when the caller's context
// holds a span (a request's, a job's). A statement's span carries
// its SQL text, never its arguments; it ends when the statement returns,
// so reading a result set's rows is not in it. A nil tp returns d.
func (d *DB) Traced(tp trace.TracerProvider) *DB {
	if tp == nil {
		return d
	}
	system := "sqlite"
	if d.dialect.Name() == "postgres" {
		system = "postgresql"
	}
	c := *d
	c.tr = &tracer{
		t:      tp.Tracer("github.com/trellis-cloud/trellis/internal/store/db"),
		system: attribute.String("db.system.name", system),
	}
	return &c
}

type tracer struct {
	t      trace.Tracer
	system attribute.KeyValue
}

// startTx starts a transaction's span (nil-safe: no tracer, no span). Only
// work that is itself traced (a request, a job) gets database spans: the
// background loops (node leases, periodic sweeps) would otherwise make a
// one-span trace of every statement.
func (t *tracer) startTx(ctx context.Context) (context.Context, trace.Span) {
	if t == nil || !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, nil
	}
	return t.t.Start(ctx, "db.tx", trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(t.system))
}

// startStmt starts a statement's span under the transaction's span tx
// when there is one.
func (t *tracer) startStmt(ctx context.Context, tx trace.Span, query string) (context.Context, trace.Span) {
	if t == nil {
		return ctx, nil
	}
	if tx != nil {
		ctx = trace.ContextWithSpan(ctx, tx)
	} else if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, nil
	}
	return t.t.Start(ctx, operation(query), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(t.system, attribute.String("db.query.text", query)))
}

// end ends span (nil-safe) with err as its status; sql.ErrNoRows is an
// answer, not a failure.
func end(span trace.Span, err error) {
	if span == nil {
		return
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// operation names a statement's span by its first keyword (SELECT, INSERT,
// …): bounded, unlike the SQL text.
func operation(query string) string {
	q := strings.TrimPrefix(query, Varying)
	q = strings.TrimLeft(q, " \t\r\n(")
	if i := strings.IndexAny(q, " \t\r\n("); i > 0 {
		q = q[:i]
	}
	if q == "" || len(q) > 16 {
		return "db.statement"
	}
	return strings.ToUpper(q)
}
