// Package ledger is Trellis's double-entry journal. Every money change is one
// balanced transaction: a set of postings, each adding a signed amount (int64
// minor units of an ISO-4217 currency) to one account, whose amounts sum to
// zero per currency. Each transaction carries an idempotency key, so a
// retried post is recorded once. Account balances are kept on the account
// rows, changed only by conditional updates inside the posting's database
// transaction, and re-checked against the postings before it commits.
//
// # Sign convention
//
// A posting adds its amount to its account's balance. Balances read from the
// owner's side: a positive balance is value the account holds (a customer's
// prepaid funds or credits, earned revenue, VAT owed to the tax office);
// accounts that mirror the outside world run negative (payment_clearing after
// money came in, receivables while a customer owes). A top-up of 10.00 EUR is
// clearing −1000, balance +1000; a charge is balance −1190, revenue +1000,
// vat_payable +190.
//
// # Accounts
//
// Every billing account gets its own account of each kind it uses (balance,
// credit, receivables, revenue, vat_payable, payment_clearing), per currency,
// so the postings of one customer touch only that customer's rows and two
// customers' charges never wait on each other's locks (one system-wide
// revenue row would serialise every charge). Reports aggregate revenue and
// VAT by kind across owners. System accounts (Owner "") exist for money not
// tied to a customer (a bank fee, an unmatched payment) and may only be of
// the kinds revenue, vat_payable and payment_clearing.
package ledger

import (
	"math/big"
	"time"
)

// Kind is what an account holds.
type Kind string

// Account kinds.
const (
	KindBalance         Kind = "balance"          // a customer's funds (prepaid) or debt (postpaid)
	KindCredit          Kind = "credit"           // promotional or goodwill credit
	KindReceivables     Kind = "receivables"      // invoiced and not yet paid
	KindRevenue         Kind = "revenue"          // earned revenue, net of VAT
	KindVATPayable      Kind = "vat_payable"      // VAT owed to the tax office
	KindPaymentClearing Kind = "payment_clearing" // money in transit from a payment processor or bank
)

// Kinds lists every account kind.
func Kinds() []Kind {
	return []Kind{KindBalance, KindCredit, KindReceivables, KindRevenue, KindVATPayable, KindPaymentClearing}
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, v := range Kinds() {
		if k == v {
			return true
		}
	}
	return false
}

// System reports whether k may be a system account (Owner "").
func (k Kind) System() bool {
	return k == KindRevenue || k == KindVATPayable || k == KindPaymentClearing
}

// Floor is the lowest balance an account may reach. The zero value is a
// floor at 0 (prepaid: never negative), the safe default; an account without
// any lower limit must say so with Unbounded.
type Floor struct {
	Unbounded bool  // no lower limit (clearing, receivables, system accounts)
	Min       int64 // the lowest allowed balance unless Unbounded: 0, or −maxDebt; never positive
}

// AtLeast returns a floor at min (0 for prepaid, −maxDebt where debt is allowed).
func AtLeast(min int64) Floor { return Floor{Min: min} }

// NoFloor returns the floor of an account that may go down without limit.
func NoFloor() Floor { return Floor{Unbounded: true} }

// Allows reports whether balance is at or above the floor.
func (f Floor) Allows(balance int64) bool { return f.Unbounded || balance >= f.Min }

// Account is one ledger account.
type Account struct {
	ID        string
	Owner     string // the billing account it belongs to; "" for a system account
	Kind      Kind
	Currency  string // ISO-4217, e.g. "EUR"
	Floor     Floor
	Balance   int64 // minor units; the sum of the account's postings
	Seq       int64 // the number of postings, which is the last posting's Seq
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AccountSpec names an account for EnsureAccount.
type AccountSpec struct {
	Owner    string
	Kind     Kind
	Currency string
	Floor    Floor // used when the account is created; an existing account keeps its own
}

// Transaction is one journal entry with its postings.
type Transaction struct {
	ID             string
	IdempotencyKey string
	RequestHash    string // SHA-256 (hex) of the canonical request: description, postings, metadata
	Description    string
	Metadata       map[string]string // nil when empty
	CreatedAt      time.Time
	Postings       []Posting // ordered by account id

	// Replayed is true when Post returned a transaction recorded earlier
	// under the same idempotency key instead of writing a new one. It is
	// not stored.
	Replayed bool
}

// Posting is one line of a transaction: an amount added to an account.
type Posting struct {
	TransactionID string
	AccountID     string
	Currency      string
	Amount        int64 // minor units, never 0
	Seq           int64 // the account's posting number: 1, 2, 3 … without gaps
	BalanceAfter  int64 // the account's balance after this posting
	CreatedAt     time.Time
}

// PostInput is a transaction to record.
type PostInput struct {
	// IdempotencyKey identifies the money movement (e.g. "invoice:<id>:charge").
	// A second post with the same key and the same body returns the first
	// transaction; with another body it is a conflict.
	IdempotencyKey string
	Description    string
	Postings       []PostingInput
	Metadata       map[string]string
}

// PostingInput is one line of a PostInput. Currency must be the account's.
type PostingInput struct {
	AccountID string
	Currency  string
	Amount    int64
}

// CurrencyTotal is the sum of every account's balance in one currency; a
// consistent ledger has Total 0 for every currency. Total is a big.Int so the
// check reports a corrupted ledger exactly instead of overflowing.
type CurrencyTotal struct {
	Currency string
	Total    *big.Int
	Accounts int
}

// Limits of one request.
const (
	MaxPostings       = 100
	MaxKeyLen         = 255
	MaxDescriptionLen = 1000
	MaxMetadata       = 50
	MaxMetadataKeyLen = 100
	MaxMetadataValLen = 1000
	MaxOwnerLen       = 255
	MaxPageSize       = 1000
)
