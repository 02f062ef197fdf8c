package metering

// Hourly usage records: what resources (VMs, disks, snapshots, backups,
// buckets) used in each whole UTC hour, rated when written with the price
// policy effective at the hour's start. Billing reads them back aggregated
// (Lines) for invoices and the usage view.
//
// The closed-hour rule: an hour is open from its start until its end plus
// the close grace (1 h by default). While open, a record may be written,
// replayed (same content: nothing changes) or corrected (different content:
// replaced). Once closed it is never changed: a write is refused with
// KindPrecondition and the stored row stays as it was, so an invoice for a
// month, issued after the month's last hour closed, covers exactly what
// the records will say forever.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// CloseGrace is the default time after an hour's end during which its
// records may still be written or corrected (HourlyService.CloseGrace
// returns the configured one). Jobs that read closed usage (the invoice run)
// wait until period end + the grace.
const CloseGrace = time.Hour

// Limits of a record.
const (
	// QuantityDecimals is the precision of quantities (millionths of an
	// hour or of a GB-hour). The store keeps quantities as integer
	// millionths so that sums are exact in SQL on both databases.
	QuantityDecimals = 6
	// MaxGBHours bounds an object-storage record (1 EB for an hour), so a
	// month of sums stays far inside int64 millionths.
	MaxGBHours = 1_000_000_000
	MaxIDLen   = 200
	// MaxBatch bounds RecordBatch.
	MaxBatch = 10_000
	// MaxLinesRange bounds a Lines query.
	MaxLinesRange = 366 * 24 * time.Hour
)

// HourlyRecord is the usage of one resource on one meter in one hour.
type HourlyRecord struct {
	ResourceID       string
	Meter            pricing.Meter
	PeriodStart      time.Time // a whole UTC hour
	BillingAccountID int64
	LocationSlug     string
	OwnerUUID        string // the resource's uuid (usage view owner_uuid)
	UserID           int64  // the idcloudhost user number, 0 = none
	Config           pricing.Config
	Quantity         money.Decimal // hours (≤ 1) or GB-hours (object storage)
	UnitPrice        money.Decimal // per hour / per GB-hour, from the policy at PeriodStart
	Description      string
	UptimeTypes      []string
	RecordedAt       time.Time
}

// PeriodEnd is the end of the record's hour.
func (r HourlyRecord) PeriodEnd() time.Time { return r.PeriodStart.Add(time.Hour) }

// RecordInput is one hour of usage as a resource (or the native API)
// reports it; the price, description and uptime types are derived.
type RecordInput struct {
	ResourceID       string
	Meter            pricing.Meter
	PeriodStart      time.Time
	BillingAccountID int64
	LocationSlug     string
	OwnerUUID        string
	UserID           int64
	Config           pricing.Config
	Quantity         money.Decimal
}

// Validate checks the input without the clock (Record checks the period
// against now).
func (in RecordInput) Validate() error {
	switch {
	case in.ResourceID == "" || len(in.ResourceID) > MaxIDLen:
		return errs.Invalidf("resource_id", "must be 1 to %d bytes", MaxIDLen)
	case !in.Meter.Valid():
		return errs.Invalidf("meter", "must be vm, disk, snapshot, backup or object_storage, not %q", in.Meter)
	case in.PeriodStart.IsZero() || !in.PeriodStart.Equal(in.PeriodStart.UTC().Truncate(time.Hour)):
		return errs.Invalid("period_start", "must be the start of a whole UTC hour")
	case in.BillingAccountID <= 0:
		return errs.Invalid("billing_account_id", "must be a positive integer")
	case len(in.LocationSlug) > MaxIDLen:
		return errs.Invalidf("location_slug", "must be at most %d bytes", MaxIDLen)
	case len(in.OwnerUUID) > MaxIDLen:
		return errs.Invalidf("owner_uuid", "must be at most %d bytes", MaxIDLen)
	case in.UserID < 0:
		return errs.Invalid("user_id", "must not be negative")
	}
	q := in.Quantity
	if q.Exponent() < -QuantityDecimals && !q.Equal(q.Truncate(QuantityDecimals)) {
		return errs.Invalidf("quantity", "must have at most %d decimals", QuantityDecimals)
	}
	if in.Meter.TimeBased() {
		if q.Sign() <= 0 || q.Cmp(money.DecimalFromInt(1)) > 0 {
			return errs.Invalid("quantity", "must be more than 0 and at most 1 hour")
		}
	} else if q.Sign() < 0 || q.Cmp(money.DecimalFromInt(MaxGBHours)) > 0 {
		return errs.Invalidf("quantity", "must be between 0 and %d GB-hours", MaxGBHours)
	}
	return nil
}

