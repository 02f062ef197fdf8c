package nodelock_test

import (
	"errors"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/nodelock"
	"github.com/trellis-cloud/trellis/internal/nodes"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

const leaseTTL = 30 * time.Second

type fixture struct {
	t   *testing.T
	st  *sqlstore.Store
	clk *clock.Fake
	reg *nodes.Registry
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	clk := clock.NewFake(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	st := sqlstore.New(d)
	return &fixture{t: t, st: st, clk: clk, reg: nodes.NewRegistry(sqlstore.Nodes{Store: st}, clk)}
}

// node registers a node and returns its lease and a locker holding locks
// for it that waits at most wait.
func (f *fixture) node(wait time.Duration) (*nodes.Lease, *nodelock.Locker) {
	f.t.Helper()
	l, err := f.reg.Register(f.t.Context(), nodes.LeaseConfig{TTL: leaseTTL, Every: leaseTTL / 3})
	if err != nil {
		f.t.Fatal(err)
	}
	return l, nodelock.New(nodelock.Config{Store: sqlstore.NodeLocks{Store: f.st}, Node: l, Nodes: f.reg,
		Clock: f.clk, Wait: wait})
}

func mustLock(t *testing.T, l *nodelock.Locker, name string, m nodelock.Mode) func() {
	t.Helper()
	ctx := t.Context()
	unlock, _, err := l.Lock(ctx, name, m)
	if err != nil {
		t.Fatalf("lock %s mode %d: %v", name, m, err)
	}
	return unlock
}

// takeOver takes name, which must be taken over from a dead or expired
// holder.
func takeOver(t *testing.T, l *nodelock.Locker, name string, m nodelock.Mode) {
	t.Helper()
	ctx := t.Context()
	unlock, took, err := l.Lock(ctx, name, m)
	if err != nil || !took {
		t.Fatalf("lock %s mode %d: took over %v, %v", name, m, took, err)
	}
	unlock()
}

func busy(t *testing.T, l *nodelock.Locker, name string, m nodelock.Mode) {
	t.Helper()
	ctx := t.Context()
	if unlock, _, err := l.Lock(ctx, name, m); !errors.Is(err, nodelock.ErrBusy) {
		if err == nil {
			unlock()
		}
		t.Fatalf("lock %s mode %d: %v, want busy", name, m, err)
	}
}

// An exclusive lock is one node's at a time, across nodes; a shared one is
// several nodes' at once, and excludes ExclusiveOfShared both ways.
func TestModes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		_, a := f.node(50 * time.Millisecond)
		_, b := f.node(50 * time.Millisecond)

		unlock := mustLock(t, a, "obj", nodelock.Exclusive)
		busy(t, b, "obj", nodelock.Exclusive)
		unlock()
		if unlock, took, err := b.Lock(ctx, "obj", nodelock.Exclusive); err != nil || took {
			t.Fatalf("a released lock: took over %v, %v", took, err)
		} else {
			unlock()
		}

		s1 := mustLock(t, a, "upload", nodelock.Shared)
		s2 := mustLock(t, b, "upload", nodelock.Shared)
		busy(t, a, "upload", nodelock.ExclusiveOfShared)
		s1()
		busy(t, b, "upload", nodelock.ExclusiveOfShared)
		s2()
		x := mustLock(t, a, "upload", nodelock.ExclusiveOfShared)
		busy(t, b, "upload", nodelock.Shared)
		busy(t, b, "upload", nodelock.ExclusiveOfShared)
		x()
		mustLock(t, b, "upload", nodelock.Shared)()
	})
}

// A lock whose node died is taken over once the node's lease ran out (the
// waiter fences it); so is a lock of a live node whose expiry passed (a
// release that never reached the database). A live holder's lock is not.
func TestTakeOver(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		la, a := f.node(50 * time.Millisecond)
		lb, b := f.node(50 * time.Millisecond)

		mustLock(t, a, "dead", nodelock.Exclusive) // never released: a dies
		mustLock(t, a, "dead-shared", nodelock.Shared)
		busy(t, b, "dead", nodelock.Exclusive)
		for range 4 { // a's lease runs out; b renews
			f.clk.Advance(leaseTTL / 3)
			if err := lb.Renew(ctx); err != nil {
				t.Fatal(err)
			}
		}
		takeOver(t, b, "dead", nodelock.Exclusive)
		mustLock(t, b, "dead-shared", nodelock.ExclusiveOfShared)()
		if alive, err := f.reg.Alive(ctx, la.ID()); err != nil || alive {
			t.Fatalf("the dead holder's node: alive %v, %v", alive, err)
		}

		// Both alive; c's lock leaks and expires.
		lc, c := f.node(50 * time.Millisecond)
		mustLock(t, c, "leaked", nodelock.Exclusive)
		busy(t, b, "leaked", nodelock.Exclusive)
		for range 7 {
			f.clk.Advance(leaseTTL / 3)
			for _, l := range []*nodes.Lease{lb, lc} {
				if err := l.Renew(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if f.clk.Now().Before(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC).Add(leaseTTL*4/3 + nodelock.DefaultTTL)) {
			t.Fatal("the clock did not pass the lock's expiry")
		}
		takeOver(t, b, "leaked", nodelock.Exclusive)
		if !lc.Held() {
			t.Fatal("c lost its lease")
		}
	})
}
