package network

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// SegmentQueries is the usage-segment persistence network bills through.
type SegmentQueries = metering.SegmentQueries

// billUsage records that from at on resourceID is billed as seg (nil: not
// billed), in the caller's transaction.
func billUsage(ctx context.Context, tx Queries, at time.Time, resourceID string, seg *metering.Segment) error {
	if seg == nil {
		return metering.SetUsageTx(ctx, tx, at, resourceID)
	}
	return metering.SetUsageTx(ctx, tx, at, resourceID, *seg)
}

// fipUsage is the usage of a floating IP in its current state: billed as
// an unassigned floating IP while reserved and not assigned.
func fipUsage(f FloatingIP) *metering.Segment {
	if !f.Billed() {
		return nil
	}
	return &metering.Segment{Meter: pricing.MeterFloatingIP, BillingAccountID: f.BillingAccountID, LocationSlug: f.Location,
		OwnerUUID: f.UUID, UserID: f.UserID, Config: pricing.Config{Name: f.Address}}
}

// lbUsage is the usage of a load balancer.
func lbUsage(lb LoadBalancer) *metering.Segment {
	name := lb.DisplayName
	if name == "" {
		name = "Load balancer " + lb.PrivateAddress
	}
	return &metering.Segment{Meter: pricing.MeterLoadBalancer, BillingAccountID: lb.BillingAccountID, LocationSlug: lb.Location,
		OwnerUUID: lb.UUID, UserID: lb.UserID, Config: pricing.Config{Name: name}}
}
