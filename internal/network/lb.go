package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// ---- load balancers (ID-60..69) ----

// lbNotFound is the error for a load balancer the caller cannot see.
func lbNotFound(uuid string) error {
	return &errs.Error{Kind: errs.KindNotFound, Field: "lb_uuid", Msg: "no such load balancer: " + uuid}
}

// lb returns the caller's load balancer in a location.
func (s *Service) lb(ctx context.Context, q Queries, a actor.Actor, location, uuid string) (LoadBalancer, error) {
	id, ok := normUUID(uuid)
	if !ok {
		return LoadBalancer{}, lbNotFound(uuid)
	}
	lb, err := q.GetLB(ctx, a.OrgID, id)
	if errs.Is(err, errs.KindNotFound) || (err == nil && location != "" && lb.Location != location) {
		return LoadBalancer{}, lbNotFound(uuid)
	}
	if err != nil {
		return LoadBalancer{}, err
	}
	return lb, restricted(a, lb.BillingAccountID)
}

// lockedLB is lb with the row lock taken (rules and targets as of now).
func (s *Service) lockedLB(ctx context.Context, tx Queries, a actor.Actor, location, uuid string) (LoadBalancer, error) {
	lb, err := s.lb(ctx, tx, a, location, uuid)
	if err != nil {
		return LoadBalancer{}, err
	}
	locked, err := tx.LockLB(ctx, lb.UUID)
	if err != nil {
		return LoadBalancer{}, err
	}
	locked.Rules, locked.Targets = lb.Rules, lb.Targets
	return locked, nil
}

// GetLB returns a load balancer (ID-61).
func (s *Service) GetLB(ctx context.Context, a actor.Actor, location, uuid string) (LoadBalancer, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return LoadBalancer{}, err
	}
	return s.lb(ctx, s.store, a, location, uuid)
}

// ListLBs returns the caller's load balancers in a location, oldest first
// (ID-60); a restricted token sees its account's only.
func (s *Service) ListLBs(ctx context.Context, a actor.Actor, location string) ([]LoadBalancer, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	all, err := s.store.ListLBs(ctx, a.OrgID, location)
	if err != nil || a.BillingAccount == 0 {
		return all, err
	}
	out := make([]LoadBalancer, 0, len(all))
	for _, lb := range all {
		if lb.BillingAccountID == a.BillingAccount {
			out = append(out, lb)
		}
	}
	return out, nil
}

// targetTx resolves a target VM: one of the owner's VMs in the location,
// attached to any of the user's networks there.
func (s *Service) targetTx(ctx context.Context, tx Queries, orgID, location string, in TargetInput, lbUUID string, field string) (Target, error) {
	iface, err := tx.GetVMInterface(ctx, in.TargetUUID)
	if err == nil && (iface.OrgID != orgID || iface.Location != location) {
		err = errs.NotFound("vm")
	}
	if errs.Is(err, errs.KindNotFound) {
		return Target{}, &errs.Error{Kind: errs.KindNotFound, Field: field, Msg: "no such virtual machine exists. " + in.TargetUUID}
	}
	if err != nil {
		return Target{}, err
	}
	return Target{LBUUID: lbUUID, TargetUUID: in.TargetUUID, TargetType: in.TargetType, IPAddress: iface.PrivateIPv4,
		CreatedAt: s.now()}, nil
}

// networkForTx returns the network a new resource goes into: the named
// one (of the owner, in the location) or the owner's default, created as
// "Default network" when the owner has none. The network's row lock is
// taken, so address allocation in it is serialised.
func (s *Service) networkForTx(ctx context.Context, tx Queries, a actor.Actor, o owner, location, networkUUID string) (Network, error) {
	if networkUUID == "" {
		if err := tx.LockNetworkOwner(ctx, o.OrgID); err != nil {
			return Network{}, err
		}
		n, err := tx.DefaultNetwork(ctx, o.OrgID, location)
		if errs.Is(err, errs.KindNotFound) {
			n, err = s.createNetworkTx(ctx, tx, a, o, location, DefaultNetworkName, true)
		}
		if err != nil {
			return Network{}, err
		}
		return tx.LockNetwork(ctx, n.UUID)
	}
	id, ok := normUUID(networkUUID)
	if !ok {
		return Network{}, errs.Invalid("network_uuid", "must be a UUID")
	}
	n, err := tx.LockNetwork(ctx, id)
	if err == nil && (n.OrgID != o.OrgID || n.Location != location) {
		err = errs.NotFound("network")
	}
	if errs.Is(err, errs.KindNotFound) {
		return Network{}, &errs.Error{Kind: errs.KindNotFound, Field: "network_uuid", Msg: "network not found: " + id}
	}
	return n, err
}

