package orders

import (
	"context"
	"encoding/json"
	"time"

	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/reseller"
)

// OrderFilter selects orders for ListResellerOrders.
type OrderFilter struct {
	Scope     string // org path prefix of the partner
	ProjectID int64  // 0 = every project
	Kind      string // "" = every kind
	// WithDeleted includes Deleted orders.
	WithDeleted bool
}

// Queries is the persistence the service needs, without Tx. It embeds
// reseller.Queries (and through it billing, ledger and audit), so an
// order, its admission, its first day's charge and its step job commit in
// one transaction.
type Queries interface {
	reseller.Queries

	// EnqueueJob inserts a job in the transaction (jobs.Queue).
	EnqueueJob(ctx context.Context, args jobs.Args, opts jobs.InsertOpts) error

	// GetResellerCatalog returns a stored catalog document (NotFound when
	// absent).
	GetResellerCatalog(ctx context.Context, kind string) (json.RawMessage, time.Time, error)
	// PutResellerCatalog inserts or replaces a catalog document.
	PutResellerCatalog(ctx context.Context, kind string, body json.RawMessage, at time.Time) error
	// InsertResellerCatalogIfAbsent stores a catalog unless one exists and
	// reports whether it did.
	InsertResellerCatalogIfAbsent(ctx context.Context, kind string, body json.RawMessage, at time.Time) (bool, error)

	InsertResellerOrder(ctx context.Context, o Order) error
	// GetResellerOrder returns an order (Deleted too) whose partner is in
	// scope.
	GetResellerOrder(ctx context.Context, scope string, id int64) (Order, error)
	// LockResellerOrder takes the order's row lock and returns it.
	LockResellerOrder(ctx context.Context, id int64) (Order, error)
	// ListResellerOrders returns orders by id.
	ListResellerOrders(ctx context.Context, f OrderFilter) ([]Order, error)
	// UpdateResellerOrder writes state, provider ref, last error,
	// project_blocked, next_charge_at, updated_at and deleted_at.
	UpdateResellerOrder(ctx context.Context, o Order) error
	// AdvanceResellerOrderCharge moves next_charge_at from from to to if it
	// is still from (a compare-and-set) and reports whether it did.
	AdvanceResellerOrderCharge(ctx context.Context, id int64, from, to, at time.Time) (bool, error)
	// DueResellerOrders returns the ids of Active orders with
	// next_charge_at ≤ at, by id.
	DueResellerOrders(ctx context.Context, at time.Time, limit int) ([]int64, error)
	// SetResellerProjectOrdersBlocked flips a project's live orders: when
	// blocked, Active → Blocked and every live order's project_blocked set;
	// when not, Blocked → Active with next_charge_at raised to at if
	// earlier, project_blocked cleared. It returns how many orders changed
	// state.
	SetResellerProjectOrdersBlocked(ctx context.Context, projectID int64, blocked bool, at time.Time) (int, error)
	// CountLiveResellerOrders counts a project's orders that are not
	// Deleted.
	CountLiveResellerOrders(ctx context.Context, projectID int64) (int, error)
}

// Store is Queries with transactions.
type Store interface {
	Queries
	Tx(ctx context.Context, fn func(Store) error) error
}
