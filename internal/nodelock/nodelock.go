// Package nodelock holds locks across the nodes (processes) that share one
// database: what one node locks, no other node takes until it is released,
// its holder's node is dead (internal/nodes: deregistered or fenced), or its
// expiry passed (the holder renews it while it holds it).
//
// Every step is one short statement of its own: a lock is taken by a
// conditional insert, never inside another transaction, and waited for
// with bounded backoff without holding a connection.
package nodelock

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// Mode is how a lock is held.
type Mode int

const (
	// Exclusive: the only holder, for names nobody holds Shared.
	Exclusive Mode = iota
	// Shared: one of any number of Shared holders; no ExclusiveOfShared
	// holder meanwhile.
	Shared
	// ExclusiveOfShared: the only holder, once the Shared holders left
	// (new Shared holders wait while it is held or waited for).
	ExclusiveOfShared
)

// Lock is a row: slot is "" for the exclusive holder, the token for a
// shared one.
type Lock struct {
	Name, Slot, Token, Node string
	ExpiresAt               time.Time
}

// Holder is a live holder: its lock has not expired and its node is not
// stopped. Lapsed: the node's lease ran out and nobody fenced it yet.
type Holder struct {
	Node   string
	Lapsed bool
}

// Store keeps the lock rows.
type Store interface {
	// TakeLock inserts l, or takes over the row of its name and slot whose
	// lock expired by now or whose node is dead (tookOver); false: a live
	// holder has it.
	TakeLock(ctx context.Context, l Lock, now time.Time) (taken, tookOver bool, err error)
	// LockHolders returns the live holders of name: the exclusive one
	// (shared false) or the shared ones (shared true).
	LockHolders(ctx context.Context, name string, shared bool, now time.Time) ([]Holder, error)
	// RenewLock moves a held lock's expiry; false: it is no longer held.
	RenewLock(ctx context.Context, name, slot, token string, expires time.Time) (bool, error)
	// DropLock releases a lock.
	DropLock(ctx context.Context, name, slot, token string) error
	// PurgeLocks deletes the rows of expired locks and of dead nodes.
	PurgeLocks(ctx context.Context, now time.Time) error
}

// Node is the holder's identity (*nodes.Lease): Check renews a lapsed
// lease (registering again if the node was declared dead) and reports
// whether it is held, so no lock is taken under a dead node's id.
type Node interface {
	ID() string
	Check(ctx context.Context) bool
}

// Liveness fences nodes whose lease ran out (*nodes.Registry).
type Liveness interface {
	Dead(ctx context.Context, ids []string) (map[string]bool, error)
}

// Defaults: a lock lasts TTL unless renewed (every TTL/3 while held); a
// waiter gives up after Wait.
const (
	DefaultTTL  = time.Minute
	DefaultWait = 30 * time.Second
)

// Config configures a Locker.
type Config struct {
	Store Store
	Node  Node
	Nodes Liveness
	Clock clock.Clock // expiries, on the clock the node leases use
	// TTL and Wait: DefaultTTL and DefaultWait when 0.
	TTL, Wait time.Duration
	Logger    *slog.Logger
}

// Locker takes locks for this node.
type Locker struct {
	cfg Config
	log *slog.Logger
}

