package itglobal

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/reseller"
)

// The response DTOs: the seed collapses every response sample, so these
// mirror the request fields (PascalCase) plus Id, State and timestamps
// (IT-amb-2). openapi.json declares each.

// amountOf writes minor units of currency code as ITGLOBAL does (1234,
// 12.34). The API's currencies have two decimals; an unknown code is
// written as two decimals too.
func amountOf(minor int64, code string) json.Number {
	cur, err := money.ParseCurrency("Currency", code)
	if err != nil {
		cur = money.RUB
	}
	n, err := money.FormatITGlobal(money.NewAmount(minor, cur))
	if err != nil {
		// A 3-decimal currency: exact decimal rather than a failure.
		return json.Number(money.NewAmount(minor, cur).Decimal().String())
	}
	return n
}

// stamp is an RFC 3339 UTC time.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func stampPtr(t *time.Time) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := stamp(*t)
	return &s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type accountDTO struct {
	Id                 string          `json:"Id"`
	Email              string          `json:"Email"`
	State              string          `json:"State"`
	AdditionalData     json.RawMessage `json:"AdditionalData"`
	WithAnInternalRole bool            `json:"WithAnInternalRole"`
	IsSimpleOne        bool            `json:"IsSimpleOne"`
	SimpleOneUserId    *string         `json:"SimpleOneUserId"`
	SimpleOneCompanyId *string         `json:"SimpleOneCompanyId"`
	PersonalProjectId  int64           `json:"PersonalProjectId"`
	CreatedAt          string          `json:"CreatedAt"`
	ActivatedAt        *string         `json:"ActivatedAt"`
}

func accountOf(a reseller.Account) accountDTO {
	data := a.AdditionalData
	if len(data) == 0 || string(data) == "null" {
		data = json.RawMessage("{}")
	}
	return accountDTO{Id: a.ID, Email: a.Email, State: a.State, AdditionalData: data,
		WithAnInternalRole: a.InternalRole, IsSimpleOne: a.SimpleOne,
		SimpleOneUserId: strPtr(a.SimpleOneUserID), SimpleOneCompanyId: strPtr(a.SimpleOneCompanyID),
		PersonalProjectId: a.PersonalProjectID, CreatedAt: stamp(a.CreatedAt), ActivatedAt: stampPtr(a.ActivatedAt)}
}

func accountsOf(in []reseller.Account) []accountDTO {
	out := make([]accountDTO, len(in))
	for i, a := range in {
		out[i] = accountOf(a)
	}
	return out
}

type projectDTO struct {
	Id                 int64       `json:"Id"`
	Name               string      `json:"Name"`
	OwnerAccountId     *string     `json:"OwnerAccountId"`
	AccountIds         []string    `json:"AccountIds"`
	Currency           string      `json:"Currency"`
	IsPostPaid         bool        `json:"IsPostPaid"`
	MaxDebt            json.Number `json:"MaxDebt"`
	Balance            json.Number `json:"Balance"`
	BonusBalance       json.Number `json:"BonusBalance"`
	IsBlocked          bool        `json:"IsBlocked"`
	BlockedAt          *string     `json:"BlockedAt"`
	SimpleOneCompanyId *string     `json:"SimpleOneCompanyId"`
	CreatedAt          string      `json:"CreatedAt"`
	UpdatedAt          string      `json:"UpdatedAt"`
}

func projectOf(p reseller.Project) projectDTO {
	members := p.Members
	if members == nil {
		members = []string{}
	}
	return projectDTO{Id: p.ID, Name: p.Name, OwnerAccountId: strPtr(p.OwnerAccountID), AccountIds: members,
		Currency: p.Currency, IsPostPaid: p.IsPostPaid, MaxDebt: amountOf(p.MaxDebt, p.Currency),
		Balance: amountOf(p.Balance, p.Currency), BonusBalance: amountOf(p.Bonus, p.Currency),
		IsBlocked: p.Blocked, BlockedAt: stampPtr(p.BlockedAt), SimpleOneCompanyId: strPtr(p.SimpleOneCompanyID),
		CreatedAt: stamp(p.CreatedAt), UpdatedAt: stamp(p.UpdatedAt)}
}

func projectsOf(in []reseller.Project) []projectDTO {
	out := make([]projectDTO, len(in))
	for i, p := range in {
		out[i] = projectOf(p)
	}
	return out
}

