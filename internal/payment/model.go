// Package payment takes money from customers: payment methods (cards
// through a Processor, and "paying by invoice" verified by an operator),
// charges, paying invoices oldest first (fully or partially), buying credit,
// bank payments recorded by an operator, the automatic charge when an
// invoice is issued and the recurring top-up.
//
// # Charges are a saga
//
// A processor call never runs inside a database transaction (it may take
// seconds, and a rolled-back transaction cannot un-charge a card). Every
// card payment is three steps:
//
//  1. one transaction reserves what the charge will pay (the invoices'
//     pending_amount, by conditional updates that keep paid + pending ≤
//     total) and inserts the charge as "pending" under a unique idempotency
//     key derived from the request;
//  2. the processor charges with that key (processors are idempotent by
//     key, so a retry never charges twice);
//  3. one transaction settles: on success the reservations become paid
//     amounts and the money is posted to the ledger (one transaction, key
//     "charge:<id>"); on a decline the reservations are released and the
//     ledger is not touched. The charge row moves from pending by a
//     conditional update, so whoever settles first wins and every other
//     attempt (a racing replay, the recovery job) reads the result.
//
// A crash between the steps leaves a pending charge; ResolvePending runs
// steps 2 and 3 again for it. A replayed request (same idempotency key)
// finds the charge and does the same, so 50 racing replays produce one
// processor charge and one result.
package payment

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
)

// CounterPaymentCustomer numbers the processor customers of billing
// accounts (the idcloudhost billing_account_processor_identifier_id).
const CounterPaymentCustomer = "payment_customer"

// InvoiceProcessor is the "processor" of the paying-by-invoice method.
const InvoiceProcessor = "invoice"

// MethodKind is what a payment object is.
type MethodKind string

// Payment method kinds.
const (
	MethodCard    MethodKind = "card"
	MethodInvoice MethodKind = "invoice" // paying by invoice (bank transfer), ID-83
)

// InvoiceMethodIdentifier is the identifier of the paying-by-invoice method
// (the seed's "N/A").
const InvoiceMethodIdentifier = "N/A"

// InvoiceMethodValidThru is the invoice method's valid_thru: the seed shows
// 4102358400 (2099-12-31 00:00:00 UTC) for a method that never expires.
var InvoiceMethodValidThru = time.Unix(4102358400, 0).UTC()

// Customer links a billing account to its customer at a processor.
type Customer struct {
	ID          int64 // counter CounterPaymentCustomer
	AccountID   int64
	Processor   string // Processor.Name(), or InvoiceProcessor
	CustomerRef string // the processor's customer id; "" for InvoiceProcessor
	CreatedAt   time.Time
}

// PaymentObject is a payment method of a billing account (ID-83..88).
type PaymentObject struct {
	ID         int64 // counter "payment_object"
	AccountID  int64
	CustomerID int64 // the Customer it belongs to
	Kind       MethodKind
	Identifier string // the processor's method ref ("pm_…"); "N/A" for the invoice method
	Brand      string // "visa"; "By invoice" for the invoice method
	Last4      string
	ExpMonth   int
	ExpYear    int
	Holder     string
	// AdditionalData is a JSON object: the processor's payment-method
	// object for a card, a description of the method otherwise.
	AdditionalData json.RawMessage
	IsPrimary      bool
	IsVerified     bool
	// ValidThru is the first instant the method can no longer be used: the
	// first day of the month after a card's expiry month.
	ValidThru  time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
	VerifiedAt *time.Time
	DeletedAt  *time.Time
}

// Deleted reports whether the method was removed.
func (o PaymentObject) Deleted() bool { return o.DeletedAt != nil }

// Usable reports whether the method can pay at now: live, verified, not
// expired.
func (o PaymentObject) Usable(now time.Time) bool {
	return !o.Deleted() && o.IsVerified && now.Before(o.ValidThru)
}

// CardValidThru is the first instant after a card's expiry month.
func CardValidThru(month, year int) time.Time {
	return time.Date(year, time.Month(month)+1, 1, 0, 0, 0, 0, time.UTC)
}

// ChargeStatus is where a charge is in its saga.
type ChargeStatus string

// Charge statuses.
const (
	ChargePending   ChargeStatus = "pending"   // reserved, the processor not yet (known to be) done
	ChargeSucceeded ChargeStatus = "succeeded" // money taken and posted
	ChargeFailed    ChargeStatus = "failed"    // declined; reservations released, nothing posted
)

