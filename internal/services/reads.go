package services

import (
	"context"
	"slices"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// withPrices fills the packages' price multipliers.
func (s *Service) withPrices(ctx context.Context, ps ...*Package) error {
	list, err := s.prices.ListMultipliers(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		p.Prices = []pricing.Multiplier{}
		for _, sm := range list {
			if sm.Service == p.Service {
				p.Prices = slices.Clone(sm.Multipliers)
			}
		}
	}
	return nil
}

// visible finds a package the caller may see in a location: its org is in
// the caller's subtree, a restricted token sees its account's packages
// only, and a package of another location is not found (ID-amb-1).
func visible(ctx context.Context, q Queries, a actor.Actor, location, uuid string, lock bool) (Package, error) {
	notFound := &errs.Error{Kind: errs.KindNotFound, Field: "service_package_uuid", Msg: "service package not found"}
	uuid, ok := ids.Normalize(uuid)
	if !ok {
		return Package{}, notFound
	}
	p, err := q.GetServicePackage(ctx, a.Scope(), uuid)
	if errs.Is(err, errs.KindNotFound) {
		return Package{}, notFound
	}
	if err != nil {
		return Package{}, err
	}
	if (a.BillingAccount != 0 && p.BillingAccountID != a.BillingAccount) || (location != "" && p.Location != location) {
		return Package{}, notFound
	}
	if lock {
		return q.LockServicePackage(ctx, uuid)
	}
	return p, nil
}

// List returns the caller's packages in a location ("" = every location)
// whose delete was not requested, oldest first (ID-101).
func (s *Service) List(ctx context.Context, a actor.Actor, location string) ([]Package, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	list, err := s.store.ListServicePackages(ctx, PackageFilter{Scope: a.Scope(), Location: location,
		BillingAccountID: a.BillingAccount})
	if err != nil {
		return nil, err
	}
	ptrs := make([]*Package, len(list))
	for i := range list {
		ptrs[i] = &list[i]
	}
	return list, s.withPrices(ctx, ptrs...)
}

// Get returns one package, deleted ones too (ID-102).
func (s *Service) Get(ctx context.Context, a actor.Actor, location, uuid string) (Package, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return Package{}, err
	}
	p, err := visible(ctx, s.store, a, location, uuid, false)
	if err != nil {
		return Package{}, err
	}
	return p, s.withPrices(ctx, &p)
}

// Secrets returns the SQL password of a package that is not deleted
// (ID-104; staff and admins only).
func (s *Service) Secrets(ctx context.Context, a actor.Actor, location, uuid string) (Secrets, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Secrets{}, err
	}
	p, err := visible(ctx, s.store, a, location, uuid, false)
	if err != nil {
		return Secrets{}, err
	}
	if p.IsDeleted() {
		return Secrets{}, errs.New(errs.KindPrecondition, "the service package is deleted")
	}
	pass, err := s.box.Open(p.UUID, p.SealedPass)
	return Secrets{SQLPass: pass}, err
}

// Whitelist returns a package's whitelist (ID-106).
func (s *Service) Whitelist(ctx context.Context, a actor.Actor, location, uuid string) ([]string, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	p, err := visible(ctx, s.store, a, location, uuid, false)
	if err != nil {
		return nil, err
	}
	return s.store.ListServiceWhitelist(ctx, p.UUID)
}
