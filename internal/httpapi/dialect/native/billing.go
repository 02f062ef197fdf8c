package native

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
	"github.com/trellis-cloud/trellis/internal/money"
)

// The billing domain names fields the way the idcloudhost API sends them
// (snake_case); this API is camelCase, so its errors are renamed on the way out.
var billingFields = map[string]string{
	"billing_account_id":  "id",
	"org_id":              "orgId",
	"user_id":             "userId",
	"title":               "title",
	"email":               "email",
	"company_name":        "companyName",
	"company_reg_code":    "companyRegCode",
	"company_vat_number":  "companyVatNumber",
	"address_line1":       "addressLine1",
	"city":                "city",
	"county":              "county",
	"country":             "country",
	"post_index":          "postIndex",
	"vat_percentage":      "vatPercentage",
	"discount_percentage": "discountPercentage",
	"max_debt":            "maxDebt",
	"additional_data":     "additionalData",
	"welcome_credit":      "welcomeCredit",
	"currency":            "currency",
	"invoice_id":          "id",
	"payment_object_id":   "id",
	"amount":              "amount",
	"reference":           "reference",
}

// renameFields rewrites the Field of a domain error segment by segment
// ("prices[2].priceMultiplier" → "multipliers[2].priceMultiplier") with names.
func renameFields(err error, names map[string]string) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Field == "" {
		return err
	}
	segs := strings.Split(e.Field, ".")
	for i, seg := range segs {
		name, index, _ := strings.Cut(seg, "[")
		if n, ok := names[name]; ok {
			segs[i] = n
			if index != "" {
				segs[i] += "[" + index
			}
		}
	}
	c := *e
	c.Field = strings.Join(segs, ".")
	return &c
}

// billingAccount is a billing account as operators see it.
type billingAccount struct {
	ID                 int64      `json:"id" doc:"The account number (the idcloudhost billing_account_id)."`
	OrgID              string     `json:"orgId" format:"uuid" doc:"The customer org that owns it."`
	UserID             int64      `json:"userId" doc:"The idcloudhost user it belongs to; 0 for none."`
	Currency           string     `json:"currency"`
	Title              string     `json:"title"`
	Email              string     `json:"email"`
	CompanyName        string     `json:"companyName"`
	CompanyRegCode     string     `json:"companyRegCode"`
	CompanyVATNumber   string     `json:"companyVatNumber"`
	AddressLine1       string     `json:"addressLine1"`
	City               string     `json:"city"`
	County             string     `json:"county"`
	Country            string     `json:"country"`
	PostIndex          string     `json:"postIndex"`
	SendInvoiceEmail   bool       `json:"sendInvoiceEmail"`
	VATPercentage      int        `json:"vatPercentage"`
	DiscountPercentage int        `json:"discountPercentage"`
	AllowDebt          bool       `json:"allowDebt"`
	MaxDebt            string     `json:"maxDebt" doc:"The most the account may owe, in major units (\"100.00\")."`
	PayingByInvoice    bool       `json:"payingByInvoice"`
	IsDefault          bool       `json:"isDefault"`
	IsActive           bool       `json:"isActive"`
	RestrictionLevel   string     `json:"restrictionLevel" doc:"\"\" or \"FROZEN\" (an invoice is past due)."`
	SuspendReason      string     `json:"suspendReason"`
	CreatedAt          time.Time  `json:"createdAt"`
	UpdatedAt          time.Time  `json:"updatedAt"`
	DeletedAt          *time.Time `json:"deletedAt,omitempty"`
}

