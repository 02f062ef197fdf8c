package db_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/litedriver"
)

// Issue 14, finding 10: texts built with a variable number of placeholders
// (IN lists) once filled the statement cache for good, after which no new
// statement was prepared. Varying texts are not cached, and the cache
// evicts the least recently used statement instead of refusing new ones.
func TestStatementCacheKeepsPreparing(t *testing.T) {
	t.Parallel()
	d, err := litedriver.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := d.Write().ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	// 600 IN lists of different lengths, as a store builds them.
	for n := 1; n <= 600; n++ {
		ph := make([]string, n)
		args := make([]any, n)
		for i := range ph {
			ph[i], args[i] = fmt.Sprintf("$%d", i+1), i
		}
		q := db.Varying + `SELECT count(*) FROM t WHERE k IN (` + strings.Join(ph, ", ") + `)`
		var c int
		if err := d.Read().QueryRowContext(ctx, q, args...).Scan(&c); err != nil {
			t.Fatal(err)
		}
		if db.Cached(d, q) {
			t.Fatalf("the varying text with %d placeholders was cached", n)
		}
	}
	// Then 600 distinct fixed texts (more than the cache holds): the
	// newest is always prepared, the oldest evicted.
	for i := range 600 {
		q := fmt.Sprintf(`SELECT count(*) + %d FROM t`, i)
		var c int
		if err := d.Read().QueryRowContext(ctx, q).Scan(&c); err != nil {
			t.Fatal(err)
		}
		if !db.Cached(d, q) {
			t.Fatalf("statement %d was not prepared: the cache stopped preparing", i)
		}
	}
	if db.Cached(d, `SELECT count(*) + 0 FROM t`) {
		t.Error("the least recently used statement was not evicted")
	}
}

// Issue 14, finding 10: converting arguments (a time to SQLite's text)
// must not rewrite the caller's slice.
func TestArgsAreNotRewritten(t *testing.T) {
	t.Parallel()
	d, err := litedriver.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := t.Context()
	if _, err := d.Write().ExecContext(ctx, `CREATE TABLE t (at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	args := []any{at}
	if _, err := d.Write().ExecContext(ctx, `INSERT INTO t (at) VALUES ($1)`, args...); err != nil {
		t.Fatal(err)
	}
	err = d.Tx(ctx, func(q db.Querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO t (at) VALUES ($1)`, args...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := args[0].(time.Time); !ok || !got.Equal(at) {
		t.Fatalf("the caller's argument became %T %v", args[0], args[0])
	}
}
