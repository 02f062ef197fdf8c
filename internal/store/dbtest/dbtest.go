// Package dbtest gives tests real, migrated databases: a fresh SQLite file
// always, and a fresh PostgreSQL database whenever TRELLIS_TEST_POSTGRES_URL
// is set (each test its own database, dropped afterwards, so packages run in
// parallel and leave nothing behind).
//
// Migrating takes a few hundred milliseconds, so it happens once: SQLite's
// schema is migrated once per test process into a template whose bytes each
// test's file is written from, and PostgreSQL's once per server into a
// template database (named after the migrations' content) that each test's
// database is created from with CREATE DATABASE … TEMPLATE.
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
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
// sharing it would have (each with EnvPoolSize connections when set). The
// database is a copy of the template, so it is not migrated again.
func Nodes(tb testing.TB, kind string, n int) []*db.DB {
	tb.Helper()
	var where string
	switch kind {
	case "sqlite":
		where = newSQLiteFile(tb)
	case "postgres":
		where = newPostgresFromTemplate(tb)
	default:
		tb.Fatalf("dbtest: unknown kind %q", kind)
	}
	out := make([]*db.DB, n)
	for i := range out {
		out[i] = open(tb, kind, where)
	}
	return out
}

// OpenAt opens the database of the given kind at where (a SQLite file, a
// PostgreSQL URL), migrated, with EnvPoolSize honoured; closed when the
// test ends.
func OpenAt(tb testing.TB, kind, where string) *db.DB {
	tb.Helper()
	d := open(tb, kind, where)
	if err := migrations.Up(context.Background(), d); err != nil {
		tb.Fatal(err)
	}
	if err := jobs.Migrate(context.Background(), d); err != nil {
		tb.Fatal(err)
	}
	return d
}

// open opens the database at where, not migrating it; closed when the test
// ends.
func open(tb testing.TB, kind, where string) *db.DB {
	tb.Helper()
	size := PoolSize(tb)
	switch kind {
	case "sqlite":
		d, err := litedriver.OpenWith(where, litedriver.Options{SingleConnection: size == 1})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = d.Close() })
		return d
	case "postgres":
		d, pool, err := pgdriver.OpenWith(context.Background(), where, pgdriver.Options{MaxConns: int32(size)})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = d.Close(); pool.Close() })
		return d
	}
	tb.Fatalf("dbtest: unknown kind %q", kind)
	return nil
}

// sqliteTemplate holds the bytes of a migrated SQLite database, made once
// per process in a directory removed as soon as they are read.
var sqliteTemplate = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "trellis-dbtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "trellis.db")
	d, err := litedriver.Open(path)
	if err != nil {
		return nil, err
	}
	err = migrations.Up(context.Background(), d)
	if err == nil {
		err = jobs.Migrate(context.Background(), d)
	}
	if err == nil {
		// Everything into the main file, the WAL emptied: the file
		// alone is the database.
		_, err = d.Writer().ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("dbtest: migrate the SQLite template: %w", err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("dbtest: the SQLite template's WAL still holds %d bytes", fi.Size())
	}
	return os.ReadFile(path)
})

// newSQLiteFile writes a copy of the migrated template into the test's
// temporary directory and returns its path.
func newSQLiteFile(tb testing.TB) string {
	tb.Helper()
	b, err := sqliteTemplate()
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "trellis.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// NewPostgresDatabase creates an empty database on the server named by
// EnvPostgres and returns its URL; the database is dropped when the test
// ends. The test is skipped when the variable is unset.
func NewPostgresDatabase(tb testing.TB) string {
	tb.Helper()
	return newPostgres(tb, "")
}

// newPostgresFromTemplate is NewPostgresDatabase with the database created
// from the migrated template.
func newPostgresFromTemplate(tb testing.TB) string {
	tb.Helper()
	if os.Getenv(EnvPostgres) == "" {
		tb.Skipf("%s not set", EnvPostgres)
	}
	tpl, err := postgresTemplate()
	if err != nil {
		tb.Fatal(err)
	}
	return newPostgres(tb, tpl)
}

func newPostgres(tb testing.TB, template string) string {
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
	name := "trellis_test_" + randomHex(6)
	create := "CREATE DATABASE " + name
	if template != "" {
		create += " TEMPLATE " + template
	}
	if _, err := admin.Exec(ctx, create); err != nil {
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
	u, err := withDatabase(base, name)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

// templateLockKey is the advisory lock (on the server's maintenance
// database) held while a template database is looked for and built, so
// test processes starting together build it once.
const templateLockKey = 7_400_015_003

// postgresTemplate returns the name of the migrated template database on
// the server, building it when this server has none for these migrations.
// The name carries a hash of the migrations (and of the River module that
// brings its own), so a changed schema gets a new template and a template
// is never migrated again once built. It is built under another name and
// renamed when complete: a process killed while building leaves no
// half-migrated template behind.
var postgresTemplate = sync.OnceValues(func() (string, error) {
	base := os.Getenv(EnvPostgres)
	hash, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "trellis_tpl_" + hash
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", fmt.Errorf("dbtest: connect %s: %w", EnvPostgres, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLockKey); err != nil {
		return "", fmt.Errorf("dbtest: lock the template: %w", err)
	}
	defer func() { _, _ = admin.Exec(ctx, "SELECT pg_advisory_unlock($1)", templateLockKey) }()
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", fmt.Errorf("dbtest: look for the template: %w", err)
	}
	if exists {
		return name, nil
	}
	building := "trellis_tplbuild_" + randomHex(6)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", fmt.Errorf("dbtest: create the template: %w", err)
	}
	if err := migrateAt(ctx, base, building); err != nil {
		_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
		return "", fmt.Errorf("dbtest: migrate the template: %w", err)
	}
	// Nobody connects to a template (CREATE DATABASE … TEMPLATE refuses
	// one in use); its name is given only when it is complete.
	for _, q := range []string{
		"ALTER DATABASE " + building + " WITH ALLOW_CONNECTIONS false IS_TEMPLATE true",
		"ALTER DATABASE " + building + " RENAME TO " + name,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			_, _ = admin.Exec(ctx, "ALTER DATABASE "+building+" WITH IS_TEMPLATE false")
			_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
			return "", fmt.Errorf("dbtest: finish the template: %w", err)
		}
	}
	return name, nil
})

// migrateAt migrates the database called name on the server at base and
// closes every connection to it (CREATE DATABASE … TEMPLATE refuses a
// template anyone is connected to).
func migrateAt(ctx context.Context, base, name string) error {
	u, err := withDatabase(base, name)
	if err != nil {
		return err
	}
	d, pool, err := pgdriver.OpenWith(ctx, u, pgdriver.Options{})
	if err != nil {
		return err
	}
	err = migrations.Up(ctx, d)
	if err == nil {
		err = jobs.Migrate(ctx, d)
	}
	_ = d.Close()
	pool.Close()
	return err
}

// migrationsHash hashes PostgreSQL's migration files and the versions of
// the River modules (River migrates its own tables).
func migrationsHash() (string, error) {
	h := sha256.New()
	fsys, err := migrations.FS("postgres")
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(fsys, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "river %d\n", jobs.RiverVersion)
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if strings.HasPrefix(m.Path, "github.com/riverqueue/") {
				fmt.Fprintf(h, "%s %s %s\n", m.Path, m.Version, m.Sum)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func withDatabase(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
