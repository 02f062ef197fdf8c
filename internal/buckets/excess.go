package buckets

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// MonthLayout is the format of the month a contract's excess is asked for.
const MonthLayout = "2006-01"

// GBMonthPlaces is how many decimals the excess GB-month figure carries. The
// quotient by the days of the month does not always terminate; 15 decimals
// are far below one byte-day, and the cost is computed from the exact
// fraction, not from this figure.
const GBMonthPlaces = 15

// bytesPerGB is the vendor's GB: decimal, like its capacities.
const bytesPerGB = 1_000_000_000

// ExcessDay is one day of a contract's storage beyond what it paid for.
type ExcessDay struct {
	Date          string // yyyy-mm-dd (UTC)
	UsageBytes    int64  // Σ the contract's storage accounts' usage
	ReservedBytes int64  // the contract's reserved capacity
	OverageBytes  int64  // Σ per account max(0, usage − its allocation)
	ExcessBytes   int64  // max(OverageBytes, UsageBytes − ReservedBytes)
}

// ContractExcess is a contract's excess storage over one month, priced at
// the contract's costStorageGBCents per GB-month:
//
//   - per storage account and day, overage = max(0, usage − allocation),
//     both from the day's daily_usage row;
//   - per day, excess = max(Σ overage, Σ usage − reserved capacity): beyond
//     what the accounts were allocated, or beyond what the distributor
//     reserved, whichever is more;
//   - GB-month = Σ excess / (10^9 × days in the month);
//   - cost = GB-month × costStorageGBCents, rounded half-up once to cents.
//
// Only days with daily usage rows that have ended (UTC) count. The contract's
// reservation and price are today's: the contract keeps no history of them.
type ContractExcess struct {
	ContractID         string
	Month              string // yyyy-mm
	Currency           string
	CostStorageGBCents int64
	DaysInMonth        int
	// ExcessByteDays is Σ excess over the days: the exact numerator of the
	// GB-month figure.
	ExcessByteDays money.Decimal
	// ExcessGBMonth is ExcessByteDays / (10^9 × DaysInMonth), rounded half-up
	// to GBMonthPlaces decimals (exact whenever the quotient terminates there).
	ExcessGBMonth money.Decimal
	// CostCents is ExcessByteDays × CostStorageGBCents / (10^9 ×
	// DaysInMonth), computed exactly and rounded half-up once.
	CostCents int64
	Days      []ExcessDay
}

// ExcessStore is the persistence the excess report needs
// (sqlstore.Store implements it).
type ExcessStore interface {
	// ContractDailyUsage returns the daily usage rows, from and to
	// inclusive, of every storage account of the partners under a contract.
	ContractDailyUsage(ctx context.Context, contractID, from, to string) ([]metering.DailyUsage, error)
}

// Contracts reads contracts with the caller's rights (tenancy.Service).
type Contracts interface {
	GetContract(ctx context.Context, a actor.Actor, id string) (tenancy.Contract, error)
}

var _ Contracts = (*tenancy.Service)(nil)

// Excess reports contracts' excess storage.
type Excess struct {
	contracts Contracts
	store     ExcessStore
	clock     clock.Clock
}

// NewExcess returns the excess report.
func NewExcess(c Contracts, st ExcessStore, clk clock.Clock) *Excess {
	return &Excess{contracts: c, store: st, clock: clk}
}

// ParseMonth checks a yyyy-mm month and returns its first day (UTC).
func ParseMonth(month string) (time.Time, error) {
	if month == "" {
		return time.Time{}, errs.Invalid("month", "is required (yyyy-mm)")
	}
	t, err := time.Parse(MonthLayout, month)
	if err != nil || len(month) != len(MonthLayout) {
		return time.Time{}, errs.Invalid("month", "must be a month in the form yyyy-mm")
	}
	return t, nil
}

// Contract returns a contract's excess over a month (yyyy-mm). Whoever may
// read the contract may read it: the provider and the contract's
// distributor (tenancy.GetContract decides; it runs before the month is
// checked, so a caller without the right gets 403/404 whatever the input).
func (e *Excess) Contract(ctx context.Context, a actor.Actor, contractID, month string) (ContractExcess, error) {
	c, err := e.contracts.GetContract(ctx, a, contractID)
	if err != nil {
		return ContractExcess{}, err
	}
	first, err := ParseMonth(month)
	if err != nil {
		return ContractExcess{}, err
	}
	next := first.AddDate(0, 1, 0)
	out := ContractExcess{ContractID: c.ID, Month: month, Currency: c.Currency, CostStorageGBCents: c.CostStorageGBCents,
		DaysInMonth: int(next.Sub(first) / (24 * time.Hour)), Days: []ExcessDay{}}
	// A day counts once it has ended: the last is the day before today (UTC).
	now := e.clock.Now().UTC()
	last := next.AddDate(0, 0, -1)
	if today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC); !last.Before(today) {
		last = today.AddDate(0, 0, -1)
	}
	var rows []metering.DailyUsage
	if !last.Before(first) {
		if rows, err = e.store.ContractDailyUsage(ctx, c.ID, first.Format(metering.DayLayout), last.Format(metering.DayLayout)); err != nil {
			return ContractExcess{}, err
		}
	}
	out.Days, err = excessDays(rows, c.ReservedCapacity)
	if err != nil {
		return ContractExcess{}, err
	}
	sum := new(big.Int)
	for _, d := range out.Days {
		sum.Add(sum, big.NewInt(d.ExcessBytes))
	}
	out.ExcessByteDays = money.DecimalFromBig(sum, 0)
	den := money.DecimalFromInt(bytesPerGB * int64(out.DaysInMonth))
	out.ExcessGBMonth = out.ExcessByteDays.DivRound(den, GBMonthPlaces)
	// DivRound compares the exact remainder, so this is the exact fraction
	// rounded half-up once.
	cost := out.ExcessByteDays.Mul(money.DecimalFromInt(c.CostStorageGBCents)).DivRound(den, 0)
	if !cost.BigInt().IsInt64() {
		return ContractExcess{}, errs.Newf(errs.KindInternal, "buckets: excess cost of contract %s out of range", c.ID)
	}
	out.CostCents = cost.IntPart()
	return out, nil
}

// excessDays folds the rows (any order) into one ExcessDay per date, oldest
// first.
func excessDays(rows []metering.DailyUsage, reserved int64) ([]ExcessDay, error) {
	byDate := map[string]*ExcessDay{}
	for _, r := range rows {
		d := byDate[r.Day]
		if d == nil {
			d = &ExcessDay{Date: r.Day, ReservedBytes: reserved}
			byDate[r.Day] = d
		}
		var ok bool
		if d.UsageBytes, ok = addInt64(d.UsageBytes, r.UsageBytes); !ok {
			return nil, overflow(r.Day)
		}
		if over := r.UsageBytes - r.AllocatedCapacity; over > 0 {
			if d.OverageBytes, ok = addInt64(d.OverageBytes, over); !ok {
				return nil, overflow(r.Day)
			}
		}
	}
	out := make([]ExcessDay, 0, len(byDate))
	for _, d := range byDate {
		// Both terms are ≥ 0 or the first wins, so excess is never negative.
		d.ExcessBytes = max(d.OverageBytes, d.UsageBytes-d.ReservedBytes)
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out, nil
}

// addInt64 adds two non-negative int64s, reporting whether the sum fits.
func addInt64(a, b int64) (int64, bool) {
	s := a + b
	return s, s >= a
}

func overflow(day string) error {
	return errs.New(errs.KindInternal, fmt.Sprintf("buckets: the usage of %s exceeds 2^63 bytes", day))
}