// addressTx claims the lowest free host address of a locked network.
func (s *Service) addressTx(ctx context.Context, tx Queries, n Network, ownerType, ownerUUID, field string) (string, error) {
	p, err := netip.ParsePrefix(n.Subnet)
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, err, "bad subnet")
	}
	used, err := tx.NetworkAddresses(ctx, n.UUID)
	if err != nil {
		return "", err
	}
	addr, ok := firstFreeHost(p, used)
	if !ok {
		return "", &errs.Error{Kind: errs.KindCapacityExceeded, Field: field,
			Msg: fmt.Sprintf("network %s (%s) has no free address", n.UUID, n.Subnet)}
	}
	claimed, err := tx.ClaimNetworkAddress(ctx, n.UUID, addr.String(), ownerType, ownerUUID)
	if err != nil {
		return "", err
	}
	if !claimed { // cannot happen under the network lock; the key is the backstop
		return "", errs.New(errs.KindConflict, "address taken concurrently; try again")
	}
	return addr.String(), nil
}

// CreateLB creates a load balancer (ID-62): a private address in the
// network (the default one when none is named), its rules (protocol TCP,
// connection limit 10000, session persistence SOURCE_IP) and targets, and
// with reserve_public_ip a public address assigned to it. It is billed to
// the admitted account from now on.
func (s *Service) CreateLB(ctx context.Context, a actor.Actor, in CreateLB) (LoadBalancer, error) {
	if err := in.Validate(); err != nil {
		return LoadBalancer{}, err
	}
	var out LoadBalancer
	err := s.store.Tx(ctx, func(tx Store) error {
		acct, o, err := s.admittedOwnerTx(ctx, tx, a, in.BillingAccountID)
		if err != nil {
			return err
		}
		n, err := s.networkForTx(ctx, tx, a, o, in.Location, in.NetworkUUID)
		if err != nil {
			return err
		}
		uuid := ids.New()
		addr, err := s.addressTx(ctx, tx, n, "lb", uuid, "network_uuid")
		if err != nil {
			return err
		}
		now := s.now()
		lb := LoadBalancer{UUID: uuid, OrgID: o.OrgID, OrgPath: o.OrgPath, UserID: o.UserID, BillingAccountID: acct.ID,
			Location: in.Location, NetworkUUID: n.UUID, DisplayName: in.DisplayName, PrivateAddress: addr,
			State: StatePending, Version: 1, CreatedAt: now, UpdatedAt: now, Rules: []Rule{}, Targets: []Target{}}
		if err := tx.InsertLB(ctx, lb); err != nil {
			return err
		}
		for _, r := range in.Rules {
			rule := newRule(lb.UUID, r, now)
			if err := tx.InsertLBRule(ctx, rule); err != nil {
				return err
			}
			lb.Rules = append(lb.Rules, rule)
		}
		for _, t := range in.Targets {
			target, err := s.targetTx(ctx, tx, o.OrgID, in.Location, t, lb.UUID, "targets")
			if err != nil {
				return err
			}
			if err := tx.InsertLBTarget(ctx, target); err != nil {
				return err
			}
			lb.Targets = append(lb.Targets, target)
		}
		if in.ReservePublicIP {
			if _, err := s.reserveTx(ctx, tx, a, o, acct.ID, in.Location, "lb: "+lbName(lb), "reserve_public_ip", func(f *FloatingIP) {
				f.AssignedTo, f.AssignedType, f.AssignedPrivateIP = lb.UUID, AssignedLoadBalancer, lb.PrivateAddress
			}); err != nil {
				return err
			}
		}
		if err := billUsage(ctx, tx, now, lb.UUID, lbUsage(lb)); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, audit.New(a, now, "load_balancer.create", "load_balancer", lb.UUID, o.OrgPath,
			fmt.Sprintf("%q %s in %s, %d rules, %d targets, account %d", lb.DisplayName, addr, n.UUID, len(lb.Rules),
				len(lb.Targets), acct.ID))); err != nil {
			return err
		}
		out = lb
		return s.enqueue(ctx, tx, LBStep{LBUUID: lb.UUID, Op: OpApply}, s.inline())
	})
	if err != nil {
		return LoadBalancer{}, err
	}
	return s.afterLBChange(ctx, out)
}

