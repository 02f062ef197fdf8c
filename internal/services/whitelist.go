package services

import (
	"context"
	"slices"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// AddWhitelist adds an entry to a package's whitelist and returns the list
// (ID-107). An entry already present changes nothing.
func (s *Service) AddWhitelist(ctx context.Context, a actor.Actor, location, uuid, entry string) ([]string, error) {
	return s.changeWhitelist(ctx, a, location, uuid, entry, true)
}

// RemoveWhitelist removes an entry from a package's whitelist and returns
// the list (ID-108). An absent entry changes nothing (ID-amb-29).
func (s *Service) RemoveWhitelist(ctx context.Context, a actor.Actor, location, uuid, entry string) ([]string, error) {
	return s.changeWhitelist(ctx, a, location, uuid, entry, false)
}

func (s *Service) changeWhitelist(ctx context.Context, a actor.Actor, location, uuid, entry string, add bool) ([]string, error) {
	if err := a.Require(actor.Staff); err != nil {
		return nil, err
	}
	entry, err := WhitelistEntry(entry)
	if err != nil {
		return nil, err
	}
	var (
		list    []string
		id      string
		changed bool
	)
	err = s.store.Tx(ctx, func(tx Store) error {
		p, err := visible(ctx, tx, a, location, uuid, true)
		if err != nil {
			return err
		}
		id = p.UUID
		if p.IsDeleted() {
			return errs.New(errs.KindPrecondition, "the service package is deleted")
		}
		if list, err = tx.ListServiceWhitelist(ctx, p.UUID); err != nil {
			return err
		}
		now := s.now()
		action := "service_package.whitelist.add"
		if add {
			if slices.Contains(list, entry) {
				return nil
			}
			if len(list) >= MaxWhitelist {
				return errs.Invalidf("ip_address", "the whitelist is full (at most %d entries)", MaxWhitelist)
			}
			changed, err = tx.AddServiceWhitelist(ctx, p.UUID, entry, now)
		} else {
			action = "service_package.whitelist.delete"
			changed, err = tx.DeleteServiceWhitelist(ctx, p.UUID, entry)
		}
		if err != nil || !changed {
			return err
		}
		if list, err = tx.ListServiceWhitelist(ctx, p.UUID); err != nil {
			return err
		}
		if err := s.enqueueTx(ctx, tx, p.UUID, OpWhitelist); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, action, "service_package", p.UUID, p.OrgPath, entry))
	})
	if err != nil {
		return nil, err
	}
	if changed && s.inline() {
		// A failure is retried by the job; the list is the truth.
		s.logStep(ctx, s.stepWhitelist(ctx, id), id, "whitelist")
	}
	return list, nil
}
