package pricing

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
)

// Store is the persistence pricing needs.
type Store interface {
	Tx(ctx context.Context, fn func(Store) error) error
	// InsertPriceVersion inserts v unless its id or its EffectiveFrom is
	// taken, and reports whether it did.
	InsertPriceVersion(ctx context.Context, v Version) (bool, error)
	// ListPriceVersions returns every version, oldest EffectiveFrom first.
	ListPriceVersions(ctx context.Context) ([]Version, error)
	// PriceVersionAt returns the version with the latest EffectiveFrom ≤ at
	// (NotFound when there is none).
	PriceVersionAt(ctx context.Context, at time.Time) (Version, error)
	// ReplaceServiceMultipliers sets a service's whole multiplier list.
	ReplaceServiceMultipliers(ctx context.Context, sm ServiceMultipliers) error
	// InsertServiceMultipliers sets a service's list only if it has none,
	// and reports whether it did.
	InsertServiceMultipliers(ctx context.Context, sm ServiceMultipliers) (bool, error)
	// ListServiceMultipliers returns every service's list, by service name.
	ListServiceMultipliers(ctx context.Context) ([]ServiceMultipliers, error)
	AppendAudit(ctx context.Context, e audit.Entry) error
}
