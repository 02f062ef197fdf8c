package payment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ledger"
)

// chargeSpec is a card charge to start.
type chargeSpec struct {
	actor       actor.Actor
	acct        billing.Account
	purpose     ChargePurpose
	method      PaymentObject
	customerRef string
	key, hash   string
	// requested is what the caller asked to pay, recorded on the charge;
	// for credit it is the amount charged, for invoices 0 records the sum
	// allocated (pay_all, pay_invoice).
	requested   int64
	limit       int64 // the most an invoice charge allocates
	description string
	// allocate picks and reserves what an invoice charge pays, inside the
	// reservation transaction under the account lock (purpose invoices).
	allocate func(ctx context.Context, tx Store, requested int64) ([]Allocation, error)
}

// errNothingToPay is begin's answer when an invoice payment finds nothing
// unpaid to reserve: no charge is created.
var errNothingToPay = errors.New("payment: nothing to pay")

// begin is the saga's first step: it returns the charge recorded under the
// spec's key (created reports whether this call made it), reserving what it
// pays in the same transaction. A charge already under the key with another
// request hash is a conflict.
func (s *Service) begin(ctx context.Context, sp chargeSpec) (Charge, bool, error) {
	for attempt := 0; ; attempt++ {
		var c Charge
		created := false
		err := s.store.Tx(ctx, func(tx Store) error {
			created = false // db.Tx may run this again after a retryable error
			if prev, err := tx.GetChargeByKey(ctx, sp.key); err == nil {
				c = prev
				return nil
			} else if !errs.Is(err, errs.KindNotFound) {
				return err
			}
			if _, err := tx.LockBillingAccount(ctx, sp.acct.ID); err != nil {
				return err
			}
			// Looked up again under the lock: a racing request with the
			// same key has committed by now and is seen.
			if prev, err := tx.GetChargeByKey(ctx, sp.key); err == nil {
				c = prev
				return nil
			} else if !errs.Is(err, errs.KindNotFound) {
				return err
			}
			now := s.now()
			c = Charge{AccountID: sp.acct.ID, Purpose: sp.purpose, Source: SourceCard, PaymentObjectID: sp.method.ID,
				IdempotencyKey: sp.key, RequestHash: sp.hash, Currency: sp.acct.Cur().Code(), Requested: sp.requested,
				Amount: sp.requested, Status: ChargePending, CustomerRef: sp.customerRef, MethodRef: sp.method.Identifier,
				Description: sp.description, CreatedAt: now, UpdatedAt: now}
			if sp.purpose == PurposeInvoices {
				allocs, err := sp.allocate(ctx, tx, sp.limit)
				if err != nil {
					return err
				}
				var sum int64
				for _, a := range allocs {
					sum += a.Amount
				}
				if sum == 0 {
					return errNothingToPay
				}
				if sum > sp.limit {
					return errs.Newf(errs.KindInternal, "payment: allocated %d of %d", sum, sp.limit)
				}
				c.Amount, c.Allocations = sum, allocs
				if c.Requested == 0 {
					c.Requested = sum
				}
			}
			id, err := tx.NextNumber(ctx, billing.CounterCharge)
			if err != nil {
				return err
			}
			c.ID = id
			for i := range c.Allocations {
				c.Allocations[i].ChargeID = id
			}
			ok, err := tx.InsertCharge(ctx, c)
			if err != nil {
				return err
			}
			if !ok {
				return errRolledBack // a racer inserted the key after our look-up: undo the reservations
			}
			created = true
			return s.audit(ctx, tx, sp.actor, sp.acct, "charge.create", "charge", c.ID,
				fmt.Sprintf(`{"purpose":%q,"amount":%d,"currency":%q}`, c.Purpose, c.Amount, c.Currency))
		})
		if errors.Is(err, errRolledBack) && attempt < 3 {
			continue
		}
		if err != nil {
			return Charge{}, false, err
		}
		if c.RequestHash != sp.hash {
			return Charge{}, false, &errs.Error{Kind: errs.KindConflict, Field: "Idempotency-Key",
				Msg: "was used for another payment request"}
		}
		return c, created, nil
	}
}

