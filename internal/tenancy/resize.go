package tenancy

import (
	"context"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// ResizePartnerTx changes a partner's allocation by delta bytes (negative
// shrinks it) inside the caller's transaction tx, taking the bytes from its
// contract or returning them to it, with UpdatePartner's checks: the
// contract must have them free, and a partner with an allocation keeps at
// least its strict storage accounts' sum (both CapacityExceeded, field
// allocatedCapacity). It exists for callers that change a partner's
// capacity together with other rows in one transaction (the BSS service
// manager); delta 0 locks the partner and changes nothing.
func (s *Service) ResizePartnerTx(ctx context.Context, tx Store, a actor.Actor, partnerID string, delta int64) (Org, error) {
	if err := partnerWriter(a); err != nil {
		return Org{}, err
	}
	p, err := s.partner(ctx, tx, a, partnerID, true)
	if err != nil || delta == 0 {
		return p, err
	}
	now := s.now()
	if err := s.setAllocation(ctx, tx, &p, p.AllocatedCapacity+delta, now); err != nil {
		return Org{}, err
	}
	p.UpdatedAt = now
	if err := tx.UpdateOrg(ctx, p); err != nil {
		return Org{}, err
	}
	return p, tx.AppendAudit(ctx, audit.New(a, now, "partner.update", "partner", p.ID, p.Path,
		fmt.Sprintf("name=%q allocatedCapacity=%d", p.Name, p.AllocatedCapacity)))
}

// setAllocation moves the locked partner p to want bytes: the difference
// comes from (or goes back to) its contract, and the new allocation must
// cover the partner's strict storage accounts unless it is 0 (pay-per-use).
// p.AllocatedCapacity is want on success.
func (s *Service) setAllocation(ctx context.Context, tx Store, p *Org, want int64, now time.Time) error {
	if err := validate.Capacity("allocatedCapacity", want); err != nil {
		return err
	}
	c, err := tx.GetContract(ctx, "/", p.ContractID)
	if err != nil {
		return err
	}
	// Partner (locked by the caller), then contract: every writer locks in
	// this order, so PostgreSQL sees no deadlocks.
	if err := s.allocate(ctx, tx, c, want-p.AllocatedCapacity); err != nil {
		return err
	}
	ok, err := tx.SetPartnerAllocation(ctx, p.ID, want, now)
	if err != nil {
		return err
	}
	if !ok {
		cur, err := tx.GetOrg(ctx, "/", p.ID)
		if err != nil {
			return err
		}
		return &errs.Error{Kind: errs.KindCapacityExceeded, Field: "allocatedCapacity",
			Msg: fmt.Sprintf("cannot be less than the %d bytes allocated to the partner's storage accounts (0 for pay-per-use is allowed)", cur.AccountsAllocated)}
	}
	p.AllocatedCapacity = want
	return nil
}
