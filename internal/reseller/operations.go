package reseller

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// CreateOperation applies a balance operation (IT-34): DengiOnlinePlus
// credits money (clearing −A, balance +A), BonusPlus credits bonus (revenue
// −A as contra revenue, credit +A), BonusMinus takes bonus back (credit −A,
// revenue +A), refused with KindInsufficientFunds when the bonus is less
// than A. amount is positive, in minor units.
func (s *Service) CreateOperation(ctx context.Context, a actor.Actor, projectID int64, typ string, amount int64) (Operation, error) {
	if err := writer(a); err != nil {
		return Operation{}, err
	}
	// The amount first, then the type (the order the Partner API reports
	// them in).
	if amount <= 0 || amount > MaxAmount {
		return Operation{}, errs.Invalid("Amount", "must be positive")
	}
	var lines []line
	op := Operation{Type: typ}
	switch typ {
	case OpDengiOnlinePlus:
		lines = []line{{kind: lineClearing, amount: -amount}, {kind: lineMoney, amount: amount}}
		op.Money = amount
	case OpBonusPlus:
		lines = []line{{kind: lineRevenue, amount: -amount}, {kind: lineBonus, amount: amount}}
		op.Bonus = amount
	case OpBonusMinus:
		lines = []line{{kind: lineBonus, amount: -amount}, {kind: lineRevenue, amount: amount}}
		op.Bonus = -amount
	default:
		return Operation{}, oneOf("TypeOperation", typ, []string{OpDengiOnlinePlus, OpBonusPlus, OpBonusMinus})
	}
	var out Operation
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := s.lockScoped(ctx, tx, a, projectID)
		if err != nil {
			return err
		}
		if typ != OpBonusMinus {
			if err := s.intakeTx(ctx, tx, p, "Amount", amount, s.now()); err != nil {
				return err
			}
		}
		out, err = s.operationTx(ctx, tx, a, p, op, "", lines)
		return err
	})
	return out, err
}

// Report returns the operations of [from, toExclusive) grouped by project
// (one project unless projectID is 0; a named project always gets its
// entry, empty or not).
func (s *Service) Report(ctx context.Context, a actor.Actor, projectID int64, from, toExclusive time.Time) ([]ProjectPeriod, error) {
	ops, err := s.reportOps(ctx, a, projectID, from, toExclusive, "dateFromUtc", "dateToUtc")
	if err != nil {
		return nil, err
	}
	var out []ProjectPeriod
	idx := map[int64]int{}
	if projectID != 0 {
		out = append(out, ProjectPeriod{ProjectID: projectID, From: from, To: toExclusive})
		idx[projectID] = 0
	}
	for _, op := range ops {
		i, ok := idx[op.ProjectID]
		if !ok {
			i = len(out)
			idx[op.ProjectID] = i
			out = append(out, ProjectPeriod{ProjectID: op.ProjectID, From: from, To: toExclusive})
		}
		out[i].add(op)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ProjectID < out[j].ProjectID })
	if out == nil {
		out = []ProjectPeriod{}
	}
	return out, nil
}

// PeriodReport is Report over the inclusive bounds a Partner API request
// sends (ParseReportDate's forms, UTC unless they name a zone); errors
// name them dateFromUtc and dateToUtc (IT-32, IT-33).
func (s *Service) PeriodReport(ctx context.Context, a actor.Actor, projectID int64, from, to string) ([]ProjectPeriod, error) {
	f, t, err := reportBounds(from, to, "dateFromUtc", "dateToUtc", time.UTC)
	if err != nil {
		return nil, err
	}
	return s.Report(ctx, a, projectID, f, t)
}

// DayReport is a report by partner-local day and the partner's time zone.
type DayReport struct {
	TimeZone *time.Location
	Days     []ProjectPeriod
}

// DailyReport is ReportByDay over the inclusive bounds a Partner API
// request sends, read in the partner's time zone unless they name a
// zone; errors name them dateFrom and dateTo (IT-35, IT-36).
func (s *Service) DailyReport(ctx context.Context, a actor.Actor, projectID int64, from, to string) (DayReport, error) {
	loc, err := s.PartnerLocation(ctx, a)
	if err != nil {
		return DayReport{}, err
	}
	f, t, err := reportBounds(from, to, "dateFrom", "dateTo", loc)
	if err != nil {
		return DayReport{}, err
	}
	days, err := s.reportByDay(ctx, a, projectID, f, t, loc)
	return DayReport{TimeZone: loc, Days: days}, err
}

// reportBounds parses a report's inclusive bounds into [from, toExclusive).
func reportBounds(from, to, fromField, toField string, loc *time.Location) (time.Time, time.Time, error) {
	f, err := ParseReportDate(fromField, from, loc, false)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	t, err := ParseReportDate(toField, to, loc, true)
	return f, t, err
}

