package tenancy

import (
	"context"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// Service runs the tenancy use cases.
type Service struct {
	store Store
	clock clock.Clock
}

// NewService returns a tenancy service.
func NewService(s Store, c clock.Clock) *Service { return &Service{store: s, clock: c} }

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// optionalID checks a caller-chosen id (used to mirror ids from another
// system, and by the sandbox), or makes a new one.
func optionalID(field, id string) (string, error) {
	if id == "" {
		return ids.New(), nil
	}
	n, ok := ids.Normalize(id)
	if !ok {
		return "", errs.Invalid(field, "must be a UUID")
	}
	return n, nil
}

// ---- orgs ----

// CreateRootInput creates the provider org.
type CreateRootInput struct {
	ID   string
	Name string
}

// EnsureRoot creates the provider org if there is none, and returns it.
func (s *Service) EnsureRoot(ctx context.Context, in CreateRootInput) (Org, error) {
	var root Org
	err := s.store.Tx(ctx, func(tx Store) error {
		orgs, err := tx.ListOrgs(ctx, "/", OrgFilter{Kind: string(actor.Provider), Limit: 1})
		if err != nil {
			return err
		}
		if len(orgs) > 0 {
			root = orgs[0]
			return nil
		}
		id, err := optionalID("id", in.ID)
		if err != nil {
			return err
		}
		name, err := validate.Name("name", in.Name)
		if err != nil {
			return err
		}
		now := s.now()
		root = Org{ID: id, Kind: actor.Provider, Path: "/" + id + "/", Name: name, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertOrg(ctx, root); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(actor.System(""), now, "org.create", "org", id, root.Path, name))
	})
	return root, err
}

// CreateOrgInput creates a distributor, partner or customer.
type CreateOrgInput struct {
	ID       string
	ParentID string
	Name     string
	Details  string
	TimeZone string
}

// Validate checks the input.
func (in *CreateOrgInput) Validate() error {
	var err error
	if in.Name, err = validate.Name("name", in.Name); err != nil {
		return err
	}
	if in.Details, err = validate.Text("details", in.Details, 1000); err != nil {
		return err
	}
	if in.TimeZone == "" {
		in.TimeZone = "UTC"
	}
	if _, err := time.LoadLocation(in.TimeZone); err != nil || len(in.TimeZone) > 64 {
		return errs.Invalid("timeZone", "must be an IANA time zone such as Europe/Berlin")
	}
	if in.ParentID == "" {
		return errs.Invalid("parentId", "must not be empty")
	}
	return nil
}

// CreateOrg creates a child org under parentID; its kind follows from the
// parent's (provider → distributor → partner → customer). Partners with
// capacity are created with CreatePartner instead.
func (s *Service) CreateOrg(ctx context.Context, a actor.Actor, in CreateOrgInput) (Org, error) {
	if err := a.Require(actor.Admin); err != nil {
		return Org{}, err
	}
	if err := in.Validate(); err != nil {
		return Org{}, err
	}
	id, err := optionalID("id", in.ID)
	if err != nil {
		return Org{}, err
	}
	var o Org
	err = s.store.Tx(ctx, func(tx Store) error {
		parent, err := tx.GetOrg(ctx, a.Scope(), in.ParentID)
		if err != nil {
			return fieldNotFound(err, "parentId", "no such org")
		}
		kind, ok := parent.Kind.ChildKind()
		if !ok {
			return errs.Invalid("parentId", "a customer org cannot have children")
		}
		if kind == actor.Partner {
			return errs.Invalid("parentId", "partners are created under a contract (POST /contracts/{id}/partners)")
		}
		now := s.now()
		o = Org{ID: id, Kind: kind, ParentID: parent.ID, Path: parent.Path + id + "/", Name: in.Name,
			Details: in.Details, TimeZone: in.TimeZone, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertOrg(ctx, o); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "org.create", "org", id, o.Path, in.Name))
	})
	return o, err
}

// GetOrg returns an org in the actor's subtree.
func (s *Service) GetOrg(ctx context.Context, a actor.Actor, id string) (Org, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return Org{}, err
	}
	return s.store.GetOrg(ctx, a.Scope(), id)
}

// ListOrgs lists orgs in the actor's subtree.
func (s *Service) ListOrgs(ctx context.Context, a actor.Actor, f OrgFilter) ([]Org, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	if f.Kind != "" && !actor.OrgKind(f.Kind).Valid() {
		return nil, errs.Invalid("kind", "must be provider, distributor, partner or customer")
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		return nil, errs.Invalid("limit", "must be between 1 and 1000")
	}
	return s.store.ListOrgs(ctx, a.Scope(), f)
}