// ChargePurpose is what a charge pays for.
type ChargePurpose string

// Charge purposes.
const (
	PurposeInvoices ChargePurpose = "invoices" // pays invoices (allocations say which)
	PurposeCredit   ChargePurpose = "credit"   // buys credit (ID-90, recurring top-up)
)

// ChargeSource is where the money comes from.
type ChargeSource string

// Charge sources.
const (
	SourceCard ChargeSource = "card" // a card through the processor
	SourceBank ChargeSource = "bank" // a bank transfer recorded by an operator
)

// Charge is one payment: a card charge, or a bank payment. It is the
// idcloudhost "transaction".
type Charge struct {
	ID              int64 // counter "charge"
	AccountID       int64
	Purpose         ChargePurpose
	Source          ChargeSource
	PaymentObjectID int64 // 0 for a bank payment
	// IdempotencyKey is the business event the charge is for
	// ("pay:<principal>:<key>", "autopay:invoice:<id>",
	// "recurring:<account>:<day>", "bank:<reference>"); unique.
	IdempotencyKey string
	// RequestHash tells a replay of the same request from another
	// request under the same key.
	RequestHash string
	Currency    string
	Requested   int64 // what the caller asked to pay (pay_amount), minor units
	Amount      int64 // what is charged: Σ allocations for invoices, > 0
	Status      ChargeStatus
	Identifier  string // the processor's transaction ref ("tran_…"), or the bank reference
	CustomerRef string // processor customer and method at creation, for the recovery job
	MethodRef   string
	Description string
	// AdditionalData is the processor's transaction object (JSON), "{}"
	// until the charge succeeded.
	AdditionalData      json.RawMessage
	Error               string // the decline message of a failed charge
	LedgerTransactionID string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	FinishedAt          *time.Time
	Allocations         []Allocation // in payment order (oldest invoice first)
}

// Allocation is the part of a charge applied to one invoice.
type Allocation struct {
	ChargeID  int64
	InvoiceID int64
	Position  int // 0, 1, … in payment order
	Amount    int64
}

// OpenInvoice is an unpaid invoice as the payment saga sees it.
type OpenInvoice struct {
	ID            int64
	AccountID     int64
	Kind          string // billing.KindUsage or billing.KindTopUp
	Status        int
	Currency      string
	Total         int64
	PaidAmount    int64
	PendingAmount int64
	CreatedAt     time.Time
}

// Available is what a new payment may still reserve on the invoice.
func (o OpenInvoice) Available() int64 {
	if o.Status != billing.StatusUnpaid {
		return 0
	}
	return o.Total - o.PaidAmount - o.PendingAmount
}

// InvoiceTransaction is a payment applied to an invoice (the invoice's
// transaction_list, ID-92).
type InvoiceTransaction struct {
	ID              int64 // the charge
	Identifier      string
	Amount          int64 // the part applied to this invoice
	Currency        string
	Created         time.Time
	PaymentObjectID int64           // 0 for a bank payment
	AdditionalData  json.RawMessage // the processor's transaction object
}

// RecurringAccount is an account with the recurring top-up enabled.
type RecurringAccount struct {
	AccountID int64
	Amount    money.Decimal
	Threshold money.Decimal
	Currency  string
}

// PayResult is the outcome of pay_amount, pay_all and pay_invoice (the
// ID-95 shape; the dialect formats the amounts).
type PayResult struct {
	Success      bool
	Currency     string
	AmountUsed   int64   // charged and applied to invoices, minor units
	AmountLeft   int64   // asked for but not needed (pay_amount), minor units
	PaidInvoices []int64 // the invoices paid fully or partially, oldest first
	Message      string
	ErrorLog     string // the decline, when Success is false
	ChargeID     int64  // 0 when nothing was charged
	Replayed     bool   // the result of an earlier request with the same key
}

// payMessage is the ID-95 message for a result.
func payMessage(r PayResult) string {
	cur, _ := money.ParseCurrency("currency", r.Currency)
	switch {
	case !r.Success:
		return "Payment failed. No invoices were paid."
	case len(r.PaidInvoices) == 0:
		return "There are no unpaid invoices."
	case r.AmountLeft == 0:
		return fmt.Sprintf("All amount were used. Invoices (%s) were paid fully or partially.", invoiceList(r.PaidInvoices))
	}
	left := money.NewAmount(r.AmountLeft, cur).Decimal().StringFixed(cur.Exponent())
	return fmt.Sprintf("Amount left: %s. Invoices (%s) were paid fully.", left, invoiceList(r.PaidInvoices))
}