// reserve walks open invoices oldest first and reserves up to requested on
// them; it is the allocate of invoice payments.
func reserve(ctx context.Context, tx Store, open []OpenInvoice, requested int64, s *Service) ([]Allocation, error) {
	var out []Allocation
	left := requested
	for _, inv := range open {
		if left == 0 {
			break
		}
		x := min(inv.Available(), left)
		if x <= 0 {
			continue
		}
		ok, err := tx.ReserveInvoiceAmount(ctx, inv.ID, x, s.now())
		if err != nil {
			return nil, err
		}
		if !ok {
			// The account lock orders every writer of these amounts, so
			// the row cannot have changed since it was read.
			return nil, errs.Newf(errs.KindInternal, "payment: invoice %d changed under the account lock", inv.ID)
		}
		out = append(out, Allocation{InvoiceID: inv.ID, Position: len(out), Amount: x})
		left -= x
	}
	return out, nil
}

// processorKey is the idempotency key the processor sees for a charge:
// stable for the charge, unique across Trellis installations sharing a
// processor account only as far as the charge key is.
func processorKey(c Charge) string {
	sum := sha256.Sum256([]byte(c.IdempotencyKey))
	return "trellis-charge-" + strconv.FormatInt(c.ID, 10) + "-" + hex.EncodeToString(sum[:8])
}

// permanent reports whether a processor error is a final answer about the
// charge (it will not succeed with the same key), as opposed to an unknown
// outcome (an outage, a timeout) after which the charge stays pending. A
// conflict is not final: Stripe answers 409 to a request racing another
// with the same key, whose outcome is still coming.
func permanent(err error) bool {
	switch errs.KindOf(err) {
	case errs.KindPaymentDeclined, errs.KindInvalid, errs.KindNotFound, errs.KindPrecondition:
		return true
	}
	return false
}

// drive runs the saga's second and third steps for a pending charge: the
// processor call with the charge's key, then settling. A charge that is no
// longer pending is returned as is. An unknown outcome leaves the charge
// pending and is returned as errs.KindUnavailable; ResolvePending or a
// replay of the request finishes it later.
func (s *Service) drive(ctx context.Context, c Charge) (Charge, error) {
	if c.Status != ChargePending {
		return c, nil
	}
	res, err := s.proc.Charge(ctx, ChargeInput{CustomerRef: c.CustomerRef, MethodRef: c.MethodRef, Amount: c.Amount,
		Currency: c.Currency, IdempotencyKey: processorKey(c), Description: c.Description})
	switch {
	case err == nil:
		if res.Amount != 0 && res.Amount != c.Amount {
			return c, errs.Newf(errs.KindInternal, "payment: processor charged %d for charge %d of %d", res.Amount, c.ID, c.Amount)
		}
		return s.settle(ctx, c.ID, &res, "")
	case permanent(err):
		return s.settle(ctx, c.ID, nil, errs.Public(err))
	}
	if ctx.Err() != nil {
		return c, ctx.Err()
	}
	return c, &errs.Error{Kind: errs.KindUnavailable, Msg: fmt.Sprintf(
		"the payment processor did not confirm charge %d; it stays pending and is completed later", c.ID), Err: err}
}

// settle is the saga's third step: under the account lock, a charge still
// pending is finished with the processor's outcome (res for a success,
// declined otherwise). Whoever settles first wins; later callers get the
// settled charge.
func (s *Service) settle(ctx context.Context, id int64, res *ChargeResult, declined string) (Charge, error) {
	var out Charge
	err := s.store.Tx(ctx, func(tx Store) error {
		c, err := tx.GetCharge(ctx, id)
		if err != nil {
			return err
		}
		acct, err := tx.LockBillingAccount(ctx, c.AccountID)
		if err != nil {
			return err
		}
		if c, err = tx.GetCharge(ctx, id); err != nil {
			return err
		}
		out = c
		if c.Status != ChargePending {
			return nil
		}
		now := s.now()
		if res == nil {
			for _, a := range c.Allocations {
				ok, err := tx.ReleaseInvoiceAmount(ctx, a.InvoiceID, a.Amount, now)
				if err != nil {
					return err
				}
				if !ok {
					return errs.Newf(errs.KindInternal, "payment: invoice %d lost the reservation of charge %d", a.InvoiceID, id)
				}
			}
			if _, err := finish(ctx, tx, c, ChargeFailed, "", nil, declined, "", now); err != nil {
				return err
			}
			out, err = tx.GetCharge(ctx, id)
			return err
		}
		t, err := s.applyTx(ctx, tx, acct, c, true)
		if err != nil {
			return err
		}
		if _, err := finish(ctx, tx, c, ChargeSucceeded, res.Ref, res.Data, "", t.ID, now); err != nil {
			return err
		}
		out, err = tx.GetCharge(ctx, id)
		return err
	})
	if err != nil {
		return Charge{}, err
	}
	return out, nil
}

