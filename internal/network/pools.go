package network

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// operator checks the caller may change the public pools: provider admins
// only (the addresses are the provider's).
func operator(a actor.Actor) error {
	if err := a.RequireKind(actor.Provider); err != nil {
		return err
	}
	return a.Require(actor.Admin)
}

// AddPoolRange adds an operator CIDR to a location's floating-IP pool:
// every usable address (network and broadcast excluded, except in a /31 or
// /32, and the listed exclusions) becomes a free pool address. Ranges never
// overlap, in any location.
func (s *Service) AddPoolRange(ctx context.Context, a actor.Actor, in AddPoolRange) (PoolRange, error) {
	if err := operator(a); err != nil {
		return PoolRange{}, err
	}
	p, addrs, excluded, err := parsePoolRange(in.CIDR, in.Exclude)
	if err != nil {
		return PoolRange{}, err
	}
	var out PoolRange
	err = s.store.Tx(ctx, func(tx Store) error {
		if _, err := tx.GetLocation(ctx, in.Location); err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return &errs.Error{Kind: errs.KindNotFound, Field: "location", Msg: "no such location: " + in.Location}
			}
			return err
		}
		all, err := tx.ListPoolRanges(ctx, "")
		if err != nil {
			return err
		}
		for _, r := range all {
			if q, err := netip.ParsePrefix(r.CIDR); err == nil && overlaps(p, q) {
				return &errs.Error{Kind: errs.KindConflict, Field: "cidr",
					Msg: fmt.Sprintf("overlaps range %s of location %s", r.CIDR, r.Location)}
			}
		}
		now := s.now()
		out = PoolRange{ID: ids.New(), Location: in.Location, CIDR: p.String(), Excluded: excluded, Size: len(addrs),
			MinNum: addrs[0].Num, MaxNum: addrs[len(addrs)-1].Num, CreatedAt: now}
		if out.Excluded == nil {
			out.Excluded = []string{}
		}
		if err := tx.InsertPoolRange(ctx, out, addrs); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return &errs.Error{Kind: errs.KindConflict, Field: "cidr", Msg: "overlaps an existing range"}
			}
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "ip_pool.add", "ip_pool_range", out.ID, "/",
			fmt.Sprintf("%s %s (%d addresses; excluded %s)", in.Location, out.CIDR, out.Size, strings.Join(excluded, ","))))
	})
	return out, err
}

// ListPoolRanges lists the ranges of a location ("" = all) with their
// use.
func (s *Service) ListPoolRanges(ctx context.Context, a actor.Actor, location string) ([]PoolRange, error) {
	if err := operator(a); err != nil {
		return nil, err
	}
	return s.store.ListPoolRanges(ctx, location)
}

// RemovePoolRange removes a range none of whose addresses is reserved.
func (s *Service) RemovePoolRange(ctx context.Context, a actor.Actor, id string) error {
	if err := operator(a); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		r, err := tx.GetPoolRange(ctx, id)
		if err != nil {
			return err
		}
		ok, err := tx.DeletePoolRange(ctx, r.ID)
		if err != nil {
			return err
		}
		if !ok {
			return &errs.Error{Kind: errs.KindPrecondition, Field: "id",
				Msg: fmt.Sprintf("range %s still has reserved addresses; release them first", r.CIDR)}
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "ip_pool.remove", "ip_pool_range", r.ID, "/", r.Location+" "+r.CIDR))
	})
}
