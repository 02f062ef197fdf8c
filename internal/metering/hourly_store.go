package metering

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/pricing"
)

// HourlyStore is the persistence of hourly usage records. It is separate
// from Store (the daily storage usage) so that the two grow independently;
// sqlstore.MeteringHourly implements it.
type HourlyStore interface {
	Tx(ctx context.Context, fn func(HourlyStore) error) error
	// UpsertHourlyUsage inserts r, or replaces the stored record with the
	// same key (resource, meter, period) when its content differs, and
	// reports whether a row was written (false: the same content was
	// stored already). The caller has checked that the period is open.
	UpsertHourlyUsage(ctx context.Context, r HourlyRecord) (bool, error)
	// GetHourlyUsage returns the record of a key.
	GetHourlyUsage(ctx context.Context, resourceID string, meter pricing.Meter, periodStart time.Time) (HourlyRecord, error)
	// ListHourlyUsage returns a resource's records with from ≤ period_start
	// < to, in period order, at most limit.
	ListHourlyUsage(ctx context.Context, resourceID string, from, to time.Time, limit int) ([]HourlyRecord, error)
	// HourlyUsageGroups aggregates a billing account's records with from ≤
	// period_start < to, one group per distinct (resource, meter,
	// description, unit price, configuration, uptime types, owner,
	// location, user): ONE GROUP BY query.
	HourlyUsageGroups(ctx context.Context, billingAccountID int64, from, to time.Time) ([]UsageGroup, error)
	// HourlyUsageAccounts returns the distinct billing accounts with a
	// record with from ≤ period_start < to, ascending.
	HourlyUsageAccounts(ctx context.Context, from, to time.Time) ([]int64, error)
	// BillingAccountUser returns the user and the deleted state of a
	// billing account in scope (KindNotFound when there is none).
	BillingAccountUser(ctx context.Context, scope string, id int64) (AccountUser, error)
}

// AccountUser is what an operator's usage record needs of its billing
// account.
type AccountUser struct {
	UserID  int64
	Deleted bool
}

// UsageGroup is one row of HourlyUsageGroups.
type UsageGroup struct {
	ResourceID   string
	Meter        pricing.Meter
	Description  string
	UnitPrice    string // canonical decimal text, as stored
	Config       string // canonical JSON, as stored
	UptimeTypes  string // JSON array, as stored
	OwnerUUID    string
	LocationSlug string
	UserID       int64
	QuantityE6   int64 // Σ quantity in millionths
	Records      int64
	FirstPeriod  time.Time
	LastPeriod   time.Time
}
