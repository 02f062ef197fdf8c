package catalog

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
)

// Store is the persistence the catalog needs.
type Store interface {
	Tx(ctx context.Context, fn func(Store) error) error

	// ListLocations returns every location by order_nr, then slug.
	ListLocations(ctx context.Context) ([]Location, error)
	GetLocation(ctx context.Context, slug string) (Location, error)
	// DefaultLocation returns the location flagged default (NotFound when
	// there is none: no location exists).
	DefaultLocation(ctx context.Context) (Location, error)
	// UpsertLocation inserts or replaces a location's fields except
	// IsDefault and CreatedAt; it reports whether it inserted.
	UpsertLocation(ctx context.Context, l Location) (created bool, err error)
	// SetDefaultLocation makes slug the default location (there is at
	// most one; NotFound for an unknown slug).
	SetDefaultLocation(ctx context.Context, slug string, at time.Time) error
	// DeleteLocation deletes a location (and the default mark if it has
	// it).
	DeleteLocation(ctx context.Context, slug string) error

	AppendAudit(ctx context.Context, e audit.Entry) error
}
