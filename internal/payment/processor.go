package payment

import (
	"context"
	"encoding/json"
)

// Processor is the card payment processor (Stripe or alike) as the payment
// service needs it. Implementations must keep Stripe's contract:
//
//   - Charge is idempotent by ChargeInput.IdempotencyKey: a second call with
//     the same key returns the first call's result (the same charge, or the
//     same decline) and moves money once. The service relies on this to
//     retry a charge whose reply it never saw (a crash, a timeout) without
//     charging twice.
//   - A refused card or charge is an *errs.Error of kind
//     errs.KindPaymentDeclined naming the field at fault: "token" for
//     Attach, "payment_object_id" for Charge. Any other error (timeout,
//     outage: errs.KindUnavailable) means "unknown outcome": the charge may
//     or may not have happened, and is retried with the same key. So is
//     errs.KindConflict, Stripe's answer to a call racing another with the
//     same key.
//   - NewCustomer is idempotent by its key too.
//
// The built-in implementation is internal/payment/testprocessor;
// internal/payment/processortest is the contract suite every implementation
// passes.
type Processor interface {
	// Name identifies the processor ("test", "stripe"); it is stored with
	// each billing account's customer reference.
	Name() string
	// NewCustomer creates the processor's customer for a billing account
	// and returns its reference ("cus_…").
	NewCustomer(ctx context.Context, in CustomerInput) (string, error)
	// Attach turns a one-time card token (from the processor's card form)
	// into a reusable payment method of the customer. The processor checks
	// the card here: a card it refuses is declined.
	Attach(ctx context.Context, customerRef, token string) (Method, error)
	// Charge charges a payment method.
	Charge(ctx context.Context, in ChargeInput) (ChargeResult, error)
}

// CustomerInput describes a new processor customer.
type CustomerInput struct {
	IdempotencyKey string // "customer:<billing account id>"
	Email          string
	Description    string
}

// Method is a payment method attached at the processor.
type Method struct {
	Ref      string // "pm_…"
	Brand    string // "visa", "mastercard"
	Last4    string
	ExpMonth int
	ExpYear  int
	Holder   string
	Data     json.RawMessage // the processor's payment-method object, kept as is
}

// ChargeInput is one charge.
type ChargeInput struct {
	CustomerRef    string
	MethodRef      string
	Amount         int64  // minor units, > 0
	Currency       string // ISO-4217
	IdempotencyKey string
	Description    string
}

// ChargeResult is a successful charge.
type ChargeResult struct {
	Ref    string          // "tran_…"
	Status string          // the processor's status word ("closed", "succeeded")
	Amount int64           // minor units charged
	Data   json.RawMessage // the processor's transaction object, kept as is
}
