// Package dbtest gives tests real, migrated databases: a fresh SQLite file
// always, and a fresh PostgreSQL database whenever TRELLIS_TEST_POSTGRES_URL
// is set (each test its own database, dropped afterwards, so packages run in
// parallel and leave nothing behind).
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/litedriver"
	"github.com/trellis-cloud/trellis/internal/store/migrations"
	"github.com/trellis-cloud/trellis/internal/store/pgdriver"
)

// EnvPostgres names the variable holding the URL of a PostgreSQL server the
// tests may create databases on.
const EnvPostgres = "TRELLIS_TEST_POSTGRES_URL"

// EnvPoolSize, when set to N > 0, opens every test database with pools of
// N connections (PostgreSQL's pool; on SQLite N = 1 also sends reads to
// the single writer connection). With 1, any code path that takes a
// second connection while it holds a transaction deadlocks, so the suites
// run that way prove none does.
const EnvPoolSize = "TRELLIS_TEST_POOL_SIZE"

// PoolSize returns EnvPoolSize's value (0: unset, the drivers' defaults).
func PoolSize(tb testing.TB) int {
	v := os.Getenv(EnvPoolSize)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("dbtest: %s=%q: want a positive number", EnvPoolSize, v)
	}
	return n
}

// Kinds returns the databases to test on: "sqlite" always, "postgres" when
// EnvPostgres is set.
func Kinds() []string {
	if os.Getenv(EnvPostgres) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// Each runs fn as a subtest on every database of Kinds, each with a fresh
// migrated database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) { fn(t, Open(t, kind)) })
	}
}

// Open returns a fresh migrated database of the given kind, closed (and on
// PostgreSQL dropped) when the test ends.
func Open(tb testing.TB, kind string) *db.DB {
	tb.Helper()
	return Nodes(tb, kind, 1)[0]
}

// Nodes returns n pools on one fresh migrated database, as n processes
// sharing it would have (each with EnvPoolSize connections when set).
func Nodes(tb testing.TB, kind string, n int) []*db.DB {
	tb.Helper()
	var where string
	switch kind {
	case "sqlite":
		where = filepath.Join(tb.TempDir(), "trellis.db")
	case "postgres":
		where = NewPostgresDatabase(tb)
	default:
		tb.Fatalf("dbtest: unknown kind %q", kind)
	}
	out := make([]*db.DB, n)
	for i := range out {
		out[i] = OpenAt(tb, kind, where)
	}
	return out
}

// OpenAt opens the database of the given kind at where (a SQLite file, a
// PostgreSQL URL), migrated, with EnvPoolSize honoured; closed when the
// test ends.
func OpenAt(tb testing.TB, kind, where string) *db.DB {
	tb.Helper()
	size := PoolSize(tb)
	var d *db.DB
	switch kind {
	case "sqlite":
		var err error
		d, err = litedriver.OpenWith(where, litedriver.Options{SingleConnection: size == 1})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = d.Close() })
	case "postgres":
		pd, pool, err := pgdriver.OpenWith(context.Background(), where, pgdriver.Options{MaxConns: int32(size)})
		if err != nil {
			tb.Fatal(err)
		}
		d = pd
		tb.Cleanup(func() { _ = d.Close(); pool.Close() })
	default:
		tb.Fatalf("dbtest: unknown kind %q", kind)
	}
	if err := migrations.Up(context.Background(), d); err != nil {
		tb.Fatal(err)
	}
	if err := jobs.Migrate(context.Background(), d); err != nil {
		tb.Fatal(err)
	}
	return d
}

// NewPostgresDatabase creates an empty database on the server named by
// EnvPostgres and returns its URL; the database is dropped when the test
// ends. The test is skipped when the variable is unset.
func NewPostgresDatabase(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		tb.Skipf("%s not set", EnvPostgres)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		tb.Fatalf("dbtest: connect %s: %v", EnvPostgres, err)
	}
	defer admin.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "trellis_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("dbtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			tb.Logf("dbtest: drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("dbtest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
