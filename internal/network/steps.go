package network

import (
	"context"
	"fmt"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// RunNetworkStep runs a network's provider step (the NetworkStep worker,
// and inline after the request when the provider has no delay). A network
// already past the step (active, or deleted) makes it a no-op; a provider
// failure marks the network "error" and returns the error so the job runs
// again.
func (s *Service) RunNetworkStep(ctx context.Context, args NetworkStep) error {
	switch args.Op {
	case OpDelete:
		return s.provider.DeleteNetwork(ctx, args.NetworkUUID)
	case OpCreate:
	default:
		return fmt.Errorf("network: unknown network step %q", args.Op)
	}
	n, err := s.store.GetNetwork(ctx, "", args.NetworkUUID)
	if errs.Is(err, errs.KindNotFound) {
		return nil // deleted meanwhile: its delete step removes it
	}
	if err != nil {
		return err
	}
	if n.State == StateActive {
		return nil
	}
	perr := s.provider.CreateNetwork(ctx, n)
	state := StateActive
	if perr != nil {
		state = StateError
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		cur, err := tx.LockNetwork(ctx, n.UUID)
		if errs.Is(err, errs.KindNotFound) {
			return nil
		}
		if err != nil || cur.State == StateActive || cur.State == state {
			return err
		}
		cur.State = state
		return tx.UpdateNetwork(ctx, cur)
	})
	if perr != nil {
		return fmt.Errorf("network %s: create: %w", n.UUID, perr)
	}
	return err
}

// RunLBStep runs a load balancer's provider step (the LBStep worker, and
// inline after a change when the provider has no delay). Apply sends the
// whole current configuration and records the version it applied, so an
// older job finding a newer version applied does nothing; a provider
// failure marks the load balancer "error" and returns the error so the job
// runs again.
func (s *Service) RunLBStep(ctx context.Context, args LBStep) error {
	switch args.Op {
	case OpDelete:
		return s.provider.DeleteLB(ctx, args.LBUUID)
	case OpApply:
	default:
		return fmt.Errorf("network: unknown load balancer step %q", args.Op)
	}
	lb, err := s.store.GetLB(ctx, "", args.LBUUID)
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if lb.AppliedVersion >= lb.Version {
		return nil
	}
	perr := s.provider.ApplyLB(ctx, lb)
	err = s.store.Tx(ctx, func(tx Store) error {
		cur, err := tx.LockLB(ctx, lb.UUID)
		if errs.Is(err, errs.KindNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case perr != nil && cur.Version == lb.Version:
			cur.State = StateError
		case perr != nil:
			return nil // a newer version is pending; its own step applies it
		case cur.AppliedVersion < lb.Version:
			cur.AppliedVersion = lb.Version
			if cur.Version == lb.Version {
				cur.State = StateActive
			}
		default:
			return nil
		}
		return tx.UpdateLB(ctx, cur)
	})
	if perr != nil {
		return fmt.Errorf("load balancer %s: apply: %w", lb.UUID, perr)
	}
	return err
}
