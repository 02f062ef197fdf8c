package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/support"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// The demo reseller: a pay-per-use partner of the demo distributor that
// runs its customers through the Partner API v2, in a UTC+6 time zone.
const (
	DemoResellerID       = "0b5e11e2-0006-4000-8000-000000000002"
	DemoResellerEmail    = "jack.brown@example.com" // the seed's ?email=jack.brown finds it
	DemoResellerTimeZone = "Asia/Omsk"
)

// loadResellerDemo creates the reseller (once), its settings, an active
// account with its personal project, a company (the seed's sample), an
// invoice paid by a bank payment, two tickets and a few reviews, and
// makes sure the partner's User and Finance keys of the credentials file
// work. It returns the credentials file's entries.
func (a *App) loadResellerDemo(ctx context.Context, creds map[string]string) (map[string]string, error) {
	sys := actor.System("demo")
	org, err := a.Tenancy.GetOrg(ctx, sys, DemoResellerID)
	if errs.Is(err, errs.KindNotFound) {
		if org, err = a.createResellerDemo(ctx, sys); err != nil {
			return nil, fmt.Errorf("demo reseller: %w", err)
		}
	} else if err != nil {
		return nil, err
	}
	out := map[string]string{"itglobal_partner_id": DemoResellerID}
	for _, k := range []struct{ name, role string }{
		{"itglobal_user_key", reseller.RoleUser},
		{"itglobal_finance_key", reseller.RoleFinance},
	} {
		if key := creds[k.name]; key != "" {
			if got, err := a.Reseller.Authenticate(ctx, key, ""); err == nil && got.OrgID == DemoResellerID &&
				got.ResellerRole == k.role {
				out[k.name] = key
				continue
			}
		}
		created, err := a.Reseller.CreateKey(ctx, sys, DemoResellerID, k.role, "demo "+k.name, "")
		if err != nil {
			return nil, fmt.Errorf("demo %s: %w", k.name, err)
		}
		out[k.name] = created.Secret
	}
	accts, err := a.Reseller.ListAccounts(ctx, resellerActor(org.Path), reseller.AccountFilter{Email: DemoResellerEmail})
	if err != nil {
		return nil, err
	}
	if len(accts) == 1 {
		out["itglobal_account_id"] = accts[0].ID
		out["itglobal_project_id"] = fmt.Sprint(accts[0].PersonalProjectID)
	}
	return out, nil
}

// resellerActor acts as the demo reseller's own User key would.
func resellerActor(path string) actor.Actor {
	return actor.Actor{Type: actor.TypeSystem, ID: "demo", OrgID: DemoResellerID,
		OrgPath: path, OrgKind: actor.Partner, Role: actor.Staff, ResellerRole: reseller.RoleUser, RequestID: "demo"}
}

func (a *App) createResellerDemo(ctx context.Context, sys actor.Actor) (tenancy.Org, error) {
	p, err := a.Tenancy.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ID: DemoResellerID,
		ContractID: DemoOtherContractID, Name: "Demo Reseller",
		Details: "runs its customers through the ITGLOBAL Partner API v2 (/itglobal/v2)"})
	if err != nil {
		return tenancy.Org{}, err
	}
	tz, cur := DemoResellerTimeZone, "RUB"
	features := []string{reseller.FeatureSimpleOneSupport}
	if _, err := a.Reseller.UpdateSettings(ctx, sys, p.ID, reseller.SettingsInput{TimeZone: &tz, Currency: &cur,
		Features: &features}); err != nil {
		return tenancy.Org{}, err
	}
	as := resellerActor(p.Path)
	acct, err := a.Reseller.CreateAccount(ctx, as, reseller.CreateAccountInput{Email: DemoResellerEmail,
		State: reseller.StateActive, AdditionalData: json.RawMessage(`{"Source":"demo"}`)})
	if err != nil {
		return tenancy.Org{}, err
	}
	// The seed's "Create company" sample.
	co, err := a.Reseller.CreateCompany(ctx, as, acct.PersonalProjectID, reseller.CompanyInput{
		CompanyEditInput: reseller.CompanyEditInput{
			CompanyName:               `ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "ИТГЛОБАЛКОМ РУС"`,
			LegalAddress:              "191028, ГОРОД САНКТ-ПЕТЕРБУРГ, ПР-КТ ЛИТЕЙНЫЙ, Д. 26, ЛИТ. А, ОФИС 5-23",
			ActualAddress:             "191028, ГОРОД САНКТ-ПЕТЕРБУРГ, ПР-КТ ЛИТЕЙНЫЙ, Д. 26, ЛИТ. А, ОФИС 5-23",
			KPP:                       "784101001",
			AutoInvoiceAmount:         44400,
			TypeAutoInvoiceGeneration: "DaysBeforeZeroBalance7",
			Ogrn:                      "1089847323180",
			Okpo:                      "87350562",
			Bank:                      "ПУБЛИЧНОЕ АКЦИОНЕРНОЕ ОБЩЕСТВО «БАНК «САНКТ-ПЕТЕРБУРГ»",
			Bik:                       "044030790",
			SignatoryName:             "Иванов Иван Иванович",
			SignatoryJob:              "ГЕНЕРАЛЬНЫЙ ДИРЕКТОР",
			CanUserEditCompanyData:    true,
			FinanceEmail:              "example@gmail.com",
			DocDeliveryPeriod:         "Monthly",
		},
		CountryTwoLetterCode: "RU",
		INN:                  "7838413489",
		AgreementNumber:      "1311/544",
		AgreementDate:        time.Date(2021, 8, 12, 15, 19, 27, 121124000, time.UTC),
		PartnerCompanyID:     1,
	})
	if err != nil {
		return tenancy.Org{}, err
	}
	inv, err := a.Reseller.CreateInvoice(ctx, as, acct.PersonalProjectID, co.ID, 123400)
	if err != nil {
		return tenancy.Org{}, err
	}
	fin := as
	fin.ResellerRole = reseller.RoleFinance
	if _, err := a.Reseller.BankPayment(ctx, fin, reseller.BankPaymentInput{Number: "DEMO-1", TIN: co.INN,
		Amount: inv.Amount, InvoiceNumber: inv.Number, CompanyID: co.ID, ProjectID: acct.PersonalProjectID}); err != nil {
		return tenancy.Org{}, err
	}
	for _, t := range []support.CreateTicketInput{
		{PartnerID: p.ID, Kind: support.KindClient, ProjectID: acct.PersonalProjectID, AccountID: acct.ID,
			Subject: "Cannot reach my server over RDP", Author: DemoResellerEmail,
			Body: "Since this morning RDP to Example-Server times out."},
		{PartnerID: p.ID, Kind: support.KindSystem, ProjectID: acct.PersonalProjectID,
			Subject: "Planned maintenance in ds1", Author: "noc",
			Body: "Storage firmware upgrade on Sunday 02:00–04:00 UTC; no downtime expected."},
	} {
		if _, err := a.Support.CreateTicket(ctx, sys, t); err != nil {
			return tenancy.Org{}, err
		}
	}
	for _, r := range []support.ReviewInput{
		{Author: "Anna K.", Text: "Servers were ready in minutes and support answered at night.", Rating: 5},
		{Author: "Pavel S.", Text: "Clear invoices and a sane API.", Rating: 4},
		{Author: "Olga M.", Text: "Migrated our 1C from on-premise without trouble.", Rating: 5},
	} {
		if _, err := a.Support.AddReview(ctx, sys, r); err != nil {
			return tenancy.Org{}, err
		}
	}
	return p, nil
}