func lbName(lb LoadBalancer) string {
	if lb.DisplayName != "" {
		return lb.DisplayName
	}
	return lb.UUID
}

func newRule(lbUUID string, r RuleInput, now time.Time) Rule {
	return Rule{UUID: ids.New(), LBUUID: lbUUID, Protocol: DefaultProtocol, SourcePort: r.SourcePort, TargetPort: r.TargetPort,
		ConnectionLimit: DefaultConnectionLimit, SessionPersistence: DefaultSessionPersistence, CreatedAt: now}
}

// afterLBChange attempts the apply step inline and returns the load
// balancer as stored.
func (s *Service) afterLBChange(ctx context.Context, lb LoadBalancer) (LoadBalancer, error) {
	if s.inline() {
		s.logStep(ctx, s.RunLBStep(ctx, LBStep{LBUUID: lb.UUID, Op: OpApply}), "load_balancer", lb.UUID, OpApply)
	}
	return s.store.GetLB(ctx, lb.OrgID, lb.UUID)
}

// bumpLBTx records a configuration change: a new version for the provider
// to apply.
func (s *Service) bumpLBTx(ctx context.Context, tx Queries, lb *LoadBalancer, inline bool) error {
	lb.Version++
	lb.State, lb.UpdatedAt = StatePending, s.now()
	if err := tx.UpdateLB(ctx, *lb); err != nil {
		return err
	}
	return s.enqueue(ctx, tx, LBStep{LBUUID: lb.UUID, Op: OpApply}, inline)
}

// unlinkLBAddressTx re-applies a load balancer whose public address is
// taken away.
func (s *Service) unlinkLBAddressTx(ctx context.Context, tx Queries, lbUUID string) error {
	lb, err := tx.LockLB(ctx, lbUUID)
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.bumpLBTx(ctx, tx, &lb, false)
}

// RenameLB renames a load balancer (ID-63; display_name required).
func (s *Service) RenameLB(ctx context.Context, a actor.Actor, location, uuid string, name *string) (LoadBalancer, error) {
	if err := a.Require(actor.Staff); err != nil {
		return LoadBalancer{}, err
	}
	if name == nil {
		return LoadBalancer{}, errs.Invalid("display_name", "is required")
	}
	nm, err := checkName("display_name", *name)
	if err != nil {
		return LoadBalancer{}, err
	}
	var out LoadBalancer
	err = s.store.Tx(ctx, func(tx Store) error {
		lb, err := s.lockedLB(ctx, tx, a, location, uuid)
		if err != nil {
			return err
		}
		out = lb
		if lb.DisplayName == nm {
			return nil
		}
		now := s.now()
		lb.DisplayName, lb.UpdatedAt = nm, now
		if err := tx.UpdateLB(ctx, lb); err != nil {
			return err
		}
		// The usage line names the load balancer.
		if err := billUsage(ctx, tx, now, lb.UUID, lbUsage(lb)); err != nil {
			return err
		}
		out = lb
		return tx.AppendAudit(ctx, audit.New(a, now, "load_balancer.rename", "load_balancer", lb.UUID, lb.OrgPath, nm))
	})
	return out, err
}

