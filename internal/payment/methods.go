package payment

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// customer returns the account's customer at processor, creating it (at
// the processor first, idempotently by key, then the row) if needed. For
// InvoiceProcessor there is no processor call.
func (s *Service) customer(ctx context.Context, acct billing.Account, processor string) (Customer, error) {
	c, err := s.store.GetPaymentCustomer(ctx, acct.ID, processor)
	if err == nil || !errs.Is(err, errs.KindNotFound) {
		return c, err
	}
	ref := ""
	if processor != InvoiceProcessor {
		ref, err = s.proc.NewCustomer(ctx, CustomerInput{IdempotencyKey: "customer:" + strconv.FormatInt(acct.ID, 10),
			Email: acct.Email, Description: acct.Title})
		if err != nil {
			return Customer{}, err
		}
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		id, err := tx.NextNumber(ctx, CounterPaymentCustomer)
		if err != nil {
			return err
		}
		ok, err := tx.InsertPaymentCustomer(ctx, Customer{ID: id, AccountID: acct.ID, Processor: processor,
			CustomerRef: ref, CreatedAt: s.now()})
		if err == nil && !ok {
			return errRolledBack // a racing request created it: give the number back
		}
		return err
	})
	if err != nil && err != errRolledBack {
		return Customer{}, err
	}
	return s.store.GetPaymentCustomer(ctx, acct.ID, processor)
}

// AddCard attaches a card to the account (ID-86). The processor checks the
// card: a declined card is errs.KindPaymentDeclined naming "token", and
// nothing is stored. A card is verified when attached; the account's first
// verified method becomes its primary.
func (s *Service) AddCard(ctx context.Context, a actor.Actor, in AddCardInput) (PaymentObject, error) {
	if err := in.Validate(); err != nil {
		return PaymentObject{}, err
	}
	acct, err := s.payer(ctx, a, in.AccountID)
	if err != nil {
		return PaymentObject{}, err
	}
	cus, err := s.customer(ctx, acct, s.proc.Name())
	if err != nil {
		return PaymentObject{}, err
	}
	m, err := s.proc.Attach(ctx, cus.CustomerRef, in.Token)
	if err != nil {
		return PaymentObject{}, withField(err, "token")
	}
	now := s.now()
	o := PaymentObject{AccountID: acct.ID, CustomerID: cus.ID, Kind: MethodCard, Identifier: m.Ref, Brand: m.Brand,
		Last4: m.Last4, ExpMonth: m.ExpMonth, ExpYear: m.ExpYear, Holder: m.Holder, AdditionalData: m.Data,
		IsVerified: true, ValidThru: CardValidThru(m.ExpMonth, m.ExpYear), CreatedAt: now, UpdatedAt: now, VerifiedAt: &now}
	if m.ExpMonth < 1 || m.ExpMonth > 12 || !now.Before(o.ValidThru) {
		return PaymentObject{}, errs.Invalid("token", "the card has expired")
	}
	if len(o.AdditionalData) == 0 || !json.Valid(o.AdditionalData) {
		o.AdditionalData = json.RawMessage("{}")
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if _, err := tx.LockBillingAccount(ctx, acct.ID); err != nil {
			return err
		}
		id, err := tx.NextNumber(ctx, billing.CounterPaymentObject)
		if err != nil {
			return err
		}
		o.ID = id
		o.IsPrimary, err = noPrimary(ctx, tx, acct.ID)
		if err != nil {
			return err
		}
		if err := tx.InsertPaymentObject(ctx, o); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, acct, "payment_object.add_card", "payment_object", o.ID, o.Brand+" "+o.Last4)
	})
	return o, err
}

// noPrimary reports whether the account has no primary method.
func noPrimary(ctx context.Context, tx Queries, accountID int64) (bool, error) {
	_, err := tx.GetPrimaryPaymentObject(ctx, accountID)
	if errs.Is(err, errs.KindNotFound) {
		return true, nil
	}
	return false, err
}

// invoiceMethodData is the invoice method's additional_data: the seed's
// fields, as JSON (the seed shows a Python repr of the same dict).
func invoiceMethodData(email string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"type": "paying_by_invoice", "client": map[string]any{},
		"card_type": "By invoice", "card_holder": email, "expire_month": "12", "id": InvoiceMethodIdentifier,
		"expire_year": "2099"})
	return b
}