func billingAccountFrom(a billing.Account) billingAccount {
	out := billingAccount{ID: a.ID, OrgID: a.OrgID, UserID: a.UserID, Currency: a.Cur().Code(), Title: a.Title, Email: a.Email,
		CompanyName: a.CompanyName, CompanyRegCode: a.CompanyRegCode, CompanyVATNumber: a.CompanyVATNumber,
		AddressLine1: a.AddressLine1, City: a.City, County: a.County, Country: a.Country, PostIndex: a.PostIndex,
		SendInvoiceEmail: a.SendInvoiceEmail, VATPercentage: a.VATPercentage, DiscountPercentage: a.DiscountPercentage,
		AllowDebt: a.AllowDebt, MaxDebt: money.FormatIDCHFormAmount(money.NewAmount(a.MaxDebt, a.Cur())), PayingByInvoice: a.PayingByInvoice,
		IsDefault: a.IsDefault, IsActive: a.IsActive, RestrictionLevel: a.RestrictionLevel, SuspendReason: a.SuspendReason,
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	if a.DeletedAt != nil {
		t := a.DeletedAt.UTC()
		out.DeletedAt = &t
	}
	return out
}

type accountIDParam struct {
	ID int64 `path:"id" minimum:"1" doc:"The billing account number."`
}

type createBillingAccountInput struct {
	Body struct {
		OrgID              string `json:"orgId" format:"uuid" doc:"The customer org that owns the account."`
		UserID             int64  `json:"userId,omitempty" minimum:"0" doc:"The idcloudhost user it belongs to; its first account becomes its default."`
		Currency           string `json:"currency,omitempty" pattern:"^[A-Z]{3}$" doc:"ISO-4217; EUR when omitted."`
		Title              string `json:"title,omitempty" maxLength:"255"`
		Email              string `json:"email,omitempty" maxLength:"255"`
		CompanyName        string `json:"companyName,omitempty" maxLength:"255"`
		CompanyRegCode     string `json:"companyRegCode,omitempty" maxLength:"255"`
		CompanyVATNumber   string `json:"companyVatNumber,omitempty" maxLength:"255"`
		AddressLine1       string `json:"addressLine1,omitempty" maxLength:"255"`
		City               string `json:"city,omitempty" maxLength:"255"`
		County             string `json:"county,omitempty" maxLength:"255"`
		Country            string `json:"country,omitempty" maxLength:"2" doc:"ISO 3166-1 alpha-2."`
		PostIndex          string `json:"postIndex,omitempty" maxLength:"255"`
		SendInvoiceEmail   bool   `json:"sendInvoiceEmail,omitempty"`
		VATPercentage      int    `json:"vatPercentage,omitempty" minimum:"0" maximum:"100"`
		DiscountPercentage int    `json:"discountPercentage,omitempty" minimum:"0" maximum:"100"`
		AllowDebt          bool   `json:"allowDebt,omitempty"`
		MaxDebt            string `json:"maxDebt,omitempty" maxLength:"32" doc:"Major units, e.g. \"100.00\"."`
		PayingByInvoice    bool   `json:"payingByInvoice,omitempty"`
		WelcomeCredit      string `json:"welcomeCredit,omitempty" maxLength:"32" doc:"Credit given with the account (credit record \"First billing account\"), major units."`
	}
}

type updateBillingAccountInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"The billing account number."`
	Body struct {
		VATPercentage      *int    `json:"vatPercentage,omitempty" minimum:"0" maximum:"100"`
		DiscountPercentage *int    `json:"discountPercentage,omitempty" minimum:"0" maximum:"100"`
		AllowDebt          *bool   `json:"allowDebt,omitempty"`
		MaxDebt            *string `json:"maxDebt,omitempty" maxLength:"32" doc:"Major units, e.g. \"100.00\"."`
		PayingByInvoice    *bool   `json:"payingByInvoice,omitempty"`
		IsActive           *bool   `json:"isActive,omitempty"`
	}
}

type listBillingAccountsInput struct {
	ShowDeleted bool `query:"showDeleted" doc:"Include deleted (shadow) accounts."`
}

// minorUnits parses an optional amount in major units ("10.00", at most
// the currency's decimals, not negative) into minor units of cur.
func minorUnits(field, v string, cur money.Currency) (int64, error) {
	if v == "" {
		return 0, nil
	}
	a, err := money.ParseIDCHFormAmount(field, v, cur, money.NonNegative)
	if err != nil {
		return 0, err
	}
	return a.Minor(), nil
}

func (s *server) registerBilling(api huma.API) {
	register(api, huma.Operation{OperationID: "createBillingAccount", Method: http.MethodPost, Path: "/billing-accounts",
		DefaultStatus: http.StatusCreated, Tags: []string{"billing"},
		Summary: "Create a billing account for a customer",
		Description: "The idcloudhost API has no call that creates billing accounts: operators (provider, distributor " +
			"or partner admins) create them here. A user's first account becomes its default."}, s.createBillingAccount)
	register(api, huma.Operation{OperationID: "listBillingAccounts", Method: http.MethodGet, Path: "/billing-accounts",
		Tags: []string{"billing"}, Summary: "List the billing accounts in the caller's tree"}, s.listBillingAccounts)
	register(api, huma.Operation{OperationID: "getBillingAccount", Method: http.MethodGet, Path: "/billing-accounts/{id}",
		Tags: []string{"billing"}, Summary: "Get a billing account"}, s.getBillingAccount)
	register(api, huma.Operation{OperationID: "updateBillingAccount", Method: http.MethodPatch, Path: "/billing-accounts/{id}",
		Tags: []string{"billing"}, Summary: "Change a billing account's VAT, discount, debt limit or activity",
		Description: "Affects invoices issued afterwards. Operators only."}, s.updateBillingAccount)
}

func (s *server) createBillingAccount(ctx context.Context, in *createBillingAccountInput) (*output[billingAccount], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (billing.Account, error) {
		cur := money.EUR
		if b.Currency != "" {
			c, err := money.ParseCurrency("currency", b.Currency)
			if err != nil {
				return billing.Account{}, err
			}
			cur = c
		}
		maxDebt, err := minorUnits("maxDebt", b.MaxDebt, cur)
		if err != nil {
			return billing.Account{}, err
		}
		welcome, err := minorUnits("welcomeCredit", b.WelcomeCredit, cur)
		if err != nil {
			return billing.Account{}, err
		}
		acct, err := s.d.Billing.CreateAccount(ctx, a, billing.CreateAccountInput{OrgID: b.OrgID, UserID: b.UserID,
			Currency: cur.Code(), Data: billing.AccountData{Title: b.Title, Email: b.Email, CompanyName: b.CompanyName,
				CompanyRegCode: b.CompanyRegCode, CompanyVATNumber: b.CompanyVATNumber, AddressLine1: b.AddressLine1,
				City: b.City, County: b.County, Country: b.Country, PostIndex: b.PostIndex, SendInvoiceEmail: b.SendInvoiceEmail},
			VATPercentage: b.VATPercentage, DiscountPercentage: b.DiscountPercentage, AllowDebt: b.AllowDebt,
			MaxDebt: maxDebt, PayingByInvoice: b.PayingByInvoice, WelcomeCredit: welcome})
		return acct, renameFields(err, billingFields)
	}, billingAccountFrom)
}

func (s *server) listBillingAccounts(ctx context.Context, in *listBillingAccountsInput) (*output[list[billingAccount]], error) {
	return call(ctx, s, func(a actor.Actor) ([]billing.Account, error) {
		return s.d.Billing.ListAccounts(ctx, a, in.ShowDeleted)
	}, func(accts []billing.Account) list[billingAccount] {
		return list[billingAccount]{Items: wire.Map(accts, billingAccountFrom)}
	})
}

func (s *server) getBillingAccount(ctx context.Context, in *accountIDParam) (*output[billingAccount], error) {
	return call(ctx, s, func(a actor.Actor) (billing.Account, error) {
		acct, err := s.d.Billing.GetAccount(ctx, a, in.ID)
		return acct, renameFields(err, billingFields)
	}, billingAccountFrom)
}

func (s *server) updateBillingAccount(ctx context.Context, in *updateBillingAccountInput) (*output[billingAccount], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (billing.Account, error) {
		upd := billing.AdminInput{VATPercentage: b.VATPercentage, DiscountPercentage: b.DiscountPercentage,
			AllowDebt: b.AllowDebt, PayingByInvoice: b.PayingByInvoice, IsActive: b.IsActive}
		if b.MaxDebt != nil {
			acct, err := s.d.Billing.GetAccount(ctx, a, in.ID)
			if err != nil {
				return billing.Account{}, renameFields(err, billingFields)
			}
			if *b.MaxDebt == "" {
				return billing.Account{}, errs.Invalid("maxDebt", "must be an amount such as \"100.00\"")
			}
			m, err := minorUnits("maxDebt", *b.MaxDebt, acct.Cur())
			if err != nil {
				return billing.Account{}, err
			}
			upd.MaxDebt = &m
		}
		acct, err := s.d.Billing.AdminUpdate(ctx, a, in.ID, upd)
		return acct, renameFields(err, billingFields)
	}, billingAccountFrom)
}
