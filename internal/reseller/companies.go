package reseller

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/taxid"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// Auto-invoice generation intervals (IT-10).
var autoInvoiceTypes = []string{"NotGenerate", "StartOfMonth", "DaysBeforeZeroBalance7", "DaysBeforeZeroBalance14"}

// Document delivery periods; "" (JSON null, absent or "null") is none.
var docPeriods = []string{"Monthly", "Quarterly", "Semiannually", "Annually"}

// maxText bounds the free-text company fields.
const maxText = 1000

// CompanyEditInput is the editable part of a company (IT-12).
type CompanyEditInput struct {
	CompanyName               string
	Kbe                       string
	LegalAddress              string
	ActualAddress             string
	KPP                       string
	AutoInvoiceAmount         int64 // minor units, ≥ 0
	TypeAutoInvoiceGeneration string
	Ogrn, Okpo                string
	CheckingAccount           string
	CorrespondentAccount      string
	Bank, Bik                 string
	SignatoryName             string
	SignatoryJob              string
	CanUserEditCompanyData    bool
	FinanceEmail              string
	DocDeliveryPeriod         string // "", "null" or one of the periods
}

// CompanyInput creates a company (IT-10).
type CompanyInput struct {
	CompanyEditInput
	CountryTwoLetterCode string
	INN, UNP, BIN        string
	AgreementNumber      string
	AgreementDate        time.Time
	PartnerCompanyID     int64
}

// oneOf checks v against the allowed values; the message quotes them as
// the Partner API writes them.
func oneOf(field, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = strconv.Quote(a)
	}
	return errs.Invalidf(field, "must be one of %s", strings.Join(q, ", "))
}

func text(field, v string, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if required && v == "" {
		return "", errs.Invalid(field, "is required")
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxText {
		return "", errs.Invalidf(field, "must be UTF-8 text of at most %d characters", maxText)
	}
	// No NUL or other control character (PostgreSQL refuses NUL).
	if err := validate.Wire(field, v, nil, maxText); err != nil {
		return "", err
	}
	return v, nil
}

func digits(field, v string, lengths ...int) error {
	if v == "" {
		return nil
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return errs.Invalid(field, "must contain digits only")
		}
	}
	for _, n := range lengths {
		if len(v) == n {
			return nil
		}
	}
	ls := make([]string, len(lengths))
	for i, n := range lengths {
		ls[i] = strconv.Itoa(n)
	}
	return errs.Invalidf(field, "must have %s digits", strings.Join(ls, " or "))
}

// checkChoices checks the fields with a fixed set of values (the delivery
// period, then the auto-invoice type); they hold for a company of any
// country and state, so they are checked before anything is read.
func (in *CompanyEditInput) checkChoices() error {
	if in.DocDeliveryPeriod == "null" {
		in.DocDeliveryPeriod = ""
	}
	if in.DocDeliveryPeriod != "" {
		if err := oneOf("DocDeliveryPeriod", in.DocDeliveryPeriod, append([]string{"null"}, docPeriods...)); err != nil {
			return err
		}
	}
	return oneOf("TypeAutoInvoiceGeneration", in.TypeAutoInvoiceGeneration, autoInvoiceTypes)
}