// DeleteLB deletes a load balancer (ID-64): its private address is freed,
// a public address assigned to it stays reserved (unassigned, billed as
// such, like a deleted VM's), and its billing stops.
func (s *Service) DeleteLB(ctx context.Context, a actor.Actor, location, uuid string) error {
	if err := a.Require(actor.Staff); err != nil {
		return err
	}
	var lbUUID string
	err := s.store.Tx(ctx, func(tx Store) error {
		lb, err := s.lockedLB(ctx, tx, a, location, uuid)
		if err != nil {
			return err
		}
		lbUUID = lb.UUID
		return s.deleteLBTx(ctx, tx, a, lb)
	})
	if err == nil && s.inline() {
		s.logStep(ctx, s.RunLBStep(ctx, LBStep{LBUUID: lbUUID, Op: OpDelete}), "load_balancer", lbUUID, OpDelete)
	}
	return err
}

func (s *Service) deleteLBTx(ctx context.Context, tx Queries, a actor.Actor, lb LoadBalancer) error {
	fips, err := tx.ListFloatingIPs(ctx, FloatingIPQuery{AssignedTo: lb.UUID})
	if err != nil {
		return err
	}
	for _, f := range fips {
		f, err := tx.LockFloatingIP(ctx, f.UUID)
		if err != nil {
			return err
		}
		if _, err := s.unassignTx(ctx, tx, a, f); err != nil {
			return err
		}
	}
	if err := tx.DeleteLB(ctx, lb.UUID); err != nil {
		return err
	}
	if err := tx.ReleaseNetworkAddress(ctx, lb.NetworkUUID, lb.PrivateAddress); err != nil {
		return err
	}
	now := s.now()
	if err := billUsage(ctx, tx, now, lb.UUID, nil); err != nil {
		return err
	}
	if err := tx.AppendAudit(ctx, audit.New(a, now, "load_balancer.delete", "load_balancer", lb.UUID, lb.OrgPath, lbName(lb))); err != nil {
		return err
	}
	return s.enqueue(ctx, tx, LBStep{LBUUID: lb.UUID, Op: OpDelete}, s.inline())
}

// AddLBTarget adds a VM target (ID-65); its private address is resolved
// from the VM's interface.
func (s *Service) AddLBTarget(ctx context.Context, a actor.Actor, location, uuid string, in TargetInput) (Target, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Target{}, err
	}
	if err := in.Validate(); err != nil {
		return Target{}, err
	}
	in.TargetUUID, _ = normUUID(in.TargetUUID)
	var out Target
	err := s.changeLBConfig(ctx, a, location, uuid, "load_balancer.target_add", func(tx Store, lb LoadBalancer) (string, error) {
		for _, t := range lb.Targets {
			if t.TargetUUID == in.TargetUUID {
				return "", &errs.Error{Kind: errs.KindConflict, Field: "target_uuid", Msg: "the target is already linked to the load balancer"}
			}
		}
		var err error
		if out, err = s.targetTx(ctx, tx, lb.OrgID, lb.Location, in, lb.UUID, "target_uuid"); err != nil {
			return "", err
		}
		if err := tx.InsertLBTarget(ctx, out); err != nil {
			return "", err
		}
		return out.TargetUUID + " " + out.IPAddress, nil
	})
	if err != nil {
		return Target{}, err
	}
	return out, nil
}

// RemoveLBTarget unlinks a target (ID-66).
func (s *Service) RemoveLBTarget(ctx context.Context, a actor.Actor, location, uuid, targetUUID string) error {
	if err := a.Require(actor.Staff); err != nil {
		return err
	}
	return s.changeLBConfig(ctx, a, location, uuid, "load_balancer.target_remove", func(tx Store, lb LoadBalancer) (string, error) {
		tid, _ := normUUID(targetUUID)
		ok, err := tx.DeleteLBTarget(ctx, lb.UUID, tid)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", &errs.Error{Kind: errs.KindNotFound, Field: "target_uuid", Msg: "the load balancer has no target " + targetUUID}
		}
		return tid, nil
	})
}

