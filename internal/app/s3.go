package app

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/versity/versitygw/backend"

	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/nodelock"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// ReconcileEvery is how often the S3 counters are compared with a walk of
// the stored objects.
const ReconcileEvery = 6 * time.Hour

// StartS3 starts the embedded S3 server when Config.S3Addr is set: it
// registers the node (StartNode), opens the object store (Config.S3Upstream's
// S3, Config.S3Backend, or the posix store under the data dir), settles what
// dead nodes left in flight, and serves. Serve and Close stop it.
func (a *App) StartS3(ctx context.Context) error {
	if a.cfg.S3Addr == "" || a.S3 != nil {
		return nil
	}
	if err := a.StartNode(ctx); err != nil {
		return err
	}
	var be backend.Backend
	switch {
	case a.cfg.S3Upstream.URL != "":
		up, err := s3gw.OpenUpstream(ctx, a.cfg.S3Upstream)
		if err != nil {
			return err
		}
		be = up
	case a.cfg.S3Backend != nil:
		be = a.cfg.S3Backend
	default:
		pb, err := s3gw.OpenBackend(s3gw.Dirs(a.cfg.DataDir))
		if err != nil {
			return fmt.Errorf("s3: %w", err)
		}
		be = pb
	}
	srv, err := s3gw.New(s3gw.Config{Addr: a.cfg.S3Addr, Region: a.cfg.S3Region, VirtualHostDomain: a.cfg.S3Domain,
		Backend: be, Keys: a.Objstore, Buckets: a.Buckets, Node: a.Node, Nodes: a.Nodes, Locks: a.s3Locks(),
		Logger: a.cfg.Logger, Registerer: a.Registry, Clock: a.cfg.Clock})
	if err != nil {
		return err
	}
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("s3: %w", err)
	}
	a.S3 = srv
	a.s3.run(srv)
	return nil
}

// stopS3 stops the S3 server, letting requests in flight finish.
func (a *App) stopS3(ctx context.Context) error {
	if a.S3 == nil {
		return nil
	}
	a.s3.run(nil)
	err := a.S3.Stop(ctx)
	a.S3 = nil
	return err
}

// s3Plane is this node's S3 slot: the S3 server from the moment it serves
// until it stops. The server is built after the app (it needs the bucket
// accounting and the node's lease, and may not run at all), so buckets and
// objstore are built on the slot, not on the server, and ask it at each
// call; that is the run-time fact "is an S3 server running here", not a
// dependency set after construction.
type s3Plane struct{ srv atomic.Pointer[s3gw.Server] }

var (
	_ buckets.DataPlane  = (*s3Plane)(nil)
	_ objstore.DataPlane = (*s3Plane)(nil)
)

// run records the server now serving (nil: none).
func (p *s3Plane) run(srv *s3gw.Server) { p.srv.Store(srv) }

// Provider implements buckets.DataPlane.
func (p *s3Plane) Provider() (buckets.Provider, bool) {
	if srv := p.srv.Load(); srv != nil {
		return srv, true
	}
	return nil, false
}

// S3URL implements objstore.DataPlane.
func (p *s3Plane) S3URL() string {
	if srv := p.srv.Load(); srv != nil {
		return srv.URL()
	}
	return ""
}

// KeyRevoked implements objstore.DataPlane: the running server drops the
// key from its cache.
func (p *s3Plane) KeyRevoked(accessKey string) {
	if srv := p.srv.Load(); srv != nil {
		srv.InvalidateKey(accessKey)
	}
}

func (a *App) s3Region() string {
	if a.cfg.S3Region != "" {
		return a.cfg.S3Region
	}
	return s3gw.DefaultRegion
}

// s3Locks is the S3 writes' lock across nodes: on PostgreSQL, which several
// nodes may share (over one upstream S3 or one posix folder). SQLite is one
// node's database (one writer, a local file), so the in-process locks
// already order every write to the store, and a database lock would only
// add two writes on SQLite's single writer per S3 write.
func (a *App) s3Locks() s3gw.ClusterLocks {
	if a.DB.Dialect().Name() != "postgres" {
		return nil
	}
	return nodelock.New(nodelock.Config{Store: sqlstore.NodeLocks{Store: a.Store}, Node: a.Node, Nodes: a.Nodes,
		Clock: a.cfg.Clock, Logger: a.cfg.Logger})
}
