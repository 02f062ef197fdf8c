package ledger

import (
	"context"
	"time"
)

// Queries is the persistence the ledger needs, without Tx. It is separate
// from Store so that another domain's Store (billing, payments) can embed it
// next to its own Tx, and hand its transaction straight to PostTx: the
// sqlstore views of every domain implement it.
type Queries interface {
	// InTx reports whether the queries run inside a database transaction
	// (PostTx refuses to run outside one).
	InTx() bool

	// EnsureLedgerAccount inserts a unless an account with the same
	// (owner, kind, currency) exists, and returns the stored account and
	// whether it was created.
	EnsureLedgerAccount(ctx context.Context, a Account) (Account, bool, error)
	GetLedgerAccount(ctx context.Context, id string) (Account, error)
	ListLedgerAccounts(ctx context.Context, owner string) ([]Account, error)
	// LockLedgerAccount takes the account's row lock for the rest of the
	// transaction (a no-op update) and returns the account as locked.
	LockLedgerAccount(ctx context.Context, id string) (Account, error)
	// SetLedgerAccountFloor changes the floor if the balance is at or
	// above the new one, and reports whether it did.
	SetLedgerAccountFloor(ctx context.Context, id string, f Floor, at time.Time) (bool, error)
	// UpdateLedgerBalance moves the balance from from to to, if it is still
	// from and to is not below the floor, advancing the account's sequence;
	// it returns the new sequence number and whether the row changed.
	UpdateLedgerBalance(ctx context.Context, id string, from, to int64, at time.Time) (int64, bool, error)

	// InsertLedgerTransaction inserts the transaction row (not its
	// postings) unless its idempotency key is taken, and reports whether
	// it did.
	InsertLedgerTransaction(ctx context.Context, t Transaction) (bool, error)
	InsertLedgerPosting(ctx context.Context, p Posting) error
	// GetLedgerTransaction and GetLedgerTransactionByKey return a
	// transaction with its postings.
	GetLedgerTransaction(ctx context.Context, id string) (Transaction, error)
	GetLedgerTransactionByKey(ctx context.Context, key string) (Transaction, error)
	// ListLedgerPostings returns an account's postings with Seq > afterSeq,
	// in Seq order.
	ListLedgerPostings(ctx context.Context, accountID string, afterSeq int64, limit int) ([]Posting, error)
	// LedgerTrialBalance sums every account's balance per currency.
	LedgerTrialBalance(ctx context.Context) ([]CurrencyTotal, error)
}

// Store is Queries with transactions.
type Store interface {
	Queries
	Tx(ctx context.Context, fn func(Store) error) error
}
