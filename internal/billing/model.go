// Package billing holds idcloudhost-style billing accounts, their monthly
// usage invoices and top-up invoices, the credit history, dunning (freezing
// an account whose invoice is past due) and the current month's usage view.
//
// Money held by the ledger (totals, credit, paid amounts) is int64 minor
// units of the account's currency; prices, quantities and line amounts are
// exact decimals. An invoice's totals are money.Totals of its line amounts
// (seed inventory ID-amb-13), and issuing it posts one balanced ledger
// transaction in the same database transaction as the invoice rows.
//
// Decisions where the seed and the plan are silent:
//
//   - A (org, user) has at most one live default account (a partial unique
//     index); default changes and the "first account is the default" rule
//     are serialised by the org's row lock. Accounts without an idcloudhost
//     user (user 0) share one default per org.
//   - Top-up invoices (ID-91) are prepayment requests: total = the credit
//     asked for, no VAT (VAT is charged on the usage invoices the credit
//     pays), no ledger posting until paid. They are not debts: unpaid_amount,
//     dunning and account deletion look at usage invoices only.
//   - Promotional ("First billing account") credit is posted against the
//     account's revenue (contra-revenue): credit +A, revenue −A.
//   - Running totals: ongoing = credit available − the month's total so far.
//   - Dunning freezes with suspend_reason "invoice <padded_id> is past due"
//     and lifts only restrictions carrying that prefix, so an operator's own
//     FROZEN is never lifted by a payment.
//   - Invoice numbers come from the counters table inside the issuing
//     transaction, taken as late as possible (the counter row is shared by
//     every invoice); the ledger key of a usage invoice is its business
//     event, the account's month (UsageInvoiceKey). Lock order: billing
//     account, its ledger accounts, then counters (invoice, credit_record,
//     invoice_record).
package billing

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
)

// LedgerOwner is the ledger owner of billing account id: every ledger
// account of the billing account (credit, receivables, revenue, VAT payable,
// payment clearing) has this owner.
func LedgerOwner(id int64) string { return "billing_account:" + strconv.FormatInt(id, 10) }

// Counter names of the counters table (one sequence of small integer ids
// per kind of idcloudhost object).
const (
	CounterUser           = "user"
	CounterProfile        = "profile"
	CounterToken          = "token"
	CounterBillingAccount = "billing_account"
	CounterInvoice        = "invoice"
	CounterInvoiceRecord  = "invoice_record"
	CounterPaymentObject  = "payment_object"
	CounterCharge         = "charge"
	CounterCreditRecord   = "credit_record"
)

// Restriction levels.
const (
	RestrictionNone   = ""
	RestrictionFrozen = "FROZEN"
)

