package billing

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// AccountFilter selects billing accounts for ListBillingAccounts.
type AccountFilter struct {
	OrgID      string // "" = every org in scope
	ID         int64  // 0 = any (a restricted token sees one account)
	ShowShadow bool   // include deleted accounts
}

// Overdue is an account with an unpaid invoice past its due date: the
// oldest such invoice.
type Overdue struct {
	AccountID int64
	InvoiceID int64
}

// Queries is the persistence billing needs, without Tx. It embeds
// ledger.Queries so that the same transaction carries the billing rows and
// the ledger postings, and it is separate from Store so that another
// domain's Store (payments) can embed it next to its own Tx and hand its
// transaction to the billing Service's ...Tx methods.
type Queries interface {
	ledger.Queries

	// NextNumber takes the next number of a counter (1, 2, 3 …); inside a
	// transaction it rolls back with it, so numbers never skip.
	NextNumber(ctx context.Context, name string) (int64, error)
	// NextNumbers takes n ≥ 1 consecutive numbers and returns the first.
	NextNumbers(ctx context.Context, name string, n int64) (int64, error)
	// RaiseNumber raises a counter to at least atLeast (after explicit ids
	// were inserted, e.g. by the demo).
	RaiseNumber(ctx context.Context, name string, atLeast int64) error

	// GetOrg and LockOrg come from tenancy: an account's org, and the org
	// row lock that serialises default-account changes of one org.
	GetOrg(ctx context.Context, scope, id string) (tenancy.Org, error)
	LockOrg(ctx context.Context, id string) error

	InsertBillingAccount(ctx context.Context, a Account) error
	// GetBillingAccount returns an account (deleted ones too) whose org is
	// in scope.
	GetBillingAccount(ctx context.Context, scope string, id int64) (Account, error)
	// LockBillingAccount takes the account's row lock and returns it.
	LockBillingAccount(ctx context.Context, id int64) (Account, error)
	// ListBillingAccounts returns the accounts in scope by id.
	ListBillingAccounts(ctx context.Context, scope string, f AccountFilter) ([]Account, error)
	// DefaultBillingAccount returns the live default account of (org, user).
	DefaultBillingAccount(ctx context.Context, orgID string, userID int64) (Account, error)
	// CountBillingAccounts counts the live accounts a new account of
	// (org, user) shares a default with: the user's and the org's
	// userless ones (a user sees those beside its own); for user 0, all
	// of the org's.
	CountBillingAccounts(ctx context.Context, orgID string, userID int64) (int, error)
	// UpdateBillingAccount writes every field except id, org, user,
	// currency, is_default, deleted_at and created_at.
	UpdateBillingAccount(ctx context.Context, a Account) error
	// SetDefaultBillingAccount makes id (live) the only default among the
	// accounts it shares a default with (CountBillingAccounts); the caller
	// holds the org lock.
	SetDefaultBillingAccount(ctx context.Context, id int64, at time.Time) error
	// SoftDeleteBillingAccount marks a live, non-default account deleted
	// and reports whether it did.
	SoftDeleteBillingAccount(ctx context.Context, id int64, at time.Time) (bool, error)
	// SetBillingAccountRestriction sets the restriction if it differs,
	// only when the current level is from (a compare-and-set), and reports
	// whether the row changed.
	SetBillingAccountRestriction(ctx context.Context, id int64, from, level, reason string, at time.Time) (bool, error)

	// InsertInvoice inserts an invoice (not its records) unless it collides
	// with an existing one (id, or the usage invoice of the same month) and
	// reports whether it did.
	InsertInvoice(ctx context.Context, inv Invoice) (bool, error)
	InsertInvoiceRecord(ctx context.Context, r InvoiceRecord) error
	// GetInvoice returns an invoice with its records, if its account's org
	// is in scope.
	GetInvoice(ctx context.Context, scope string, id int64) (Invoice, error)
	// ListInvoices returns an account's invoices with records, newest first.
	ListInvoices(ctx context.Context, accountID int64) ([]Invoice, error)
	// HasUsageInvoice reports whether the account's usage invoice for the
	// month starting at periodStart exists.
	HasUsageInvoice(ctx context.Context, accountID int64, periodStart time.Time) (bool, error)
	// InvoicedAccounts returns the accounts that have their usage invoice
	// for the month starting at periodStart.
	InvoicedAccounts(ctx context.Context, periodStart time.Time) ([]int64, error)
	// UnpaidInvoiceTotal is Σ (total − paid) over the account's unpaid
	// usage invoices.
	UnpaidInvoiceTotal(ctx context.Context, accountID int64) (int64, error)
	// ListOverdue returns, per unrestricted account, its oldest unpaid
	// usage invoice due at or before at.
	ListOverdue(ctx context.Context, at time.Time) ([]Overdue, error)
	// OldestOverdueInvoice returns the account's oldest unpaid usage
	// invoice due at or before at (ok false when there is none).
	OldestOverdueInvoice(ctx context.Context, accountID int64, at time.Time) (int64, bool, error)
	// ListRestrictedAccounts returns the ids of the accounts at level.
	ListRestrictedAccounts(ctx context.Context, level string) ([]int64, error)

	InsertCreditRecord(ctx context.Context, c CreditRecord) error
	// ListCreditRecords returns an account's credit history, newest first.
	ListCreditRecords(ctx context.Context, accountID int64) ([]CreditRecord, error)

	InsertOutboxEmail(ctx context.Context, e OutboxEmail) error
	// ListOutboxEmails returns the unsent e-mails, oldest first.
	ListOutboxEmails(ctx context.Context, limit int) ([]OutboxEmail, error)
}

// Store is Queries with transactions.
type Store interface {
	Queries
	Tx(ctx context.Context, fn func(Store) error) error
}
