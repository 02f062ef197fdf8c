package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// Service manages the catalog.
type Service struct {
	store Store
	clock clock.Clock
}

// NewService returns a catalog service.
func NewService(s Store, c clock.Clock) *Service { return &Service{store: s, clock: c} }

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// operator checks the caller may change the catalog: provider admins only,
// since locations are the provider's offer to every tenant.
func operator(a actor.Actor) error {
	if err := a.RequireKind(actor.Provider); err != nil {
		return err
	}
	return a.Require(actor.Admin)
}

// Locations lists the locations (any authenticated caller: the list is
// public to customers).
func (s *Service) Locations(ctx context.Context) ([]Location, error) {
	return s.store.ListLocations(ctx)
}

// Location returns one location by slug.
func (s *Service) Location(ctx context.Context, slug string) (Location, error) {
	if !ValidSlug(slug) {
		return Location{}, errs.NotFound("location")
	}
	return s.store.GetLocation(ctx, slug)
}

// DefaultLocation returns the default location.
func (s *Service) DefaultLocation(ctx context.Context) (Location, error) {
	return s.store.DefaultLocation(ctx)
}

// PutLocation creates or replaces a location. The first location becomes
// the default; IsDefault moves the default to this one. Clearing IsDefault
// on the default location is refused: there must always be one.
func (s *Service) PutLocation(ctx context.Context, a actor.Actor, in PutLocationInput) (Location, error) {
	if err := operator(a); err != nil {
		return Location{}, err
	}
	if err := in.Validate(); err != nil {
		return Location{}, err
	}
	var out Location
	err := s.store.Tx(ctx, func(tx Store) error {
		now := s.now()
		l := Location{Slug: in.Slug, DisplayName: in.DisplayName, Description: in.Description,
			CountryCode: in.CountryCode, OrderNr: in.OrderNr, IsPreferred: in.IsPreferred, CreatedAt: now, UpdatedAt: now}
		old, err := tx.GetLocation(ctx, in.Slug)
		switch {
		case err == nil:
			if old.IsDefault && !in.IsDefault {
				return errs.Invalid("is_default", "the default location stays default until another one is made default")
			}
		case !errs.Is(err, errs.KindNotFound):
			return err
		}
		if _, err := tx.UpsertLocation(ctx, l); err != nil {
			return err
		}
		makeDefault := in.IsDefault
		if !makeDefault {
			if _, err := tx.DefaultLocation(ctx); errs.Is(err, errs.KindNotFound) {
				makeDefault = true
			} else if err != nil {
				return err
			}
		}
		if makeDefault {
			if err := tx.SetDefaultLocation(ctx, l.Slug, now); err != nil {
				return err
			}
		}
		if out, err = tx.GetLocation(ctx, l.Slug); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "location.put", "location", l.Slug, "/",
			fmt.Sprintf("display_name=%q default=%v", l.DisplayName, out.IsDefault)))
	})
	return out, err
}

// DeleteLocation removes a location. The default location cannot be
// deleted while others exist (make another one default first).
// A location with host pools cannot be deleted (delete the pools first);
// other families' resources in a location are theirs to guard.
func (s *Service) DeleteLocation(ctx context.Context, a actor.Actor, slug string) error {
	if err := operator(a); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		l, err := tx.GetLocation(ctx, slug)
		if err != nil {
			return err
		}
		if l.IsDefault {
			all, err := tx.ListLocations(ctx)
			if err != nil {
				return err
			}
			if len(all) > 1 {
				return errs.New(errs.KindPrecondition, "the default location cannot be deleted; make another location default first")
			}
		}
		if n, err := tx.CountHostPools(ctx, slug); err != nil {
			return err
		} else if n > 0 {
			return errs.Newf(errs.KindPrecondition, "location %s has %d host pools; delete them first", slug, n)
		}
		if err := tx.DeleteLocation(ctx, slug); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "location.delete", "location", slug, "/", l.DisplayName))
	})
}

// DemoLocations are the seed's sample locations (idcloudhost List
// Locations), which --demo loads.
func DemoLocations() []PutLocationInput {
	return []PutLocationInput{
		{Slug: "cyc01", DisplayName: "Cycletown", Description: "The original location", CountryCode: "est", OrderNr: 1, IsDefault: true},
		{Slug: "bus02", DisplayName: "Busburg", Description: "Secondary location", CountryCode: "est", OrderNr: 2, IsPreferred: true},
	}
}

// LoadDemo puts the demo locations (idempotent: a second run rewrites the
// same values).
func (s *Service) LoadDemo(ctx context.Context, a actor.Actor) error {
	for _, in := range DemoLocations() {
		if _, err := s.PutLocation(ctx, a, in); err != nil {
			return fmt.Errorf("demo location %s: %w", in.Slug, err)
		}
	}
	return nil
}