// QuantityE6 returns q in millionths (q has at most QuantityDecimals
// decimals and is bounded, so this is exact).
func QuantityE6(q money.Decimal) int64 { return q.Shift(QuantityDecimals).IntPart() }

// QuantityFromE6 is the inverse of QuantityE6.
func QuantityFromE6(n int64) money.Decimal { return money.DecimalFromInt(n).Shift(-QuantityDecimals) }

// PolicySource gives the price policy effective at an instant
// (pricing.Service implements it).
type PolicySource interface {
	PolicyAt(ctx context.Context, at time.Time) (pricing.Policy, error)
}

// Recorder is what a resource needs to report its usage (compute, storage
// and the native API call HourlyService through it).
type Recorder interface {
	Record(ctx context.Context, a actor.Actor, in RecordInput) (HourlyRecord, error)
}

// HourlyService records hourly usage and aggregates it for billing.
type HourlyService struct {
	store  HourlyStore
	prices PolicySource
	clock  clock.Clock
	grace  time.Duration
}

var _ Recorder = (*HourlyService)(nil)

// NewHourlyService returns the service with the default CloseGrace.
func NewHourlyService(s HourlyStore, p PolicySource, c clock.Clock) *HourlyService {
	return &HourlyService{store: s, prices: p, clock: c, grace: CloseGrace}
}

// WithCloseGrace returns a copy of s with another close grace (≥ 0).
func (s *HourlyService) WithCloseGrace(d time.Duration) *HourlyService {
	c := *s
	c.grace = max(d, 0)
	return &c
}

// CloseGrace returns the configured close grace.
func (s *HourlyService) CloseGrace() time.Duration { return s.grace }

// Closed reports whether the hour starting at periodStart is closed at now:
// period end + grace ≤ now.
func (s *HourlyService) Closed(periodStart, now time.Time) bool {
	return !periodStart.Add(time.Hour + s.grace).After(now)
}

// recorder checks who may write usage: operators (provider org) with the
// staff role, and the system (resources report through it).
func recorder(a actor.Actor) error {
	if err := a.Require(actor.Staff); err != nil {
		return err
	}
	return a.RequireKind(actor.Provider)
}

// Record writes one hour of usage: Invalid for a bad input or an hour not
// yet started, Precondition for a closed hour (nothing changes), a no-op
// when the same content is stored already (the stored record is returned
// unchanged), else the record is inserted or replaced and returned.
func (s *HourlyService) Record(ctx context.Context, a actor.Actor, in RecordInput) (HourlyRecord, error) {
	out, err := s.RecordBatch(ctx, a, []RecordInput{in})
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) && strings.HasPrefix(e.Field, "records[0]") {
			c := *e
			c.Field = strings.TrimPrefix(strings.TrimPrefix(e.Field, "records[0]"), ".")
			return HourlyRecord{}, &c
		}
		return HourlyRecord{}, err
	}
	return out[0], nil
}

