package billing

import (
	"context"
	"github.com/trellis-cloud/trellis/internal/clock"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
)

// RecurringInput configures the recurring top-up (ID-79); nil fields stay.
type RecurringInput struct {
	Enabled   *bool
	Amount    *money.Decimal // is_recurring_payment amount, ≥ 0, at most 2 decimals
	Threshold *money.Decimal
}

// SetRecurring stores the recurring top-up configuration. The immediate
// top-up when ongoing is already below the threshold is payments' job.
func (s *Service) SetRecurring(ctx context.Context, a actor.Actor, id int64, in RecurringInput) (Account, error) {
	for _, f := range []struct {
		name string
		v    *money.Decimal
	}{{"recurring_payment_amount", in.Amount}, {"recurring_payment_threshold", in.Threshold}} {
		if f.v == nil {
			continue
		}
		if f.v.Sign() < 0 {
			return Account{}, errs.Invalid(f.name, "must not be negative")
		}
		if !f.v.Equal(f.v.Truncate(2)) || f.v.GreaterThan(money.DecimalFromInt(1_000_000)) {
			return Account{}, errs.Invalid(f.name, "must have at most 2 decimals and be at most 1000000")
		}
	}
	var out Account
	err := s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if in.Enabled != nil {
			acct.RecurringEnabled = *in.Enabled
		}
		if in.Amount != nil {
			acct.RecurringAmount = *in.Amount
		}
		if in.Threshold != nil {
			acct.RecurringThreshold = *in.Threshold
		}
		acct.UpdatedAt = clock.Micro(s.clock.Now())
		out = acct
		return tx.UpdateBillingAccount(ctx, acct)
	})
	return out, err
}

// AdminInput changes the operator-only fields; nil fields stay.
type AdminInput struct {
	VATPercentage      *int
	DiscountPercentage *int
	AllowDebt          *bool
	MaxDebt            *int64 // minor units, ≥ 0
	PayingByInvoice    *bool
	IsActive           *bool
}

// AdminUpdate changes VAT, discount, debt and activity: operators only (an
// org above the customer, admin role). It affects invoices issued later.
func (s *Service) AdminUpdate(ctx context.Context, a actor.Actor, id int64, in AdminInput) (Account, error) {
	if err := a.Require(actor.Admin); err != nil {
		return Account{}, err
	}
	if err := a.RequireKind(actor.Provider, actor.Distributor, actor.Partner); err != nil {
		return Account{}, err
	}
	if in.VATPercentage != nil && (*in.VATPercentage < 0 || *in.VATPercentage > 100) {
		return Account{}, errs.Invalid("vat_percentage", "must be an integer between 0 and 100")
	}
	if in.DiscountPercentage != nil && (*in.DiscountPercentage < 0 || *in.DiscountPercentage > 100) {
		return Account{}, errs.Invalid("discount_percentage", "must be an integer between 0 and 100")
	}
	if in.MaxDebt != nil && *in.MaxDebt < 0 {
		return Account{}, errs.Invalid("max_debt", "must not be negative")
	}
	var out Account
	err := s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.writable(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := in.mintCheck(a, acct); err != nil {
			return err
		}
		if in.VATPercentage != nil {
			acct.VATPercentage = *in.VATPercentage
		}
		if in.DiscountPercentage != nil {
			acct.DiscountPercentage = *in.DiscountPercentage
		}
		if in.AllowDebt != nil {
			acct.AllowDebt = *in.AllowDebt
		}
		if in.MaxDebt != nil {
			acct.MaxDebt = *in.MaxDebt
		}
		if in.PayingByInvoice != nil {
			acct.PayingByInvoice = *in.PayingByInvoice
		}
		if in.IsActive != nil {
			acct.IsActive = *in.IsActive
		}
		acct.UpdatedAt = clock.Micro(s.clock.Now())
		out = acct
		return tx.UpdateBillingAccount(ctx, acct)
	})
	return out, err
}

// SetDefault makes the account its user's only default (ID-81). The org row
// lock serialises concurrent calls, so exactly one default remains.
func (s *Service) SetDefault(ctx context.Context, a actor.Actor, id int64) error {
	if err := a.RequireWholeUser("change the user's default billing account"); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.resolve(ctx, tx, a, id)
		if err != nil {
			return err
		}
		if err := a.Require(actor.Staff); err != nil {
			return err
		}
		if err := tx.LockOrg(ctx, acct.OrgID); err != nil {
			return err
		}
		if acct, err = tx.LockBillingAccount(ctx, acct.ID); err != nil {
			return err
		}
		if acct.Deleted() {
			return &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id", Msg: "the billing account is deleted"}
		}
		return tx.SetDefaultBillingAccount(ctx, acct.ID, clock.Micro(s.clock.Now()))
	})
}

// DeleteAccount soft-deletes an account (ID-76, ID-amb-18). It is refused
// for the default account, an account with unpaid invoices, and one with
// active resources. A deleted account stays visible with show_shadow.
func (s *Service) DeleteAccount(ctx context.Context, a actor.Actor, id int64) error {
	acct, err := s.ResolveAccount(ctx, a, id)
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		if err := tx.LockOrg(ctx, acct.OrgID); err != nil {
			return err
		}
		acct, err := s.writable(ctx, tx, a, acct.ID)
		if err != nil {
			return err
		}
		if acct.IsDefault {
			return &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id",
				Msg: "the default billing account cannot be deleted; make another account the default first"}
		}
		if s.cfg.Resources != nil {
			n, err := s.cfg.Resources.ActiveResourcesTx(ctx, tx, acct.ID)
			if err != nil {
				return err
			}
			if n > 0 {
				return &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id",
					Msg: "the billing account still has active resources"}
			}
		}
		unpaid, err := tx.UnpaidInvoiceTotal(ctx, acct.ID)
		if err != nil {
			return err
		}
		if unpaid > 0 {
			return &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id",
				Msg: "the billing account has unpaid invoices"}
		}
		ok, err := tx.SoftDeleteBillingAccount(ctx, acct.ID, clock.Micro(s.clock.Now()))
		if err != nil {
			return err
		}
		if !ok {
			return errs.Newf(errs.KindInternal, "billing: account %d changed under its lock", acct.ID)
		}
		return nil
	})
}
