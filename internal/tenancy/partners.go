package tenancy

import (
	"context"
	"fmt"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// CreatePartnerInput creates a partner under a distributor contract.
type CreatePartnerInput struct {
	ID                string
	ContractID        string
	Name              string
	Details           string
	AllocatedCapacity int64 // bytes; 0 = pay-per-use
	AllowOverdraft    bool
}

// Validate checks the input.
func (in *CreatePartnerInput) Validate() error {
	if in.ContractID == "" {
		return errs.Invalid("contractId", "must not be empty")
	}
	var err error
	if in.Name, err = validate.Name("name", in.Name); err != nil {
		return err
	}
	if in.Details, err = validate.Text("details", in.Details, 1000); err != nil {
		return err
	}
	return validate.Capacity("allocatedCapacity", in.AllocatedCapacity)
}

// partnerWriter checks that the actor may manage partners: a distributor (or
// the provider above it) with at least the staff role.
func partnerWriter(a actor.Actor) error {
	if err := a.RequireKind(actor.Provider, actor.Distributor); err != nil {
		return err
	}
	return a.Require(actor.Staff)
}

func partnerReader(a actor.Actor) error {
	if err := a.RequireKind(actor.Provider, actor.Distributor); err != nil {
		return err
	}
	return a.Require(actor.Viewer)
}

// CreatePartner creates a partner and allocates its capacity from the
// contract, refusing if the contract has not enough free capacity.
func (s *Service) CreatePartner(ctx context.Context, a actor.Actor, in CreatePartnerInput) (Org, error) {
	if err := partnerWriter(a); err != nil {
		return Org{}, err
	}
	if err := in.Validate(); err != nil {
		return Org{}, err
	}
	id, err := optionalID("id", in.ID)
	if err != nil {
		return Org{}, err
	}
	var p Org
	err = s.store.Tx(ctx, func(tx Store) error {
		c, err := tx.GetContract(ctx, a.Scope(), in.ContractID)
		if err != nil {
			return fieldNotFound(err, "contractId", "no such contract")
		}
		dist, err := tx.GetOrg(ctx, a.Scope(), c.OrgID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := s.allocate(ctx, tx, c, in.AllocatedCapacity); err != nil {
			return err
		}
		p = Org{ID: id, Kind: actor.Partner, ParentID: dist.ID, Path: dist.Path + id + "/", Name: in.Name,
			Details: in.Details, TimeZone: dist.TimeZone, CreatedAt: now, UpdatedAt: now,
			ContractID: c.ID, AllocatedCapacity: in.AllocatedCapacity, AllowOverdraft: in.AllowOverdraft}
		if err := tx.InsertOrg(ctx, p); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "partner.create", "partner", id, p.Path,
			fmt.Sprintf("name=%q allocatedCapacity=%d", p.Name, p.AllocatedCapacity)))
	})
	return p, err
}

// allocate moves delta bytes of the contract's reservation to a partner (or
// back, when negative).
func (s *Service) allocate(ctx context.Context, tx Store, c Contract, delta int64) error {
	if delta == 0 {
		return nil
	}
	ok, err := tx.AddContractAllocation(ctx, c.ID, delta, s.now())
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	cur, err := tx.GetContract(ctx, "/", c.ID)
	if err != nil {
		return err
	}
	return &errs.Error{Kind: errs.KindCapacityExceeded, Field: "allocatedCapacity",
		Msg: fmt.Sprintf("insufficient capacity: the contract has %d bytes free of %d reserved, %d more requested",
			cur.Free(), cur.ReservedCapacity, delta)}
}

// OrgGetter is the store method ScopedPartner needs; every domain store that
// reads orgs has it.
type OrgGetter interface {
	GetOrg(ctx context.Context, scope, id string) (Org, error)
}

// ScopedPartner loads the partner id inside a's subtree. Anything else (an
// unknown id, another tenant's partner, an org of another kind) is "partner
// not found"; store failures stay what they are.
func ScopedPartner(ctx context.Context, st OrgGetter, a actor.Actor, id string) (Org, error) {
	p, err := st.GetOrg(ctx, a.Scope(), id)
	if errs.Is(err, errs.KindNotFound) || (err == nil && p.Kind != actor.Partner) {
		return Org{}, errs.NotFound("partner")
	}
	if err != nil {
		return Org{}, err
	}
	return p, nil
}

