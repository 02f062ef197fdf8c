package services

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// Billing: the usage segments of a package, and the resources an account still has.

// segments are how a package's resources are billed while it is active.
func segments(p Package, r Resource) []metering.Segment {
	seg := metering.Segment{BillingAccountID: p.BillingAccountID, LocationSlug: p.Location, OwnerUUID: r.ID,
		UserID: p.UserID}
	switch r.Type {
	case ResourceVM:
		disk := r.DiskGB
		seg.Meter = pricing.MeterVM
		seg.Config = pricing.Config{VMName: vmName(p), CPUs: r.VCPU, RAMMB: r.MemoryMB, DiskGB: &disk,
			Status: VMRunning, Service: p.Service}
	case ResourceVirtualIP:
		seg.Meter = pricing.MeterFloatingIP
		seg.Config = pricing.Config{Name: r.Address, Service: p.Service}
	default:
		return nil
	}
	return []metering.Segment{seg}
}

// billTx (re)starts the billing of an active package's resources at at.
func (s *Service) billTx(ctx context.Context, tx Queries, p Package, at time.Time) error {
	for _, r := range p.Resources {
		if err := metering.SetUsageTx(ctx, tx, at, r.ID, segments(p, r)...); err != nil {
			return err
		}
	}
	return nil
}

// unbillTx stops the billing of a package's resources at at.
func (s *Service) unbillTx(ctx context.Context, tx Queries, p Package, at time.Time) error {
	for _, r := range p.Resources {
		if err := metering.SetUsageTx(ctx, tx, at, r.ID); err != nil {
			return err
		}
	}
	return nil
}

// ActiveResources counts the packages billed to an account (billing's
// ResourceCounter: an account with any cannot be deleted).
func (s *Service) ActiveResources(ctx context.Context, billingAccountID int64) (int, error) {
	return s.store.CountActiveServicePackages(ctx, billingAccountID)
}

// ResourceCounter counts an account's live services resources through
// billing's transaction (billing.ResourceCounter, the guard of an account's
// deletion). It reads only that transaction, so billing is built with it
// before this service, which needs billing.
type ResourceCounter struct{}

// ActiveResourcesTx is ActiveResources read through billing's transaction
// tx (billing.ResourceCounter: the guard of an account's deletion).
func (ResourceCounter) ActiveResourcesTx(ctx context.Context, tx billing.Store, billingAccountID int64) (int, error) {
	q, ok := tx.(Queries)
	if !ok {
		return 0, errs.Newf(errs.KindInternal, "services: the billing transaction (%T) has no services queries", tx)
	}
	return q.CountActiveServicePackages(ctx, billingAccountID)
}
