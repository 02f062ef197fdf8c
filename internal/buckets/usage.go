package buckets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// Sweep names in usage_sweeps.
const (
	hourSweep = "object-storage-hours"
	daySweep  = "object-storage-days"
)

// MaxSweepHours bounds one MeterHours call; MaxSweepDays one SnapshotDays.
const (
	MaxSweepHours = 24 * 40
	MaxSweepDays  = 400
)

// GBHours is what a bucket that held `bytes` in an hour is billed: GB
// (10^9 bytes) × 1 hour, rounded up to the meter's resolution (a millionth,
// i.e. per started 1,000 bytes) so that a non-empty bucket is never free.
func GBHours(bytes int64) money.Decimal {
	if bytes <= 0 {
		return money.DecimalFromInt(0)
	}
	return metering.QuantityFromE6((bytes + 999) / 1000)
}

// MeterHours writes the object-storage usage of every closed hour up to at
// into the billing core: one record per billed bucket and hour, of GB-hours
// at the most the bucket held in the hour (as VMs pay an hour at the
// highest-priced configuration they had in it). The sweep's position moves
// by a conditional update, so nodes running it together write each hour
// once; an hour closed before the sweep reached it is skipped and logged.
func (s *Service) MeterHours(ctx context.Context, at time.Time) error {
	end := at.UTC().Truncate(time.Hour)
	from, prev, ok, err := s.sweepStart(ctx, hourSweep, time.Hour)
	if err != nil || !ok {
		return err
	}
	for h, n := from, 0; h.Before(end) && n < MaxSweepHours; h, n = h.Add(time.Hour), n+1 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.recorder.Closed(h, at) {
			s.log.ErrorContext(ctx, "object storage hour closed before it was metered; it is not billed", "hour", h.Format(time.RFC3339))
		} else if err := s.meterHour(ctx, h); err != nil {
			return fmt.Errorf("meter object storage %s: %w", h.Format(time.RFC3339), err)
		}
		moved, err := s.store.AdvanceUsageSweep(ctx, hourSweep, prev, h.Add(time.Hour))
		if err != nil || !moved {
			return err
		}
		prev = h.Add(time.Hour)
	}
	return nil
}

func (s *Service) meterHour(ctx context.Context, h time.Time) error {
	rows, err := s.store.BucketBytesInHour(ctx, h)
	if err != nil || len(rows) == 0 {
		return err
	}
	ins := make([]metering.RecordInput, 0, len(rows))
	for _, r := range rows {
		ins = append(ins, metering.RecordInput{ResourceID: r.Bucket.ID, Meter: pricing.MeterObjectStorage, PeriodStart: h,
			BillingAccountID: r.Bucket.BillingAccountID, OwnerUUID: r.Bucket.ID, UserID: r.UserID,
			Config: pricing.Config{Name: r.Bucket.Name}, Quantity: GBHours(r.StoredBytes)})
	}
	sys := actor.System("object-storage-sweep")
	for len(ins) > 0 {
		n := min(len(ins), metering.MaxBatch)
		if _, err := s.recorder.RecordBatch(ctx, sys, ins[:n]); err != nil {
			var e *errs.Error
			if errors.As(err, &e) && e.Kind == errs.KindInvalid {
				return errs.Wrap(errs.KindInternal, err, "object storage usage produced an invalid record")
			}
			return err
		}
		ins = ins[n:]
	}
	return nil
}

// SnapshotDays records, for each UTC day that ended by at, the daily usage
// of every storage account: the bytes its buckets held (objects and parts)
// at the end of the day, with the account's allocation when recorded. Nodes
// running it together record each day once.
func (s *Service) SnapshotDays(ctx context.Context, at time.Time) error {
	end := at.UTC().Truncate(24 * time.Hour)
	from, prev, ok, err := s.sweepStart(ctx, daySweep, 24*time.Hour)
	if err != nil || !ok {
		return err
	}
	for d, n := from, 0; d.Before(end) && n < MaxSweepDays; d, n = d.Add(24*time.Hour), n+1 {
		if err := ctx.Err(); err != nil {
			return err
		}
		dayEnd := d.Add(24 * time.Hour)
		rows, err := s.store.StorageAccountBytesAt(ctx, dayEnd)
		if err != nil {
			return err
		}
		now := s.now()
		err = s.store.Tx(ctx, func(tx Store) error {
			for _, r := range rows {
				if err := tx.UpsertDailyUsage(ctx, metering.DailyUsage{StorageAccountID: r.StorageAccountID,
					Day: d.Format(metering.DayLayout), UsageBytes: r.Bytes, AllocatedCapacity: r.AllocatedCapacity,
					RecordedAt: now}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		moved, err := s.store.AdvanceUsageSweep(ctx, daySweep, prev, dayEnd)
		if err != nil || !moved {
			return err
		}
		prev = dayEnd
	}
	return nil
}

// sweepStart returns where a sweep goes on: its stored position (prev is
// the same instant), or, before its first run, the start of the unit in
// which a bucket first changed (prev zero). ok false: nothing to sweep yet.
func (s *Service) sweepStart(ctx context.Context, name string, unit time.Duration) (from, prev time.Time, ok bool, err error) {
	from, ran, err := s.store.UsageSweptUntil(ctx, name)
	if err != nil || ran {
		return from, from, err == nil, err
	}
	first, any, err := s.store.FirstBucketHour(ctx)
	if err != nil || !any {
		return time.Time{}, time.Time{}, false, err
	}
	return first.UTC().Truncate(unit), time.Time{}, true, nil
}
