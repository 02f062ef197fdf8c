package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/trellis-cloud/trellis/internal/nodes"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// StartNode registers this process in the node registry (a fresh id, or
// Config.NodeID) and renews its lease until Close, which deregisters it.
// What a node leaves behind (S3 reservations) is taken over by the others
// only once the registry says it is dead.
func (a *App) StartNode(ctx context.Context) error {
	if a.Node != nil {
		return nil
	}
	reg := nodes.NewRegistry(sqlstore.Nodes{Store: a.Store}, a.cfg.Clock)
	host, _ := os.Hostname()
	lease, err := reg.Register(ctx, nodes.LeaseConfig{ID: a.cfg.NodeID, Host: fmt.Sprintf("%s pid %d", host, os.Getpid()),
		Logger: a.cfg.Logger})
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		lease.Run(lctx)
	}()
	a.Node, a.Nodes = lease, reg
	a.stopNode = func() {
		cancel()
		<-done
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := lease.Stop(sctx); err != nil {
			a.cfg.Logger.Warn("deregistering the node", "node", lease.ID(), "err", err)
		}
	}
	return nil
}

// leaveNodes stops renewing the lease and deregisters the node.
func (a *App) leaveNodes() {
	if a.stopNode != nil {
		a.stopNode()
		a.stopNode, a.Node = nil, nil
	}
}
