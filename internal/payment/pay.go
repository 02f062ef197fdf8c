package payment

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// payMethod returns the primary method of the account if it can be charged
// automatically: a usable card.
func (s *Service) payMethod(ctx context.Context, acct billing.Account) (PaymentObject, Customer, error) {
	o, ok, err := s.PrimaryMethod(ctx, acct.ID)
	if err != nil {
		return PaymentObject{}, Customer{}, err
	}
	switch {
	case !ok:
		return PaymentObject{}, Customer{}, precondition("billing_account_id", "billing account %d has no primary card", acct.ID)
	case o.Kind != MethodCard:
		return PaymentObject{}, Customer{}, precondition("billing_account_id",
			"billing account %d pays by invoice: pay by bank transfer, or add a card and make it primary", acct.ID)
	case !o.Usable(s.clock.Now()):
		return PaymentObject{}, Customer{}, precondition("billing_account_id", "the primary card of billing account %d has expired", acct.ID)
	}
	cus, err := s.customer(ctx, acct, s.proc.Name())
	return o, cus, err
}

// PayAmount pays amount against the account's unpaid usage invoices,
// oldest first, partially where the amount runs out (ID-95), with the
// primary card. Only what the invoices need is charged: the rest is
// AmountLeft. A declined card returns the failed result and an
// errs.KindPaymentDeclined error; nothing is paid and the ledger is not
// touched. The same IdempotencyKey replayed (also concurrently) returns
// the first request's result and never charges twice.
func (s *Service) PayAmount(ctx context.Context, a actor.Actor, in PayInput) (PayResult, error) {
	if in.Amount == "" {
		return PayResult{}, errs.Invalid("amount", "is required")
	}
	return s.payOpen(ctx, a, in, "pay_amount")
}

// PayAll pays every unpaid usage invoice of the account, oldest first
// (ID-94), with the primary card.
func (s *Service) PayAll(ctx context.Context, a actor.Actor, in PayInput) (PayResult, error) {
	in.Amount = ""
	return s.payOpen(ctx, a, in, "pay_all")
}

func (s *Service) payOpen(ctx context.Context, a actor.Actor, in PayInput, op string) (PayResult, error) {
	if err := in.Validate(); err != nil {
		return PayResult{}, err
	}
	acct, err := s.payer(ctx, a, in.AccountID)
	if err != nil {
		return PayResult{}, err
	}
	cur := acct.Cur()
	var requested int64 // 0: everything unpaid (pay_all)
	if op == "pay_amount" {
		if requested, err = parseAmount("amount", in.Amount, cur); err != nil {
			return PayResult{}, err
		}
		if requested > s.cfg.MaxAmount {
			return PayResult{}, errs.Invalidf("amount", "must be at most %s", formatMinor(s.cfg.MaxAmount, cur))
		}
	}
	// Nothing unpaid needs no card. (A replay of a request that paid is
	// found by its key and answered by the saga below.)
	open, err := s.store.ListOpenInvoices(ctx, acct.ID, true)
	if err != nil {
		return PayResult{}, err
	}
	key := requestKey("pay", a, in.IdempotencyKey)
	if !anyAvailable(open) {
		if _, err := s.store.GetChargeByKey(ctx, key); errs.Is(err, errs.KindNotFound) {
			return nothingToPay(cur.Code(), requested), nil
		}
	}
	method, cus, err := s.payMethod(ctx, acct)
	if err != nil {
		return PayResult{}, err
	}
	sp := chargeSpec{actor: a, acct: acct, purpose: PurposeInvoices, method: method, customerRef: cus.CustomerRef,
		key:       key,
		hash:      hashRequest(op, strconv.FormatInt(acct.ID, 10), strconv.FormatInt(requested, 10)),
		requested: requested, limit: requested, description: "Invoice payment",
		allocate: func(ctx context.Context, tx Store, req int64) ([]Allocation, error) {
			open, err := tx.ListOpenInvoices(ctx, acct.ID, true)
			if err != nil {
				return nil, err
			}
			return reserve(ctx, tx, open, req, s)
		}}
	if op == "pay_all" {
		sp.limit = maxLimit // whatever is unpaid when the reservation runs
	}
	return s.pay(ctx, sp, requested)
}

