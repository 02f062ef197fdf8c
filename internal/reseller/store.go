package reseller

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// AccountQuery narrows ListResellerAccounts.
type AccountQuery struct {
	PartnerID     string // "" = every partner in scope
	EmailContains string // case-insensitive substring; "" = any
	InternalOnly  bool
	SimpleOne     *bool // nil = both
}

// Queries is the persistence the reseller core needs, without Tx. It embeds
// billing.Queries (and through it ledger.Queries), so one database
// transaction carries the reseller rows, the billing account and the ledger
// postings; the orders package embeds it in turn.
type Queries interface {
	billing.Queries
	AppendAudit(ctx context.Context, e audit.Entry) error
	// UpdateOrg writes an org (the partner's time zone).
	UpdateOrg(ctx context.Context, o tenancy.Org) error

	// GetResellerSettings returns the stored settings (NotFound when the
	// partner has none yet; TimeZone is not stored here).
	GetResellerSettings(ctx context.Context, partnerID string) (Settings, error)
	UpsertResellerSettings(ctx context.Context, st Settings) error
	// AddResellerIntake adds amount to the partner's intake of month and
	// currency unless the sum would exceed limit (minor units; < 0 = no
	// limit), atomically against concurrent callers, and reports whether
	// it did.
	AddResellerIntake(ctx context.Context, partnerID, month, currency string, amount, limit int64) (bool, error)
	// ResellerIntake returns the partner's intake of month and currency.
	ResellerIntake(ctx context.Context, partnerID, month, currency string) (int64, error)

	InsertResellerKey(ctx context.Context, k Key) error
	GetResellerKeyByHash(ctx context.Context, hash string) (Key, error)
	// ListResellerKeys returns a partner's keys, oldest first.
	ListResellerKeys(ctx context.Context, partnerID string) ([]Key, error)
	// RevokeResellerKey revokes a live key and reports whether it did
	// (NotFound when the partner has no such key).
	RevokeResellerKey(ctx context.Context, partnerID, id string, at time.Time) (bool, error)
	TouchResellerKey(ctx context.Context, id string, at time.Time) error

	InsertResellerAccount(ctx context.Context, a Account) error
	// GetResellerAccount returns a live account whose partner is in scope.
	GetResellerAccount(ctx context.Context, scope, id string) (Account, error)
	// GetResellerAccountBySimpleOneUser returns the partner's live SimpleOne
	// account of a SimpleOne user.
	GetResellerAccountBySimpleOneUser(ctx context.Context, partnerID, userID string) (Account, error)
	// ListResellerAccounts returns the live accounts in scope, oldest first.
	ListResellerAccounts(ctx context.Context, scope string, q AccountQuery) ([]Account, error)
	// UpdateResellerAccount writes state, activation token, SimpleOne
	// company, updated/activated/deleted times.
	UpdateResellerAccount(ctx context.Context, a Account) error

	// InsertResellerProject inserts a project and its owner's membership.
	InsertResellerProject(ctx context.Context, p Project) error
	// GetResellerProject returns a live project in scope with its balances
	// and members.
	GetResellerProject(ctx context.Context, scope string, id int64) (Project, error)
	// LockResellerProject takes the project's row lock and returns it.
	LockResellerProject(ctx context.Context, id int64) (Project, error)
	// ListResellerProjects returns the live projects in scope (of which
	// accountID is a member, unless ""), by id.
	ListResellerProjects(ctx context.Context, scope, accountID string) ([]Project, error)
	// UpdateResellerProject writes postpay, max debt, blocked_at, the
	// SimpleOne company and updated/deleted times.
	UpdateResellerProject(ctx context.Context, p Project) error
	// AddResellerProjectMember adds a member unless it is one already.
	AddResellerProjectMember(ctx context.Context, projectID int64, accountID string, at time.Time) (bool, error)
	// RemoveResellerProjectMember removes a member and reports whether it was one.
	RemoveResellerProjectMember(ctx context.Context, projectID int64, accountID string) (bool, error)

	InsertResellerCompany(ctx context.Context, c Company) error
	GetResellerCompany(ctx context.Context, scope string, projectID, id int64) (Company, error)
	// ListResellerCompanies returns a project's companies by id.
	ListResellerCompanies(ctx context.Context, scope string, projectID int64) ([]Company, error)
	// UpdateResellerCompany writes the editable fields, state and updated_at.
	UpdateResellerCompany(ctx context.Context, c Company) error
	// DeactivateResellerCompanies makes the project's Active companies
	// InActive and returns how many changed.
	DeactivateResellerCompanies(ctx context.Context, projectID int64, at time.Time) (int, error)

	InsertResellerInvoice(ctx context.Context, inv Invoice) error
	GetResellerInvoice(ctx context.Context, scope, partnerID, number string) (Invoice, error)
	// ListResellerInvoices returns a company's invoices by number.
	ListResellerInvoices(ctx context.Context, scope string, projectID, companyID int64) ([]Invoice, error)
	// PayResellerInvoice adds amount to the invoice's paid amount, marks a
	// New invoice Paid once it is covered, and returns it and whether this
	// call marked it paid.
	PayResellerInvoice(ctx context.Context, partnerID, number string, amount int64, at time.Time) (Invoice, bool, error)

	// InsertResellerPayment inserts p unless the partner already has a
	// payment of its kind and number, and reports whether it did.
	InsertResellerPayment(ctx context.Context, p Payment) (bool, error)
	GetResellerPayment(ctx context.Context, partnerID, kind, number string) (Payment, error)
	// ListResellerPayments returns the payments in scope, newest first.
	ListResellerPayments(ctx context.Context, scope string) ([]Payment, error)

	InsertResellerOperation(ctx context.Context, op Operation) error
	GetResellerOperationByKey(ctx context.Context, key string) (Operation, error)
	// ListResellerOperations returns the operations in scope (of one
	// project unless 0) with from ≤ created_at < to, by time then id.
	ListResellerOperations(ctx context.Context, scope string, projectID int64, from, to time.Time) ([]Operation, error)
}

// Store is Queries with transactions.
type Store interface {
	Queries
	Tx(ctx context.Context, fn func(Store) error) error
}