type companyDTO struct {
	Id                        int64       `json:"Id"`
	ProjectId                 int64       `json:"ProjectId"`
	State                     string      `json:"State"`
	CountryTwoLetterCode      string      `json:"CountryTwoLetterCode"`
	INN                       *string     `json:"INN"`
	UNP                       *string     `json:"UNP"`
	BIN                       *string     `json:"BIN"`
	CompanyName               *string     `json:"CompanyName"`
	Kbe                       *string     `json:"Kbe"`
	LegalAddress              string      `json:"LegalAddress"`
	ActualAddress             string      `json:"ActualAddress"`
	KPP                       *string     `json:"KPP"`
	AutoInvoiceAmount         json.Number `json:"AutoInvoiceAmount"`
	TypeAutoInvoiceGeneration string      `json:"TypeAutoInvoiceGeneration"`
	Ogrn                      *string     `json:"Ogrn"`
	Okpo                      *string     `json:"Okpo"`
	CheckingAccount           *string     `json:"CheckingAccount"`
	CorrespondentAccount      *string     `json:"CorrespondentAccount"`
	Bank                      *string     `json:"Bank"`
	Bik                       *string     `json:"Bik"`
	SignatoryName             *string     `json:"SignatoryName"`
	SignatoryJob              *string     `json:"SignatoryJob"`
	AgreementNumber           string      `json:"AgreementNumber"`
	AgreementDate             string      `json:"AgreementDate"`
	CanUserEditCompanyData    bool        `json:"CanUserEditCompanyData"`
	FinanceEmail              string      `json:"FinanceEmail"`
	DocDeliveryPeriod         *string     `json:"DocDeliveryPeriod"`
	PartnerCompanyId          int64       `json:"PartnerCompanyId"`
	CreatedAt                 string      `json:"CreatedAt"`
	UpdatedAt                 string      `json:"UpdatedAt"`
}

// companyCurrency is the company's invoicing currency by its country.
func companyCurrency(country string) string {
	switch country {
	case "KZ":
		return "KZT"
	case "BY":
		return "BYN"
	}
	return "RUB"
}

func companyOf(c reseller.Company) companyDTO {
	return companyDTO{Id: c.ID, ProjectId: c.ProjectID, State: c.State, CountryTwoLetterCode: c.CountryTwoLetterCode,
		INN: strPtr(c.INN), UNP: strPtr(c.UNP), BIN: strPtr(c.BIN), CompanyName: strPtr(c.CompanyName), Kbe: strPtr(c.Kbe),
		LegalAddress: c.LegalAddress, ActualAddress: c.ActualAddress, KPP: strPtr(c.KPP),
		AutoInvoiceAmount:         amountOf(c.AutoInvoiceAmount, companyCurrency(c.CountryTwoLetterCode)),
		TypeAutoInvoiceGeneration: c.TypeAutoInvoiceGeneration, Ogrn: strPtr(c.Ogrn), Okpo: strPtr(c.Okpo),
		CheckingAccount: strPtr(c.CheckingAccount), CorrespondentAccount: strPtr(c.CorrespondentAccount),
		Bank: strPtr(c.Bank), Bik: strPtr(c.Bik), SignatoryName: strPtr(c.SignatoryName), SignatoryJob: strPtr(c.SignatoryJob),
		AgreementNumber: c.AgreementNumber, AgreementDate: stamp(c.AgreementDate),
		CanUserEditCompanyData: c.CanUserEditCompanyData, FinanceEmail: c.FinanceEmail,
		DocDeliveryPeriod: strPtr(c.DocDeliveryPeriod), PartnerCompanyId: c.PartnerCompanyID,
		CreatedAt: stamp(c.CreatedAt), UpdatedAt: stamp(c.UpdatedAt)}
}

func companiesOf(in []reseller.Company) []companyDTO {
	out := make([]companyDTO, len(in))
	for i, c := range in {
		out[i] = companyOf(c)
	}
	return out
}

type invoiceDTO struct {
	Number           string      `json:"Number"`
	ProjectId        int64       `json:"ProjectId"`
	CompanyId        int64       `json:"CompanyId"`
	State            string      `json:"State"`
	Currency         string      `json:"Currency"`
	Amount           json.Number `json:"Amount"`
	VatRate          int         `json:"VatRate"`
	VatAmount        json.Number `json:"VatAmount"`
	AmountWithoutVat json.Number `json:"AmountWithoutVat"`
	PaidAmount       json.Number `json:"PaidAmount"`
	PaidAt           *string     `json:"PaidAt"`
	CreatedAt        string      `json:"CreatedAt"`
}

func invoiceOf(v reseller.Invoice) invoiceDTO {
	return invoiceDTO{Number: v.Number, ProjectId: v.ProjectID, CompanyId: v.CompanyID, State: v.State, Currency: v.Currency,
		Amount: amountOf(v.Amount, v.Currency), VatRate: v.VATRate, VatAmount: amountOf(v.VAT, v.Currency),
		AmountWithoutVat: amountOf(v.Net, v.Currency), PaidAmount: amountOf(v.PaidAmount, v.Currency),
		PaidAt: stampPtr(v.PaidAt), CreatedAt: stamp(v.CreatedAt)}
}

func invoicesOf(in []reseller.Invoice) []invoiceDTO {
	out := make([]invoiceDTO, len(in))
	for i, v := range in {
		out[i] = invoiceOf(v)
	}
	return out
}