// validate checks the editable fields for a company of country.
func (in *CompanyEditInput) validate(country string) error {
	if err := in.checkChoices(); err != nil {
		return err
	}
	var err error
	for _, f := range []struct {
		name     string
		v        *string
		required bool
	}{
		{"CompanyName", &in.CompanyName, false}, {"Kbe", &in.Kbe, false}, {"LegalAddress", &in.LegalAddress, true},
		{"ActualAddress", &in.ActualAddress, true}, {"KPP", &in.KPP, false}, {"Ogrn", &in.Ogrn, false},
		{"Okpo", &in.Okpo, false}, {"CheckingAccount", &in.CheckingAccount, false},
		{"CorrespondentAccount", &in.CorrespondentAccount, false}, {"Bank", &in.Bank, false}, {"Bik", &in.Bik, false},
		{"SignatoryName", &in.SignatoryName, false}, {"SignatoryJob", &in.SignatoryJob, false},
	} {
		if *f.v, err = text(f.name, *f.v, f.required); err != nil {
			return err
		}
	}
	if err := amountLimit("AutoInvoiceAmount", in.AutoInvoiceAmount); err != nil {
		return err
	}
	if in.FinanceEmail, err = validate.Email("FinanceEmail", in.FinanceEmail); err != nil {
		return err
	}
	// Country-specific fields: RU only (KPP, Ogrn, Okpo), KZ only (Kbe).
	if country != "RU" {
		for _, f := range []struct{ name, v string }{{"KPP", in.KPP}, {"Ogrn", in.Ogrn}, {"Okpo", in.Okpo}} {
			if f.v != "" {
				return errs.Invalidf(f.name, "is for RU companies only (the company is %s)", country)
			}
		}
	}
	if country != "KZ" && in.Kbe != "" {
		return errs.Invalidf("Kbe", "is for KZ companies only (the company is %s)", country)
	}
	if err := taxid.KPP("KPP", in.KPP); err != nil {
		return err
	}
	if err := taxid.OGRN("Ogrn", in.Ogrn); err != nil {
		return err
	}
	if err := digits("Okpo", in.Okpo, 8, 10); err != nil {
		return err
	}
	if err := digits("Kbe", in.Kbe, 2); err != nil {
		return err
	}
	return digits("Bik", in.Bik, 9)
}

// Countries a company can be registered in, each with its tax id.
var companyCountries = []string{"RU", "KZ", "BY"}

// validate checks a new company: the country, the choices, the country's
// tax id (and no other), the editable fields, then the agreement.
func (in *CompanyInput) validate() error {
	if err := oneOf("CountryTwoLetterCode", in.CountryTwoLetterCode, companyCountries); err != nil {
		return err
	}
	if err := in.CompanyEditInput.checkChoices(); err != nil {
		return err
	}
	c := in.CountryTwoLetterCode
	for _, f := range []struct {
		name, country string
		v             *string
	}{{"INN", "RU", &in.INN}, {"BIN", "KZ", &in.BIN}, {"UNP", "BY", &in.UNP}} {
		*f.v = strings.TrimSpace(*f.v)
		if f.country == c {
			if *f.v == "" {
				return errs.Invalidf(f.name, "is required for %s companies", c)
			}
			if err := taxid.Validate(c, f.name, *f.v); err != nil {
				return err
			}
		} else if *f.v != "" {
			return errs.Invalidf(f.name, "is for %s companies only (the company is %s)", f.country, c)
		}
	}
	if err := in.CompanyEditInput.validate(c); err != nil {
		return err
	}
	var err error
	if in.AgreementNumber, err = text("AgreementNumber", in.AgreementNumber, true); err != nil {
		return err
	}
	if in.AgreementDate.IsZero() {
		return errs.Invalid("AgreementDate", "is required")
	}
	if in.PartnerCompanyID <= 0 || in.PartnerCompanyID > 1<<31-1 {
		return errs.Invalid("PartnerCompanyId", "must be a positive 32-bit integer")
	}
	return nil
}

func (in CompanyEditInput) apply(c *Company) {
	c.CompanyName, c.Kbe, c.LegalAddress, c.ActualAddress, c.KPP = in.CompanyName, in.Kbe, in.LegalAddress, in.ActualAddress, in.KPP
	c.AutoInvoiceAmount, c.TypeAutoInvoiceGeneration = in.AutoInvoiceAmount, in.TypeAutoInvoiceGeneration
	c.Ogrn, c.Okpo, c.CheckingAccount, c.CorrespondentAccount = in.Ogrn, in.Okpo, in.CheckingAccount, in.CorrespondentAccount
	c.Bank, c.Bik, c.SignatoryName, c.SignatoryJob = in.Bank, in.Bik, in.SignatoryName, in.SignatoryJob
	c.CanUserEditCompanyData, c.FinanceEmail, c.DocDeliveryPeriod = in.CanUserEditCompanyData, in.FinanceEmail, in.DocDeliveryPeriod
}

// ListCompanies returns a project's companies by id.
func (s *Service) ListCompanies(ctx context.Context, a actor.Actor, projectID int64) ([]Company, error) {
	if err := reader(a); err != nil {
		return nil, err
	}
	if _, err := s.store.GetResellerProject(ctx, a.Scope(), projectID); err != nil {
		return nil, err
	}
	return s.store.ListResellerCompanies(ctx, a.Scope(), projectID)
}