// ApplyForInvoicePayment adds the paying-by-invoice method (ID-83). It is
// unverified until an operator verifies it (VerifyMethod), and only then may
// it become primary (the seed's sample shows is_primary true on an
// unverified method; Trellis keeps "only a verified method is primary"). An
// account has one such method: applying again returns it.
func (s *Service) ApplyForInvoicePayment(ctx context.Context, a actor.Actor, accountID int64) (PaymentObject, error) {
	acct, err := s.payer(ctx, a, accountID)
	if err != nil {
		return PaymentObject{}, err
	}
	cus, err := s.customer(ctx, acct, InvoiceProcessor)
	if err != nil {
		return PaymentObject{}, err
	}
	var o PaymentObject
	err = s.store.Tx(ctx, func(tx Store) error {
		if _, err := tx.LockBillingAccount(ctx, acct.ID); err != nil {
			return err
		}
		existing, err := tx.GetInvoicePaymentObject(ctx, acct.ID)
		if err == nil {
			o = existing
			return nil
		}
		if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		id, err := tx.NextNumber(ctx, billing.CounterPaymentObject)
		if err != nil {
			return err
		}
		now := s.now()
		o = PaymentObject{ID: id, AccountID: acct.ID, CustomerID: cus.ID, Kind: MethodInvoice,
			Identifier: InvoiceMethodIdentifier, Brand: "By invoice", ExpMonth: 12, ExpYear: 2099, Holder: acct.Email,
			AdditionalData: invoiceMethodData(acct.Email), ValidThru: InvoiceMethodValidThru, CreatedAt: now, UpdatedAt: now}
		if err := tx.InsertPaymentObject(ctx, o); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, acct, "payment_object.apply_invoice", "payment_object", o.ID, "")
	})
	return o, err
}

// object returns a live method the actor may see (another tenant's, or one
// outside a restricted token's account, is not found).
func (s *Service) object(ctx context.Context, a actor.Actor, id int64) (PaymentObject, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return PaymentObject{}, err
	}
	if id <= 0 {
		return PaymentObject{}, errs.Invalid("payment_object_id", "must be a positive whole number")
	}
	o, err := s.store.GetPaymentObject(ctx, a.Scope(), id)
	if errs.Is(err, errs.KindNotFound) || (err == nil && (o.Deleted() || !sees(a, o.AccountID))) {
		return PaymentObject{}, notFound("payment_object_id", "payment object %d not found", id)
	}
	return o, err
}

// GetMethod returns a payment method (ID-85).
func (s *Service) GetMethod(ctx context.Context, a actor.Actor, id int64) (PaymentObject, error) {
	return s.object(ctx, a, id)
}

// ListMethods returns the account's live payment methods (ID-87).
func (s *Service) ListMethods(ctx context.Context, a actor.Actor, accountID int64) ([]PaymentObject, error) {
	acct, err := s.billing.ResolveAccount(ctx, a, accountID)
	if err != nil {
		return nil, withField(err, "billing_account_id")
	}
	return s.store.ListPaymentObjects(ctx, acct.ID)
}

// writableObject returns a live method of a live account the actor may
// change, with its account.
func (s *Service) writableObject(ctx context.Context, a actor.Actor, id int64) (PaymentObject, billing.Account, error) {
	if err := a.Require(actor.Staff); err != nil {
		return PaymentObject{}, billing.Account{}, err
	}
	o, err := s.object(ctx, a, id)
	if err != nil {
		return PaymentObject{}, billing.Account{}, err
	}
	acct, err := s.store.GetBillingAccount(ctx, a.Scope(), o.AccountID)
	if err != nil {
		return PaymentObject{}, billing.Account{}, err
	}
	if acct.Deleted() {
		return PaymentObject{}, billing.Account{}, precondition("billing_account_id", "billing account %d is deleted", acct.ID)
	}
	return o, acct, nil
}

// SetPrimary makes a verified method the account's only primary (ID-88).
// An unverified method is refused (the seed: "throws exception if specified
// card is not validated"); concurrent calls leave exactly one primary (the
// account lock orders them, a partial unique index backs it).
func (s *Service) SetPrimary(ctx context.Context, a actor.Actor, id int64) (PaymentObject, error) {
	o, acct, err := s.writableObject(ctx, a, id)
	if err != nil {
		return PaymentObject{}, err
	}
	if !o.IsVerified {
		return PaymentObject{}, precondition("payment_object_id", "payment object %d is not verified", id)
	}
	if !s.clock.Now().Before(o.ValidThru) {
		return PaymentObject{}, precondition("payment_object_id", "payment object %d has expired", id)
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if _, err := tx.LockBillingAccount(ctx, acct.ID); err != nil {
			return err
		}
		ok, err := tx.SetPrimaryPaymentObject(ctx, acct.ID, id, s.now())
		if err != nil {
			return err
		}
		if !ok { // deleted meanwhile
			return notFound("payment_object_id", "payment object %d not found", id)
		}
		if o, err = tx.GetPaymentObject(ctx, "/", id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, acct, "payment_object.set_primary", "payment_object", id, "")
	})
	return o, err
}

