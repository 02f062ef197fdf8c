package network

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// CounterFloatingIP numbers floating IPs.
const CounterFloatingIP = "floating_ip"

// maxClaimAttempts bounds the claim loop of one reservation. Every failed
// attempt means another transaction took the candidate, so the loop ends
// long before this under any real contention.
const maxClaimAttempts = 10000

// poolExhausted is the error of a reservation from an empty pool.
func poolExhausted(field, location string) error {
	return &errs.Error{Kind: errs.KindCapacityExceeded, Field: field,
		Msg: fmt.Sprintf("pool exhausted: location %s has no free public IPv4 address", location)}
}

// claimTx takes a free address of the location's pool for fipUUID inside
// the transaction. Candidates are found from a random point of the pool
// (then from its start), so concurrent reservations rarely go for the same
// row; the claim itself is a conditional update ("… WHERE it is still
// free"), so of two transactions racing for one address exactly one gets
// it (on PostgreSQL the other waits for its commit and then sees it taken;
// SQLite has one writer). Only when the pool has no free address left is
// the pool exhausted.
func (s *Service) claimTx(ctx context.Context, tx Queries, location, fipUUID, field string) (string, error) {
	ranges, err := tx.ListPoolRanges(ctx, location)
	if err != nil {
		return "", err
	}
	if len(ranges) == 0 {
		return "", poolExhausted(field, location)
	}
	for attempt := 0; attempt < maxClaimAttempts; attempt++ {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		start := int64(0)
		if r := ranges[rand.IntN(len(ranges))]; attempt%2 == 0 && r.MaxNum >= r.MinNum && r.Size > 0 {
			start = r.MinNum + rand.Int64N(r.MaxNum-r.MinNum+1)
		}
		addr, ok, err := tx.ClaimPoolAddress(ctx, location, start, fipUUID)
		if err != nil {
			return "", err
		}
		if ok {
			return addr, nil
		}
		if start > 0 {
			continue // nothing free above start: try from the pool's start
		}
		free, err := tx.CountFreePoolAddresses(ctx, location)
		if err != nil {
			return "", err
		}
		if free == 0 {
			return "", poolExhausted(field, location)
		}
	}
	return "", errs.Newf(errs.KindUnavailable, "could not reserve an address in location %s; try again", location)
}

// reserveTx reserves a floating IP: an address claimed from the pool and
// its row, billed as unassigned unless assign says otherwise. The caller
// has admitted the billing account.
func (s *Service) reserveTx(ctx context.Context, tx Queries, a actor.Actor, o owner, accountID int64, location, name, field string,
	assign func(*FloatingIP)) (FloatingIP, error) {
	uuid := ids.New()
	addr, err := s.claimTx(ctx, tx, location, uuid, field)
	if err != nil {
		return FloatingIP{}, err
	}
	id, err := tx.NextNumber(ctx, CounterFloatingIP)
	if err != nil {
		return FloatingIP{}, err
	}
	now := s.now()
	f := FloatingIP{ID: id, UUID: uuid, Address: addr, Location: location, OrgID: o.OrgID, OrgPath: o.OrgPath,
		UserID: o.UserID, BillingAccountID: accountID, Name: name, Enabled: true, CreatedAt: now, UpdatedAt: now}
	if assign != nil {
		assign(&f)
	}
	if err := tx.InsertFloatingIP(ctx, f); err != nil {
		return FloatingIP{}, err
	}
	if err := billUsage(ctx, tx, now, f.UUID, fipUsage(f)); err != nil {
		return FloatingIP{}, err
	}
	detail := fmt.Sprintf("%s account %d", addr, accountID)
	if f.Assigned() {
		detail += " assigned to " + f.AssignedType + " " + f.AssignedTo
	}
	return f, tx.AppendAudit(ctx, audit.New(a, now, "floating_ip.create", "floating_ip", f.UUID, o.OrgPath, detail))
}

// CreateFloatingIP reserves a public address of the location (ID-53). The
// billing account is required with a global token and defaults to the
// token's with a restricted one; it must admit new resources.
func (s *Service) CreateFloatingIP(ctx context.Context, a actor.Actor, in CreateFloatingIP) (FloatingIP, error) {
	if err := in.Validate(); err != nil {
		return FloatingIP{}, err
	}
	var out FloatingIP
	err := s.store.Tx(ctx, func(tx Store) error {
		acct, o, err := s.admittedOwnerTx(ctx, tx, a, in.BillingAccountID)
		if err != nil {
			return err
		}
		out, err = s.reserveTx(ctx, tx, a, o, acct.ID, in.Location, in.Name, "", nil)
		return err
	})
	return out, err
}

