package payment

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
)

func formatMinor(minor int64, cur money.Currency) string {
	return money.NewAmount(minor, cur).String()
}

// BuyCredit charges a verified card of the account and adds the amount to
// its credit (ID-90): ledger clearing −A, credit +A, and a credit record
// "Credit purchase". A decline is errs.KindPaymentDeclined naming
// payment_object_id, with nothing booked. The same IdempotencyKey replayed
// returns the first charge.
func (s *Service) BuyCredit(ctx context.Context, a actor.Actor, in BuyCreditInput) (Charge, error) {
	if err := in.Validate(); err != nil {
		return Charge{}, err
	}
	acct, err := s.payer(ctx, a, in.AccountID)
	if err != nil {
		return Charge{}, err
	}
	amount, err := parseAmount("amount", in.Amount, acct.Cur())
	if err != nil {
		return Charge{}, err
	}
	if amount > s.cfg.MaxAmount {
		return Charge{}, errs.Invalidf("amount", "must be at most %s", formatMinor(s.cfg.MaxAmount, acct.Cur()))
	}
	o, err := s.object(ctx, a, in.PaymentObjectID)
	if err != nil {
		return Charge{}, err
	}
	if o.AccountID != acct.ID {
		return Charge{}, notFound("payment_object_id", "payment object %d is not a method of billing account %d", o.ID, acct.ID)
	}
	if err := chargeable(o, s.clock.Now()); err != nil {
		return Charge{}, err
	}
	cus, err := s.customer(ctx, acct, s.proc.Name())
	if err != nil {
		return Charge{}, err
	}
	return s.buy(ctx, chargeSpec{actor: a, acct: acct, purpose: PurposeCredit, method: o, customerRef: cus.CustomerRef,
		key:       requestKey("buy", a, in.IdempotencyKey),
		hash:      hashRequest("buy_credit", strconv.FormatInt(acct.ID, 10), strconv.FormatInt(o.ID, 10), strconv.FormatInt(amount, 10)),
		requested: amount, description: "Credit purchase"})
}

// chargeable checks that o is a card that may be charged now.
func chargeable(o PaymentObject, now time.Time) error {
	switch {
	case o.Kind != MethodCard:
		return precondition("payment_object_id", "payment object %d is the paying-by-invoice method and cannot be charged", o.ID)
	case !o.IsVerified:
		return precondition("payment_object_id", "payment object %d is not verified", o.ID)
	case !now.Before(o.ValidThru):
		return precondition("payment_object_id", "payment object %d has expired", o.ID)
	}
	return nil
}

// buy runs a credit purchase's saga.
func (s *Service) buy(ctx context.Context, sp chargeSpec) (Charge, error) {
	c, _, err := s.begin(ctx, sp)
	if err != nil {
		return Charge{}, err
	}
	if c, err = s.drive(ctx, c); err != nil {
		return c, err
	}
	if c.Status == ChargeFailed {
		return c, &errs.Error{Kind: errs.KindPaymentDeclined, Field: "payment_object_id", Msg: c.Error}
	}
	return c, nil
}

// ---- automatic payments ----

// autoPayKeyPrefix + invoice id is the key of an invoice's automatic charge:
// one attempt per invoice, whoever makes it (the invoice run's hook or the
// AutoPayIssued sweep).
const autoPayKeyPrefix = "autopay:invoice:"

// AutoPay implements billing.AutoPayer: it charges the primary card of the
// invoice's account for what is unpaid of a freshly issued invoice. An
// account without a usable primary card is left alone (nil). A decline
// leaves the invoice unpaid and returns errs.KindPaymentDeclined.
func (s *Service) AutoPay(ctx context.Context, inv billing.Invoice) error {
	_, err := s.autoPay(ctx, inv.ID)
	return err
}

