// Package objstore owns object-storage tenancy: storage accounts (the S3
// tenants a partner sells, each with an allocated capacity) and the regions
// clients connect to.
package objstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// DeletionGrace is how long a storage account scheduled for deletion stays
// before it is removed (the vendor's default).
const DeletionGrace = 30 * 24 * time.Hour

// StorageAccount is an S3 tenant under a partner.
type StorageAccount struct {
	ID                string // the vendor's clientAccountId
	PartnerID         string
	OrgPath           string // the partner's path
	Name              string
	ContactEmail      string
	PasswordHash      string
	AllocatedCapacity int64
	AllowOverdraft    bool
	PendingDeletedAt  *time.Time
	SuspendedAt       *time.Time // S3 access refused while set (a billing suspension)
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Region is where clients reach the object storage.
type Region struct {
	Name      string
	S3URL     string
	IAMURL    string
	STSURL    string
	CreatedAt time.Time
}

// Store is the persistence objstore needs.
type Store interface {
	Tx(ctx context.Context, fn func(Store) error) error
	PrincipalStore

	LockOrg(ctx context.Context, id string) error
	GetOrg(ctx context.Context, scope, id string) (tenancy.Org, error)
	// AddPartnerAccountsAllocation adds delta to the sum of a partner's
	// strict accounts, only if the result is ≥ 0 and, for a partner with an
	// allocation, within it; it reports whether it did.
	AddPartnerAccountsAllocation(ctx context.Context, partnerID string, delta int64, at time.Time) (bool, error)

	InsertStorageAccount(ctx context.Context, sa StorageAccount) error
	GetStorageAccount(ctx context.Context, scope, partnerID, id string) (StorageAccount, error)
	ListStorageAccounts(ctx context.Context, scope, partnerID string) ([]StorageAccount, error)
	SetStorageAccountPendingDeletion(ctx context.Context, id string, at *time.Time, now time.Time) error
	// SetStorageAccountSuspended sets (a time) or clears (nil) the
	// account's suspension.
	SetStorageAccountSuspended(ctx context.Context, id string, at *time.Time, now time.Time) error
	// SetStorageAccountCapacity sets the account's allocated capacity (the
	// partner's sum is the caller's, with AddPartnerAccountsAllocation).
	SetStorageAccountCapacity(ctx context.Context, id string, capacity int64, now time.Time) error
	// StoredBytes locks the storage account's S3 principal and returns the
	// bytes its buckets hold plus the writes in flight (0 without a
	// principal): the guard of a shrink, read in the shrink's transaction.
	StoredBytes(ctx context.Context, storageAccountID string) (int64, error)
	ListDueStorageAccounts(ctx context.Context, now time.Time, limit int) ([]StorageAccount, error)
	// DeleteDueStorageAccount deletes the account if its deletion is still
	// scheduled at or before now; it reports whether it did.
	DeleteDueStorageAccount(ctx context.Context, id string, now time.Time) (bool, error)

	ListRegions(ctx context.Context) ([]Region, error)
	UpsertRegion(ctx context.Context, r Region) error
	DeleteRegion(ctx context.Context, name string) (bool, error)

	AppendAudit(ctx context.Context, e audit.Entry) error
}
