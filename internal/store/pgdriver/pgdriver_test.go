package pgdriver_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/problem"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/pgdriver"
)

func open(t *testing.T, url string) *db.DB {
	t.Helper()
	d, pool, err := pgdriver.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close(); pool.Close() })
	return d
}

func show(t *testing.T, d *db.DB, name string) string {
	t.Helper()
	var v string
	if err := d.Read().QueryRowContext(t.Context(), "SHOW "+name).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Issue 14, finding 1: every session has bounded waits, and the URL's own
// parameters win.
func TestSessionTimeouts(t *testing.T) {
	t.Parallel()
	url := dbtest.NewPostgresDatabase(t)
	d := open(t, url)
	for name, want := range map[string]string{"lock_timeout": "5s", "statement_timeout": "30s",
		"idle_in_transaction_session_timeout": "1min"} {
		if got := show(t, d, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if got := show(t, open(t, url+"&lock_timeout=250ms"), "lock_timeout"); got != "250ms" {
		t.Errorf("lock_timeout from the URL = %q, want 250ms", got)
	}
}

// Issue 14, finding 1: a writer waiting on a row lock another transaction
// holds fails within lock_timeout with a 503, instead of waiting for ever;
// so does a statement over statement_timeout, and db.Tx does not retry
// either.
func TestTimeoutsAreUnavailable(t *testing.T) {
	t.Parallel()
	url := dbtest.NewPostgresDatabase(t)
	d := open(t, url+"&lock_timeout=300ms&statement_timeout=1s")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if _, err := d.Write().ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Write().ExecContext(ctx, `INSERT INTO t VALUES ('a', 0)`); err != nil {
		t.Fatal(err)
	}
	locked, release := make(chan struct{}), make(chan struct{})
	holder := make(chan error, 1)
	go func() {
		holder <- d.Tx(ctx, func(q db.Querier) error {
			if _, err := q.ExecContext(ctx, `UPDATE t SET v = v + 1 WHERE k = 'a'`); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	attempts := 0
	start := time.Now()
	err := d.Tx(ctx, func(q db.Querier) error {
		attempts++
		_, err := q.ExecContext(ctx, `UPDATE t SET v = v + 10 WHERE k = 'a'`)
		return err
	})
	took := time.Since(start)
	close(release)
	if err := <-holder; err != nil {
		t.Fatalf("the lock holder: %v", err)
	}
	t.Logf("second writer: %v after %v, %d attempt(s)", err, took, attempts)
	if !errs.Is(err, errs.KindUnavailable) || problem.Status(errs.KindOf(err)) != http.StatusServiceUnavailable {
		t.Fatalf("second writer: %v (kind %v), want unavailable (503)", err, errs.KindOf(err))
	}
	if attempts != 1 || took > 5*time.Second {
		t.Fatalf("second writer: %d attempts in %v, want 1 within the lock timeout", attempts, took)
	}

	err = d.Tx(ctx, func(q db.Querier) error {
		_, err := q.ExecContext(ctx, `SELECT pg_sleep(3)`)
		return err
	})
	if !errs.Is(err, errs.KindUnavailable) {
		t.Fatalf("statement over statement_timeout: %v (kind %v), want unavailable", err, errs.KindOf(err))
	}
	if !errors.Is(err, err) || ctx.Err() != nil {
		t.Fatal("the test's own deadline passed")
	}
}
