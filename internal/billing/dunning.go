package billing

import (
	"context"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
)

// dunningReason prefixes the suspend_reason dunning writes, so lifting
// touches only restrictions dunning set (an operator's own FROZEN stays).
const dunningReason = "invoice "

func overdueReason(invoiceID int64) string {
	return dunningReason + PaddedID(invoiceID) + " is past due"
}

// Dunning is the dunning job: every unrestricted account with an unpaid
// usage invoice past its due date at instant at is frozen (restriction_level
// FROZEN, suspend_reason "invoice <padded_id> is past due"), and every
// account dunning froze that no longer has an overdue invoice is lifted.
// Both are conditional updates under the account's row lock, so the job is
// idempotent and safe on many nodes.
func (s *Service) Dunning(ctx context.Context, at time.Time) (frozen, lifted int, err error) {
	over, err := s.store.ListOverdue(ctx, at)
	if err != nil {
		return 0, 0, err
	}
	for _, o := range over {
		var changed bool
		err := s.store.Tx(ctx, func(tx Store) error {
			if _, err := tx.LockBillingAccount(ctx, o.AccountID); err != nil {
				return err
			}
			inv, ok, err := tx.OldestOverdueInvoice(ctx, o.AccountID, at)
			if err != nil || !ok {
				return err
			}
			changed, err = tx.SetBillingAccountRestriction(ctx, o.AccountID, RestrictionNone, RestrictionFrozen,
				overdueReason(inv), clock.Micro(s.clock.Now()))
			return err
		})
		if err != nil {
			return frozen, lifted, err
		}
		if changed {
			frozen++
		}
	}
	restricted, err := s.store.ListRestrictedAccounts(ctx, RestrictionFrozen)
	if err != nil {
		return frozen, lifted, err
	}
	for _, id := range restricted {
		var changed bool
		err := s.store.Tx(ctx, func(tx Store) error {
			var err error
			changed, err = s.liftTx(ctx, tx, id, at)
			return err
		})
		if err != nil {
			return frozen, lifted, err
		}
		if changed {
			lifted++
		}
	}
	return frozen, lifted, nil
}

// AfterPaymentTx is called by payments inside the transaction that applied
// a payment to the account's invoices: it lifts a restriction dunning set
// once no overdue unpaid invoice remains. It reports whether it lifted one.
func (s *Service) AfterPaymentTx(ctx context.Context, tx Queries, accountID int64) (bool, error) {
	return s.liftTx(ctx, tx, accountID, s.clock.Now())
}

// LiftRestrictionTx is AfterPaymentTx under the name the plan gives it.
func (s *Service) LiftRestrictionTx(ctx context.Context, tx Queries, accountID int64) (bool, error) {
	return s.AfterPaymentTx(ctx, tx, accountID)
}

func (s *Service) liftTx(ctx context.Context, tx Queries, accountID int64, at time.Time) (bool, error) {
	acct, err := tx.LockBillingAccount(ctx, accountID)
	if err != nil {
		return false, err
	}
	if acct.RestrictionLevel != RestrictionFrozen || !strings.HasPrefix(acct.SuspendReason, dunningReason) {
		return false, nil
	}
	inv, overdue, err := tx.OldestOverdueInvoice(ctx, accountID, at)
	if err != nil {
		return false, err
	}
	if overdue {
		// Still frozen, but the reason names the invoice that is now the
		// oldest overdue one (the one named before may have been paid).
		_, err := tx.SetBillingAccountRestriction(ctx, accountID, RestrictionFrozen, RestrictionFrozen,
			overdueReason(inv), clock.Micro(s.clock.Now()))
		return false, err
	}
	return tx.SetBillingAccountRestriction(ctx, accountID, RestrictionFrozen, RestrictionNone, "", clock.Micro(s.clock.Now()))
}
