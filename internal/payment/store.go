package payment

import (
	"context"
	"encoding/json"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
)

// Queries is the persistence payments need, without Tx. It embeds
// billing.Queries (which embeds ledger.Queries), so one database
// transaction carries the charge, the invoices it pays, the credit records
// and the ledger postings.
type Queries interface {
	billing.Queries
	AppendAudit(ctx context.Context, e audit.Entry) error

	// InsertPaymentCustomer inserts c unless the account already has a
	// customer at c.Processor, and reports whether it did.
	InsertPaymentCustomer(ctx context.Context, c Customer) (bool, error)
	GetPaymentCustomer(ctx context.Context, accountID int64, processor string) (Customer, error)

	InsertPaymentObject(ctx context.Context, o PaymentObject) error
	// GetPaymentObject returns a method (deleted ones too) if its
	// account's org is in scope.
	GetPaymentObject(ctx context.Context, scope string, id int64) (PaymentObject, error)
	// ListPaymentObjects returns an account's live methods by id.
	ListPaymentObjects(ctx context.Context, accountID int64) ([]PaymentObject, error)
	// GetPrimaryPaymentObject returns the account's primary method.
	GetPrimaryPaymentObject(ctx context.Context, accountID int64) (PaymentObject, error)
	// GetInvoicePaymentObject returns the account's live paying-by-invoice
	// method.
	GetInvoicePaymentObject(ctx context.Context, accountID int64) (PaymentObject, error)
	// SetPrimaryPaymentObject makes id, if live and verified, the only
	// primary of its account, and reports whether it is now primary. The
	// caller holds the account lock.
	SetPrimaryPaymentObject(ctx context.Context, accountID, id int64, at time.Time) (bool, error)
	// VerifyPaymentObject marks a live method verified and reports
	// whether it changed.
	VerifyPaymentObject(ctx context.Context, id int64, at time.Time) (bool, error)
	// DeletePaymentObject removes a live method (no longer primary) and
	// reports whether it did.
	DeletePaymentObject(ctx context.Context, id int64, at time.Time) (bool, error)

	// InsertCharge inserts c (with its allocations) unless its
	// idempotency key is taken, and reports whether it did.
	InsertCharge(ctx context.Context, c Charge) (bool, error)
	// GetCharge and GetChargeByKey return a charge with its allocations.
	GetCharge(ctx context.Context, id int64) (Charge, error)
	GetChargeByKey(ctx context.Context, key string) (Charge, error)
	// FinishCharge moves a pending charge to status with the processor's
	// outcome, and reports whether it was pending.
	FinishCharge(ctx context.Context, id int64, status ChargeStatus, identifier string, data json.RawMessage,
		errMsg, ledgerTransactionID string, at time.Time) (bool, error)
	// ListPendingCharges returns up to limit charges pending since before
	// at or earlier, oldest first.
	ListPendingCharges(ctx context.Context, before time.Time, limit int) ([]Charge, error)
	// ListAccountCharges returns an account's charges, newest first.
	ListAccountCharges(ctx context.Context, accountID int64) ([]Charge, error)
	// ListInvoiceTransactions returns the succeeded charges applied to an
	// invoice, oldest first.
	ListInvoiceTransactions(ctx context.Context, invoiceID int64) ([]InvoiceTransaction, error)

	// ListOpenInvoices returns an account's unpaid invoices (only usage
	// invoices when usageOnly), oldest first.
	ListOpenInvoices(ctx context.Context, accountID int64, usageOnly bool) ([]OpenInvoice, error)
	// GetOpenInvoice returns an invoice's payment state if its account's
	// org is in scope.
	GetOpenInvoice(ctx context.Context, scope string, id int64) (OpenInvoice, error)
	// ReserveInvoiceAmount adds amount to an unpaid invoice's pending
	// amount if paid + pending stays within the total.
	ReserveInvoiceAmount(ctx context.Context, invoiceID, amount int64, at time.Time) (bool, error)
	// ReleaseInvoiceAmount takes amount off the pending amount.
	ReleaseInvoiceAmount(ctx context.Context, invoiceID, amount int64, at time.Time) (bool, error)
	// SettleInvoiceAmount moves amount from pending to paid (fromPending)
	// or adds it to paid directly (a bank payment), within the total, and
	// marks the invoice paid (status 10, paid_at) when paid reaches the
	// total.
	SettleInvoiceAmount(ctx context.Context, invoiceID, amount int64, fromPending bool, at time.Time) (bool, error)

	// ListRecurringAccounts returns the live accounts with the recurring
	// top-up enabled.
	ListRecurringAccounts(ctx context.Context) ([]RecurringAccount, error)
	// ListAutoPayInvoices returns the unpaid usage invoices created at or
	// before at whose account has a primary card and for which no charge
	// with the key keyPrefix+<invoice id> exists, oldest first.
	ListAutoPayInvoices(ctx context.Context, keyPrefix string, at time.Time, limit int) ([]int64, error)
}

// Store is Queries with transactions.
type Store interface {
	Queries
	Tx(ctx context.Context, fn func(Store) error) error
}