// New returns a locker.
func New(cfg Config) *Locker {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Wait <= 0 {
		cfg.Wait = DefaultWait
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Locker{cfg: cfg, log: log}
}

// ErrBusy is the error of a lock not taken within the wait: KindUnavailable
// (the caller answers "slow down, retry").
var ErrBusy = errs.Newf(errs.KindUnavailable, "busy: another node holds the lock; retry")

var errNoLease = errs.Newf(errs.KindUnavailable, "this node lost its lease and could not register again; retry")

// Lock takes name in mode, waiting (bounded backoff) while others hold it;
// the returned func releases it. tookOver: the lock was taken from a dead
// node or an expired holder, whose work on name may be unfinished. ctx
// ends the wait.
func (l *Locker) Lock(ctx context.Context, name string, mode Mode) (release func(), tookOver bool, err error) {
	if !l.cfg.Node.Check(ctx) {
		return nil, false, errNoLease
	}
	token := newToken()
	lk := Lock{Name: name, Token: token, Node: l.cfg.Node.ID()}
	if mode == Shared {
		lk.Slot = token
	}
	deadline := time.Now().Add(l.cfg.Wait)
	w := waiter{deadline: deadline}
	for {
		lk.ExpiresAt = l.cfg.Clock.Now().Add(l.cfg.TTL)
		ok, took, err := l.cfg.Store.TakeLock(ctx, lk, l.cfg.Clock.Now())
		if err != nil {
			return nil, false, err
		}
		tookOver = tookOver || took
		if ok && mode == Shared {
			// Announced, now look: an exclusive holder that came meanwhile
			// sees this row; one that was there first is seen here.
			hs, err := l.cfg.Store.LockHolders(ctx, name, false, l.cfg.Clock.Now())
			if err != nil || len(hs) > 0 {
				l.drop(lk)
				if err != nil {
					return nil, false, err
				}
				ok = false
				l.fence(ctx, hs)
			}
		} else if !ok {
			hs, err := l.cfg.Store.LockHolders(ctx, name, false, l.cfg.Clock.Now())
			if err != nil {
				return nil, false, err
			}
			if len(hs) == 0 || l.fence(ctx, hs) {
				continue // it went, or its node is dead now: take it over
			}
		}
		if ok {
			break
		}
		if err := w.wait(ctx); err != nil {
			return nil, false, err
		}
	}
	if mode == ExclusiveOfShared {
		// Holding the exclusive row, no new shared holder comes in; wait
		// for those in.
		for {
			hs, err := l.cfg.Store.LockHolders(ctx, name, true, l.cfg.Clock.Now())
			if err != nil {
				l.drop(lk)
				return nil, false, err
			}
			if len(hs) == 0 {
				break
			}
			if l.fence(ctx, hs) {
				continue // dead now: no longer a holder
			}
			if err := w.wait(ctx); err != nil {
				l.drop(lk)
				return nil, false, err
			}
		}
	}
	return l.hold(lk), tookOver, nil
}

// fence fences the holders whose lease lapsed; true if any is dead now.
func (l *Locker) fence(ctx context.Context, hs []Holder) bool {
	var ids []string
	for _, h := range hs {
		if h.Lapsed {
			ids = append(ids, h.Node)
		}
	}
	if len(ids) == 0 {
		return false
	}
	dead, err := l.cfg.Nodes.Dead(ctx, ids)
	if err != nil {
		l.log.Warn("nodelock: checking a holder's node", "nodes", ids, "err", err)
		return false
	}
	return len(dead) > 0
}

// hold renews lk every TTL/3 until the returned func releases it.
func (l *Locker) hold(lk Lock) func() {
	var mu sync.Mutex
	released := false
	var t *time.Timer
	renew := func() {
		mu.Lock()
		defer mu.Unlock()
		if released {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ok, err := l.cfg.Store.RenewLock(ctx, lk.Name, lk.Slot, lk.Token, l.cfg.Clock.Now().Add(l.cfg.TTL))
		cancel()
		if err == nil && !ok {
			l.log.Error("nodelock: a held lock was taken over (this node was declared dead, or could not renew)",
				"lock", lk.Name, "node", lk.Node)
			return
		}
		t.Reset(l.cfg.TTL / 3)
	}
	mu.Lock()
	t = time.AfterFunc(l.cfg.TTL/3, renew)
	mu.Unlock()
	return func() {
		mu.Lock()
		released = true
		t.Stop()
		mu.Unlock()
		l.drop(lk)
	}
}

// drop releases lk, retrying a little; a lock it cannot release expires.
func (l *Locker) drop(lk Lock) {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = l.cfg.Store.DropLock(ctx, lk.Name, lk.Slot, lk.Token)
		cancel()
		if err == nil {
			return
		}
	}
	l.log.Error("nodelock: releasing a lock failed; it expires", "lock", lk.Name, "ttl", l.cfg.TTL, "err", err)
}

// Purge deletes the rows of expired locks and of dead nodes' locks.
func (l *Locker) Purge(ctx context.Context) error {
	return l.cfg.Store.PurgeLocks(ctx, l.cfg.Clock.Now())
}

// waiter backs off from 1 ms, doubling up to 100 ms, with jitter, until the
// deadline.
type waiter struct {
	deadline time.Time
	next     time.Duration
}

func (w *waiter) wait(ctx context.Context) error {
	if w.next == 0 {
		w.next = time.Millisecond
	}
	d := w.next/2 + rand.N(w.next/2+1)
	if time.Now().Add(d).After(w.deadline) {
		return ErrBusy
	}
	w.next = min(2*w.next, 100*time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}