// GetPartner returns a partner the actor can see.
func (s *Service) GetPartner(ctx context.Context, a actor.Actor, id string) (Org, error) {
	if err := partnerReader(a); err != nil {
		return Org{}, err
	}
	return s.partner(ctx, s.store, a, id, false)
}

// partner loads a partner in the actor's scope. With lock, the row is locked
// first, so a read-modify-write of its allocation cannot interleave with
// another (PostgreSQL; SQLite writers are serialised anyway).
func (s *Service) partner(ctx context.Context, st Store, a actor.Actor, id string, lock bool) (Org, error) {
	if lock {
		if err := st.LockOrg(ctx, id); err != nil {
			return Org{}, err
		}
	}
	return ScopedPartner(ctx, st, a, id)
}

// ListPartners lists the partners under one contract.
func (s *Service) ListPartners(ctx context.Context, a actor.Actor, contractID string) ([]Org, error) {
	if err := partnerReader(a); err != nil {
		return nil, err
	}
	if _, err := s.store.GetContract(ctx, a.Scope(), contractID); err != nil {
		return nil, err
	}
	return s.store.ListPartners(ctx, a.Scope(), contractID)
}

// UpdatePartnerInput changes a partner; nil fields stay.
type UpdatePartnerInput struct {
	Name              *string
	Details           *string
	AllocatedCapacity *int64
	AllowOverdraft    *bool
}

// UpdatePartner renames or resizes a partner. Growing takes capacity from
// the contract and fails if there is not enough; shrinking cannot go below
// the partner's strict storage accounts (0, pay-per-use, always fits).
func (s *Service) UpdatePartner(ctx context.Context, a actor.Actor, id string, in UpdatePartnerInput) (Org, error) {
	if err := partnerWriter(a); err != nil {
		return Org{}, err
	}
	if in.Name == nil && in.Details == nil && in.AllocatedCapacity == nil && in.AllowOverdraft == nil {
		return Org{}, errs.Invalid("body", "give at least one of name, allocatedCapacity")
	}
	var p Org
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if p, err = s.partner(ctx, tx, a, id, true); err != nil {
			return err
		}
		now := s.now()
		if in.Name != nil {
			if p.Name, err = validate.Name("name", *in.Name); err != nil {
				return err
			}
		}
		if in.Details != nil {
			if p.Details, err = validate.Text("details", *in.Details, 1000); err != nil {
				return err
			}
		}
		if in.AllowOverdraft != nil {
			p.AllowOverdraft = *in.AllowOverdraft
		}
		if in.AllocatedCapacity != nil {
			if err := s.setAllocation(ctx, tx, &p, *in.AllocatedCapacity, now); err != nil {
				return err
			}
		}
		p.UpdatedAt = now
		if err := tx.UpdateOrg(ctx, p); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "partner.update", "partner", p.ID, p.Path,
			fmt.Sprintf("name=%q allocatedCapacity=%d", p.Name, p.AllocatedCapacity)))
	})
	return p, err
}

// DeletePartner deletes a partner with no storage accounts, returning its
// allocation to the contract. Its members and keys are deleted with it.
func (s *Service) DeletePartner(ctx context.Context, a actor.Actor, id string) error {
	if err := partnerWriter(a); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		p, err := s.partner(ctx, tx, a, id, true)
		if err != nil {
			return err
		}
		return s.deletePartner(ctx, tx, a, p)
	})
}

func (s *Service) deletePartner(ctx context.Context, tx Store, a actor.Actor, p Org) error {
	n, err := tx.CountPartnerStorageAccounts(ctx, p.ID)
	if err != nil {
		return err
	}
	if n > 0 {
		return errs.Newf(errs.KindPrecondition, "the partner has %d storage accounts; delete them first", n)
	}
	if n, err = tx.CountOrgChildren(ctx, p.ID); err != nil {
		return err
	}
	if n > 0 {
		return errs.Newf(errs.KindPrecondition, "the partner has %d customer orgs; delete them first", n)
	}
	c, err := tx.GetContract(ctx, "/", p.ContractID)
	if err != nil {
		return err
	}
	if err := s.allocate(ctx, tx, c, -p.AllocatedCapacity); err != nil {
		return err
	}
	if err := tx.DeleteOrgPrincipals(ctx, p.ID); err != nil {
		return err
	}
	if err := tx.DeleteOrg(ctx, p.ID); err != nil {
		return err
	}
	return tx.AppendAudit(ctx, audit.New(a, s.now(), "partner.delete", "partner", p.ID, p.Path, p.Name))
}
