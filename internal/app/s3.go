package app

import (
	"context"
	"fmt"
	"time"

	"github.com/versity/versitygw/backend"

	"github.com/trellis-cloud/trellis/internal/nodelock"
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
	a.Buckets.SetProvider(srv)
	a.Objstore.OnKeyRevoked(srv.InvalidateKey)
	return nil
}

// stopS3 stops the S3 server, letting requests in flight finish.
func (a *App) stopS3(ctx context.Context) error {
	if a.S3 == nil {
		return nil
	}
	err := a.S3.Stop(ctx)
	a.S3 = nil
	return err
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