// ListFloatingIPs returns the caller's floating IPs in a location by id
// (ID-54); a restricted token sees its account's only.
func (s *Service) ListFloatingIPs(ctx context.Context, a actor.Actor, location string, f FloatingIPFilter) ([]FloatingIP, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	q := FloatingIPQuery{OrgID: a.OrgID, Location: location, BillingAccountID: f.BillingAccountID}
	if f.BillingAccountID != 0 {
		acct, err := s.accounts.ResolveAccountTx(ctx, s.store, a, f.BillingAccountID)
		if err != nil {
			return nil, err
		}
		q.BillingAccountID = acct.ID
	} else if a.BillingAccount != 0 {
		q.BillingAccountID = a.BillingAccount
	}
	if f.VMUUID != "" {
		id, ok := normUUID(f.VMUUID)
		if !ok {
			return nil, errs.Invalid("vm_uuid", "must be a UUID")
		}
		q.AssignedTo = id
	}
	return s.store.ListFloatingIPs(ctx, q)
}

// floatingIP finds the caller's floating IP by address in a location.
func (s *Service) floatingIP(ctx context.Context, q Queries, a actor.Actor, location, address string) (FloatingIP, error) {
	addr, ok := canonicalIPv4(strings.TrimSpace(address))
	notFound := &errs.Error{Kind: errs.KindNotFound, Field: "public_ipv4_address", Msg: "no such floating IP: " + address}
	if !ok {
		return FloatingIP{}, notFound
	}
	f, err := q.GetFloatingIP(ctx, a.OrgID, addr)
	if errs.Is(err, errs.KindNotFound) || (err == nil && location != "" && f.Location != location) {
		return FloatingIP{}, notFound
	}
	if err != nil {
		return FloatingIP{}, err
	}
	return f, restricted(a, f.BillingAccountID)
}

// lockedFloatingIP is floatingIP with the row lock taken.
func (s *Service) lockedFloatingIP(ctx context.Context, tx Queries, a actor.Actor, location, address string) (FloatingIP, error) {
	f, err := s.floatingIP(ctx, tx, a, location, address)
	if err != nil {
		return FloatingIP{}, err
	}
	return tx.LockFloatingIP(ctx, f.UUID)
}

// GetFloatingIP returns a floating IP by address (ID-55).
func (s *Service) GetFloatingIP(ctx context.Context, a actor.Actor, location, address string) (FloatingIP, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return FloatingIP{}, err
	}
	return s.floatingIP(ctx, s.store, a, location, address)
}

// serviceManaged refuses user changes to a managed service's virtual IP.
func serviceManaged(f FloatingIP) error {
	if f.AssignedType == AssignedService {
		return &errs.Error{Kind: errs.KindPrecondition, Field: "public_ipv4_address",
			Msg: "the address is the virtual IP of a managed service; it changes with the service"}
	}
	return nil
}

// UpdateFloatingIP renames a floating IP or moves it to another billing
// account (ID-56).
func (s *Service) UpdateFloatingIP(ctx context.Context, a actor.Actor, location, address string, in UpdateFloatingIP) (FloatingIP, error) {
	if err := a.Require(actor.Staff); err != nil {
		return FloatingIP{}, err
	}
	if err := in.Validate(); err != nil {
		return FloatingIP{}, err
	}
	var out FloatingIP
	err := s.store.Tx(ctx, func(tx Store) error {
		f, err := s.lockedFloatingIP(ctx, tx, a, location, address)
		if err != nil {
			return err
		}
		now := s.now()
		var changes []string
		if in.Name != nil && *in.Name != f.Name {
			f.Name = *in.Name
			changes = append(changes, "name="+f.Name)
		}
		if in.BillingAccountID != nil && *in.BillingAccountID != f.BillingAccountID {
			acct, err := s.accounts.ResolveAccountTx(ctx, tx, a, *in.BillingAccountID)
			if err != nil {
				return err
			}
			if acct.DeletedAt != nil {
				return &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id", Msg: "the billing account is deleted"}
			}
			f.BillingAccountID = acct.ID
			changes = append(changes, fmt.Sprintf("billing_account_id=%d", acct.ID))
			if err := billUsage(ctx, tx, now, f.UUID, fipUsage(f)); err != nil {
				return err
			}
		}
		out = f
		if len(changes) == 0 {
			return nil
		}
		f.UpdatedAt = now
		out = f
		if err := tx.UpdateFloatingIP(ctx, f); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "floating_ip.update", "floating_ip", f.UUID, f.OrgPath, strings.Join(changes, " ")))
	})
	return out, err
}

// releaseTx deletes a floating IP and returns its address to the pool.
func (s *Service) releaseTx(ctx context.Context, tx Queries, a actor.Actor, f FloatingIP) error {
	now := s.now()
	if err := tx.DeleteFloatingIP(ctx, f.UUID); err != nil {
		return err
	}
	if err := tx.ReleasePoolAddress(ctx, f.Address, f.UUID); err != nil {
		return err
	}
	if err := billUsage(ctx, tx, now, f.UUID, nil); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, audit.New(a, now, "floating_ip.delete", "floating_ip", f.UUID, f.OrgPath, f.Address))
}

