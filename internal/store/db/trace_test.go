package db_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestTraced: under a caller's span a transaction is a span and each of
// its statements a child of it, with the SQL text; a statement outside a
// transaction is a child of the caller's span; a failed statement is an
// error span; nothing is traced without a caller's span, nor by the DB
// Traced was called on.
func TestTraced(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, plain *db.DB) {
		exp := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		d := plain.Traced(tp)
		bg := context.Background()
		if _, err := d.Write().ExecContext(bg, `CREATE TABLE traced (k TEXT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		if err := d.Tx(bg, func(q db.Querier) error {
			_, err := q.ExecContext(bg, `INSERT INTO traced (k) VALUES ($1)`, "untraced")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n := len(exp.GetSpans()); n != 0 {
			t.Fatalf("%d spans without a caller's span", n)
		}
		ctx, root := tp.Tracer("test").Start(bg, "request")
		err := d.Tx(ctx, func(q db.Querier) error {
			if _, err := q.ExecContext(ctx, `INSERT INTO traced (k) VALUES ($1)`, "a"); err != nil {
				return err
			}
			var k string
			return q.QueryRowContext(ctx, `SELECT k FROM traced WHERE k = $1`, "a").Scan(&k)
		})
		if err != nil {
			t.Fatal(err)
		}
		var k string
		if err := d.Read().QueryRowContext(ctx, `SELECT k FROM traced WHERE k = $1`, "nope").Scan(&k); !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		if _, err := d.Write().ExecContext(ctx, `INSERT INTO missing_table (k) VALUES ($1)`, "a"); err == nil {
			t.Fatal("insert into a missing table")
		}
		if _, err := plain.Write().ExecContext(ctx, `SELECT 1`); err != nil {
			t.Fatal(err)
		}
		root.End()

		spans := exp.GetSpans()
		byName := map[string][]tracetest.SpanStub{}
		for _, s := range spans {
			if s.SpanContext.TraceID() != root.SpanContext().TraceID() {
				t.Errorf("span %s in another trace", s.Name)
			}
			byName[s.Name] = append(byName[s.Name], s)
		}
		if len(spans) != 6 || len(byName["db.tx"]) != 1 || len(byName["INSERT"]) != 2 || len(byName["SELECT"]) != 2 {
			for _, s := range spans {
				t.Logf("%s parent %s", s.Name, s.Parent.SpanID())
			}
			t.Fatalf("%d spans, want request, db.tx, INSERT×2, SELECT×2", len(spans))
		}
		tx := byName["db.tx"][0]
		if tx.Parent.SpanID() != root.SpanContext().SpanID() {
			t.Error("db.tx is not a child of the caller's span")
		}
		in, out := 0, 0
		for _, s := range append(byName["INSERT"], byName["SELECT"]...) {
			switch s.Parent.SpanID() {
			case tx.SpanContext.SpanID():
				in++
			case root.SpanContext().SpanID():
				out++
			}
			attrs := map[string]string{}
			for _, a := range s.Attributes {
				attrs[string(a.Key)] = a.Value.String()
			}
			want := map[string]string{"postgres": "postgresql", "sqlite": "sqlite"}[d.Dialect().Name()]
			if attrs["db.system.name"] != want || attrs["db.query.text"] == "" {
				t.Errorf("%s attributes %v", s.Name, attrs)
			}
			failed := s.Status.Code == codes.Error
			if failed != (attrs["db.query.text"] == `INSERT INTO missing_table (k) VALUES ($1)`) {
				t.Errorf("%q: status %v", attrs["db.query.text"], s.Status)
			}
		}
		if in != 2 || out != 2 {
			t.Errorf("%d statements under the transaction's span, %d under the caller's; want 2 and 2", in, out)
		}
	})
}
