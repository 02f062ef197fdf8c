package metering

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// Segment is how a resource is billed from a point in time on: which meter,
// which billing account, which configuration. Resources never write usage
// records themselves: they keep their segments current (SetUsageTx, in the
// transaction of every change that affects billing), and the hourly sweep
// (MeterSegments) turns the segments of each closed hour into records.
type Segment struct {
	Meter            pricing.Meter
	BillingAccountID int64
	LocationSlug     string
	OwnerUUID        string // the resource uuid (the usage view's owner_uuid)
	UserID           int64
	Config           pricing.Config
}

// StoredSegment is a segment as stored.
type StoredSegment struct {
	ResourceID string
	Segment
	StartedAt time.Time
	EndedAt   *time.Time // nil: open
}

// SegmentQueries is the persistence of usage segments, without Tx, so that
// every resource family's Queries can embed it and write segments in its own
// transaction.
type SegmentQueries interface {
	// CloseUsageSegments ends the open segments of a resource at `at`.
	CloseUsageSegments(ctx context.Context, resourceID string, at time.Time) error
	// InsertUsageSegment opens a segment of a resource at `at`.
	InsertUsageSegment(ctx context.Context, resourceID string, s Segment, at time.Time) error
}

// SetUsageTx records that from `at` on resourceID is billed as segs (none:
// not billed), inside the caller's transaction. Call it with every change
// that affects billing: created or started, stopped, resized, moved to
// another billing account, deleted (no segments), a floating IP assigned
// (none) or unassigned.
func SetUsageTx(ctx context.Context, tx SegmentQueries, at time.Time, resourceID string, segs ...Segment) error {
	if resourceID == "" || len(resourceID) > MaxIDLen {
		return errs.Newf(errs.KindInternal, "metering: bad resource id %q", resourceID)
	}
	at = at.UTC().Truncate(time.Microsecond)
	if err := tx.CloseUsageSegments(ctx, resourceID, at); err != nil {
		return err
	}
	for _, s := range segs {
		if !s.Meter.Valid() || !s.Meter.TimeBased() || s.BillingAccountID <= 0 {
			return errs.Newf(errs.KindInternal, "metering: bad segment %+v of %s", s, resourceID)
		}
		if err := tx.InsertUsageSegment(ctx, resourceID, s, at); err != nil {
			return err
		}
	}
	return nil
}

// SegmentStore is what the sweep needs.
type SegmentStore interface {
	// UsageSegmentsIn returns the segments that overlap [from, to) with a
	// positive length: started_at < to, ended_at NULL or > from, and
	// ended_at NULL or > started_at.
	UsageSegmentsIn(ctx context.Context, from, to time.Time) ([]StoredSegment, error)
	// FirstUsageSegmentStart returns the earliest started_at (ok false: no
	// segments).
	FirstUsageSegmentStart(ctx context.Context) (t time.Time, ok bool, err error)
	// UsageSweptUntil returns how far the named sweep has metered (ok
	// false: never ran).
	UsageSweptUntil(ctx context.Context, name string) (t time.Time, ok bool, err error)
	// AdvanceUsageSweep moves the named sweep from `from` (zero: never ran)
	// to `to`, reporting false when another node moved it first.
	AdvanceUsageSweep(ctx context.Context, name string, from, to time.Time) (bool, error)
}

// segmentSweep names the sweep's row in usage_sweeps.
const segmentSweep = "segments"

// MaxSweepHours bounds one MeterSegments call (a node that was down for
// longer catches up over several calls).
const MaxSweepHours = 24 * 40

// SegmentMeter turns usage segments into hourly records.
type SegmentMeter struct {
	segs   SegmentStore
	hourly *HourlyService
	log    *slog.Logger
}

// NewSegmentMeter returns the sweep; records are written through hourly.
func NewSegmentMeter(segs SegmentStore, hourly *HourlyService, log *slog.Logger) *SegmentMeter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &SegmentMeter{segs: segs, hourly: hourly, log: log}
}

