package network

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// The contract of compute and services: every method runs inside the
// caller's transaction (their Queries embed network.Queries), so a VM and
// its addresses commit or roll back together. They take no actor: the
// caller has authorised the request; audit rows name the system actor with
// the request's org path.

// CounterMAC numbers MAC addresses.
const CounterMAC = "mac"

// AttachVMTx attaches a VM to a private network: the named one (unknown or
// another user's → NotFound naming network_uuid) or the user's default
// network in the location, created as "Default network" when the user has
// none. The VM gets the lowest free address of the subnet, a new MAC and the
// EUI-64 IPv6 address of its MAC in the network's /64. Attaching an
// attached VM returns its address (idempotent).
func (s *Service) AttachVMTx(ctx context.Context, tx Queries, in AttachVM) (VMAddress, error) {
	vm, ok := normUUID(in.VMUUID)
	if !ok {
		return VMAddress{}, errs.Invalid("uuid", "must be a UUID")
	}
	if have, err := tx.GetVMInterface(ctx, vm); err == nil {
		return VMAddress{NetworkUUID: have.NetworkUUID, PrivateIPv4: have.PrivateIPv4, MAC: have.MAC, PublicIPv6: have.IPv6}, nil
	} else if !errs.Is(err, errs.KindNotFound) {
		return VMAddress{}, err
	}
	o, err := ownerByOrg(ctx, tx, in.OrgID, in.UserID)
	if err != nil {
		return VMAddress{}, err
	}
	a := systemFor(ctx)
	n, err := s.networkForTx(ctx, tx, a, o, in.Location, in.NetworkUUID)
	if err != nil {
		return VMAddress{}, err
	}
	addr, err := s.addressTx(ctx, tx, n, "vm", vm, "network_uuid")
	if err != nil {
		return VMAddress{}, err
	}
	macN, err := tx.NextNumber(ctx, CounterMAC)
	if err != nil {
		return VMAddress{}, err
	}
	mac := macAt(macN)
	v6p, err := netip.ParsePrefix(n.SubnetIPv6)
	if err != nil {
		return VMAddress{}, errs.Wrap(errs.KindInternal, err, "bad IPv6 subnet")
	}
	v6, err := eui64(v6p, mac)
	if err != nil {
		return VMAddress{}, errs.Wrap(errs.KindInternal, err, "bad MAC")
	}
	now := s.now()
	iface := VMInterface{VMUUID: vm, NetworkUUID: n.UUID, OrgID: o.OrgID, UserID: o.UserID, Location: in.Location,
		PrivateIPv4: addr, MAC: mac, IPv6: v6.String(), CreatedAt: now}
	if err := tx.InsertVMInterface(ctx, iface); err != nil {
		return VMAddress{}, err
	}
	if err := tx.AppendAudit(ctx, audit.New(a, now, "network.attach_vm", "network", n.UUID, o.OrgPath,
		fmt.Sprintf("vm %s %s %s", vm, addr, mac))); err != nil {
		return VMAddress{}, err
	}
	return VMAddress{NetworkUUID: n.UUID, PrivateIPv4: addr, MAC: mac, PublicIPv6: iface.IPv6}, nil
}

// systemFor is the actor of contract calls.
func systemFor(context.Context) actor.Actor { return actor.System("") }

// DetachVMTx detaches a deleted VM: its private address is freed, its
// floating IPs become unassigned (they stay reserved and are billed as
// unassigned from now on), and it stops being a target of load balancers
// (which are re-applied). Detaching a detached VM does nothing.
func (s *Service) DetachVMTx(ctx context.Context, tx Queries, vmUUID string) error {
	vm, ok := normUUID(vmUUID)
	if !ok {
		return nil
	}
	a := systemFor(ctx)
	if err := s.UnassignVMPublicIPsTx(ctx, tx, vm); err != nil {
		return err
	}
	lbs, err := tx.LBsTargeting(ctx, vm)
	if err != nil {
		return err
	}
	for _, id := range lbs {
		lb, err := tx.LockLB(ctx, id)
		if err != nil {
			return err
		}
		if _, err := tx.DeleteLBTarget(ctx, id, vm); err != nil {
			return err
		}
		if err := s.bumpLBTx(ctx, tx, &lb, false); err != nil {
			return err
		}
	}
	iface, err := tx.GetVMInterface(ctx, vm)
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	n, err := tx.LockNetwork(ctx, iface.NetworkUUID)
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		return err
	}
	if err := tx.DeleteVMInterface(ctx, vm); err != nil {
		return err
	}
	if err := tx.ReleaseNetworkAddress(ctx, iface.NetworkUUID, iface.PrivateIPv4); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, audit.New(a, s.now(), "network.detach_vm", "network", iface.NetworkUUID, n.OrgPath,
		fmt.Sprintf("vm %s %s", vm, iface.PrivateIPv4)))
}