func finish(ctx context.Context, tx Store, c Charge, status ChargeStatus, ref string, data []byte, msg, ledgerTx string,
	now time.Time) (bool, error) {
	ok, err := tx.FinishCharge(ctx, c.ID, status, ref, data, msg, ledgerTx, now)
	if err == nil && !ok {
		err = errs.Newf(errs.KindInternal, "payment: charge %d changed under the account lock", c.ID)
	}
	return ok, err
}

// applyTx books a charge's money: the invoices it pays (pending → paid when
// fromPending, else paid directly), one ledger transaction (clearing −A;
// receivables + the part paying usage invoices; credit + the part buying
// credit or paying top-up invoices), the credit records, and the lift of a
// dunning restriction. It returns the ledger transaction.
func (s *Service) applyTx(ctx context.Context, tx Store, acct billing.Account, c Charge, fromPending bool) (ledger.Transaction, error) {
	now := s.now()
	var receivable, credit int64
	var topups []int64
	if c.Purpose == PurposeCredit {
		credit = c.Amount
	}
	for _, a := range c.Allocations {
		inv, err := tx.GetOpenInvoice(ctx, "/", a.InvoiceID)
		if err != nil {
			return ledger.Transaction{}, err
		}
		ok, err := tx.SettleInvoiceAmount(ctx, a.InvoiceID, a.Amount, fromPending, now)
		if err != nil {
			return ledger.Transaction{}, err
		}
		if !ok {
			return ledger.Transaction{}, errs.Newf(errs.KindInternal, "payment: invoice %d refused %d of charge %d", a.InvoiceID, a.Amount, c.ID)
		}
		if inv.Kind == billing.KindTopUp {
			credit += a.Amount
			topups = append(topups, a.InvoiceID)
		} else {
			receivable += a.Amount
		}
	}
	if receivable+credit != c.Amount {
		return ledger.Transaction{}, errs.Newf(errs.KindInternal, "payment: charge %d of %d applies %d", c.ID, c.Amount, receivable+credit)
	}
	la, err := s.billing.EnsureLedgerAccountsTx(ctx, tx, acct)
	if err != nil {
		return ledger.Transaction{}, err
	}
	if la.Currency != c.Currency {
		return ledger.Transaction{}, errs.Newf(errs.KindInternal, "payment: charge %d in %s for an account in %s", c.ID, c.Currency, la.Currency)
	}
	postings := []ledger.PostingInput{{AccountID: la.PaymentClearing, Currency: la.Currency, Amount: -c.Amount}}
	if receivable > 0 {
		postings = append(postings, ledger.PostingInput{AccountID: la.Receivables, Currency: la.Currency, Amount: receivable})
	}
	if credit > 0 {
		postings = append(postings, ledger.PostingInput{AccountID: la.Credit, Currency: la.Currency, Amount: credit})
	}
	t, err := s.ledger.PostTx(ctx, tx, ledger.PostInput{IdempotencyKey: "charge:" + strconv.FormatInt(c.ID, 10),
		Description: chargeDescription(c), Postings: postings,
		Metadata: map[string]string{"charge_id": strconv.FormatInt(c.ID, 10), "billing_account_id": strconv.FormatInt(acct.ID, 10)}})
	if err != nil {
		return ledger.Transaction{}, err
	}
	switch {
	case c.Purpose == PurposeCredit:
		if _, err := s.billing.AddCreditRecordTx(ctx, tx, acct.ID, c.Amount, CreditPurchase, t.ID); err != nil {
			return ledger.Transaction{}, err
		}
	case credit > 0:
		if _, err := s.billing.AddCreditRecordTx(ctx, tx, acct.ID, credit,
			fmt.Sprintf("%s (invoice %s)", CreditTopUp, invoiceList(topups)), t.ID); err != nil {
			return ledger.Transaction{}, err
		}
	}
	if receivable > 0 {
		if _, err := s.billing.AfterPaymentTx(ctx, tx, acct.ID); err != nil {
			return ledger.Transaction{}, err
		}
	}
	return t, nil
}

// Credit record descriptions written by payments.
const (
	CreditPurchase = "Credit purchase"
	CreditTopUp    = "Credit top-up"
)

func chargeDescription(c Charge) string {
	switch {
	case c.Purpose == PurposeCredit:
		return fmt.Sprintf("Credit purchase (charge %d)", c.ID)
	case c.Source == SourceBank:
		return fmt.Sprintf("Bank payment %s", c.Identifier)
	}
	ids := make([]int64, len(c.Allocations))
	for i, a := range c.Allocations {
		ids[i] = a.InvoiceID
	}
	return fmt.Sprintf("Payment (charge %d) of invoices %s", c.ID, invoiceList(ids))
}
