// Package nodes keeps which Trellis processes are alive, so that one process
// may take over what another left behind only when that one is provably
// gone. Each process registers a row with a lease and renews it; a node is
// dead once it deregistered, or once its lease ran out and another node
// fenced it (marked it stopped). A fenced node cannot renew: when it comes
// back it registers again, as a new incarnation.
package nodes

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// DefaultTTL is how long a lease lasts without renewal; DefaultEvery how
// often a node renews it (a third of the TTL: two renewals may fail).
const (
	DefaultTTL   = 30 * time.Second
	DefaultEvery = 10 * time.Second
)

// Node is a registered process.
type Node struct {
	ID        string
	Host      string
	StartedAt time.Time
	ExpiresAt time.Time
}

// Store keeps the node rows.
type Store interface {
	// RegisterNode inserts n, or takes over the row of a dead node with the
	// same id; false: a live node holds the id.
	RegisterNode(ctx context.Context, n Node) (bool, error)
	// RenewNode moves a node's lease to expires unless it was stopped;
	// false: it was (the node is dead to everyone else).
	RenewNode(ctx context.Context, id string, at, expires time.Time) (bool, error)
	// StopNode marks a node stopped at `at`: unconditionally when
	// onlyExpired is false (a clean stop), else only if its lease ended by
	// `at` (fencing). It reports whether the node is now stopped (true also
	// for a node stopped before, or never registered).
	StopNode(ctx context.Context, id string, at time.Time, onlyExpired bool) (bool, error)
	// PurgeNodes deletes the rows of nodes stopped or expired before t.
	PurgeNodes(ctx context.Context, before time.Time) error
}

// keep is how long the row of a dead node stays (for the operator): an
// unknown id counts as dead, so purging changes no answer.
const keep = 7 * 24 * time.Hour

// Registry answers whether nodes are alive and registers this process.
type Registry struct {
	st  Store
	clk clock.Clock
}

// NewRegistry returns a registry on st; leases are timed on clk (the app
// clock, so tests move it instead of waiting).
func NewRegistry(st Store, clk clock.Clock) *Registry { return &Registry{st: st, clk: clk} }

// Alive reports whether node id holds its lease. A node whose lease ended
// is fenced by the question, so the answer "dead" is final: the node can
// no longer renew, and whatever it left may be taken over.
func (r *Registry) Alive(ctx context.Context, id string) (bool, error) {
	dead, err := r.st.StopNode(ctx, id, r.clk.Now(), true)
	return !dead, err
}

// Dead returns which of ids are dead (Alive false), fencing the expired.
func (r *Registry) Dead(ctx context.Context, ids []string) (map[string]bool, error) {
	dead := map[string]bool{}
	for _, id := range ids {
		if _, seen := dead[id]; seen {
			continue
		}
		alive, err := r.Alive(ctx, id)
		if err != nil {
			return nil, err
		}
		dead[id] = !alive
	}
	for id, d := range dead {
		if !d {
			delete(dead, id)
		}
	}
	return dead, nil
}

// LeaseConfig configures Register.
type LeaseConfig struct {
	// ID is the node's id; "" gives each incarnation a fresh UUIDv7. A
	// given id is refused while a live node holds it.
	ID string
	// Host describes the process for the operator (host name, pid).
	Host string
	// TTL and Every: DefaultTTL and DefaultEvery when 0.
	TTL, Every time.Duration
	Logger     *slog.Logger
}

// Lease is this process's registration.
type Lease struct {
	reg     *Registry
	cfg     LeaseConfig
	log     *slog.Logger
	renewMu sync.Mutex // one renewal (or registration) at a time
	mu      sync.Mutex
	id      string
	expires time.Time // by this node's clock
	held    bool
	ended   bool
}