type paymentDTO struct {
	Id            int64       `json:"Id"`
	Type          string      `json:"Type"`
	Number        string      `json:"Number"`
	PaymentId     *string     `json:"PaymentId"`
	TIN           *string     `json:"TIN"`
	Amount        json.Number `json:"Amount"`
	Currency      string      `json:"Currency"`
	InvoiceNumber *string     `json:"InvoiceNumber"`
	CompanyId     *int64      `json:"CompanyId"`
	ProjectId     int64       `json:"ProjectId"`
	InvoicePaid   bool        `json:"InvoicePaid"`
	CreatedAt     string      `json:"CreatedAt"`
}

func paymentOf(p reseller.Payment) paymentDTO {
	d := paymentDTO{Id: p.ID, Type: p.Kind, Number: p.Number, TIN: strPtr(p.TIN), Amount: amountOf(p.Amount, p.Currency),
		Currency: p.Currency, InvoiceNumber: strPtr(p.InvoiceNumber), ProjectId: p.ProjectID, InvoicePaid: p.InvoicePaid,
		CreatedAt: stamp(p.CreatedAt)}
	if p.Kind == reseller.PaymentOnline {
		d.PaymentId = strPtr(p.Number)
	}
	if p.CompanyID != 0 {
		id := p.CompanyID
		d.CompanyId = &id
	}
	return d
}

func paymentsOf(in []reseller.Payment) []paymentDTO {
	out := make([]paymentDTO, len(in))
	for i, p := range in {
		out[i] = paymentOf(p)
	}
	return out
}

type operationDTO struct {
	Id            int64       `json:"Id"`
	ProjectId     int64       `json:"ProjectId"`
	TypeOperation string      `json:"TypeOperation"`
	Amount        json.Number `json:"Amount"`
	BonusAmount   json.Number `json:"BonusAmount"`
	Currency      string      `json:"Currency"`
	Description   string      `json:"Description"`
	Reference     string      `json:"Reference"`
	CreatedAt     string      `json:"CreatedAt"`
}

func operationsOf(in []reseller.Operation) []operationDTO {
	out := make([]operationDTO, len(in))
	for i, o := range in {
		out[i] = operationDTO{Id: o.ID, ProjectId: o.ProjectID, TypeOperation: o.Type, Amount: amountOf(o.Money, o.Currency),
			BonusAmount: amountOf(o.Bonus, o.Currency), Currency: o.Currency, Description: o.Description,
			Reference: o.Reference, CreatedAt: stamp(o.CreatedAt)}
	}
	return out
}

// periodCurrency is the currency of a period's sums: its operations'.
func periodCurrency(p reseller.ProjectPeriod) string {
	for _, o := range p.Operations {
		if o.Currency != "" {
			return o.Currency
		}
	}
	return "RUB"
}

type projectOperationsDTO struct {
	ProjectId   int64          `json:"ProjectId"`
	Currency    string         `json:"Currency"`
	DateFromUtc string         `json:"DateFromUtc"`
	DateToUtc   string         `json:"DateToUtc"`
	MoneyIn     json.Number    `json:"MoneyIn"`
	MoneyOut    json.Number    `json:"MoneyOut"`
	BonusIn     json.Number    `json:"BonusIn"`
	BonusOut    json.Number    `json:"BonusOut"`
	Operations  []operationDTO `json:"Operations"`
}

func projectOperationsOf(p reseller.ProjectPeriod) projectOperationsDTO {
	cur := periodCurrency(p)
	return projectOperationsDTO{ProjectId: p.ProjectID, Currency: cur, DateFromUtc: stamp(p.From), DateToUtc: stamp(p.To),
		MoneyIn: amountOf(p.MoneyIn, cur), MoneyOut: amountOf(p.MoneyOut, cur), BonusIn: amountOf(p.BonusIn, cur),
		BonusOut: amountOf(p.BonusOut, cur), Operations: operationsOf(p.Operations)}
}

type projectDayDTO struct {
	ProjectId  int64          `json:"ProjectId"`
	Currency   string         `json:"Currency"`
	Date       string         `json:"Date"`
	MoneyIn    json.Number    `json:"MoneyIn"`
	MoneyOut   json.Number    `json:"MoneyOut"`
	BonusIn    json.Number    `json:"BonusIn"`
	BonusOut   json.Number    `json:"BonusOut"`
	Operations []operationDTO `json:"Operations"`
}

func projectDayOf(p reseller.ProjectPeriod) projectDayDTO {
	cur := periodCurrency(p)
	return projectDayDTO{ProjectId: p.ProjectID, Currency: cur, Date: p.Day,
		MoneyIn: amountOf(p.MoneyIn, cur), MoneyOut: amountOf(p.MoneyOut, cur), BonusIn: amountOf(p.BonusIn, cur),
		BonusOut: amountOf(p.BonusOut, cur), Operations: operationsOf(p.Operations)}
}

type projectByDayDTO struct {
	ProjectId int64           `json:"ProjectId"`
	TimeZone  string          `json:"TimeZone"`
	Days      []projectDayDTO `json:"Days"`
}

// deletedDTO answers the deletes (the seed shows {"Result": {…}}).
type deletedDTO struct {
	Id              string `json:"Id,omitempty"`
	SimpleOneUserId string `json:"SimpleOneUserId,omitempty"`
	Deleted         bool   `json:"Deleted"`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