// UpdateOrgInput changes an org; nil fields stay as they are.
type UpdateOrgInput struct {
	Name     *string
	Details  *string
	TimeZone *string
}

// UpdateOrg changes an org's name, details or time zone.
func (s *Service) UpdateOrg(ctx context.Context, a actor.Actor, id string, in UpdateOrgInput) (Org, error) {
	if err := a.Require(actor.Admin); err != nil {
		return Org{}, err
	}
	var o Org
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if o, err = tx.GetOrg(ctx, a.Scope(), id); err != nil {
			return err
		}
		if in.Name != nil {
			if o.Name, err = validate.Name("name", *in.Name); err != nil {
				return err
			}
		}
		if in.Details != nil {
			if o.Details, err = validate.Text("details", *in.Details, 1000); err != nil {
				return err
			}
		}
		if in.TimeZone != nil {
			if _, err := time.LoadLocation(*in.TimeZone); err != nil || *in.TimeZone == "" || len(*in.TimeZone) > 64 {
				return errs.Invalid("timeZone", "must be an IANA time zone such as Europe/Berlin")
			}
			o.TimeZone = *in.TimeZone
		}
		o.UpdatedAt = s.now()
		if err := tx.UpdateOrg(ctx, o); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, o.UpdatedAt, "org.update", "org", o.ID, o.Path, o.Name))
	})
	return o, err
}

// DeleteOrg deletes an org that has no children, contracts, storage
// accounts or allocation left. Its users and keys go with it.
func (s *Service) DeleteOrg(ctx context.Context, a actor.Actor, id string) error {
	if err := a.Require(actor.Admin); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		if err := tx.LockOrg(ctx, id); err != nil {
			return err
		}
		o, err := tx.GetOrg(ctx, a.Scope(), id)
		if err != nil {
			return err
		}
		if o.ID == a.OrgID {
			return errs.New(errs.KindPrecondition, "an org cannot delete itself")
		}
		if o.Kind == actor.Partner {
			return s.deletePartner(ctx, tx, a, o)
		}
		n, err := tx.CountOrgChildren(ctx, o.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			return errs.Newf(errs.KindPrecondition, "the org has %d child orgs; delete them first", n)
		}
		cs, err := tx.ListContracts(ctx, o.Path, "", 1)
		if err != nil {
			return err
		}
		if len(cs) > 0 {
			return errs.New(errs.KindPrecondition, "the org has contracts; delete them first")
		}
		if err := tx.DeleteOrgPrincipals(ctx, o.ID); err != nil {
			return err
		}
		if err := tx.DeleteOrg(ctx, o.ID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "org.delete", "org", o.ID, o.Path, o.Name))
	})
}

// ---- contracts ----

// CreateContractInput creates a contract between a distributor and its
// parent.
type CreateContractInput struct {
	ID                 string
	OrgID              string // the distributor
	ReservedCapacity   int64
	CostStorageGBCents int64
	CostEgressGBCents  int64
	Currency           string
	Details            string
}

// Validate checks the input.
func (in *CreateContractInput) Validate() error {
	if in.OrgID == "" {
		return errs.Invalid("orgId", "must not be empty")
	}
	if err := validate.Capacity("reservedCapacity", in.ReservedCapacity); err != nil {
		return err
	}
	if in.CostStorageGBCents < 0 {
		return errs.Invalid("costStorageGBCents", "must not be negative")
	}
	if in.CostEgressGBCents < 0 {
		return errs.Invalid("costEgressGBCents", "must not be negative")
	}
	if err := validate.Currency("currency", in.Currency); err != nil {
		return err
	}
	var err error
	in.Details, err = validate.Name("details", in.Details)
	return err
}

// CreateContract gives a distributor a reservation. Only an ancestor of the
// distributor may do it.
func (s *Service) CreateContract(ctx context.Context, a actor.Actor, in CreateContractInput) (Contract, error) {
	if err := a.Require(actor.Admin); err != nil {
		return Contract{}, err
	}
	if err := in.Validate(); err != nil {
		return Contract{}, err
	}
	id, err := optionalID("id", in.ID)
	if err != nil {
		return Contract{}, err
	}
	var c Contract
	err = s.store.Tx(ctx, func(tx Store) error {
		o, err := tx.GetOrg(ctx, a.Scope(), in.OrgID)
		if err != nil {
			return fieldNotFound(err, "orgId", "no such org")
		}
		if o.Kind != actor.Distributor {
			return errs.Invalid("orgId", "contracts are made with distributors")
		}
		if o.ID == a.OrgID {
			return errs.New(errs.KindForbidden, "an org cannot give itself a contract")
		}
		now := s.now()
		c = Contract{ID: id, ParentOrgID: o.ParentID, OrgID: o.ID, OrgPath: o.Path,
			ReservedCapacity: in.ReservedCapacity, CostStorageGBCents: in.CostStorageGBCents,
			CostEgressGBCents: in.CostEgressGBCents, Currency: in.Currency, Details: in.Details,
			CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertContract(ctx, c); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "contract.create", "contract", id, o.Path,
			fmt.Sprintf("reserved=%d", in.ReservedCapacity)))
	})
	return c, err
}