// ReservePublicIPForVMTx reserves an address of the location's pool and
// assigns it to the VM (VM create with reserve_public_ip; the deprecated
// VM-level reserve). The VM must be attached (AttachVMTx) first. An empty
// pool is a CapacityExceeded error naming reserve_public_ip ("pool
// exhausted"). The account is the caller's to admit.
func (s *Service) ReservePublicIPForVMTx(ctx context.Context, tx Queries, in ReserveForVM) (FloatingIP, error) {
	vm, ok := normUUID(in.VMUUID)
	if !ok {
		return FloatingIP{}, errs.Invalid("uuid", "must be a UUID")
	}
	iface, err := tx.GetVMInterface(ctx, vm)
	if errs.Is(err, errs.KindNotFound) {
		return FloatingIP{}, errs.Newf(errs.KindPrecondition, "virtual machine %s has no network interface", vm)
	}
	if err != nil {
		return FloatingIP{}, err
	}
	o, err := ownerByOrg(ctx, tx, in.OrgID, in.UserID)
	if err != nil {
		return FloatingIP{}, err
	}
	return s.reserveTx(ctx, tx, systemFor(ctx), o, in.BillingAccountID, in.Location, "", "reserve_public_ip", func(f *FloatingIP) {
		f.AssignedTo, f.AssignedType, f.AssignedPrivateIP = vm, AssignedVM, iface.PrivateIPv4
	})
}

// UnassignVMPublicIPsTx unassigns every floating IP of a VM (deprecated
// VM-level release, VM delete): they stay reserved, billed as unassigned.
func (s *Service) UnassignVMPublicIPsTx(ctx context.Context, tx Queries, vmUUID string) error {
	vm, ok := normUUID(vmUUID)
	if !ok {
		return nil
	}
	fips, err := tx.ListFloatingIPs(ctx, FloatingIPQuery{AssignedTo: vm})
	if err != nil {
		return err
	}
	for _, f := range fips {
		f, err := tx.LockFloatingIP(ctx, f.UUID)
		if err != nil {
			return err
		}
		if f.AssignedTo != vm {
			continue
		}
		if _, err := s.unassignTx(ctx, tx, systemFor(ctx), f); err != nil {
			return err
		}
	}
	return nil
}

// VMPublicIPv4 returns the first public address assigned to a VM ("" for
// none), for VM objects.
func (s *Service) VMPublicIPv4(ctx context.Context, q Queries, vmUUID string) (string, error) {
	vm, ok := normUUID(vmUUID)
	if !ok {
		return "", nil
	}
	fips, err := q.ListFloatingIPs(ctx, FloatingIPQuery{AssignedTo: vm})
	if err != nil || len(fips) == 0 {
		return "", err
	}
	return fips[0].Address, nil
}

// VMPublicIPv4s is VMPublicIPv4 for many VMs at once (VM lists): the
// address of each VM that has one.
func (s *Service) VMPublicIPv4s(ctx context.Context, q Queries, vmUUIDs []string) (map[string]string, error) {
	if len(vmUUIDs) == 0 {
		return map[string]string{}, nil
	}
	return q.AssignedAddresses(ctx, vmUUIDs)
}

// ReserveServiceIPTx reserves a managed service's virtual IP from the
// location's pool, assigned to the service (assigned_to_resource_type
// "service"). Network does not bill it: the service bills its virtual IP
// (MeterFloatingIP with Config.Service). Users cannot assign, unassign or
// delete it; ReleaseServiceIPTx returns it to the pool.
func (s *Service) ReserveServiceIPTx(ctx context.Context, tx Queries, in ReserveForService) (FloatingIP, error) {
	svc, ok := normUUID(in.ServiceUUID)
	if !ok {
		return FloatingIP{}, errs.Invalid("uuid", "must be a UUID")
	}
	o, err := ownerByOrg(ctx, tx, in.OrgID, in.UserID)
	if err != nil {
		return FloatingIP{}, err
	}
	return s.reserveTx(ctx, tx, systemFor(ctx), o, in.BillingAccountID, in.Location, "", "", func(f *FloatingIP) {
		f.AssignedTo, f.AssignedType, f.AssignedPrivateIP = svc, AssignedService, in.PrivateIP
	})
}

// ReleaseServiceIPTx releases a service's virtual IP back to the pool
// (releasing a released address does nothing).
func (s *Service) ReleaseServiceIPTx(ctx context.Context, tx Queries, address string) error {
	addr, ok := canonicalIPv4(address)
	if !ok {
		return errs.Invalid("address", "must be an IPv4 address")
	}
	f, err := tx.GetFloatingIP(ctx, "", addr)
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if f, err = tx.LockFloatingIP(ctx, f.UUID); err != nil {
		return err
	}
	if f.AssignedType != AssignedService {
		return errs.Newf(errs.KindPrecondition, "%s is not a service's virtual IP", addr)
	}
	return s.releaseTx(ctx, tx, systemFor(ctx), f)
}