// ReportByDay returns the operations of [from, toExclusive) grouped by
// project and by the partner-local day they happened on, ordered by
// project then day.
func (s *Service) ReportByDay(ctx context.Context, a actor.Actor, projectID int64, from, toExclusive time.Time) ([]ProjectPeriod, error) {
	loc, err := s.PartnerLocation(ctx, a)
	if err != nil {
		return nil, err
	}
	return s.reportByDay(ctx, a, projectID, from, toExclusive, loc)
}

func (s *Service) reportByDay(ctx context.Context, a actor.Actor, projectID int64, from, toExclusive time.Time, loc *time.Location) ([]ProjectPeriod, error) {
	ops, err := s.reportOps(ctx, a, projectID, from, toExclusive, "dateFrom", "dateTo")
	if err != nil {
		return nil, err
	}
	type k struct {
		project int64
		day     string
	}
	out := []ProjectPeriod{}
	idx := map[k]int{}
	for _, op := range ops {
		local := op.CreatedAt.In(loc)
		key := k{op.ProjectID, local.Format(time.DateOnly)}
		i, ok := idx[key]
		if !ok {
			start := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
			i = len(out)
			idx[key] = i
			out = append(out, ProjectPeriod{ProjectID: op.ProjectID, Day: key.day, From: start, To: start.AddDate(0, 0, 1)})
		}
		out[i].add(op)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ProjectID != out[j].ProjectID {
			return out[i].ProjectID < out[j].ProjectID
		}
		return out[i].Day < out[j].Day
	})
	return out, nil
}

// reportOps reads the operations of a non-empty period; errors name its
// bounds fromField and toField.
func (s *Service) reportOps(ctx context.Context, a actor.Actor, projectID int64, from, to time.Time, fromField, toField string) ([]Operation, error) {
	if err := reader(a); err != nil {
		return nil, err
	}
	if from.IsZero() || to.IsZero() {
		return nil, errs.Invalid(toField, "both bounds are required")
	}
	if !from.Before(to) {
		return nil, errs.Invalidf(toField, "must not be before %s", fromField)
	}
	if projectID < 0 {
		return nil, errs.Invalid("id", "must be a positive whole number")
	}
	if projectID != 0 {
		if _, err := s.store.GetResellerProject(ctx, a.Scope(), projectID); err != nil {
			return nil, err
		}
	}
	return s.store.ListResellerOperations(ctx, a.Scope(), projectID, from.UTC(), to.UTC())
}

func (pp *ProjectPeriod) add(op Operation) {
	pp.Operations = append(pp.Operations, op)
	if op.Money > 0 {
		pp.MoneyIn += op.Money
	} else {
		pp.MoneyOut -= op.Money
	}
	if op.Bonus > 0 {
		pp.BonusIn += op.Bonus
	} else {
		pp.BonusOut -= op.Bonus
	}
}

var dateTimeRE = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$`)

// ParseReportDate parses a report bound in one of the documented forms:
// 2006-01-02, 20060102T150405Z, 2006-01-02T15:04:05[.fffffff][Z|±hh:mm].
// A form without a zone is in loc. With upper it returns the exclusive end
// of an inclusive upper bound: the next day for a date, the next unit of the
// given precision for a time (…:30 covers the whole second, …:30.5 the
// tenth), so the query is created_at >= from AND created_at < to.
func ParseReportDate(field, s string, loc *time.Location, upper bool) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	bad := errs.Invalid(field, "must be a date like 2019-07-01, 20190701T000000Z or 2019-07-01T12:30:00[.fffffff][Z|±hh:mm]")
	if len(s) == 10 {
		t, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			return time.Time{}, bad
		}
		if upper {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if len(s) == 16 && s[8] == 'T' && s[15] == 'Z' {
		t, err := time.Parse("20060102T150405Z", s)
		if err != nil {
			return time.Time{}, bad
		}
		if upper {
			t = t.Add(time.Second)
		}
		return t, nil
	}
	m := dateTimeRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, bad
	}
	zone := loc
	switch z := m[3]; {
	case z == "Z":
		zone = time.UTC
	case z != "":
		h, _ := strconv.Atoi(z[1:3])
		mi, _ := strconv.Atoi(z[4:6])
		if h > 23 || mi > 59 {
			return time.Time{}, bad
		}
		off := h*3600 + mi*60
		if z[0] == '-' {
			off = -off
		}
		zone = time.FixedZone(z, off)
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05", m[1], zone)
	if err != nil {
		return time.Time{}, bad
	}
	unit := time.Second
	if f := m[2]; f != "" {
		digits := f[1:]
		n, _ := strconv.Atoi(digits)
		for i := len(digits); i < 9; i++ {
			n *= 10
		}
		t = t.Add(time.Duration(n))
		unit = 1
		for i := len(digits); i < 9; i++ {
			unit *= 10
		}
	}
	if upper {
		t = t.Add(unit)
	}
	return t, nil
}
