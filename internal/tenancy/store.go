package tenancy

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
)

// Store is the persistence tenancy needs. Methods that take a scope only see
// objects whose org path starts with it and report errs.KindNotFound
// otherwise.
type Store interface {
	// Tx runs fn with a Store bound to one transaction.
	Tx(ctx context.Context, fn func(Store) error) error

	InsertOrg(ctx context.Context, o Org) error
	GetOrg(ctx context.Context, scope, id string) (Org, error)
	ListOrgs(ctx context.Context, scope string, f OrgFilter) ([]Org, error)
	// LockOrg locks an org's row until the transaction ends (a no-op on
	// SQLite, whose writers are serialised).
	LockOrg(ctx context.Context, id string) error
	UpdateOrg(ctx context.Context, o Org) error
	DeleteOrg(ctx context.Context, id string) error
	CountOrgChildren(ctx context.Context, id string) (int, error)

	InsertContract(ctx context.Context, c Contract) error
	GetContract(ctx context.Context, scope, id string) (Contract, error)
	ListContracts(ctx context.Context, scope, after string, limit int) ([]Contract, error)
	UpdateContractTerms(ctx context.Context, c Contract) error
	// SetContractReserved changes the reservation only if it stays at or
	// above the allocated capacity; it reports whether it did.
	SetContractReserved(ctx context.Context, id string, reserved int64, at time.Time) (bool, error)
	// AddContractAllocation adds delta to the contract's allocated capacity
	// only if the result stays within [0, reserved]; it reports whether it
	// did.
	AddContractAllocation(ctx context.Context, id string, delta int64, at time.Time) (bool, error)
	CountContractPartners(ctx context.Context, id string) (int, error)
	DeleteContract(ctx context.Context, id string) error

	ListPartners(ctx context.Context, scope, contractID string) ([]Org, error)
	// SetPartnerAllocation sets a partner's allocation only if it is 0
	// (pay-per-use) or covers the partner's strict storage accounts; it
	// reports whether it did.
	SetPartnerAllocation(ctx context.Context, id string, capacity int64, at time.Time) (bool, error)
	CountPartnerStorageAccounts(ctx context.Context, partnerID string) (int, error)
	DeleteOrgPrincipals(ctx context.Context, orgID string) error

	AppendAudit(ctx context.Context, e audit.Entry) error
}

// OrgFilter narrows ListOrgs.
type OrgFilter struct {
	Kind  string // "" for all kinds
	After string // cursor: list ids greater than this
	Limit int
}
