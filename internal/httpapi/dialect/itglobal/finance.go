package itglobal

import (
	"context"
	"net/http"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/reseller"
)

// IT-29.
func (s *server) listPayments(ctx context.Context, c *call) (any, error) {
	list, err := s.d.Reseller.ListPayments(ctx, c.a)
	if err != nil {
		return nil, err
	}
	return ok(paymentsOf(list))
}

// IT-30: InvoiceNumber is required but nullable, a number or a string of
// digits (IT-amb-7). A replay of Number with the same body returns the
// first payment (the service decides).
func (s *server) bankPayment(ctx context.Context, c *call) (any, error) {
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	var in reseller.BankPaymentInput
	var es [6]error
	in.Number, _, es[0] = b.str("Number", true)
	in.TIN, _, es[1] = b.str("TIN", true)
	in.Amount, _, es[2] = b.amount("Amount", true, money.Positive)
	in.InvoiceNumber, es[3] = b.invoiceNumber("InvoiceNumber")
	in.CompanyID, _, es[4] = b.int32Field("CompanyId", true)
	in.ProjectID, _, es[5] = b.int32Field("ProjectId", true)
	if err := collect(es[:]...); err != nil {
		return nil, err
	}
	if in.Number == "" {
		return nil, errs.Invalid("Number", "must not be empty")
	}
	p, err := s.d.Reseller.BankPayment(ctx, c.a, in)
	if err != nil {
		return nil, err
	}
	return ok(paymentOf(p))
}

// IT-31.
func (s *server) onlinePayment(ctx context.Context, c *call) (any, error) {
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	var in reseller.OnlinePaymentInput
	var es [3]error
	in.PaymentID, _, es[0] = b.str("PaymentId", true)
	in.Amount, _, es[1] = b.amount("Amount", true, money.Positive)
	in.ProjectID, _, es[2] = b.int32Field("ProjectId", true)
	if err := collect(es[:]...); err != nil {
		return nil, err
	}
	if in.PaymentID == "" {
		return nil, errs.Invalid("PaymentId", "must not be empty")
	}
	p, err := s.d.Reseller.OnlinePayment(ctx, c.a, in)
	if err != nil {
		return nil, err
	}
	return ok(paymentOf(p))
}

// empty is the seed's { } of Create operation.
type empty struct{}

// IT-34: answers { } (no envelope), as the seed shows.
func (s *server) createOperation(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	typ, _, e1 := b.str("TypeOperation", true)
	amount, _, e2 := b.amount("Amount", true, money.Positive)
	if err := collect(e1, e2); err != nil {
		return nil, err
	}
	if err := enum("TypeOperation", typ, reseller.OpDengiOnlinePlus, reseller.OpBonusPlus, reseller.OpBonusMinus); err != nil {
		return nil, err
	}
	if _, err := s.d.Reseller.CreateOperation(ctx, c.a, id, typ, amount); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// period reads the inclusive [from, to] query parameters as [from,
// toExclusive) in loc (IT-amb-4). Both are required; names are
// case-sensitive (IT-amb-5).
func period(r *http.Request, fromName string, toNames []string, loc *time.Location) (time.Time, time.Time, error) {
	fromS, err := requiredQuery(r, fromName)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	toName, toS := toNames[0], ""
	for _, n := range toNames {
		if v, ok := query(r, n); ok && v != "" {
			toName, toS = n, v
			break
		}
	}
	if toS == "" {
		return time.Time{}, time.Time{}, errs.Invalidf(toNames[0], "is required (query parameter names are case-sensitive)")
	}
	from, err := reseller.ParseReportDate(fromName, fromS, loc, false)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	to, err := reseller.ParseReportDate(toName, toS, loc, true)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if !from.Before(to) {
		return time.Time{}, time.Time{}, errs.Invalidf(toName, "must not be before %s", fromName)
	}
	return from, to, nil
}

var utcTo = []string{"dateToUtc"}

// IT-32: every project over the UTC period.
func (s *server) report(ctx context.Context, c *call) (any, error) {
	from, to, err := period(c.r, "dateFromUtc", utcTo, time.UTC)
	if err != nil {
		return nil, err
	}
	list, err := s.d.Reseller.Report(ctx, c.a, 0, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]projectOperationsDTO, len(list))
	for i, p := range list {
		out[i] = projectOperationsOf(p)
	}
	return ok(out)
}

// IT-33: one project over the UTC period (an object, as the seed shows).
func (s *server) projectReport(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	from, to, err := period(c.r, "dateFromUtc", utcTo, time.UTC)
	if err != nil {
		return nil, err
	}
	list, err := s.d.Reseller.Report(ctx, c.a, id, from, to)
	if err != nil {
		return nil, err
	}
	p := reseller.ProjectPeriod{ProjectID: id, From: from, To: to}
	for _, x := range list {
		if x.ProjectID == id {
			p = x
		}
	}
	return ok(projectOperationsOf(p))
}

// IT-35: every project, by day in the partner's time zone.
func (s *server) reportByDay(ctx context.Context, c *call) (any, error) {
	loc, err := s.d.Reseller.PartnerLocation(ctx, c.a)
	if err != nil {
		return nil, err
	}
	from, to, err := period(c.r, "dateFrom", []string{"dateTo"}, loc)
	if err != nil {
		return nil, err
	}
	list, err := s.d.Reseller.ReportByDay(ctx, c.a, 0, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]projectDayDTO, len(list))
	for i, p := range list {
		out[i] = projectDayOf(p)
	}
	return ok(out)
}

// IT-36: one project by day; the end is dateTo or its alias dateToUtc
// (IT-amb-3).
func (s *server) projectReportByDay(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	loc, err := s.d.Reseller.PartnerLocation(ctx, c.a)
	if err != nil {
		return nil, err
	}
	from, to, err := period(c.r, "dateFrom", []string{"dateTo", "dateToUtc"}, loc)
	if err != nil {
		return nil, err
	}
	list, err := s.d.Reseller.ReportByDay(ctx, c.a, id, from, to)
	if err != nil {
		return nil, err
	}
	out := projectByDayDTO{ProjectId: id, TimeZone: loc.String(), Days: []projectDayDTO{}}
	for _, p := range list {
		if p.ProjectID == id {
			out.Days = append(out.Days, projectDayOf(p))
		}
	}
	return ok(out)
}