// RecordBatch writes many records in one transaction: all or none. Errors
// name the record ("records[3].quantity").
func (s *HourlyService) RecordBatch(ctx context.Context, a actor.Actor, ins []RecordInput) ([]HourlyRecord, error) {
	if err := recorder(a); err != nil {
		return nil, err
	}
	if len(ins) == 0 || len(ins) > MaxBatch {
		return nil, errs.Invalidf("records", "must hold 1 to %d records", MaxBatch)
	}
	now := clock.Micro(s.clock.Now())
	recs := make([]HourlyRecord, len(ins))
	policies := map[time.Time]pricing.Policy{}
	for i, in := range ins {
		in.PeriodStart = in.PeriodStart.UTC()
		if err := in.Validate(); err != nil {
			return nil, inRecord(i, err)
		}
		if in.PeriodStart.After(now) {
			return nil, inRecord(i, errs.Invalid("period_start", "the hour has not started yet"))
		}
		if s.Closed(in.PeriodStart, now) {
			return nil, inRecord(i, &errs.Error{Kind: errs.KindPrecondition, Field: "period_start",
				Msg: fmt.Sprintf("the hour %s is closed: its usage can no longer change", in.PeriodStart.Format(time.RFC3339))})
		}
		p, ok := policies[in.PeriodStart]
		if !ok {
			var err error
			if p, err = s.prices.PolicyAt(ctx, in.PeriodStart); err != nil {
				if errs.Is(err, errs.KindNotFound) {
					return nil, errs.Newf(errs.KindPrecondition, "no price policy is effective at %s", in.PeriodStart.Format(time.RFC3339))
				}
				return nil, err
			}
			policies[in.PeriodStart] = p
		}
		r, err := pricing.Rate(p, in.Meter, in.Config)
		if err != nil {
			return nil, inRecord(i, err)
		}
		recs[i] = HourlyRecord{ResourceID: in.ResourceID, Meter: in.Meter, PeriodStart: in.PeriodStart,
			BillingAccountID: in.BillingAccountID, LocationSlug: in.LocationSlug, OwnerUUID: in.OwnerUUID,
			UserID: in.UserID, Config: in.Config, Quantity: in.Quantity, UnitPrice: r.UnitPrice,
			Description: r.Description, UptimeTypes: r.UptimeTypes, RecordedAt: now}
	}
	out := make([]HourlyRecord, len(recs))
	err := s.store.Tx(ctx, func(tx HourlyStore) error {
		for i, r := range recs {
			written, err := tx.UpsertHourlyUsage(ctx, r)
			if err != nil {
				return err
			}
			if written {
				out[i] = r
				continue
			}
			// Same content stored already: return it as it is.
			if out[i], err = tx.GetHourlyUsage(ctx, r.ResourceID, r.Meter, r.PeriodStart); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inRecord prefixes an error's field with the record's index.
func inRecord(i int, err error) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	c := *e
	if c.Field != "" {
		c.Field = fmt.Sprintf("records[%d].%s", i, c.Field)
	} else {
		c.Field = fmt.Sprintf("records[%d]", i)
	}
	return &c
}

// Get returns one record (operators).
func (s *HourlyService) Get(ctx context.Context, a actor.Actor, resourceID string, meter pricing.Meter, periodStart time.Time) (HourlyRecord, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return HourlyRecord{}, err
	}
	if err := a.RequireKind(actor.Provider); err != nil {
		return HourlyRecord{}, err
	}
	return s.store.GetHourlyUsage(ctx, resourceID, meter, periodStart.UTC())
}

// MaxList bounds List.
const MaxList = 1000

// List returns a resource's records with from ≤ period start < to, at most
// limit (1 … MaxList), in period order (operators).
func (s *HourlyService) List(ctx context.Context, a actor.Actor, resourceID string, from, to time.Time, limit int) ([]HourlyRecord, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	if err := a.RequireKind(actor.Provider); err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxList {
		return nil, errs.Invalidf("limit", "must be between 1 and %d", MaxList)
	}
	if !to.After(from) {
		return nil, errs.Invalid("to", "must be after from")
	}
	return s.store.ListHourlyUsage(ctx, resourceID, from.UTC(), to.UTC(), limit)
}

// Line is the usage of one resource at one description and unit price over
// a range: an invoice record ("Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk",
// qty hours, item price, amount) and a usage-view item (ID-99). A
// configuration change that changes the description or the price starts a
// new line; one that changes neither (the seed's null disk) adds a
// configuration to the same line.
type Line struct {
	BillingAccountID int64
	ResourceID       string
	Meter            pricing.Meter
	Description      string
	UnitPrice        money.Decimal // per hour (per GB-hour for object storage)
	Quantity         money.Decimal // Σ record quantities: hours (GB-hours)
	Amount           money.Decimal // UnitPrice × Quantity, exactly (no rounding)
	Records          int64         // hourly records summed
	Configurations   []pricing.Config
	UptimeTypes      []string
	OwnerUUID        string
	LocationSlug     string
	UserID           int64
	FirstPeriod      time.Time // start of the first hour
	LastPeriod       time.Time // start of the last hour
}

// Lines returns a billing account's usage with from ≤ period start < to,
// grouped by (resource, description, unit price), ordered by first period,
// then resource, description and price. It is one aggregate query (GROUP
// BY over the (billing_account_id, period_start) index), not one per hour.
// Callers scope the account (billing checks the actor owns it).
func (s *HourlyService) Lines(ctx context.Context, billingAccountID int64, from, to time.Time) ([]Line, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	groups, err := s.store.HourlyUsageGroups(ctx, billingAccountID, from.UTC(), to.UTC())
	if err != nil {
		return nil, err
	}
	return linesFromGroups(billingAccountID, groups)
}

func checkRange(from, to time.Time) error {
	if !to.After(from) {
		return errs.Invalid("to", "must be after from")
	}
	if to.Sub(from) > MaxLinesRange {
		return errs.Invalid("to", "the range must be at most 366 days")
	}
	return nil
}

type lineKey struct{ resource, description, price string }

// linesFromGroups merges the finer SQL groups into lines. Exported through
// Lines only; kept separate so the merge is tested without a database.
func linesFromGroups(account int64, groups []UsageGroup) ([]Line, error) {
	// Earliest groups first, so a line's first configuration and
	// attributes are those of its first hour.
	sort.SliceStable(groups, func(i, j int) bool { return groups[i].FirstPeriod.Before(groups[j].FirstPeriod) })
	idx := map[lineKey]int{}
	var lines []Line
	var qty []int64
	seenCfg := map[lineKey]map[string]bool{}
	for _, g := range groups {
		k := lineKey{g.ResourceID, g.Description, g.UnitPrice}
		i, ok := idx[k]
		if !ok {
			price, err := money.ParseDecimal("unit_price", g.UnitPrice)
			if err != nil {
				return nil, errs.Wrap(errs.KindInternal, err, "stored unit price")
			}
			i = len(lines)
			idx[k] = i
			seenCfg[k] = map[string]bool{}
			lines = append(lines, Line{BillingAccountID: account, ResourceID: g.ResourceID, Meter: g.Meter,
				Description: g.Description, UnitPrice: price, Configurations: []pricing.Config{}, UptimeTypes: []string{},
				OwnerUUID: g.OwnerUUID, LocationSlug: g.LocationSlug, UserID: g.UserID,
				FirstPeriod: g.FirstPeriod, LastPeriod: g.LastPeriod})
			qty = append(qty, 0)
		}
		l := &lines[i]
		sum := qty[i] + g.QuantityE6
		if sum < qty[i] {
			return nil, errs.New(errs.KindInternal, "usage quantity overflow")
		}
		qty[i] = sum
		l.Records += g.Records
		if g.LastPeriod.After(l.LastPeriod) {
			l.LastPeriod = g.LastPeriod
		}
		if !seenCfg[k][g.Config] {
			seenCfg[k][g.Config] = true
			var c pricing.Config
			if err := json.Unmarshal([]byte(g.Config), &c); err != nil {
				return nil, errs.Wrap(errs.KindInternal, err, "stored usage configuration")
			}
			l.Configurations = append(l.Configurations, c)
		}
		var types []string
		if err := json.Unmarshal([]byte(g.UptimeTypes), &types); err != nil {
			return nil, errs.Wrap(errs.KindInternal, err, "stored uptime types")
		}
		for _, t := range types {
			if !containsString(l.UptimeTypes, t) {
				l.UptimeTypes = append(l.UptimeTypes, t)
			}
		}
	}
	for i := range lines {
		lines[i].Quantity = QuantityFromE6(qty[i])
		lines[i].Amount = lines[i].UnitPrice.Mul(lines[i].Quantity)
	}
	sort.SliceStable(lines, func(i, j int) bool {
		a, b := lines[i], lines[j]
		if !a.FirstPeriod.Equal(b.FirstPeriod) {
			return a.FirstPeriod.Before(b.FirstPeriod)
		}
		if a.ResourceID != b.ResourceID {
			return a.ResourceID < b.ResourceID
		}
		if a.Description != b.Description {
			return a.Description < b.Description
		}
		return a.UnitPrice.Cmp(b.UnitPrice) < 0
	})
	return lines, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// AccountsWithUsage returns the billing accounts with at least one record
// with from ≤ period start < to, ascending: the invoice run's work list.
// One DISTINCT query over the (period_start, billing_account_id) index.
func (s *HourlyService) AccountsWithUsage(ctx context.Context, from, to time.Time) ([]int64, error) {
	if err := checkRange(from, to); err != nil {
		return nil, err
	}
	return s.store.HourlyUsageAccounts(ctx, from.UTC(), to.UTC())
}