func invoiceList(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprintf("#%d", id)
	}
	return strings.Join(parts, ", ")
}

// RecurringReport is the payment_report of ID-79.
type RecurringReport struct {
	Triggered bool
	ChargeID  int64
	Errors    []string
}

// Limits.
const (
	MaxIdempotencyKeyLen = 255
	MaxReferenceLen      = 255
	MaxTokenLen          = 255
	MaxDescriptionLen    = 1000
)

// ---- inputs ----

// PayInput is pay_amount (Amount set), pay_all (Amount "").
type PayInput struct {
	AccountID int64 // 0: the restricted token's account, else the user's default (ID-amb-24)
	// Amount is a plain decimal of major units ("10", "100.00"); "" pays
	// everything that is unpaid.
	Amount string
	// IdempotencyKey is the caller's Idempotency-Key; "" makes the request
	// a new one. Keys are scoped to the principal.
	IdempotencyKey string
}

// Validate checks the fields that do not need the account.
func (in PayInput) Validate() error {
	if in.AccountID < 0 {
		return errs.Invalid("billing_account_id", "must be a whole number")
	}
	return validKey(in.IdempotencyKey)
}

// PayInvoiceInput is pay_invoice.
type PayInvoiceInput struct {
	InvoiceID      int64
	IdempotencyKey string
}

// Validate checks the input.
func (in PayInvoiceInput) Validate() error {
	if in.InvoiceID <= 0 {
		return errs.Invalid("invoice_id", "must be a positive whole number")
	}
	return validKey(in.IdempotencyKey)
}

// BuyCreditInput is ID-90.
type BuyCreditInput struct {
	AccountID       int64
	PaymentObjectID int64
	Amount          string // a plain decimal of major units, > 0
	IdempotencyKey  string
}

// Validate checks the fields that do not need the account.
func (in BuyCreditInput) Validate() error {
	switch {
	case in.AccountID < 0:
		return errs.Invalid("billing_account_id", "must be a whole number")
	case in.PaymentObjectID <= 0:
		return errs.Invalid("payment_object_id", "must be a positive whole number")
	case in.Amount == "":
		return errs.Invalid("amount", "is required")
	}
	return validKey(in.IdempotencyKey)
}

// AddCardInput is ID-86.
type AddCardInput struct {
	AccountID int64
	Token     string // the processor's one-time card token
}

// Validate checks the input.
func (in AddCardInput) Validate() error {
	switch {
	case in.AccountID < 0:
		return errs.Invalid("billing_account_id", "must be a whole number")
	case in.Token == "":
		return errs.Invalid("token", "is required")
	case len(in.Token) > MaxTokenLen:
		return errs.Invalidf("token", "must be at most %d bytes", MaxTokenLen)
	}
	return nil
}

// BankPaymentInput records a bank transfer for an invoice (native admin).
type BankPaymentInput struct {
	InvoiceID int64
	Amount    string // a plain decimal of major units, > 0
	Reference string // the bank's unique reference of the transfer
}

// Validate checks the input.
func (in BankPaymentInput) Validate() error {
	switch {
	case in.InvoiceID <= 0:
		return errs.Invalid("invoice_id", "must be a positive whole number")
	case in.Amount == "":
		return errs.Invalid("amount", "is required")
	case strings.TrimSpace(in.Reference) == "":
		return errs.Invalid("reference", "is required")
	case len(in.Reference) > MaxReferenceLen:
		return errs.Invalidf("reference", "must be at most %d bytes", MaxReferenceLen)
	}
	return nil
}

func validKey(k string) error {
	if len(k) > MaxIdempotencyKeyLen {
		return errs.Invalidf("Idempotency-Key", "must be at most %d bytes", MaxIdempotencyKeyLen)
	}
	return nil
}

// parseAmount parses a plain decimal of major units in cur, > 0.
func parseAmount(field, s string, cur money.Currency) (int64, error) {
	if s == "" {
		return 0, errs.Invalid(field, "is required")
	}
	a, err := money.ParseIDCHFormAmount(field, s, cur, money.Positive)
	if err != nil {
		return 0, err
	}
	return a.Minor(), nil
}
