package itglobal

import (
	"context"
	"errors"
	"net/http"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
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

// bankPaymentRequest is IT-30's body. InvoiceNumber is required but
// nullable (IT-amb-7).
type bankPaymentRequest struct {
	Number        string                         `wire:"Number,required"`
	TIN           string                         `wire:"TIN,required"`
	Amount        amount                         `wire:"Amount,required"`
	InvoiceNumber decode.Nullable[invoiceNumber] `wire:"InvoiceNumber"`
	CompanyID     int32                          `wire:"CompanyId,required"`
	ProjectID     int32                          `wire:"ProjectId,required"`
}

// IT-30: a replay of Number with the same body returns the first payment
// (the service decides).
func (s *server) bankPayment(ctx context.Context, c *call) (any, error) {
	in, err := decodeBankPayment(c.r)
	if err != nil {
		return nil, err
	}
	p, err := s.d.Reseller.BankPayment(ctx, c.a, in)
	if err != nil {
		return nil, err
	}
	return ok(paymentOf(p))
}

// onlinePaymentRequest is IT-31's body.
type onlinePaymentRequest struct {
	PaymentID string `wire:"PaymentId,required"`
	Amount    amount `wire:"Amount,required"`
	ProjectID int32  `wire:"ProjectId,required"`
}

func decodeBankPayment(r *http.Request) (reseller.BankPaymentInput, error) {
	var req bankPaymentRequest
	if err := decoder.Body(r, &req); err != nil {
		return reseller.BankPaymentInput{}, err
	}
	if !req.InvoiceNumber.Set {
		return reseller.BankPaymentInput{}, errs.Invalid("InvoiceNumber", "is required (null when there is no invoice)")
	}
	return reseller.BankPaymentInput{Number: req.Number, TIN: req.TIN, Amount: int64(req.Amount),
		InvoiceNumber: string(req.InvoiceNumber.Value), CompanyID: int64(req.CompanyID), ProjectID: int64(req.ProjectID)}, nil
}

// IT-31.
func (s *server) onlinePayment(ctx context.Context, c *call) (any, error) {
	var req onlinePaymentRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	p, err := s.d.Reseller.OnlinePayment(ctx, c.a, reseller.OnlinePaymentInput{
		PaymentID: req.PaymentID, Amount: int64(req.Amount), ProjectID: int64(req.ProjectID)})
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
	var req struct {
		Type   string `wire:"TypeOperation,required"`
		Amount amount `wire:"Amount,required"`
	}
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	if _, err := s.d.Reseller.CreateOperation(ctx, c.a, id, req.Type, int64(req.Amount)); err != nil {
		return nil, err
	}
	return empty{}, nil
}

// bounds reads a report's inclusive [from, to] query parameters as sent
// (the service reads them, IT-amb-4). Both are required; names are
// case-sensitive (IT-amb-5); the end is the first of toNames sent.
func bounds(r *http.Request, fromName string, toNames ...string) (string, string, error) {
	from, err := requiredQuery(r, fromName)
	if err != nil {
		return "", "", err
	}
	for _, n := range toNames {
		if v, ok := query(r, n); ok && v != "" {
			return from, v, nil
		}
	}
	return "", "", errs.Invalidf(toNames[0], "is required (query parameter names are case-sensitive)")
}

// IT-32: every project over the UTC period.
func (s *server) report(ctx context.Context, c *call) (any, error) {
	from, to, err := bounds(c.r, "dateFromUtc", "dateToUtc")
	if err != nil {
		return nil, err
	}
	list, err := s.d.Reseller.PeriodReport(ctx, c.a, 0, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]projectOperationsDTO, len(list))
	for i, p := range list {
		out[i] = projectOperationsOf(p)
	}
	return ok(out)
}

// IT-33: one project over the UTC period (an object, as the seed shows;
// the service always answers the named project).
func (s *server) projectReport(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	from, to, err := bounds(c.r, "dateFromUtc", "dateToUtc")
	if err != nil {
		return nil, err
	}
	list, err := s.d.Reseller.PeriodReport(ctx, c.a, id, from, to)
	if err != nil {
		return nil, err
	}
	var p reseller.ProjectPeriod
	for _, x := range list {
		if x.ProjectID == id {
			p = x
		}
	}
	return ok(projectOperationsOf(p))
}

// IT-35: every project, by day in the partner's time zone.
func (s *server) reportByDay(ctx context.Context, c *call) (any, error) {
	from, to, err := bounds(c.r, "dateFrom", "dateTo")
	if err != nil {
		return nil, err
	}
	r, err := s.d.Reseller.DailyReport(ctx, c.a, 0, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]projectDayDTO, len(r.Days))
	for i, p := range r.Days {
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
	from, to, err := bounds(c.r, "dateFrom", "dateTo", "dateToUtc")
	if err != nil {
		return nil, err
	}
	r, err := s.d.Reseller.DailyReport(ctx, c.a, id, from, to)
	if err != nil {
		return nil, aliasTo(c.r, err)
	}
	out := projectByDayDTO{ProjectId: id, TimeZone: r.TimeZone.String(), Days: []projectDayDTO{}}
	for _, p := range r.Days {
		if p.ProjectID == id {
			out.Days = append(out.Days, projectDayOf(p))
		}
	}
	return ok(out)
}

// aliasTo names the end of IT-36's period as the request did: the
// service's dateTo, or its alias dateToUtc when only that was sent.
func aliasTo(r *http.Request, err error) error {
	var e *errs.Error
	if v, _ := query(r, "dateTo"); v != "" || !errors.As(err, &e) || e.Field != "dateTo" {
		return err
	}
	c := *e
	c.Field = "dateToUtc"
	return &c
}
