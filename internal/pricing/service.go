package pricing

import (
	"context"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// Service manages price versions and managed-service multipliers.
type Service struct {
	store Store
	clock clock.Clock
}

// NewService returns a pricing service.
func NewService(s Store, c clock.Clock) *Service { return &Service{store: s, clock: c} }

// EnsureDefault installs the default version (the seed's prices, effective
// from the epoch) and the default service multipliers, unless present. It is
// idempotent and safe to run on many nodes at once (unique inserts).
func (s *Service) EnsureDefault(ctx context.Context) error {
	return s.store.Tx(ctx, func(tx Store) error {
		if _, err := tx.InsertPriceVersion(ctx, DefaultVersion()); err != nil {
			return err
		}
		for _, sm := range DefaultServices() {
			if _, err := tx.InsertServiceMultipliers(ctx, sm); err != nil {
				return err
			}
		}
		return nil
	})
}

// operator checks that a is an operator (provider org) admin, or the system.
func operator(a actor.Actor, min actor.Role) error {
	if err := a.Require(min); err != nil {
		return err
	}
	return a.RequireKind(actor.Provider)
}

// CreateVersion adds a price list effective from in.EffectiveFrom, which
// must not be in the past (so usage already recorded keeps its price). Two
// versions cannot share an effective instant (Conflict).
func (s *Service) CreateVersion(ctx context.Context, a actor.Actor, in CreateVersionInput) (Version, error) {
	if err := operator(a, actor.Admin); err != nil {
		return Version{}, err
	}
	now := clock.Micro(s.clock.Now())
	from := clock.Micro(in.EffectiveFrom)
	if in.EffectiveFrom.IsZero() {
		return Version{}, errs.Invalid("effective_from", "is required")
	}
	if from.Before(now) {
		return Version{}, errs.Invalid("effective_from", "must not be in the past")
	}
	if err := ValidateItems(in.Items); err != nil {
		return Version{}, err
	}
	v := Version{ID: ids.New(), EffectiveFrom: from, Items: append([]Item(nil), in.Items...), CreatedAt: now, CreatedBy: a.ID}
	err := s.store.Tx(ctx, func(tx Store) error {
		ok, err := tx.InsertPriceVersion(ctx, v)
		if err != nil {
			return err
		}
		if !ok {
			return &errs.Error{Kind: errs.KindConflict, Field: "effective_from", Msg: "a price version with this effective time exists"}
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "pricing.version.create", "price_version", v.ID, "/",
			fmt.Sprintf("effective_from=%s items=%d", from.Format(time.RFC3339), len(v.Items))))
	})
	return v, err
}

// ListVersions returns every version, oldest first.
func (s *Service) ListVersions(ctx context.Context, a actor.Actor) ([]Version, error) {
	if err := operator(a, actor.Viewer); err != nil {
		return nil, err
	}
	return s.store.ListPriceVersions(ctx)
}

// Current returns the version effective at at. It is public data (the
// idcloudhost /v1/pricing/policy shows it to every customer), so it takes no
// actor. Before EnsureDefault ran it is NotFound.
func (s *Service) Current(ctx context.Context, at time.Time) (Version, error) {
	return s.store.PriceVersionAt(ctx, clock.Micro(at))
}

// PolicyAt returns what Rate needs for a period starting at at: the version
// effective then, and the service multipliers.
func (s *Service) PolicyAt(ctx context.Context, at time.Time) (Policy, error) {
	v, err := s.Current(ctx, at)
	if err != nil {
		return Policy{}, err
	}
	list, err := s.store.ListServiceMultipliers(ctx)
	if err != nil {
		return Policy{}, err
	}
	p := Policy{Version: v, Services: make(map[string][]Multiplier, len(list))}
	for _, sm := range list {
		p.Services[sm.Service] = sm.Multipliers
	}
	return p, nil
}

// SetMultipliers replaces a managed service's multiplier list (operator
// admins). The new list applies to usage rated from now on.
func (s *Service) SetMultipliers(ctx context.Context, a actor.Actor, service string, ms []Multiplier) (ServiceMultipliers, error) {
	if err := operator(a, actor.Admin); err != nil {
		return ServiceMultipliers{}, err
	}
	if err := ValidateMultipliers(service, ms); err != nil {
		return ServiceMultipliers{}, err
	}
	now := clock.Micro(s.clock.Now())
	sm := ServiceMultipliers{Service: service, Multipliers: append([]Multiplier{}, ms...), UpdatedAt: now}
	err := s.store.Tx(ctx, func(tx Store) error {
		if err := tx.ReplaceServiceMultipliers(ctx, sm); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "pricing.multipliers.set", "price_service", service, "/",
			fmt.Sprintf("multipliers=%d", len(ms))))
	})
	return sm, err
}

// ListMultipliers returns every managed service's multipliers, by name.
// Like the policy, they are public (service packages show them).
func (s *Service) ListMultipliers(ctx context.Context) ([]ServiceMultipliers, error) {
	return s.store.ListServiceMultipliers(ctx)
}

// Multipliers returns one service's list (NotFound if it has none).
func (s *Service) Multipliers(ctx context.Context, service string) (ServiceMultipliers, error) {
	list, err := s.store.ListServiceMultipliers(ctx)
	if err != nil {
		return ServiceMultipliers{}, err
	}
	for _, sm := range list {
		if sm.Service == service {
			return sm, nil
		}
	}
	return ServiceMultipliers{}, errs.NotFound("managed service prices")
}