// DeleteMethod removes a payment method (ID-84). If it was the primary,
// the oldest remaining usable method becomes primary, so an account that
// can pay keeps a primary. Charges already started with the method finish.
func (s *Service) DeleteMethod(ctx context.Context, a actor.Actor, id int64) error {
	_, acct, err := s.writableObject(ctx, a, id)
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		if _, err := tx.LockBillingAccount(ctx, acct.ID); err != nil {
			return err
		}
		ok, err := tx.DeletePaymentObject(ctx, id, s.now())
		if err != nil {
			return err
		}
		if !ok {
			return notFound("payment_object_id", "payment object %d not found", id)
		}
		if err := s.promoteTx(ctx, tx, acct.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, acct, "payment_object.delete", "payment_object", id, "")
	})
}

// promoteTx makes the oldest usable method primary if the account has no
// primary (cards before the invoice method). The caller holds the account
// lock.
func (s *Service) promoteTx(ctx context.Context, tx Queries, accountID int64) error {
	none, err := noPrimary(ctx, tx, accountID)
	if err != nil || !none {
		return err
	}
	list, err := tx.ListPaymentObjects(ctx, accountID)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	for _, kind := range []MethodKind{MethodCard, MethodInvoice} {
		for _, o := range list {
			if o.Kind == kind && o.Usable(now) {
				_, err := tx.SetPrimaryPaymentObject(ctx, accountID, o.ID, s.now())
				return err
			}
		}
	}
	return nil
}

// VerifyMethod is the operator's verification of a method (the
// paying-by-invoice method of ID-83) through the native API. A verified
// method becomes primary if the account has none. Verifying twice is a
// no-op.
func (s *Service) VerifyMethod(ctx context.Context, a actor.Actor, id int64) (PaymentObject, error) {
	if err := operator(a); err != nil {
		return PaymentObject{}, err
	}
	o, acct, err := s.writableObject(ctx, a, id)
	if err != nil {
		return PaymentObject{}, err
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		if _, err := tx.LockBillingAccount(ctx, acct.ID); err != nil {
			return err
		}
		changed, err := tx.VerifyPaymentObject(ctx, id, s.now())
		if err != nil {
			return err
		}
		if err := s.promoteTx(ctx, tx, acct.ID); err != nil {
			return err
		}
		if o, err = tx.GetPaymentObject(ctx, "/", id); err != nil {
			return err
		}
		if o.Deleted() {
			return notFound("payment_object_id", "payment object %d not found", id)
		}
		if !changed {
			return nil
		}
		return s.audit(ctx, tx, a, acct, "payment_object.verify", "payment_object", id, "")
	})
	return o, err
}

// PrimaryMethod returns the account's primary method for the billing
// account's primary_card (ok false when it has none). Internal callers
// only: the account is not scope-checked.
func (s *Service) PrimaryMethod(ctx context.Context, accountID int64) (PaymentObject, bool, error) {
	o, err := s.store.GetPrimaryPaymentObject(ctx, accountID)
	if errs.Is(err, errs.KindNotFound) {
		return PaymentObject{}, false, nil
	}
	return o, err == nil, err
}

// CanPay reports whether the account has a usable (live, verified,
// unexpired) payment method: the billing account's can_pay.
func (s *Service) CanPay(ctx context.Context, accountID int64) (bool, error) {
	list, err := s.store.ListPaymentObjects(ctx, accountID)
	if err != nil {
		return false, err
	}
	now := s.clock.Now()
	for _, o := range list {
		if o.Usable(now) {
			return true, nil
		}
	}
	return false, nil
}

// PaysByInvoice reports whether the account has a verified
// paying-by-invoice method: the billing account's paying_by_invoice.
func (s *Service) PaysByInvoice(ctx context.Context, accountID int64) (bool, error) {
	o, err := s.store.GetInvoicePaymentObject(ctx, accountID)
	if errs.Is(err, errs.KindNotFound) {
		return false, nil
	}
	return err == nil && o.IsVerified, err
}