// GetContract returns a contract the actor can see.
func (s *Service) GetContract(ctx context.Context, a actor.Actor, id string) (Contract, error) {
	if err := partnerReader(a); err != nil {
		return Contract{}, err
	}
	return s.store.GetContract(ctx, a.Scope(), id)
}

// ListContracts lists the contracts the actor can see (a distributor: its
// own; the provider: all).
func (s *Service) ListContracts(ctx context.Context, a actor.Actor, after string, limit int) ([]Contract, error) {
	if err := partnerReader(a); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		return nil, errs.Invalid("limit", "must be between 1 and 1000")
	}
	return s.store.ListContracts(ctx, a.Scope(), after, limit)
}

// UpdateContractInput changes a contract; nil fields stay.
type UpdateContractInput struct {
	ReservedCapacity   *int64
	CostStorageGBCents *int64
	CostEgressGBCents  *int64
	Currency           *string
	Details            *string
}

// UpdateContract changes a contract's terms. The reservation cannot drop
// below what is already allocated to partners.
func (s *Service) UpdateContract(ctx context.Context, a actor.Actor, id string, in UpdateContractInput) (Contract, error) {
	if err := a.Require(actor.Admin); err != nil {
		return Contract{}, err
	}
	var c Contract
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if c, err = tx.GetContract(ctx, a.Scope(), id); err != nil {
			return err
		}
		if c.OrgID == a.OrgID {
			return errs.New(errs.KindForbidden, "a distributor cannot change its own contract")
		}
		now := s.now()
		if in.CostStorageGBCents != nil {
			if *in.CostStorageGBCents < 0 {
				return errs.Invalid("costStorageGBCents", "must not be negative")
			}
			c.CostStorageGBCents = *in.CostStorageGBCents
		}
		if in.CostEgressGBCents != nil {
			if *in.CostEgressGBCents < 0 {
				return errs.Invalid("costEgressGBCents", "must not be negative")
			}
			c.CostEgressGBCents = *in.CostEgressGBCents
		}
		if in.Currency != nil {
			if err := validate.Currency("currency", *in.Currency); err != nil {
				return err
			}
			c.Currency = *in.Currency
		}
		if in.Details != nil {
			if c.Details, err = validate.Name("details", *in.Details); err != nil {
				return err
			}
		}
		c.UpdatedAt = now
		if err := tx.UpdateContractTerms(ctx, c); err != nil {
			return err
		}
		if in.ReservedCapacity != nil {
			if err := validate.Capacity("reservedCapacity", *in.ReservedCapacity); err != nil {
				return err
			}
			ok, err := tx.SetContractReserved(ctx, c.ID, *in.ReservedCapacity, now)
			if err != nil {
				return err
			}
			if !ok {
				cur, err := tx.GetContract(ctx, a.Scope(), c.ID)
				if err != nil {
					return err
				}
				return &errs.Error{Kind: errs.KindCapacityExceeded, Field: "reservedCapacity",
					Msg: fmt.Sprintf("cannot be less than the %d bytes already allocated to partners", cur.AllocatedCapacity)}
			}
		}
		if c, err = tx.GetContract(ctx, a.Scope(), c.ID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "contract.update", "contract", c.ID, c.OrgPath,
			fmt.Sprintf("reserved=%d", c.ReservedCapacity)))
	})
	return c, err
}

// DeleteContract deletes a contract with no partners under it.
func (s *Service) DeleteContract(ctx context.Context, a actor.Actor, id string) error {
	if err := a.Require(actor.Admin); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		c, err := tx.GetContract(ctx, a.Scope(), id)
		if err != nil {
			return err
		}
		if c.OrgID == a.OrgID {
			return errs.New(errs.KindForbidden, "a distributor cannot delete its own contract")
		}
		n, err := tx.CountContractPartners(ctx, c.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			return errs.Newf(errs.KindPrecondition, "the contract has %d partners; delete them first", n)
		}
		if err := tx.DeleteContract(ctx, c.ID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "contract.delete", "contract", c.ID, c.OrgPath, c.Details))
	})
}

func fieldNotFound(err error, field, msg string) error {
	if errs.Is(err, errs.KindNotFound) {
		return &errs.Error{Kind: errs.KindNotFound, Field: field, Msg: msg}
	}
	return err
}
