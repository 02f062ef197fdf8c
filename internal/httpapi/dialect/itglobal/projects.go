package itglobal

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/reseller"
)

// IT-6.
func (s *server) listProjects(ctx context.Context, c *call) (any, error) {
	list, err := s.d.Reseller.ListProjects(ctx, c.a)
	if err != nil {
		return nil, err
	}
	return ok(projectsOf(list))
}

// IT-7.
func (s *server) getProject(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	p, err := s.d.Reseller.GetProject(ctx, c.a, id)
	if err != nil {
		return nil, err
	}
	return ok(projectOf(p))
}

// projectRequest is IT-8's body: both fields optional.
type projectRequest struct {
	IsPostPaid *bool   `wire:"IsPostPaid"`
	MaxDebt    *amount `wire:"MaxDebt"`
}

// IT-8: MaxDebt ≥ 0 with two decimals (IT-amb-8; the sign is the
// service's rule).
func (s *server) editProject(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	var req projectRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	p, err := s.d.Reseller.UpdateProject(ctx, c.a, id, reseller.ProjectInput{IsPostPaid: req.IsPostPaid,
		MaxDebt: (*int64)(req.MaxDebt)})
	if err != nil {
		return nil, err
	}
	return ok(projectOf(p))
}

// projectCompany reads the {id} and {company_id} path parameters.
func projectCompany(c *call) (int64, int64, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return 0, 0, err
	}
	co, err := positiveID(c.r, "company_id")
	return id, co, err
}

// IT-9.
func (s *server) listCompanies(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	list, err := s.d.Reseller.ListCompanies(ctx, c.a, id)
	if err != nil {
		return nil, err
	}
	return ok(companiesOf(list))
}

// companyEditRequest is the body IT-10 and IT-12 share; the values are
// the service's to check (choices, tax ids, per-country fields).
type companyEditRequest struct {
	CompanyName               string `wire:"CompanyName"`
	Kbe                       string `wire:"Kbe"`
	LegalAddress              string `wire:"LegalAddress,required"`
	ActualAddress             string `wire:"ActualAddress,required"`
	KPP                       string `wire:"KPP"`
	AutoInvoiceAmount         amount `wire:"AutoInvoiceAmount,required"`
	TypeAutoInvoiceGeneration string `wire:"TypeAutoInvoiceGeneration,required"`
	Ogrn                      string `wire:"Ogrn"`
	Okpo                      string `wire:"Okpo"`
	CheckingAccount           string `wire:"CheckingAccount"`
	CorrespondentAccount      string `wire:"CorrespondentAccount"`
	Bank                      string `wire:"Bank"`
	Bik                       string `wire:"Bik"`
	SignatoryName             string `wire:"SignatoryName"`
	SignatoryJob              string `wire:"SignatoryJob"`
	CanUserEditCompanyData    bool   `wire:"CanUserEditCompanyData,required"`
	FinanceEmail              string `wire:"FinanceEmail,required"`
	// DocDeliveryPeriod: null, absent and "null" all mean none (IT-amb-9).
	DocDeliveryPeriod string `wire:"DocDeliveryPeriod"`
}

func (r companyEditRequest) input() reseller.CompanyEditInput {
	return reseller.CompanyEditInput{CompanyName: r.CompanyName, Kbe: r.Kbe, LegalAddress: r.LegalAddress,
		ActualAddress: r.ActualAddress, KPP: r.KPP, AutoInvoiceAmount: int64(r.AutoInvoiceAmount),
		TypeAutoInvoiceGeneration: r.TypeAutoInvoiceGeneration, Ogrn: r.Ogrn, Okpo: r.Okpo,
		CheckingAccount: r.CheckingAccount, CorrespondentAccount: r.CorrespondentAccount, Bank: r.Bank, Bik: r.Bik,
		SignatoryName: r.SignatoryName, SignatoryJob: r.SignatoryJob, CanUserEditCompanyData: r.CanUserEditCompanyData,
		FinanceEmail: r.FinanceEmail, DocDeliveryPeriod: r.DocDeliveryPeriod}
}

