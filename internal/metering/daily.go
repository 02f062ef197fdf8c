// Package metering records how much each storage account uses. Until the
// embedded S3 server feeds it, daily usage is recorded through the native
// API; the reading side (the usage endpoints) is the same either way.
package metering

import (
	"context"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// DayLayout is the date format of usage days and of the from/to parameters.
const DayLayout = "2006-01-02"

// MaxRangeDays bounds one usage query.
const MaxRangeDays = 366

// DailyUsage is one storage account's usage on one UTC day.
type DailyUsage struct {
	StorageAccountID  string
	Day               string // yyyy-mm-dd
	UsageBytes        int64
	AllocatedCapacity int64 // the account's allocation when the day was recorded
	RecordedAt        time.Time
}

// AccountUsage is a storage account with its usage over a period.
type AccountUsage struct {
	Account objstore.StorageAccount
	Days    []DailyUsage
}

// Store is the persistence metering needs.
type Store interface {
	Tx(ctx context.Context, fn func(Store) error) error
	GetOrg(ctx context.Context, scope, id string) (tenancy.Org, error)
	GetStorageAccountAnywhere(ctx context.Context, scope, id string) (objstore.StorageAccount, error)
	GetStorageAccount(ctx context.Context, scope, partnerID, id string) (objstore.StorageAccount, error)
	ListStorageAccounts(ctx context.Context, scope, partnerID string) ([]objstore.StorageAccount, error)
	UpsertDailyUsage(ctx context.Context, u DailyUsage) error
	ListDailyUsage(ctx context.Context, accountIDs []string, from, to string) ([]DailyUsage, error)
	AppendAudit(ctx context.Context, e audit.Entry) error
}

// Service records and reads usage.
type Service struct {
	store Store
	clock clock.Clock
}

// NewService returns a metering service.
func NewService(s Store, c clock.Clock) *Service { return &Service{store: s, clock: c} }

// Period is an inclusive range of days.
type Period struct{ From, To string }

// ParsePeriod checks from/to (yyyy-mm-dd, both required, from ≤ to, at most
// MaxRangeDays days).
func ParsePeriod(from, to string) (Period, error) {
	if from == "" {
		return Period{}, errs.Invalid("from", "is required (yyyy-mm-dd)")
	}
	if to == "" {
		return Period{}, errs.Invalid("to", "is required (yyyy-mm-dd)")
	}
	f, err := time.Parse(DayLayout, from)
	if err != nil {
		return Period{}, errs.Invalid("from", "must be a date in the form yyyy-mm-dd")
	}
	t, err := time.Parse(DayLayout, to)
	if err != nil {
		return Period{}, errs.Invalid("to", "must be a date in the form yyyy-mm-dd")
	}
	if t.Before(f) {
		return Period{}, errs.Invalid("to", "must not be before from")
	}
	if t.Sub(f) >= MaxRangeDays*24*time.Hour {
		return Period{}, errs.Invalidf("to", "the period must be at most %d days", MaxRangeDays)
	}
	return Period{From: from, To: to}, nil
}

// RecordDailyInput records one day of usage.
type RecordDailyInput struct {
	StorageAccountID string
	Day              string
	UsageBytes       int64
}

// RecordDaily records (or corrects) a day of usage for a storage account.
// The allocation is taken from the account now. Usage is what a contract's
// excess charge is computed from, so only the provider's admins (and
// Trellis itself) write it: a distributor must not set its own bill.
func (s *Service) RecordDaily(ctx context.Context, a actor.Actor, in RecordDailyInput) (DailyUsage, error) {
	if err := a.Require(actor.Admin); err != nil {
		return DailyUsage{}, err
	}
	if err := a.RequireKind(actor.Provider); err != nil {
		return DailyUsage{}, err
	}
	if _, err := time.Parse(DayLayout, in.Day); err != nil {
		return DailyUsage{}, errs.Invalid("day", "must be a date in the form yyyy-mm-dd")
	}
	if in.UsageBytes < 0 {
		return DailyUsage{}, errs.Invalid("usage", "must not be negative")
	}
	var u DailyUsage
	err := s.store.Tx(ctx, func(tx Store) error {
		sa, err := tx.GetStorageAccountAnywhere(ctx, a.Scope(), in.StorageAccountID)
		if err != nil {
			return err
		}
		now := clock.Micro(s.clock.Now())
		u = DailyUsage{StorageAccountID: sa.ID, Day: in.Day, UsageBytes: in.UsageBytes,
			AllocatedCapacity: sa.AllocatedCapacity, RecordedAt: now}
		if err := tx.UpsertDailyUsage(ctx, u); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "usage.record", "storage_account", sa.ID, sa.OrgPath,
			fmt.Sprintf("day=%s usage=%d", in.Day, in.UsageBytes)))
	})
	return u, err
}

// AccountUsage returns one storage account's usage; partnerID "" means the
// actor's own partner org (the partner routes).
func (s *Service) AccountUsage(ctx context.Context, a actor.Actor, partnerID, accountID string, p Period) (AccountUsage, error) {
	pid, err := s.partner(ctx, a, partnerID)
	if err != nil {
		return AccountUsage{}, err
	}
	sa, err := s.store.GetStorageAccount(ctx, a.Scope(), pid, accountID)
	if err != nil {
		return AccountUsage{}, err
	}
	out, err := s.usage(ctx, []objstore.StorageAccount{sa}, p)
	if err != nil {
		return AccountUsage{}, err
	}
	return out[0], nil
}

// PartnerUsage returns the usage of every storage account of a partner.
func (s *Service) PartnerUsage(ctx context.Context, a actor.Actor, partnerID string, p Period) ([]AccountUsage, error) {
	pid, err := s.partner(ctx, a, partnerID)
	if err != nil {
		return nil, err
	}
	accts, err := s.store.ListStorageAccounts(ctx, a.Scope(), pid)
	if err != nil {
		return nil, err
	}
	return s.usage(ctx, accts, p)
}

func (s *Service) partner(ctx context.Context, a actor.Actor, partnerID string) (string, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return "", err
	}
	if partnerID == "" {
		if err := a.RequireKind(actor.Partner); err != nil {
			return "", err
		}
		return a.OrgID, nil
	}
	if err := a.RequireKind(actor.Provider, actor.Distributor); err != nil {
		return "", err
	}
	o, err := tenancy.ScopedPartner(ctx, s.store, a, partnerID)
	return o.ID, err
}

func (s *Service) usage(ctx context.Context, accts []objstore.StorageAccount, p Period) ([]AccountUsage, error) {
	out := make([]AccountUsage, len(accts))
	if len(accts) == 0 {
		return out, nil
	}
	idx := make(map[string]int, len(accts))
	idsList := make([]string, len(accts))
	for i, a := range accts {
		out[i] = AccountUsage{Account: a, Days: []DailyUsage{}}
		idx[a.ID] = i
		idsList[i] = a.ID
	}
	days, err := s.store.ListDailyUsage(ctx, idsList, p.From, p.To)
	if err != nil {
		return nil, err
	}
	for _, d := range days {
		i := idx[d.StorageAccountID]
		out[i].Days = append(out[i].Days, d)
	}
	return out, nil
}