// MeterSegments writes the usage of every whole hour that ended at or before
// `at` and was not metered yet. A resource is billed one hour for each hour
// in which it had a billable segment (of positive length), at the
// configuration with the highest hourly price it had in that hour (a VM
// resized from 2 to 4 CPUs during an hour pays that hour at 4). Hours are
// metered in order and the sweep's position moves by a conditional update,
// so nodes running it together write each hour's records once (and a
// replay writes the same records, which Record leaves as they are). An hour
// that closed before the sweep reached it (the service was down longer
// than the close grace) is skipped with an error log: its usage can no
// longer be billed. It returns the number of hours metered.
func (m *SegmentMeter) MeterSegments(ctx context.Context, at time.Time) (int, error) {
	end := at.UTC().Truncate(time.Hour) // hours before end are over
	from, ok, err := m.segs.UsageSweptUntil(ctx, segmentSweep)
	if err != nil {
		return 0, err
	}
	var prev time.Time
	if ok {
		prev = from
	} else {
		first, any, err := m.segs.FirstUsageSegmentStart(ctx)
		if err != nil {
			return 0, err
		}
		if !any {
			return 0, nil // nothing to meter yet; start when the first segment exists
		}
		from = first.UTC().Truncate(time.Hour)
	}
	n := 0
	for h := from; h.Before(end) && n < MaxSweepHours; h = h.Add(time.Hour) {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if m.hourly.Closed(h, at) {
			m.log.ErrorContext(ctx, "usage hour closed before it was metered; its resource usage is not billed",
				"hour", h.Format(time.RFC3339))
		} else if err := m.meterHour(ctx, h); err != nil {
			return n, fmt.Errorf("meter %s: %w", h.Format(time.RFC3339), err)
		}
		moved, err := m.segs.AdvanceUsageSweep(ctx, segmentSweep, prev, h.Add(time.Hour))
		if err != nil {
			return n, err
		}
		if !moved {
			return n, nil // another node is sweeping
		}
		prev = h.Add(time.Hour)
		n++
	}
	return n, nil
}

// meterHour writes the records of the hour starting at h.
func (m *SegmentMeter) meterHour(ctx context.Context, h time.Time) error {
	segs, err := m.segs.UsageSegmentsIn(ctx, h, h.Add(time.Hour))
	if err != nil || len(segs) == 0 {
		return err
	}
	policy, err := m.hourly.prices.PolicyAt(ctx, h)
	if err != nil {
		return err
	}
	type key struct {
		resource string
		meter    pricing.Meter
	}
	type pick struct {
		seg   StoredSegment
		price money.Decimal
	}
	best := map[key]pick{}
	var order []key
	for _, s := range segs {
		r, err := pricing.Rate(policy, s.Meter, s.Config)
		if err != nil {
			// A configuration the policy cannot price (e.g. a price
			// removed by a later version) must not block every other
			// resource's hour.
			m.log.ErrorContext(ctx, "usage segment cannot be priced; not billed", "resource", s.ResourceID, "meter", s.Meter,
				"hour", h.Format(time.RFC3339), "err", err)
			continue
		}
		k := key{s.ResourceID, s.Meter}
		cur, seen := best[k]
		if !seen {
			order = append(order, k)
		}
		// Highest price wins; on a tie, the later segment (the newer
		// configuration or billing account).
		if !seen || r.UnitPrice.GreaterThan(cur.price) ||
			(r.UnitPrice.Equal(cur.price) && !s.StartedAt.Before(cur.seg.StartedAt)) {
			best[k] = pick{seg: s, price: r.UnitPrice}
		}
	}
	one := money.DecimalFromInt(1)
	ins := make([]RecordInput, 0, len(order))
	for _, k := range order {
		s := best[k].seg
		ins = append(ins, RecordInput{ResourceID: s.ResourceID, Meter: s.Meter, PeriodStart: h,
			BillingAccountID: s.BillingAccountID, LocationSlug: s.LocationSlug, OwnerUUID: s.OwnerUUID,
			UserID: s.UserID, Config: s.Config, Quantity: one})
	}
	sys := actor.System("usage-sweep")
	for len(ins) > 0 {
		n := min(len(ins), MaxBatch)
		if _, err := m.hourly.RecordBatch(ctx, sys, ins[:n]); err != nil {
			var e *errs.Error
			if errors.As(err, &e) && e.Kind == errs.KindInvalid {
				return errs.Wrap(errs.KindInternal, err, "usage segment produced an invalid record")
			}
			return err
		}
		ins = ins[n:]
	}
	return nil
}