// autoPay charges one invoice automatically; charged reports whether a
// charge (succeeded or declined) was made by this or an earlier attempt.
func (s *Service) autoPay(ctx context.Context, invoiceID int64) (bool, error) {
	inv, err := s.store.GetOpenInvoice(ctx, "/", invoiceID)
	if err != nil || inv.Status != billing.StatusUnpaid || inv.Available() == 0 {
		return false, err
	}
	acct, err := s.store.GetBillingAccount(ctx, "/", inv.AccountID)
	if err != nil || acct.Deleted() {
		return false, err
	}
	method, cus, err := s.payMethod(ctx, acct)
	if errs.Is(err, errs.KindPrecondition) {
		return false, nil // no card to charge: the customer pays by hand
	}
	if err != nil {
		return false, err
	}
	sp := chargeSpec{actor: actor.System("autopay"), acct: acct, purpose: PurposeInvoices, method: method,
		customerRef: cus.CustomerRef, key: autoPayKeyPrefix + strconv.FormatInt(inv.ID, 10),
		hash: hashRequest("autopay", strconv.FormatInt(inv.ID, 10)), limit: maxLimit,
		description: fmt.Sprintf("Automatic payment of invoice #%d", inv.ID),
		allocate: func(ctx context.Context, tx Store, limit int64) ([]Allocation, error) {
			cur, err := tx.GetOpenInvoice(ctx, "/", inv.ID)
			if err != nil {
				return nil, err
			}
			return reserve(ctx, tx, []OpenInvoice{cur}, limit, s)
		}}
	r, err := s.pay(ctx, sp, 0)
	if err != nil {
		return r.ChargeID != 0, err
	}
	return r.ChargeID != 0, nil
}

// AutoPayIssued is the auto-pay job: every unpaid usage invoice created at
// or before at whose account has a primary card and that had no automatic
// charge yet is charged once (catching invoices whose hook did not run,
// e.g. after a crash). n counts the charges made; declines are not errors.
func (s *Service) AutoPayIssued(ctx context.Context, at time.Time) (int, error) {
	ids, err := s.store.ListAutoPayInvoices(ctx, autoPayKeyPrefix, at, s.cfg.BatchSize)
	if err != nil {
		return 0, err
	}
	n := 0
	var failed []error
	for _, id := range ids {
		charged, err := s.autoPay(ctx, id)
		if charged {
			n++
		}
		if err != nil && !errs.Is(err, errs.KindPaymentDeclined) {
			s.cfg.Logger.WarnContext(ctx, "auto-pay failed", "invoice", id, "err", err)
			failed = append(failed, fmt.Errorf("payment: auto-pay of invoice %d: %w", id, err))
		}
	}
	return n, errors.Join(failed...)
}

// ---- recurring top-up ----