// DeleteFloatingIP releases a floating IP (ID-57): it is unassigned if
// needed and its address returns to the pool.
func (s *Service) DeleteFloatingIP(ctx context.Context, a actor.Actor, location, address string) error {
	if err := a.Require(actor.Staff); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		f, err := s.lockedFloatingIP(ctx, tx, a, location, address)
		if err != nil {
			return err
		}
		if err := serviceManaged(f); err != nil {
			return err
		}
		return s.releaseTx(ctx, tx, a, f)
	})
}

// AssignFloatingIP assigns a floating IP to one of the user's VMs in the
// same location (ID-58); an address assigned elsewhere moves. An assigned
// address is not billed as a floating IP.
func (s *Service) AssignFloatingIP(ctx context.Context, a actor.Actor, location, address, vmUUID string) (FloatingIP, error) {
	if err := a.Require(actor.Staff); err != nil {
		return FloatingIP{}, err
	}
	vm, ok := normUUID(vmUUID)
	if !ok {
		return FloatingIP{}, errs.Invalid("vm_uuid", "must be a UUID")
	}
	var out FloatingIP
	err := s.store.Tx(ctx, func(tx Store) error {
		f, err := s.lockedFloatingIP(ctx, tx, a, location, address)
		if err != nil {
			return err
		}
		if err := serviceManaged(f); err != nil {
			return err
		}
		if f.AssignedType == AssignedLoadBalancer {
			return &errs.Error{Kind: errs.KindPrecondition, Field: "public_ipv4_address",
				Msg: "the address is the public address of load balancer " + f.AssignedTo}
		}
		iface, err := tx.GetVMInterface(ctx, vm)
		if err == nil && (iface.OrgID != f.OrgID || iface.Location != f.Location) {
			err = errs.NotFound("vm")
		}
		if errs.Is(err, errs.KindNotFound) {
			return &errs.Error{Kind: errs.KindNotFound, Field: "vm_uuid", Msg: "no such virtual machine exists. " + vm}
		}
		if err != nil {
			return err
		}
		if f.AssignedTo == vm {
			out = f
			return nil
		}
		now := s.now()
		f.AssignedTo, f.AssignedType, f.AssignedPrivateIP, f.UpdatedAt = vm, AssignedVM, iface.PrivateIPv4, now
		if err := tx.UpdateFloatingIP(ctx, f); err != nil {
			return err
		}
		if err := billUsage(ctx, tx, now, f.UUID, nil); err != nil {
			return err
		}
		out = f
		return tx.AppendAudit(ctx, audit.New(a, now, "floating_ip.assign", "floating_ip", f.UUID, f.OrgPath, f.Address+" to "+vm))
	})
	return out, err
}

// UnassignFloatingIP unassigns a floating IP (ID-59): it stays reserved and
// is billed as unassigned from now on.
func (s *Service) UnassignFloatingIP(ctx context.Context, a actor.Actor, location, address string) (FloatingIP, error) {
	if err := a.Require(actor.Staff); err != nil {
		return FloatingIP{}, err
	}
	var out FloatingIP
	err := s.store.Tx(ctx, func(tx Store) error {
		f, err := s.lockedFloatingIP(ctx, tx, a, location, address)
		if err != nil {
			return err
		}
		if err := serviceManaged(f); err != nil {
			return err
		}
		if !f.Assigned() {
			out = f
			return nil
		}
		if f.AssignedType == AssignedLoadBalancer {
			if err := s.unlinkLBAddressTx(ctx, tx, f.AssignedTo); err != nil {
				return err
			}
		}
		out, err = s.unassignTx(ctx, tx, a, f)
		return err
	})
	return out, err
}

// unassignTx clears an assignment: the address stays reserved, billed as
// unassigned.
func (s *Service) unassignTx(ctx context.Context, tx Queries, a actor.Actor, f FloatingIP) (FloatingIP, error) {
	now := s.now()
	from := f.AssignedTo
	f.AssignedTo, f.AssignedType, f.AssignedPrivateIP, f.UpdatedAt = "", "", "", now
	t := now
	f.UnassignedAt = &t
	if err := tx.UpdateFloatingIP(ctx, f); err != nil {
		return FloatingIP{}, err
	}
	if err := billUsage(ctx, tx, now, f.UUID, fipUsage(f)); err != nil {
		return FloatingIP{}, err
	}
	return f, tx.AppendAudit(ctx, audit.New(a, now, "floating_ip.unassign", "floating_ip", f.UUID, f.OrgPath, f.Address+" from "+from))
}