// companyRequest is IT-10's body: its own fields, then the editable ones.
type companyRequest struct {
	CountryTwoLetterCode string    `wire:"CountryTwoLetterCode,required"`
	INN                  string    `wire:"INN"`
	UNP                  string    `wire:"UNP"`
	BIN                  string    `wire:"BIN"`
	AgreementNumber      string    `wire:"AgreementNumber,required"`
	AgreementDate        time.Time `wire:"AgreementDate,required"`
	PartnerCompanyID     int32     `wire:"PartnerCompanyId,required"`
	companyEditRequest
}

// IT-10: the country, tax ids and per-country mandatory fields are
// checked by the service (internal/taxid).
func (s *server) createCompany(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	var req companyRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	co, err := s.d.Reseller.CreateCompany(ctx, c.a, id, reseller.CompanyInput{
		CompanyEditInput: req.input(), CountryTwoLetterCode: req.CountryTwoLetterCode,
		INN: req.INN, UNP: req.UNP, BIN: req.BIN, AgreementNumber: req.AgreementNumber,
		AgreementDate: req.AgreementDate.UTC(), PartnerCompanyID: int64(req.PartnerCompanyID)})
	if err != nil {
		return nil, err
	}
	return ok(companyOf(co))
}

// IT-11.
func (s *server) getCompany(ctx context.Context, c *call) (any, error) {
	id, co, err := projectCompany(c)
	if err != nil {
		return nil, err
	}
	got, err := s.d.Reseller.GetCompany(ctx, c.a, id, co)
	if err != nil {
		return nil, err
	}
	return ok(companyOf(got))
}

// IT-12: the fields absent from the seed's edit schema are ignored.
func (s *server) editCompany(ctx context.Context, c *call) (any, error) {
	id, co, err := projectCompany(c)
	if err != nil {
		return nil, err
	}
	var req companyEditRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	got, err := s.d.Reseller.UpdateCompany(ctx, c.a, id, co, req.input())
	if err != nil {
		return nil, err
	}
	return ok(companyOf(got))
}

// IT-13: answers the company (IT-amb-14).
func (s *server) deactivateCompany(ctx context.Context, c *call) (any, error) {
	id, co, err := projectCompany(c)
	if err != nil {
		return nil, err
	}
	got, err := s.d.Reseller.DeactivateCompany(ctx, c.a, id, co)
	if err != nil {
		return nil, err
	}
	return ok(companyOf(got))
}

// IT-14.
func (s *server) listInvoices(ctx context.Context, c *call) (any, error) {
	id, co, err := projectCompany(c)
	if err != nil {
		return nil, err
	}
	list, err := s.d.Reseller.ListInvoices(ctx, c.a, id, co)
	if err != nil {
		return nil, err
	}
	return ok(invoicesOf(list))
}

// IT-15: Amount > 0 (the service's rule), two decimals, VAT included.
func (s *server) createInvoice(ctx context.Context, c *call) (any, error) {
	id, co, err := projectCompany(c)
	if err != nil {
		return nil, err
	}
	var req struct {
		Amount amount `wire:"Amount,required"`
	}
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	inv, err := s.d.Reseller.CreateInvoice(ctx, c.a, id, co, int64(req.Amount))
	if err != nil {
		return nil, err
	}
	return ok(invoiceOf(inv))
}

// IT-16.
func (s *server) getInvoice(ctx context.Context, c *call) (any, error) {
	id, co, err := projectCompany(c)
	if err != nil {
		return nil, err
	}
	inv, err := s.d.Reseller.GetInvoice(ctx, c.a, id, co, c.r.PathValue("invoice_number"))
	if err != nil {
		return nil, err
	}
	return ok(invoiceOf(inv))
}