// RecurringTopUp is the recurring top-up job (ID-79): every account with
// the top-up enabled whose running total "ongoing" (credit available minus
// what the month so far would cost) is below its threshold buys
// recurring_payment_amount of credit with its primary card. At most one
// top-up per account and UTC day of at (the charge key is
// "recurring:<account>:<day>"), so an hourly job cannot drain a card when one
// top-up does not lift ongoing above the threshold; a declined top-up is
// retried the next day. n counts the top-ups charged.
func (s *Service) RecurringTopUp(ctx context.Context, at time.Time) (int, error) {
	list, err := s.store.ListRecurringAccounts(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var failed []error
	for _, r := range list {
		acct, err := s.store.GetBillingAccount(ctx, "/", r.AccountID)
		if err != nil {
			failed = append(failed, err)
			continue
		}
		rep, err := s.topUpIfBelow(ctx, acct, at)
		if rep.Triggered {
			n++
		}
		if err != nil {
			s.cfg.Logger.WarnContext(ctx, "recurring top-up failed", "billing_account", acct.ID, "err", err)
			failed = append(failed, fmt.Errorf("payment: recurring top-up of account %d: %w", acct.ID, err))
		}
	}
	return n, errors.Join(failed...)
}

// topUpIfBelow buys the account's recurring amount if it is enabled and
// ongoing is below the threshold at at. A decline is reported, not
// returned.
func (s *Service) topUpIfBelow(ctx context.Context, acct billing.Account, at time.Time) (RecurringReport, error) {
	rep := RecurringReport{Errors: []string{}}
	if !acct.RecurringEnabled || acct.Deleted() {
		return rep, nil
	}
	cur := acct.Cur()
	amount, err := money.ToAmount(acct.RecurringAmount, cur, money.ModeExact)
	if err != nil {
		return rep, withField(err, "recurring_payment_amount")
	}
	threshold, err := money.ToAmount(acct.RecurringThreshold, cur, money.ModeExact)
	if err != nil {
		return rep, withField(err, "recurring_payment_threshold")
	}
	if amount.Minor() <= 0 {
		return rep, nil
	}
	d, err := s.billing.Describe(ctx, acct, at)
	if err != nil {
		return rep, err
	}
	if d.Running.Ongoing >= threshold.Minor() {
		return rep, nil
	}
	method, cus, err := s.payMethod(ctx, acct)
	if errs.Is(err, errs.KindPrecondition) {
		rep.Errors = append(rep.Errors, errs.Public(err))
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	day := at.UTC().Format(time.DateOnly)
	c, created, err := s.begin(ctx, chargeSpec{actor: actor.System("recurring-top-up"), acct: acct, purpose: PurposeCredit,
		method: method, customerRef: cus.CustomerRef,
		key:  "recurring:" + strconv.FormatInt(acct.ID, 10) + ":" + day,
		hash: hashRequest("recurring", strconv.FormatInt(acct.ID, 10), day), requested: amount.Minor(),
		description: "Recurring top-up"})
	if err != nil {
		return rep, err
	}
	if !created {
		return rep, nil // today's top-up was made already
	}
	rep.Triggered, rep.ChargeID = true, c.ID
	c, err = s.drive(ctx, c)
	if err != nil {
		return rep, err
	}
	if c.Status == ChargeFailed {
		rep.Errors = append(rep.Errors, c.Error)
	}
	return rep, nil
}

// RecurringInput configures the recurring top-up (ID-79); nil fields stay.
type RecurringInput struct {
	AccountID int64
	Enabled   *bool
	Amount    *string // plain decimals of major units, ≥ 0
	Threshold *string
}

// ConfigureRecurring stores the recurring top-up configuration (through
// billing) and, if enabled and ongoing is already below the threshold, tops
// up at once (ID-79's payment_report: triggered, and the decline or the
// missing card in errors). Enabling needs a usable primary card (the seed:
// "requires a payment method capable of automated payments").
func (s *Service) ConfigureRecurring(ctx context.Context, a actor.Actor, in RecurringInput) (billing.Account, RecurringReport, error) {
	rep := RecurringReport{Errors: []string{}}
	acct, err := s.payer(ctx, a, in.AccountID)
	if err != nil {
		return billing.Account{}, rep, err
	}
	var bin billing.RecurringInput
	bin.Enabled = in.Enabled
	for _, f := range []struct {
		name string
		in   *string
		out  **money.Decimal
	}{{"recurring_payment_amount", in.Amount, &bin.Amount}, {"recurring_payment_threshold", in.Threshold, &bin.Threshold}} {
		if f.in == nil {
			continue
		}
		d, err := money.ParseDecimal(f.name, *f.in)
		if err != nil {
			return billing.Account{}, rep, err
		}
		*f.out = &d
	}
	if in.Enabled != nil && *in.Enabled {
		if _, _, err := s.payMethod(ctx, acct); err != nil {
			if errs.Is(err, errs.KindPrecondition) {
				return billing.Account{}, rep, precondition("is_recurring_payment_enabled",
					"the recurring top-up needs a primary card: %s", errs.Public(err))
			}
			return billing.Account{}, rep, err
		}
	}
	acct, err = s.billing.SetRecurring(ctx, a, acct.ID, bin)
	if err != nil {
		return billing.Account{}, rep, err
	}
	rep, err = s.topUpIfBelow(ctx, acct, s.clock.Now())
	return acct, rep, err
}

// ---- bank payments ----

// RecordBankPayment records a bank transfer paying an invoice (native
// admin): the invoice's paid amount grows (status 10 when fully paid),
// ledger clearing −A, receivables +A (credit +A for a top-up invoice),
// all in one transaction. The reference is unique: recording it again with
// the same invoice and amount returns the first record, with anything else
// it is a conflict. An amount above what is unpaid (less payments in
// flight) is refused.
func (s *Service) RecordBankPayment(ctx context.Context, a actor.Actor, in BankPaymentInput) (Charge, error) {
	if err := operator(a); err != nil {
		return Charge{}, err
	}
	if err := in.Validate(); err != nil {
		return Charge{}, err
	}
	inv, err := s.invoice(ctx, a, in.InvoiceID)
	if err != nil {
		return Charge{}, err
	}
	acct, err := s.store.GetBillingAccount(ctx, "/", inv.AccountID)
	if err != nil {
		return Charge{}, err
	}
	amount, err := parseAmount("amount", in.Amount, acct.Cur())
	if err != nil {
		return Charge{}, err
	}
	key := "bank:" + in.Reference
	hash := hashRequest("bank", strconv.FormatInt(inv.ID, 10), strconv.FormatInt(amount, 10))
	var c Charge
	err = s.store.Tx(ctx, func(tx Store) error {
		if _, err := tx.LockBillingAccount(ctx, acct.ID); err != nil {
			return err
		}
		if prev, err := tx.GetChargeByKey(ctx, key); err == nil {
			if prev.RequestHash != hash {
				return &errs.Error{Kind: errs.KindConflict, Field: "reference",
					Msg: fmt.Sprintf("bank payment %q was recorded for another invoice or amount", in.Reference)}
			}
			c = prev
			return nil
		} else if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		cur, err := tx.GetOpenInvoice(ctx, "/", inv.ID)
		if err != nil {
			return err
		}
		if cur.Status != billing.StatusUnpaid {
			return precondition("invoice_id", "invoice #%d is already paid", cur.ID)
		}
		if amount > cur.Available() {
			return errs.Invalidf("amount", "exceeds what is unpaid of invoice #%d: %s (%s is being paid by card)",
				cur.ID, formatMinor(cur.Available(), acct.Cur()), formatMinor(cur.PendingAmount, acct.Cur()))
		}
		id, err := tx.NextNumber(ctx, billing.CounterCharge)
		if err != nil {
			return err
		}
		now := s.now()
		c = Charge{ID: id, AccountID: acct.ID, Purpose: PurposeInvoices, Source: SourceBank, IdempotencyKey: key,
			RequestHash: hash, Currency: acct.Cur().Code(), Requested: amount, Amount: amount, Status: ChargeSucceeded,
			Identifier: in.Reference, Description: "Bank payment", CreatedAt: now, UpdatedAt: now, FinishedAt: &now,
			Allocations: []Allocation{{ChargeID: id, InvoiceID: inv.ID, Amount: amount}}}
		t, err := s.applyTx(ctx, tx, acct, c, false)
		if err != nil {
			return err
		}
		c.LedgerTransactionID = t.ID
		ok, err := tx.InsertCharge(ctx, c)
		if err != nil {
			return err
		}
		if !ok {
			return errs.Newf(errs.KindInternal, "payment: bank payment %q inserted under the account lock", in.Reference)
		}
		return s.audit(ctx, tx, a, acct, "charge.bank_payment", "charge", c.ID,
			fmt.Sprintf(`{"invoice_id":%d,"amount":%d,"reference":%q}`, inv.ID, amount, in.Reference))
	})
	if err != nil {
		return Charge{}, err
	}
	return s.store.GetCharge(ctx, c.ID)
}

// ---- reads ----

// InvoiceTransactions returns the payments applied to an invoice, oldest
// first (the invoice's transaction_list, ID-92): each with the part of it
// applied to this invoice.
func (s *Service) InvoiceTransactions(ctx context.Context, a actor.Actor, invoiceID int64) ([]InvoiceTransaction, error) {
	inv, err := s.invoice(ctx, a, invoiceID)
	if err != nil {
		return nil, err
	}
	return s.store.ListInvoiceTransactions(ctx, inv.ID)
}

// TransactionsOf returns the payments applied to an invoice without a scope
// check, for a caller (the billing dialect) that already read the invoice.
func (s *Service) TransactionsOf(ctx context.Context, invoiceID int64) ([]InvoiceTransaction, error) {
	return s.store.ListInvoiceTransactions(ctx, invoiceID)
}

// Charges returns the account's charges, newest first.
func (s *Service) Charges(ctx context.Context, a actor.Actor, accountID int64) ([]Charge, error) {
	acct, err := s.billing.ResolveAccount(ctx, a, accountID)
	if err != nil {
		return nil, withField(err, "billing_account_id")
	}
	return s.store.ListAccountCharges(ctx, acct.ID)
}

// ---- recovery ----

// ResolvePending is the recovery job: every charge pending since at −
// PendingGrace or earlier (its request crashed, or the processor's answer
// was lost) is charged again with the same processor key, which the
// processor answers with the original outcome, and settled. n counts the
// charges settled; charges whose processor is still unreachable stay
// pending for the next run.
func (s *Service) ResolvePending(ctx context.Context, at time.Time) (int, error) {
	list, err := s.store.ListPendingCharges(ctx, at.Add(-s.cfg.PendingGrace), s.cfg.BatchSize)
	if err != nil {
		return 0, err
	}
	n := 0
	var failed []error
	for _, c := range list {
		c, err := s.drive(ctx, c)
		if err != nil {
			s.cfg.Logger.WarnContext(ctx, "pending charge not resolved", "charge", c.ID, "err", err)
			failed = append(failed, fmt.Errorf("payment: charge %d: %w", c.ID, err))
			continue
		}
		if c.Status != ChargePending {
			n++
		}
	}
	return n, errors.Join(failed...)
}
