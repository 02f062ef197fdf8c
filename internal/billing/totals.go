package billing

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/money"
)

// UnpaidAmount is Σ (total − paid) over the account's unpaid usage invoices,
// VAT included (ID-82). Top-up invoices are prepayment requests, not debts,
// and are not counted.
func (s *Service) UnpaidAmount(ctx context.Context, a actor.Actor, id int64) (int64, error) {
	acct, err := s.ResolveAccount(ctx, a, id)
	if err != nil {
		return 0, err
	}
	return s.store.UnpaidInvoiceTotal(ctx, acct.ID)
}

// Details are what the idcloudhost account object shows beside the stored
// fields.
type Details struct {
	Account         Account
	CreditAvailable int64 // credit ledger balance (credit_amount)
	Unpaid          int64 // unpaid_amount
	Running         Totals
}

// Describe returns an account's money figures at instant at (the running
// totals cover at's month so far).
func (s *Service) Describe(ctx context.Context, acct Account, at time.Time) (Details, error) {
	d := Details{Account: acct}
	var err error
	if d.Unpaid, err = s.store.UnpaidInvoiceTotal(ctx, acct.ID); err != nil {
		return Details{}, err
	}
	if d.Running, err = s.runningTotals(ctx, acct, at); err != nil {
		return Details{}, err
	}
	d.CreditAvailable = d.Running.CreditAvailable
	return d, nil
}

// RunningTotals returns the account's current month so far priced as its
// invoice would be (see Totals).
func (s *Service) RunningTotals(ctx context.Context, a actor.Actor, id int64) (Totals, error) {
	acct, err := s.ResolveAccount(ctx, a, id)
	if err != nil {
		return Totals{}, err
	}
	return s.runningTotals(ctx, acct, s.clock.Now())
}

func (s *Service) runningTotals(ctx context.Context, acct Account, at time.Time) (Totals, error) {
	credit, err := creditBalance(ctx, s.store, acct.ID)
	if err != nil {
		return Totals{}, err
	}
	var lines []UsageLine
	if s.cfg.Usage != nil && at.After(monthStart(at)) { // at the first instant the month has no usage yet
		if lines, err = s.cfg.Usage.Lines(ctx, acct.ID, monthStart(at), at); err != nil {
			return Totals{}, err
		}
	}
	t, applied, err := priceLines(acct, lines, credit)
	if err != nil {
		return Totals{}, err
	}
	return Totals{Subtotal: t.Subtotal.Minor(), Discount: t.Discount.Minor(), CreditAmount: applied, VAT: t.VAT.Minor(),
		Total: t.Total.Minor(), CreditAvailable: credit, Ongoing: credit - t.Total.Minor()}, nil
}

// CurrentUsage returns the account's usage lines of the current month so far
// (ID-99).
func (s *Service) CurrentUsage(ctx context.Context, a actor.Actor, id int64) ([]UsageLine, error) {
	acct, err := s.ResolveAccount(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if s.cfg.Usage == nil {
		return []UsageLine{}, nil
	}
	now := s.clock.Now()
	if !now.After(monthStart(now)) {
		return []UsageLine{}, nil
	}
	lines, err := s.cfg.Usage.Lines(ctx, acct.ID, monthStart(now), now)
	if lines == nil && err == nil {
		lines = []UsageLine{}
	}
	return lines, err
}

// priceLines computes the totals of lines for acct with as much of the
// available credit as the discounted subtotal takes; it returns the totals
// and the credit applied (≥ 0).
func priceLines(acct Account, lines []UsageLine, creditAvailable int64) (money.InvoiceTotals, int64, error) {
	cur := acct.Cur()
	amounts := make([]money.Decimal, len(lines))
	for i, l := range lines {
		amounts[i] = l.UnitPrice.Mul(l.Quantity)
	}
	disc, vat := money.DecimalFromInt(int64(acct.DiscountPercentage)), money.DecimalFromInt(int64(acct.VATPercentage))
	t, err := money.Totals(amounts, disc, vat, money.Zero(cur))
	if err != nil {
		return money.InvoiceTotals{}, 0, err
	}
	applied := min(max(creditAvailable, 0), t.Subtotal.Minor()-t.Discount.Minor())
	if applied == 0 {
		return t, 0, nil
	}
	t, err = money.Totals(amounts, disc, vat, money.NewAmount(-applied, cur))
	return t, applied, err
}
