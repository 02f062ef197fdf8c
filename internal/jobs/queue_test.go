package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

type ping struct {
	N int `json:"n"`
}

func (ping) Kind() string { return "test.ping" }

// waitFor polls cond until it holds or the deadline passes (jobs run on
// River's goroutines; the test waits for an effect, it does not time one).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestQueue(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := t.Context()
		clk := clock.NewFake(time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC))
		q, err := jobs.NewQueue(d, jobs.QueueConfig{Clock: clk, Movable: true, PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		var (
			mu   sync.Mutex
			seen []int
			fail atomic.Int32 // fail this many attempts of n=3
		)
		jobs.AddWorker(q, func(_ context.Context, p ping) error {
			if p.N == 3 && fail.Add(-1) >= 0 {
				return errors.New("provider says no")
			}
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, p.N)
			return nil
		})
		has := func(n int) bool {
			mu.Lock()
			defer mu.Unlock()
			for _, s := range seen {
				if s == n {
					return true
				}
			}
			return false
		}
		insert := func(p ping, opts jobs.InsertOpts, rollback bool) {
			t.Helper()
			errRollback := errors.New("roll back")
			err := d.Tx(ctx, func(tx db.Querier) error {
				stx, _ := db.SQLTx(tx)
				if err := q.InsertTx(ctx, stx, p, opts); err != nil {
					return err
				}
				if rollback {
					return errRollback
				}
				return nil
			})
			if err != nil && !(rollback && errors.Is(err, errRollback)) {
				t.Fatal(err)
			}
		}
		// Outside a transaction there is nothing to insert into.
		if err := q.InsertTx(ctx, nil, ping{N: 0}, jobs.InsertOpts{}); err == nil {
			t.Fatal("InsertTx outside a transaction succeeded")
		}
		insert(ping{N: 1}, jobs.InsertOpts{}, false)
		insert(ping{N: 2}, jobs.InsertOpts{}, true) // rolled back: never runs
		insert(ping{N: 4}, jobs.InsertOpts{RunAt: clk.Now().Add(time.Hour)}, false)
		fail.Store(2)
		insert(ping{N: 3}, jobs.InsertOpts{}, false)

		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := q.Start(runCtx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
			defer c()
			_ = q.Stop(stopCtx)
		})
		waitFor(t, "job 1", func() bool { return has(1) })
		// Job 3 fails twice; each retry is scheduled on the queue's clock
		// (2 s, then 4 s later), so moving the clock makes it due.
		waitFor(t, "job 3 to fail twice", func() bool {
			clk.Advance(5 * time.Second)
			return fail.Load() < 0 || has(3)
		})
		waitFor(t, "job 3 to succeed", func() bool {
			clk.Advance(5 * time.Second)
			return has(3)
		})
		if has(4) {
			t.Fatal("job 4 ran before its time")
		}
		clk.Advance(time.Hour)
		waitFor(t, "job 4", func() bool { return has(4) })
		if has(2) {
			t.Fatal("a job inserted in a rolled-back transaction ran")
		}
	})
}

// River runs on its own (wall) time; a movable app clock may be far behind
// it (or ahead): a job due later on the app clock still waits for the app
// clock, and runs once the clock gets there.
func TestQueueOnAClockBehindRiver(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		clk := clock.NewFake(time.Date(2001, 3, 1, 10, 0, 0, 0, time.UTC)) // long before River's now
		q, err := jobs.NewQueue(d, jobs.QueueConfig{Clock: clk, Movable: true, PollInterval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		var ran atomic.Int32
		jobs.AddWorker(q, func(_ context.Context, p ping) error {
			ran.Add(int32(p.N))
			return nil
		})
		if err := d.Tx(ctx, func(tx db.Querier) error {
			stx, _ := db.SQLTx(tx)
			if err := q.InsertTx(ctx, stx, ping{N: 1}, jobs.InsertOpts{}); err != nil {
				return err
			}
			return q.InsertTx(ctx, stx, ping{N: 10}, jobs.InsertOpts{RunAt: clk.Now().Add(time.Hour)})
		}); err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		if err := q.Start(runCtx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stopCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
			defer c()
			_ = q.Stop(stopCtx)
		})
		waitFor(t, "the job due now", func() bool { return ran.Load() >= 1 })
		clk.Advance(59 * time.Minute)
		if n, err := q.Release(ctx); err != nil || n != 0 {
			t.Fatalf("Release a minute early: %d, %v", n, err)
		}
		time.Sleep(100 * time.Millisecond) // a few polls of the workers and the release loop
		if ran.Load() != 1 {
			t.Fatal("the job due in an hour ran after 59 minutes of app time")
		}
		clk.Advance(time.Minute)
		waitFor(t, "the job due in an hour", func() bool { return ran.Load() == 11 })
	})
}