// CreateCompany creates the project's Active company; the previous Active
// one becomes InActive in the same transaction (under the project lock).
func (s *Service) CreateCompany(ctx context.Context, a actor.Actor, projectID int64, in CompanyInput) (Company, error) {
	if err := writer(a); err != nil {
		return Company{}, err
	}
	if err := in.validate(); err != nil {
		return Company{}, err
	}
	var out Company
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := s.lockScoped(ctx, tx, a, projectID)
		if err != nil {
			return err
		}
		now := s.now()
		if _, err := tx.DeactivateResellerCompanies(ctx, p.ID, now); err != nil {
			return err
		}
		id, err := tx.NextNumber(ctx, CounterCompany)
		if err != nil {
			return err
		}
		c := Company{ID: id, ProjectID: p.ID, PartnerID: p.PartnerID, PartnerPath: p.PartnerPath, State: CompanyActive,
			CountryTwoLetterCode: in.CountryTwoLetterCode, INN: in.INN, UNP: in.UNP, BIN: in.BIN,
			AgreementNumber: in.AgreementNumber, AgreementDate: in.AgreementDate.UTC().Truncate(time.Microsecond),
			PartnerCompanyID: in.PartnerCompanyID, CreatedAt: now, UpdatedAt: now}
		in.CompanyEditInput.apply(&c)
		if err := tx.InsertResellerCompany(ctx, c); err != nil {
			return err
		}
		out = c
		return tx.AppendAudit(ctx, audit.New(a, now, "company.create", "reseller_company", strconv.FormatInt(c.ID, 10),
			p.PartnerPath, fmt.Sprintf("project=%d country=%s tin=%s", p.ID, c.CountryTwoLetterCode, c.TIN())))
	})
	return out, err
}

// GetCompany returns a company of a project.
func (s *Service) GetCompany(ctx context.Context, a actor.Actor, projectID, companyID int64) (Company, error) {
	if err := reader(a); err != nil {
		return Company{}, err
	}
	return s.store.GetResellerCompany(ctx, a.Scope(), projectID, companyID)
}

// UpdateCompany edits the Active company without deactivating it; an
// InActive company is a KindConflict.
func (s *Service) UpdateCompany(ctx context.Context, a actor.Actor, projectID, companyID int64, in CompanyEditInput) (Company, error) {
	if err := writer(a); err != nil {
		return Company{}, err
	}
	if err := in.checkChoices(); err != nil {
		return Company{}, err
	}
	var out Company
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := s.lockScoped(ctx, tx, a, projectID)
		if err != nil {
			return err
		}
		c, err := tx.GetResellerCompany(ctx, p.PartnerPath, p.ID, companyID)
		if err != nil {
			return err
		}
		if c.State != CompanyActive {
			return errs.Newf(errs.KindConflict, "company %d is %s; only the Active company can be edited", c.ID, c.State)
		}
		if err := in.validate(c.CountryTwoLetterCode); err != nil {
			return err
		}
		now := s.now()
		in.apply(&c)
		c.UpdatedAt = now
		if err := tx.UpdateResellerCompany(ctx, c); err != nil {
			return err
		}
		out = c
		return tx.AppendAudit(ctx, audit.New(a, now, "company.update", "reseller_company", strconv.FormatInt(c.ID, 10),
			p.PartnerPath, ""))
	})
	return out, err
}

// DeactivateCompany makes a company InActive; an InActive one is returned
// unchanged.
func (s *Service) DeactivateCompany(ctx context.Context, a actor.Actor, projectID, companyID int64) (Company, error) {
	if err := writer(a); err != nil {
		return Company{}, err
	}
	var out Company
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := s.lockScoped(ctx, tx, a, projectID)
		if err != nil {
			return err
		}
		c, err := tx.GetResellerCompany(ctx, p.PartnerPath, p.ID, companyID)
		if err != nil {
			return err
		}
		out = c
		if c.State == CompanyInActive {
			return nil
		}
		now := s.now()
		c.State, c.UpdatedAt = CompanyInActive, now
		if err := tx.UpdateResellerCompany(ctx, c); err != nil {
			return err
		}
		out = c
		return tx.AppendAudit(ctx, audit.New(a, now, "company.deactivate", "reseller_company", strconv.FormatInt(c.ID, 10),
			p.PartnerPath, ""))
	})
	return out, err
}