// AddLBRule adds a forwarding rule (ID-67) with the defaults and returns
// the whole rule (ID-amb-22). A source port is forwarded once per load
// balancer.
func (s *Service) AddLBRule(ctx context.Context, a actor.Actor, location, uuid string, in RuleInput) (Rule, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Rule{}, err
	}
	if err := in.Validate(); err != nil {
		return Rule{}, err
	}
	var out Rule
	err := s.changeLBConfig(ctx, a, location, uuid, "load_balancer.rule_add", func(tx Store, lb LoadBalancer) (string, error) {
		for _, r := range lb.Rules {
			if r.SourcePort == in.SourcePort {
				return "", &errs.Error{Kind: errs.KindConflict, Field: "source_port",
					Msg: fmt.Sprintf("the load balancer already forwards port %d", in.SourcePort)}
			}
		}
		out = newRule(lb.UUID, in, s.now())
		if err := tx.InsertLBRule(ctx, out); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %d->%d", out.UUID, out.SourcePort, out.TargetPort), nil
	})
	if err != nil {
		return Rule{}, err
	}
	return out, nil
}

// RemoveLBRule drops a forwarding rule by its uuid (ID-68).
func (s *Service) RemoveLBRule(ctx context.Context, a actor.Actor, location, uuid, ruleUUID string) error {
	if err := a.Require(actor.Staff); err != nil {
		return err
	}
	return s.changeLBConfig(ctx, a, location, uuid, "load_balancer.rule_remove", func(tx Store, lb LoadBalancer) (string, error) {
		rid, _ := normUUID(ruleUUID)
		ok, err := tx.DeleteLBRule(ctx, lb.UUID, rid)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", &errs.Error{Kind: errs.KindNotFound, Field: "rule_uuid", Msg: "the load balancer has no forwarding rule " + ruleUUID}
		}
		return rid, nil
	})
}

// changeLBConfig changes the targets or rules of a load balancer the actor
// owns in one transaction: change edits the locked load balancer's rows
// and returns the audit detail; the change is recorded as a new version
// (what the apply step brings the provider to) and audited as action.
// Once committed, the step runs inline when the provider has no delay; its
// failure is the job's to retry, not the request's.
func (s *Service) changeLBConfig(ctx context.Context, a actor.Actor, location, uuid, action string,
	change func(tx Store, lb LoadBalancer) (detail string, err error)) error {
	var lb LoadBalancer
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if lb, err = s.lockedLB(ctx, tx, a, location, uuid); err != nil {
			return err
		}
		detail, err := change(tx, lb)
		if err != nil {
			return err
		}
		if err := s.bumpLBTx(ctx, tx, &lb, s.inline()); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, lb.UpdatedAt, action, "load_balancer", lb.UUID, lb.OrgPath, detail))
	})
	if err == nil {
		_, _ = s.afterLBChange(ctx, lb)
	}
	return err
}

// SetLBBillingAccount moves a load balancer to another account of the
// user (ID-69); its billing moves from now on.
func (s *Service) SetLBBillingAccount(ctx context.Context, a actor.Actor, location, uuid string, accountID int64) (LoadBalancer, error) {
	if err := a.Require(actor.Staff); err != nil {
		return LoadBalancer{}, err
	}
	if accountID <= 0 {
		return LoadBalancer{}, errs.Invalid("set_id", "must be a billing account id")
	}
	var out LoadBalancer
	err := s.store.Tx(ctx, func(tx Store) error {
		lb, err := s.lockedLB(ctx, tx, a, location, uuid)
		if err != nil {
			return err
		}
		acct, err := s.accounts.ResolveAccountTx(ctx, tx, a, accountID)
		if err != nil {
			if e := (*errs.Error)(nil); errors.As(err, &e) && e.Field == "billing_account_id" {
				return &errs.Error{Kind: e.Kind, Field: "set_id", Msg: e.Msg}
			}
			return err
		}
		if acct.DeletedAt != nil {
			return &errs.Error{Kind: errs.KindPrecondition, Field: "set_id", Msg: "the billing account is deleted"}
		}
		out = lb
		if acct.ID == lb.BillingAccountID {
			return nil
		}
		now := s.now()
		lb.BillingAccountID, lb.UpdatedAt = acct.ID, now
		if err := tx.UpdateLB(ctx, lb); err != nil {
			return err
		}
		if err := billUsage(ctx, tx, now, lb.UUID, lbUsage(lb)); err != nil {
			return err
		}
		out = lb
		return tx.AppendAudit(ctx, audit.New(a, now, "load_balancer.billing_account", "load_balancer", lb.UUID, lb.OrgPath,
			fmt.Sprintf("billing_account_id=%d", acct.ID)))
	})
	return out, err
}
