package services

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// Create creates a package (ID-100): admission on the billing account, the
// address reserved, the package written as "creating" with its step job;
// with an immediate provider the step runs before Create returns, so the
// answer is "active" (or "error" if the provider failed: the job retries).
func (s *Service) Create(ctx context.Context, a actor.Actor, in CreateInput) (Package, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Package{}, err
	}
	off, err := in.Validate(s.cfg.Offerings, s.cfg.Limits)
	if err != nil {
		return Package{}, err
	}
	prices, err := s.prices.ListMultipliers(ctx)
	if err != nil {
		return Package{}, err
	}
	if !slices.ContainsFunc(prices, func(sm pricing.ServiceMultipliers) bool { return sm.Service == in.Service }) {
		return Package{}, errs.Invalidf("service", "%s has no prices defined and cannot be ordered", in.Service)
	}
	pass, err := newPassword()
	if err != nil {
		return Package{}, err
	}
	uuid := in.UUID
	if uuid == "" {
		uuid = ids.New()
	}
	sealed, err := s.box.Seal(uuid, pass)
	if err != nil {
		return Package{}, err
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.billing.AdmitTx(ctx, tx, a, in.BillingAccountID, true)
		if err != nil {
			return err
		}
		now := s.now()
		ip, err := s.network.ReserveServiceIPTx(ctx, tx, network.ReserveForService{OrgID: acct.OrgID, UserID: acct.UserID,
			BillingAccountID: acct.ID, Location: in.Location, ServiceUUID: uuid})
		if err != nil {
			return err
		}
		p := Package{UUID: uuid, OrgID: acct.OrgID, OrgPath: acct.OrgPath, UserID: acct.UserID,
			BillingAccountID: acct.ID, Location: in.Location, Service: in.Service, Version: in.Version,
			DisplayName: in.DisplayName, VMCPU: in.VMCPU, VMRAMMB: in.VMRAMMB, VMDiskGB: in.VMDiskGB,
			IsMultiNode: in.IsMultiNode, Parameters: string(in.Parameters), Status: StatusCreating,
			SQLUser: off.SQLUser, Port: off.Port, ServiceIP: ip.Address, SealedPass: sealed,
			CreatedAt: now, UpdatedAt: now}
		nodes := 1
		if in.IsMultiNode {
			nodes = MultiNodeVMs
			p.Resources = append(p.Resources, Resource{ID: ids.New(), Type: ResourceVirtualIP, Location: in.Location,
				Address: ip.Address, Status: StatusActive, CreatedAt: now, UpdatedAt: now})
		}
		for range nodes {
			p.Resources = append(p.Resources, Resource{ID: ids.New(), Type: ResourceVM, Position: len(p.Resources),
				Location: in.Location, VCPU: in.VMCPU, MemoryMB: in.VMRAMMB, DiskUUID: ids.New(), DiskGB: in.VMDiskGB,
				Status: VMCreating, CreatedAt: now, UpdatedAt: now})
		}
		if err := tx.InsertServicePackage(ctx, p); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return &errs.Error{Kind: errs.KindConflict, Field: "uuid", Msg: "a service package with this uuid exists"}
			}
			return err
		}
		if err := s.enqueueTx(ctx, tx, uuid, OpCreate); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "service_package.create", "service_package", uuid, p.OrgPath,
			fmt.Sprintf("service=%s version=%s nodes=%d vm_cpu=%d vm_ram=%d vm_disk_gb=%d billing_account_id=%d location=%s address=%s",
				p.Service, p.Version, nodes, p.VMCPU, p.VMRAMMB, p.VMDiskGB, p.BillingAccountID, p.Location, p.ServiceIP)))
	})
	if err != nil {
		return Package{}, err
	}
	if s.inline() {
		// A failure leaves the package in "error" for the job to retry.
		s.logStep(ctx, s.stepCreate(ctx, uuid), uuid, "create")
	}
	return s.reread(ctx, uuid)
}

// reread returns a package after a change, with its prices.
func (s *Service) reread(ctx context.Context, uuid string) (Package, error) {
	p, err := s.store.GetServicePackage(ctx, "/", uuid)
	if err != nil {
		return Package{}, err
	}
	return p, s.withPrices(ctx, &p)
}

// Update changes a package's display name and billing account (ID-103).
// Moving the package moves its billing from now on; the new account must
// be one of the caller's (a restricted token's own) and not deleted.
func (s *Service) Update(ctx context.Context, a actor.Actor, location, uuid string, in UpdateInput) (Package, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Package{}, err
	}
	if err := in.Validate(); err != nil {
		return Package{}, err
	}
	var id string
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := visible(ctx, tx, a, location, uuid, true)
		if err != nil {
			return err
		}
		id = p.UUID
		if p.IsDeleted() {
			return errs.New(errs.KindPrecondition, "the service package is deleted")
		}
		now := s.now()
		var changes []string
		if in.BillingAccountID != nil {
			acct, err := s.billing.ResolveAccountTx(ctx, tx, a, *in.BillingAccountID)
			if err != nil {
				return err
			}
			switch {
			case acct.DeletedAt != nil:
				return errs.Invalidf("billing_account_id", "billing account %d is deleted", acct.ID)
			case acct.OrgID != p.OrgID:
				return errs.Invalidf("billing_account_id", "billing account %d belongs to another customer", acct.ID)
			}
			if acct.ID != p.BillingAccountID {
				changes = append(changes, fmt.Sprintf("billing_account_id=%d→%d", p.BillingAccountID, acct.ID))
				p.BillingAccountID = acct.ID
				if p.Status == StatusActive {
					if err := s.billTx(ctx, tx, p, now); err != nil {
						return err
					}
				}
			}
		}
		if in.DisplayName != nil && *in.DisplayName != p.DisplayName {
			changes = append(changes, "display_name")
			p.DisplayName = *in.DisplayName
		}
		if len(changes) == 0 {
			return nil
		}
		p.UpdatedAt = now
		if err := tx.UpdateServicePackage(ctx, p); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "service_package.update", "service_package", p.UUID, p.OrgPath,
			strings.Join(changes, " ")))
	})
	if err != nil {
		return Package{}, err
	}
	return s.reread(ctx, id)
}

// Delete deletes a package (ID-105): it is marked deleted at once (billing
// stops), and the provider step removes its VMs and frees its address.
// Deleting a deleted package returns it unchanged.
func (s *Service) Delete(ctx context.Context, a actor.Actor, location, uuid string) (Package, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Package{}, err
	}
	var id string
	run := false
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := visible(ctx, tx, a, location, uuid, true)
		if err != nil {
			return err
		}
		id = p.UUID
		if p.IsDeleted() {
			return nil
		}
		now := s.now()
		p.Status, p.DeletedAt = StatusDeleting, &now
		if err := tx.UpdateServicePackage(ctx, p); err != nil {
			return err
		}
		if err := s.unbillTx(ctx, tx, p, now); err != nil {
			return err
		}
		if err := s.enqueueTx(ctx, tx, p.UUID, OpDelete); err != nil {
			return err
		}
		run = true
		return tx.AppendAudit(ctx, audit.New(a, now, "service_package.delete", "service_package", p.UUID, p.OrgPath, ""))
	})
	if err != nil {
		return Package{}, err
	}
	if run && s.inline() {
		// A failure leaves the package "deleting" for the job to retry.
		s.logStep(ctx, s.stepDelete(ctx, id), id, "delete")
	}
	return s.reread(ctx, id)
}
