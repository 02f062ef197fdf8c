package db_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/litedriver"
)

// SQLite caches prepared statements; a transaction holds the writer's only
// connection, so a statement first seen inside it must not be prepared on
// the pool until the transaction is over, whether it commits or fails.
func TestStatementCacheInsideTransactions(t *testing.T) {
	t.Parallel()
	d, err := litedriver.Open(filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := d.Write().ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	for i, fail := range []bool{true, false, false} {
		err := d.Tx(ctx, func(q db.Querier) error {
			if _, err := q.ExecContext(ctx, `INSERT INTO t (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = t.v + 1`, "a", i); err != nil {
				return err
			}
			var v int
			if err := q.QueryRowContext(ctx, `SELECT v FROM t WHERE k = $1`, "a").Scan(&v); err != nil {
				return err
			}
			if fail {
				return boom
			}
			return nil
		})
		if fail && !errors.Is(err, boom) || !fail && err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	var v int
	if err := d.Read().QueryRowContext(ctx, `SELECT v FROM t WHERE k = $1`, "a").Scan(&v); err != nil || v != 2 {
		t.Fatalf("v = %d, %v; want 2 (the failed round rolled back)", v, err)
	}
	if ctx.Err() != nil {
		t.Fatal("deadlocked")
	}
}
