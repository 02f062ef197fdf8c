package reseller

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
)

// The provider's bound on money a partner creates (issue 14, finding 9).
// A partner's Finance key records payments and DengiOnlinePlus/BonusPlus
// operations into its projects; that money then pays for what the
// provider provisions. Nothing checks that the money arrived, so the sum a
// partner may record per calendar month (UTC) is bounded by a limit the
// provider sets: per partner (reseller settings, provider admins only) or
// the provider-wide default. The sum is kept per currency, because minor
// units of different currencies do not add up; the limit applies to each.
// BonusMinus and charges take money away and do not count.

// Unlimited is a monthly limit that bounds nothing; only the provider
// chooses it (the flag, or a provider admin per partner).
const Unlimited int64 = -1

// DefaultMonthlyLimit is 1,000,000.00 in minor units (every reseller
// currency has two decimals).
const DefaultMonthlyLimit int64 = 100_000_000

// ParseMonthlyLimit parses a limit: "unlimited", or a non-negative amount
// with at most two decimals ("1000000.00", "0").
func ParseMonthlyLimit(field, s string) (int64, error) {
	if s == "unlimited" {
		return Unlimited, nil
	}
	bad := errs.Invalid(field, `must be "unlimited" or an amount with at most two decimals, such as 1000000.00`)
	if !limitRE.MatchString(s) {
		return 0, bad
	}
	a, err := money.ParseITGlobal(field, json.Number(s), money.RUB, money.NonNegative)
	if err != nil {
		return 0, bad
	}
	return a.Minor(), nil
}

// limitRE is a plain decimal: no sign, exponent, spaces or leading zeros.
var limitRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,17})(\.[0-9]{1,2})?$`)

// FormatMonthlyLimit writes a limit as ParseMonthlyLimit reads it.
func FormatMonthlyLimit(v int64) string {
	if v < 0 {
		return "unlimited"
	}
	return string(money.FormatJSONNumber(money.NewAmount(v, money.RUB).Decimal(), 2))
}

// month is the UTC calendar month an intake counts in.
func month(t time.Time) string { return t.UTC().Format("2006-01") }

// monthlyLimit is the limit of settings st (the default unless set).
func (s *Service) monthlyLimit(st Settings) int64 {
	if st.MonthlyLimit != nil {
		return *st.MonthlyLimit
	}
	return *s.cfg.MonthlyLimit
}

// intakeTx counts amount of money entering proj at at against its
// partner's monthly limit, in the transaction that records the money, and
// refuses (KindPrecondition naming field) what would exceed it.
func (s *Service) intakeTx(ctx context.Context, tx Queries, proj Project, field string, amount int64, at time.Time) error {
	st, err := tx.GetResellerSettings(ctx, proj.PartnerID)
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		return err
	}
	limit := s.monthlyLimit(st)
	ok, err := tx.AddResellerIntake(ctx, proj.PartnerID, month(at), proj.Currency, amount, limit)
	if err != nil {
		return err
	}
	if !ok {
		return &errs.Error{Kind: errs.KindPrecondition, Field: field, Msg: fmt.Sprintf(
			"the partner's monthly limit of %s %s for money recorded through the API would be exceeded",
			FormatMonthlyLimit(limit), proj.Currency)}
	}
	return nil
}

// debtWithinLimitTx refuses to raise a project's debt limit (credit the
// partner grants itself, which pays for the provider's resources like
// recorded money) above the partner's monthly limit: the provider's bound
// covers both.
func (s *Service) debtWithinLimitTx(ctx context.Context, tx Queries, proj Project, maxDebt int64) error {
	st, err := tx.GetResellerSettings(ctx, proj.PartnerID)
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		return err
	}
	limit := s.monthlyLimit(st)
	if limit == Unlimited || maxDebt <= limit {
		return nil
	}
	return &errs.Error{Kind: errs.KindPrecondition, Field: "MaxDebt", Msg: fmt.Sprintf(
		"a debt limit above the partner's monthly limit of %s %s is the provider's to allow",
		FormatMonthlyLimit(limit), proj.Currency)}
}
