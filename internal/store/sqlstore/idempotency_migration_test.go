package sqlstore_test

import (
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/migrations"
)

// Migration 00021 keeps the idempotency keys taken before it: a key of an
// API key is moved to that key's org, an unknown principal keeps its own
// id as scope, and nothing is lost.
func TestIdempotencyMigrationKeepsKeys(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := t.Context()
		name := d.Dialect().Name()
		fsys, err := migrations.FS(name)
		if err != nil {
			t.Fatal(err)
		}
		dialect := goose.DialectSQLite3
		if name == "postgres" {
			dialect = goose.DialectPostgres
		}
		p, err := goose.NewProvider(dialect, d.Writer(), fsys)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.DownTo(ctx, 20); err != nil {
			t.Fatal(err)
		}
		w := d.Write()
		at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO orgs (id, kind, path, name, created_at, updated_at) VALUES ('org-1', 'provider', '/org-1/', 'P', $1, $1)`, []any{at}},
			{`INSERT INTO api_keys (id, org_id, name, role, prefix, hash, created_by, created_at)
				VALUES ('key-1', 'org-1', 'k', 'admin', 'p', 'h', 'x', $1)`, []any{at}},
			{`INSERT INTO idempotency_keys (principal_id, key, request_hash, status, body, created_at)
				VALUES ('key-1', 'k1', 'h1', 201, '{"a":1}', $1)`, []any{at}},
			{`INSERT INTO idempotency_keys (principal_id, key, request_hash, created_at) VALUES ('ghost', 'k2', 'h2', $1)`, []any{at}},
		} {
			if _, err := w.ExecContext(ctx, q.sql, q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		if _, err := p.Up(ctx); err != nil {
			t.Fatal(err)
		}
		rows, err := d.Read().QueryContext(ctx, `SELECT scope_id, key, principal_id, status, body, owner
			FROM idempotency_keys ORDER BY key`)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = rows.Close() }()
		var got [][6]any
		for rows.Next() {
			var scope, key, principal, body, owner string
			var status int
			if err := rows.Scan(&scope, &key, &principal, &status, &body, &owner); err != nil {
				t.Fatal(err)
			}
			got = append(got, [6]any{scope, key, principal, status, body, owner})
		}
		want := [][6]any{{"org-1", "k1", "key-1", 201, `{"a":1}`, ""}, {"ghost", "k2", "ghost", 0, "", ""}}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("after the migration: %v, want %v", got, want)
		}
	})
}
