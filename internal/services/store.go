package services

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/network"
)

// PackageFilter selects packages for ListServicePackages.
type PackageFilter struct {
	Scope            string // org path prefix (the caller's subtree)
	Location         string // "" = every location
	BillingAccountID int64  // 0 = any (a restricted token sees one account)
	// WithDeleted includes packages whose delete was requested.
	WithDeleted bool
}

// Queries is the persistence the service needs, without Tx. It embeds
// network.Queries (itself embedding billing.Queries, the usage segments,
// the audit log and the job queue), so admission, the address reservation,
// billing and the step job commit with the package.
type Queries interface {
	network.Queries

	// InsertServicePackage inserts a package with its resources (not its
	// whitelist).
	InsertServicePackage(ctx context.Context, p Package) error
	// GetServicePackage returns a package with its resources, if its org
	// is in scope.
	GetServicePackage(ctx context.Context, scope, uuid string) (Package, error)
	// LockServicePackage takes the package's row lock and returns it with
	// its resources.
	LockServicePackage(ctx context.Context, uuid string) (Package, error)
	// ListServicePackages returns packages with their resources, oldest
	// first.
	ListServicePackages(ctx context.Context, f PackageFilter) ([]Package, error)
	// UpdateServicePackage writes display_name, billing_account_id,
	// status, service_ip, updated_at and deleted_at.
	UpdateServicePackage(ctx context.Context, p Package) error
	// UpdateServiceResource writes a resource's status, address and
	// updated_at.
	UpdateServiceResource(ctx context.Context, r Resource) error
	// CountActiveServicePackages counts the packages of an account whose
	// delete was not requested.
	CountActiveServicePackages(ctx context.Context, billingAccountID int64) (int, error)

	// ListServiceWhitelist returns a package's entries in the order they
	// were added.
	ListServiceWhitelist(ctx context.Context, packageUUID string) ([]string, error)
	// AddServiceWhitelist appends an entry unless present and reports
	// whether it did.
	AddServiceWhitelist(ctx context.Context, packageUUID, entry string, at time.Time) (bool, error)
	// DeleteServiceWhitelist removes an entry and reports whether it was
	// there.
	DeleteServiceWhitelist(ctx context.Context, packageUUID, entry string) (bool, error)

	AppendAudit(ctx context.Context, e audit.Entry) error
}

// Store is Queries with transactions.
type Store interface {
	Queries
	Tx(ctx context.Context, fn func(Store) error) error
}