// Account is a billing account.
type Account struct {
	ID       int64
	OrgID    string
	OrgPath  string
	UserID   int64  // the idcloudhost user number; 0 = none
	Currency string // ISO-4217, "EUR" by default

	// Data fields: the full-replace set of ID-amb-17.
	Title            string
	Email            string
	CompanyName      string
	CompanyRegCode   string
	CompanyVATNumber string
	AddressLine1     string
	City             string
	County           string
	Country          string
	PostIndex        string
	SendInvoiceEmail bool

	// Admin fields.
	VATPercentage      int
	DiscountPercentage int
	AllowDebt          bool
	MaxDebt            int64 // minor units, ≥ 0

	IsDefault       bool
	IsActive        bool
	DeletedAt       *time.Time // a deleted ("shadow") account
	PayingByInvoice bool

	RecurringEnabled   bool
	RecurringAmount    money.Decimal
	RecurringThreshold money.Decimal

	RestrictionLevel  string // RestrictionNone or RestrictionFrozen
	SuspendReason     string
	AdditionalData    string // a JSON object
	ReferralShareCode string
	Reseller          string
	Site              string

	// ManagedBy names the part of Trellis that owns the account ("" for
	// billing's own; ManagedByReseller for a reseller project): billing's
	// writes refuse an account managed elsewhere.
	ManagedBy string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// ManagedByReseller marks a reseller project's billing account.
const ManagedByReseller = "reseller"

// Deleted reports whether the account is a shadow account.
func (a Account) Deleted() bool { return a.DeletedAt != nil }

// Cur returns the account's currency (EUR when unset or unknown).
func (a Account) Cur() money.Currency {
	c, err := money.ParseCurrency("currency", a.Currency)
	if err != nil {
		return money.EUR
	}
	return c
}

// Invoice kinds.
const (
	KindUsage = "usage" // the monthly invoice of metered usage
	KindTopUp = "topup" // a prepayment request for credit (ID-91)
)

// Invoice statuses (seed: 5 = Unpaid, 10 = Paid).
const (
	StatusUnpaid = 5
	StatusPaid   = 10
)

// Invoice is an invoice with its records.
type Invoice struct {
	ID                 int64
	AccountID          int64
	Kind               string
	Status             int
	Name               string
	Currency           string
	PeriodStart        time.Time // usage: 1st of the month 00:00 UTC; top-up: CreatedAt
	PeriodEnd          time.Time // usage: 1st of the next month; top-up: CreatedAt
	CreatedAt          time.Time
	DueAt              time.Time
	DiscountPercentage int
	VATPercentage      int

	// Totals, minor units. Credit is the credit applied, ≤ 0 (as the
	// seed's samples show it); Total = Subtotal − Discount + Credit + VAT.
	Subtotal int64
	Discount int64
	Credit   int64
	VAT      int64
	Total    int64

	PaidAmount    int64 // paid so far
	PendingAmount int64 // reserved by payments in flight (helper B's saga)
	PaidAt        *time.Time

	AccountSnapshot     string // JSON of the account when the invoice was issued
	LedgerTransactionID string // the issue posting; "" when nothing was posted

	Records []InvoiceRecord
}

// PaddedID is the invoice number zero-padded to the next multiple of three
// digits, at least three (ID-amb-15: 1 → "001", 3782543 → "003782543").
func (inv Invoice) PaddedID() string { return PaddedID(inv.ID) }

// PaddedID formats an invoice number as ID-amb-15 describes.
func PaddedID(id int64) string {
	s := strconv.FormatInt(id, 10)
	w := (len(s) + 2) / 3 * 3
	if w < 3 {
		w = 3
	}
	return strings.Repeat("0", w-len(s)) + s
}

// Unpaid is what is still owed on the invoice (0 for a paid one).
func (inv Invoice) Unpaid() int64 {
	if inv.Status != StatusUnpaid {
		return 0
	}
	return inv.Total - inv.PaidAmount
}

// InvoiceRecord is one line of an invoice: Amount = ItemPrice × Qty exactly.
type InvoiceRecord struct {
	ID           int64
	InvoiceID    int64
	Name         string
	Descr        string
	LocationSlug string
	OwnerUUID    string
	Qty          money.Decimal
	QtyUnit      string
	ItemPrice    money.Decimal
	Amount       money.Decimal
	CreatedAt    time.Time
}

// CreditRecord is one entry of an account's credit history (ID-89):
// positive amounts add credit, negative ones use it.
type CreditRecord struct {
	ID                  int64
	AccountID           int64
	Amount              int64 // signed minor units
	Description         string
	CreatedAt           time.Time
	LedgerTransactionID string
}

// Credit record descriptions, as the seed shows them.
const (
	CreditFirstAccount   = "First billing account"
	CreditInvoicePayment = "Invoice payment"
)

// OutboxEmail is an e-mail waiting to be sent (a mailer drains the table).
type OutboxEmail struct {
	ID        string
	To        string
	Subject   string
	Body      string
	CreatedAt time.Time
	SentAt    *time.Time
}

// Totals are an account's running totals: the current month's usage so far
// priced as its invoice would be (ID-74's running_totals). All minor units.
//
//   - Subtotal, Discount, VAT, Total: as money.Totals computes them for the
//     month's lines so far, with CreditAmount applied;
//   - CreditAmount: the credit the invoice would use, min(CreditAvailable,
//     Subtotal − Discount) (shown positive);
//   - CreditAvailable: the credit ledger balance now;
//   - Ongoing: CreditAvailable − Total, the credit left if the month closed
//     now minus what would still be owed; the recurring top-up compares it
//     with its threshold.
type Totals struct {
	Subtotal        int64
	Discount        int64
	CreditAmount    int64
	VAT             int64
	Total           int64
	CreditAvailable int64
	Ongoing         int64
}

// UsageLine is one priced line of usage for a period: one resource in one
// configuration at one unit price, Quantity hours (GB-hours for object
// storage), Amount = UnitPrice × Quantity exactly. It is metering's Line, so
// metering's HourlyService implements Usage as it is.
type UsageLine = metering.Line

// monthStart returns the first instant of t's UTC calendar month.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func invoiceName(id int64) string { return fmt.Sprintf("Invoice %s", PaddedID(id)) }
