package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// MeteringHourly is the metering.HourlyStore.
type MeteringHourly struct{ *Store }

// Tx implements metering.HourlyStore.
func (m MeteringHourly) Tx(ctx context.Context, fn func(metering.HourlyStore) error) error {
	return m.tx(ctx, func(s *Store) error { return fn(MeteringHourly{s}) })
}

var _ metering.HourlyStore = MeteringHourly{}

const usageHourlyCols = `resource_id, meter, period_start, billing_account_id, location_slug, owner_uuid, user_id,
	config, quantity_e6, unit_price, description, uptime_types, recorded_at`

func scanHourly(sc interface{ Scan(...any) error }) (metering.HourlyRecord, error) {
	var r metering.HourlyRecord
	var meter, config, price, types string
	var period, recorded db.Time
	var q int64
	if err := sc.Scan(&r.ResourceID, &meter, &period, &r.BillingAccountID, &r.LocationSlug, &r.OwnerUUID, &r.UserID,
		&config, &q, &price, &r.Description, &types, &recorded); err != nil {
		return r, err
	}
	r.Meter, r.PeriodStart, r.RecordedAt = pricing.Meter(meter), period.Time, recorded.Time
	r.Quantity = metering.QuantityFromE6(q)
	var err error
	if r.UnitPrice, err = money.ParseDecimal("unit_price", price); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(config), &r.Config); err != nil {
		return r, err
	}
	return r, json.Unmarshal([]byte(types), &r.UptimeTypes)
}

// UpsertHourlyUsage implements metering.HourlyStore. One statement: a
// racing writer of the same key waits for the first to commit and then
// updates its row (or leaves it when the content is the same), so there is
// never more than one row per key and never a unique-violation error.
func (s *Store) UpsertHourlyUsage(ctx context.Context, r metering.HourlyRecord) (bool, error) {
	config, err := json.Marshal(r.Config)
	if err != nil {
		return false, errs.Wrap(errs.KindInternal, err, "encode usage configuration")
	}
	types := r.UptimeTypes
	if types == nil {
		types = []string{}
	}
	typesJSON, err := json.Marshal(types)
	if err != nil {
		return false, errs.Wrap(errs.KindInternal, err, "encode uptime types")
	}
	res, err := s.w().ExecContext(ctx, `INSERT INTO usage_hourly (`+usageHourlyCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (resource_id, meter, period_start) DO UPDATE SET
			billing_account_id = excluded.billing_account_id, location_slug = excluded.location_slug,
			owner_uuid = excluded.owner_uuid, user_id = excluded.user_id, config = excluded.config,
			quantity_e6 = excluded.quantity_e6, unit_price = excluded.unit_price, description = excluded.description,
			uptime_types = excluded.uptime_types, recorded_at = excluded.recorded_at
		WHERE usage_hourly.billing_account_id <> excluded.billing_account_id
			OR usage_hourly.location_slug <> excluded.location_slug OR usage_hourly.owner_uuid <> excluded.owner_uuid
			OR usage_hourly.user_id <> excluded.user_id OR usage_hourly.config <> excluded.config
			OR usage_hourly.quantity_e6 <> excluded.quantity_e6 OR usage_hourly.unit_price <> excluded.unit_price
			OR usage_hourly.description <> excluded.description OR usage_hourly.uptime_types <> excluded.uptime_types`,
		r.ResourceID, string(r.Meter), db.Micro(r.PeriodStart), r.BillingAccountID, r.LocationSlug, r.OwnerUUID, r.UserID,
		string(config), metering.QuantityE6(r.Quantity), r.UnitPrice.String(), r.Description, string(typesJSON), db.Micro(r.RecordedAt))
	return s.changed(res, err, "usage record")
}

// GetHourlyUsage implements metering.HourlyStore.
func (s *Store) GetHourlyUsage(ctx context.Context, resourceID string, meter pricing.Meter, periodStart time.Time) (metering.HourlyRecord, error) {
	r, err := scanHourly(s.r().QueryRowContext(ctx, `SELECT `+usageHourlyCols+` FROM usage_hourly
		WHERE resource_id = $1 AND meter = $2 AND period_start = $3`, resourceID, string(meter), db.Micro(periodStart)))
	return r, s.mapErr(err, "usage record")
}

// ListHourlyUsage implements metering.HourlyStore.
func (s *Store) ListHourlyUsage(ctx context.Context, resourceID string, from, to time.Time, limit int) ([]metering.HourlyRecord, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+usageHourlyCols+` FROM usage_hourly
		WHERE resource_id = $1 AND period_start >= $2 AND period_start < $3
		ORDER BY period_start, meter LIMIT $4`, resourceID, db.Micro(from), db.Micro(to), limit)
	if err != nil {
		return nil, s.mapErr(err, "usage record")
	}
	return collect(rows, scanHourly)
}

// HourlyUsageGroups implements metering.HourlyStore: one GROUP BY over the
// (billing_account_id, period_start) index. The columns that only follow
// from the grouping ones are grouped too, so each row is exact; the caller
// merges rows into lines.
func (s *Store) HourlyUsageGroups(ctx context.Context, billingAccountID int64, from, to time.Time) ([]metering.UsageGroup, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT resource_id, meter, description, unit_price, config, uptime_types,
			owner_uuid, location_slug, user_id, CAST(SUM(quantity_e6) AS BIGINT), COUNT(*), MIN(period_start), MAX(period_start)
		FROM usage_hourly
		WHERE billing_account_id = $1 AND period_start >= $2 AND period_start < $3
		GROUP BY resource_id, meter, description, unit_price, config, uptime_types, owner_uuid, location_slug, user_id`,
		billingAccountID, db.Micro(from), db.Micro(to))
	if err != nil {
		return nil, s.mapErr(err, "usage record")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (metering.UsageGroup, error) {
		var g metering.UsageGroup
		var meter string
		var first, last db.Time
		err := sc.Scan(&g.ResourceID, &meter, &g.Description, &g.UnitPrice, &g.Config, &g.UptimeTypes,
			&g.OwnerUUID, &g.LocationSlug, &g.UserID, &g.QuantityE6, &g.Records, &first, &last)
		g.Meter, g.FirstPeriod, g.LastPeriod = pricing.Meter(meter), first.Time, last.Time
		return g, err
	})
}

// HourlyUsageAccounts implements metering.HourlyStore (an index-only scan
// of (period_start, billing_account_id)).
func (s *Store) HourlyUsageAccounts(ctx context.Context, from, to time.Time) ([]int64, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT DISTINCT billing_account_id FROM usage_hourly
		WHERE period_start >= $1 AND period_start < $2 ORDER BY billing_account_id`, db.Micro(from), db.Micro(to))
	if err != nil {
		return nil, s.mapErr(err, "usage record")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (int64, error) {
		var id int64
		err := sc.Scan(&id)
		return id, err
	})
}

// BillingAccountUser implements metering.HourlyStore (GetBillingAccount's
// query).
func (m MeteringHourly) BillingAccountUser(ctx context.Context, scope string, id int64) (metering.AccountUser, error) {
	a, err := m.GetBillingAccount(ctx, scope, id)
	if err != nil {
		return metering.AccountUser{}, err
	}
	return metering.AccountUser{UserID: a.UserID, Deleted: a.Deleted()}, nil
}
