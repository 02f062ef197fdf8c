package billing

import (
	"context"
	"fmt"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
)

// AdmitTx resolves the billing account a resource request means and checks
// that it may take on new or larger resources, inside the caller's
// transaction (so the resource and the check commit together).
//
// Resolution follows ResolveAccountTx, except that with required set a
// global token must name the account (ID-amb-24: disks, buckets, floating
// IPs and load balancers); a restricted token always means its account.
// The account is then refused, with a Precondition error naming
// billing_account_id, when it is deleted or inactive, when it is restricted (dunning
// froze it, or an operator did), or when its balance is below its floor:
// balance = credit − unpaid usage invoices, floor = −max_debt with
// allow_debt, else 0. Money already owed beyond what the account may owe
// stops new spending; current usage is billed at month end as usual.
func (s *Service) AdmitTx(ctx context.Context, tx Queries, a actor.Actor, id int64, required bool) (Account, error) {
	if required && id == 0 && a.BillingAccount == 0 {
		return Account{}, errs.Invalid("billing_account_id", "is required (the token is not restricted to one billing account)")
	}
	acct, err := s.resolve(ctx, tx, a, id)
	if err != nil {
		return Account{}, err
	}
	if err := a.Require(actor.Staff); err != nil {
		return Account{}, err
	}
	if err := s.admit(ctx, tx, acct); err != nil {
		return Account{}, err
	}
	return acct, nil
}

// CheckAdmissionTx applies AdmitTx's checks to an account already resolved
// (growing an existing resource: its own account).
func (s *Service) CheckAdmissionTx(ctx context.Context, tx Queries, accountID int64) error {
	acct, err := tx.GetBillingAccount(ctx, "/", accountID)
	if err != nil {
		return err
	}
	return s.admit(ctx, tx, acct)
}

func (s *Service) admit(ctx context.Context, tx Queries, acct Account) error {
	refuse := func(format string, args ...any) error {
		return &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id", Msg: fmt.Sprintf(format, args...)}
	}
	if acct.DeletedAt != nil {
		return refuse("billing account %d is deleted", acct.ID)
	}
	if !acct.IsActive {
		return refuse("billing account %d is not active", acct.ID)
	}
	if acct.RestrictionLevel != RestrictionNone {
		reason := ""
		if acct.SuspendReason != "" {
			reason = ": " + acct.SuspendReason
		}
		return refuse("billing account %d is restricted (%s%s); no resources can be created or grown until it is lifted",
			acct.ID, acct.RestrictionLevel, reason)
	}
	credit, err := creditBalance(ctx, tx, acct.ID)
	if err != nil {
		return err
	}
	unpaid, err := tx.UnpaidInvoiceTotal(ctx, acct.ID)
	if err != nil {
		return err
	}
	floor := int64(0)
	if acct.AllowDebt {
		floor = -acct.MaxDebt
	}
	if balance := credit - unpaid; balance < floor {
		cur := acct.Cur()
		return refuse("billing account %d is below its floor: balance %s (credit %s, unpaid invoices %s), floor %s; pay the unpaid invoices first",
			acct.ID, money.NewAmount(balance, cur).String(), money.NewAmount(credit, cur).String(),
			money.NewAmount(unpaid, cur).String(), money.NewAmount(floor, cur).String())
	}
	return nil
}
