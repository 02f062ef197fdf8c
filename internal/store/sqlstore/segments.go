package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

var (
	_ metering.SegmentQueries = (*Store)(nil)
	_ metering.SegmentStore   = (*Store)(nil)
)

// CloseUsageSegments implements metering.SegmentQueries.
func (s *Store) CloseUsageSegments(ctx context.Context, resourceID string, at time.Time) error {
	_, err := s.w().ExecContext(ctx, `UPDATE usage_segments SET ended_at = $2
		WHERE resource_id = $1 AND ended_at IS NULL`, resourceID, db.Micro(at))
	return s.mapErr(err, "usage segment")
}

// InsertUsageSegment implements metering.SegmentQueries.
func (s *Store) InsertUsageSegment(ctx context.Context, resourceID string, seg metering.Segment, at time.Time) error {
	config, err := json.Marshal(seg.Config)
	if err != nil {
		return errs.Wrap(errs.KindInternal, err, "encode usage configuration")
	}
	_, err = s.w().ExecContext(ctx, `INSERT INTO usage_segments (resource_id, meter, billing_account_id,
		location_slug, owner_uuid, user_id, config, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		resourceID, string(seg.Meter), seg.BillingAccountID, seg.LocationSlug, seg.OwnerUUID, seg.UserID,
		string(config), db.Micro(at))
	return s.mapErr(err, "usage segment")
}

// UsageSegmentsIn implements metering.SegmentStore.
func (s *Store) UsageSegmentsIn(ctx context.Context, from, to time.Time) ([]metering.StoredSegment, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT resource_id, meter, billing_account_id, location_slug, owner_uuid,
		user_id, config, started_at, ended_at FROM usage_segments
		WHERE started_at < $2 AND (ended_at IS NULL OR (ended_at > $1 AND ended_at > started_at))
		ORDER BY resource_id, started_at, id`, db.Micro(from), db.Micro(to))
	if err != nil {
		return nil, s.mapErr(err, "usage segment")
	}
	defer func() { _ = rows.Close() }()
	var out []metering.StoredSegment
	for rows.Next() {
		var (
			seg           metering.StoredSegment
			meter, config string
			start         db.Time
			end           db.NullTime
		)
		if err := rows.Scan(&seg.ResourceID, &meter, &seg.BillingAccountID, &seg.LocationSlug, &seg.OwnerUUID,
			&seg.UserID, &config, &start, &end); err != nil {
			return nil, s.mapErr(err, "usage segment")
		}
		seg.Meter, seg.StartedAt, seg.EndedAt = pricing.Meter(meter), start.Time, end.Ptr()
		if err := json.Unmarshal([]byte(config), &seg.Config); err != nil {
			return nil, errs.Wrap(errs.KindInternal, err, "decode usage configuration")
		}
		out = append(out, seg)
	}
	return out, s.mapErr(rows.Err(), "usage segment")
}

// FirstUsageSegmentStart implements metering.SegmentStore.
func (s *Store) FirstUsageSegmentStart(ctx context.Context) (time.Time, bool, error) {
	var t db.NullTime
	if err := s.r().QueryRowContext(ctx, `SELECT MIN(started_at) FROM usage_segments`).Scan(&t); err != nil {
		return time.Time{}, false, s.mapErr(err, "usage segment")
	}
	if !t.Valid {
		return time.Time{}, false, nil
	}
	return t.Time, true, nil
}

// UsageSweptUntil implements metering.SegmentStore.
func (s *Store) UsageSweptUntil(ctx context.Context, name string) (time.Time, bool, error) {
	var t db.Time
	err := s.r().QueryRowContext(ctx, `SELECT metered_until FROM usage_sweeps WHERE name = $1`, name).Scan(&t)
	if errs.Is(s.mapErr(err, "usage sweep"), errs.KindNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, s.mapErr(err, "usage sweep")
	}
	return t.Time, true, nil
}

// AdvanceUsageSweep implements metering.SegmentStore.
func (s *Store) AdvanceUsageSweep(ctx context.Context, name string, from, to time.Time) (bool, error) {
	if from.IsZero() {
		res, err := s.w().ExecContext(ctx, `INSERT INTO usage_sweeps (name, metered_until) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING`, name, db.Micro(to))
		return s.changed(res, err, "usage sweep")
	}
	res, err := s.w().ExecContext(ctx, `UPDATE usage_sweeps SET metered_until = $3
		WHERE name = $1 AND metered_until = $2`, name, db.Micro(from), db.Micro(to))
	return s.changed(res, err, "usage sweep")
}
