package itglobal

import (
	"context"

	"github.com/trellis-cloud/trellis/internal/money"
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

// IT-8: both fields optional; MaxDebt ≥ 0 with two decimals (IT-amb-8).
func (s *server) editProject(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	var in reseller.ProjectInput
	post, hasPost, e1 := b.boolean("IsPostPaid", false)
	debt, hasDebt, e2 := b.amount("MaxDebt", false, money.AnySign)
	if err := collect(e1, e2); err != nil {
		return nil, err
	}
	if hasPost {
		in.IsPostPaid = &post
	}
	if hasDebt {
		in.MaxDebt = &debt
	}
	p, err := s.d.Reseller.UpdateProject(ctx, c.a, id, in)
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

// companyEdit reads the fields IT-10 and IT-12 share.
func companyEdit(b body) (reseller.CompanyEditInput, error) {
	var in reseller.CompanyEditInput
	var es [18]error
	in.CompanyName, _, es[0] = b.str("CompanyName", false)
	in.Kbe, _, es[1] = b.str("Kbe", false)
	in.LegalAddress, _, es[2] = b.str("LegalAddress", true)
	in.ActualAddress, _, es[3] = b.str("ActualAddress", true)
	in.KPP, _, es[4] = b.str("KPP", false)
	in.AutoInvoiceAmount, _, es[5] = b.amount("AutoInvoiceAmount", true, money.AnySign)
	in.TypeAutoInvoiceGeneration, _, es[6] = b.str("TypeAutoInvoiceGeneration", true)
	in.Ogrn, _, es[7] = b.str("Ogrn", false)
	in.Okpo, _, es[8] = b.str("Okpo", false)
	in.CheckingAccount, _, es[9] = b.str("CheckingAccount", false)
	in.CorrespondentAccount, _, es[10] = b.str("CorrespondentAccount", false)
	in.Bank, _, es[11] = b.str("Bank", false)
	in.Bik, _, es[12] = b.str("Bik", false)
	in.SignatoryName, _, es[13] = b.str("SignatoryName", false)
	in.SignatoryJob, _, es[14] = b.str("SignatoryJob", false)
	in.CanUserEditCompanyData, _, es[15] = b.boolean("CanUserEditCompanyData", true)
	in.FinanceEmail, _, es[16] = b.str("FinanceEmail", true)
	in.DocDeliveryPeriod, _, es[17] = b.str("DocDeliveryPeriod", false)
	return in, collect(es[:]...)
}

// IT-10: tax ids and per-country mandatory fields are checked by the
// service (internal/taxid).
func (s *server) createCompany(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	var in reseller.CompanyInput
	var es [7]error
	in.CountryTwoLetterCode, _, es[0] = b.str("CountryTwoLetterCode", true)
	in.INN, _, es[1] = b.str("INN", false)
	in.UNP, _, es[2] = b.str("UNP", false)
	in.BIN, _, es[3] = b.str("BIN", false)
	in.AgreementNumber, _, es[4] = b.str("AgreementNumber", true)
	in.AgreementDate, _, es[5] = b.dateTime("AgreementDate", true)
	in.PartnerCompanyID, _, es[6] = b.int32Field("PartnerCompanyId", true)
	if err := collect(es[:]...); err != nil {
		return nil, err
	}
	if in.CompanyEditInput, err = companyEdit(b); err != nil {
		return nil, err
	}
	co, err := s.d.Reseller.CreateCompany(ctx, c.a, id, in)
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
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	in, err := companyEdit(b)
	if err != nil {
		return nil, err
	}
	got, err := s.d.Reseller.UpdateCompany(ctx, c.a, id, co, in)
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

// IT-15: Amount > 0, two decimals, VAT included.
func (s *server) createInvoice(ctx context.Context, c *call) (any, error) {
	id, co, err := projectCompany(c)
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	amount, _, err := b.amount("Amount", true, money.AnySign)
	if err != nil {
		return nil, err
	}
	inv, err := s.d.Reseller.CreateInvoice(ctx, c.a, id, co, amount)
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