// PayInvoice pays what is unpaid of one invoice (ID-96) with the primary
// card; a top-up invoice paid this way adds its amount to the credit.
func (s *Service) PayInvoice(ctx context.Context, a actor.Actor, in PayInvoiceInput) (PayResult, error) {
	if err := in.Validate(); err != nil {
		return PayResult{}, err
	}
	if err := a.Require(actor.Staff); err != nil {
		return PayResult{}, err
	}
	inv, err := s.invoice(ctx, a, in.InvoiceID)
	if err != nil {
		return PayResult{}, err
	}
	acct, err := s.payer(ctx, a, inv.AccountID)
	if err != nil {
		return PayResult{}, err
	}
	if inv.Status != billing.StatusUnpaid {
		return PayResult{}, precondition("invoice_id", "invoice #%d is already paid", inv.ID)
	}
	method, cus, err := s.payMethod(ctx, acct)
	if err != nil {
		return PayResult{}, err
	}
	sp := chargeSpec{actor: a, acct: acct, purpose: PurposeInvoices, method: method, customerRef: cus.CustomerRef,
		key:   requestKey("pay", a, in.IdempotencyKey),
		hash:  hashRequest("pay_invoice", strconv.FormatInt(inv.ID, 10)),
		limit: maxLimit, description: fmt.Sprintf("Payment of invoice #%d", inv.ID),
		allocate: func(ctx context.Context, tx Store, req int64) ([]Allocation, error) {
			cur, err := tx.GetOpenInvoice(ctx, "/", inv.ID)
			if err != nil {
				return nil, err
			}
			if cur.Status != billing.StatusUnpaid {
				return nil, precondition("invoice_id", "invoice #%d is already paid", inv.ID)
			}
			if cur.Available() == 0 {
				return nil, precondition("invoice_id", "a payment of invoice #%d is in progress", inv.ID)
			}
			return reserve(ctx, tx, []OpenInvoice{cur}, req, s)
		}}
	return s.pay(ctx, sp, 0)
}

// invoice returns an invoice's payment state if the actor may see it.
func (s *Service) invoice(ctx context.Context, a actor.Actor, id int64) (OpenInvoice, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return OpenInvoice{}, err
	}
	if id <= 0 {
		return OpenInvoice{}, errs.Invalid("invoice_id", "must be a positive whole number")
	}
	inv, err := s.store.GetOpenInvoice(ctx, a.Scope(), id)
	if errs.Is(err, errs.KindNotFound) || (err == nil && !sees(a, inv.AccountID)) {
		return OpenInvoice{}, notFound("invoice_id", "invoice %d not found", id)
	}
	return inv, err
}

// pay runs an invoice payment's saga and builds its result. requested is
// what the caller asked to pay (0: everything unpaid).
func (s *Service) pay(ctx context.Context, sp chargeSpec, requested int64) (PayResult, error) {
	cur := sp.acct.Cur()
	c, created, err := s.begin(ctx, sp)
	if errors.Is(err, errNothingToPay) {
		return nothingToPay(cur.Code(), requested), nil
	}
	if err != nil {
		return PayResult{}, err
	}
	c, err = s.drive(ctx, c)
	if err != nil {
		return PayResult{}, err
	}
	r := resultOf(c)
	r.Replayed = !created
	if !r.Success {
		return r, &errs.Error{Kind: errs.KindPaymentDeclined, Field: "payment_object_id", Msg: c.Error}
	}
	return r, nil
}

// maxLimit allocates everything unpaid: no invoice total comes near it.
const maxLimit = int64(1) << 62

// resultOf is the ID-95 result of a settled invoice charge.
func resultOf(c Charge) PayResult {
	r := PayResult{Success: c.Status == ChargeSucceeded, Currency: c.Currency, ChargeID: c.ID, PaidInvoices: []int64{},
		ErrorLog: c.Error}
	if r.Success {
		r.AmountUsed = c.Amount
		for _, a := range c.Allocations {
			r.PaidInvoices = append(r.PaidInvoices, a.InvoiceID)
		}
	}
	r.AmountLeft = c.Requested - r.AmountUsed
	r.Message = payMessage(r)
	return r
}

func anyAvailable(open []OpenInvoice) bool {
	for _, o := range open {
		if o.Available() > 0 {
			return true
		}
	}
	return false
}

// nothingToPay is the result of a payment that found nothing unpaid: no
// charge is made and the whole amount is left.
func nothingToPay(currency string, requested int64) PayResult {
	r := PayResult{Success: true, Currency: currency, AmountLeft: requested, PaidInvoices: []int64{}}
	r.Message = payMessage(r)
	return r
}