// Register registers this process and returns its lease (Run renews it).
func (r *Registry) Register(ctx context.Context, cfg LeaseConfig) (*Lease, error) {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Every >= cfg.TTL {
		return nil, errs.Invalid("node lease", "the renewal interval must be shorter than the lease")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Lease{reg: r, cfg: cfg, log: log}
	if err := l.register(ctx); err != nil {
		return nil, err
	}
	_ = r.st.PurgeNodes(ctx, r.clk.Now().Add(-keep)) // housekeeping only
	return l, nil
}

func (l *Lease) register(ctx context.Context) error {
	id := l.cfg.ID
	if id == "" {
		id = ids.New()
	}
	now := l.reg.clk.Now()
	ok, err := l.reg.st.RegisterNode(ctx, Node{ID: id, Host: l.cfg.Host, StartedAt: now, ExpiresAt: now.Add(l.cfg.TTL)})
	if err != nil {
		return err
	}
	if !ok {
		return errs.Newf(errs.KindConflict, "node id %q is held by a live node (another process runs with the same id)", id)
	}
	l.mu.Lock()
	l.id, l.held, l.expires = id, true, now.Add(l.cfg.TTL)
	l.mu.Unlock()
	l.log.Info("node registered", "node", id, "lease", l.cfg.TTL)
	return nil
}

// ID is the node's current id (a new one after the lease was lost and
// taken again).
func (l *Lease) ID() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.id
}

// Held reports whether the node holds its lease: false once another node
// declared it dead, until Renew registers it again.
func (l *Lease) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held && !l.ended
}

// Check reports whether the node may act under its lease now. A lease that
// ran out by this node's clock is renewed first: another node may have
// declared it dead meanwhile, and then it registers again (a new id) —
// so a fenced node learns it before its next write, not at its next tick.
func (l *Lease) Check(ctx context.Context) bool {
	l.mu.Lock()
	lapsed := !l.ended && (!l.held || !l.reg.clk.Now().Before(l.expires))
	l.mu.Unlock()
	if lapsed {
		l.renewMu.Lock()
		l.mu.Lock()
		still := !l.ended && (!l.held || !l.reg.clk.Now().Before(l.expires))
		l.mu.Unlock()
		if still {
			if err := l.renew(ctx); err != nil {
				l.log.Error("renewing a lapsed node lease", "node", l.ID(), "err", err)
			}
		}
		l.renewMu.Unlock()
	}
	return l.Held()
}

// Renew extends the lease once. A lease another node fenced is not
// extended: the node registers again (a fresh id, or its given id), and
// what it left under the old id is the others' to recover.
func (l *Lease) Renew(ctx context.Context) error {
	l.renewMu.Lock()
	defer l.renewMu.Unlock()
	return l.renew(ctx)
}

func (l *Lease) renew(ctx context.Context) error {
	l.mu.Lock()
	id, held, ended := l.id, l.held, l.ended
	l.mu.Unlock()
	if ended {
		return nil
	}
	if held {
		now := l.reg.clk.Now()
		ok, err := l.reg.st.RenewNode(ctx, id, now, now.Add(l.cfg.TTL))
		if err != nil {
			return err
		}
		l.mu.Lock()
		if ok {
			l.expires = now.Add(l.cfg.TTL)
		} else {
			l.held = false
		}
		l.mu.Unlock()
		if ok {
			return nil
		}
		l.log.Error("node lease lost: another node declared this one dead (it did not renew in time); registering again",
			"node", id)
	}
	return l.register(ctx)
}

// Run renews the lease every Every until ctx is done.
func (l *Lease) Run(ctx context.Context) {
	t := time.NewTicker(l.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := l.Renew(ctx); err != nil && ctx.Err() == nil {
			l.log.Error("renewing the node lease", "node", l.ID(), "err", err)
		}
	}
}

// Stop deregisters the node (a clean stop): it is dead at once, and what it
// left may be recovered without waiting for the lease to run out.
func (l *Lease) Stop(ctx context.Context) error {
	l.mu.Lock()
	id := l.id
	l.ended = true
	l.mu.Unlock()
	_, err := l.reg.st.StopNode(ctx, id, l.reg.clk.Now(), false)
	return err
}
