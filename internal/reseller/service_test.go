package reseller_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

func TestKeysAndSettings(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		k, err := f.svc.CreateKey(ctx, sys, f.partner.ID, reseller.RoleUser, "user key", "")
		must(t, err)
		if !strings.HasPrefix(k.Secret, reseller.KeyPrefix) {
			t.Fatalf("secret %q", k.Secret)
		}
		a, err := f.svc.Authenticate(ctx, k.Secret, "r1")
		must(t, err)
		if a.OrgID != f.partner.ID || a.OrgKind != actor.Partner || a.ResellerRole != reseller.RoleUser || a.Role != actor.Staff {
			t.Fatalf("actor %+v", a)
		}
		_, err = f.svc.Authenticate(ctx, "", "r")
		wantErr(t, err, errs.KindUnauthenticated, "")
		_, err = f.svc.Authenticate(ctx, k.Secret+"x", "r")
		wantErr(t, err, errs.KindUnauthenticated, "")
		_, err = f.svc.CreateKey(ctx, sys, f.partner.ID, "Admin", "bad", "")
		wantErr(t, err, errs.KindInvalid, "role")
		_, err = f.svc.CreateKey(ctx, f.a, f.partner.ID, reseller.RoleUser, "x", "") // a key is not an admin
		wantErr(t, err, errs.KindForbidden, "")
		must(t, f.svc.EnsureKey(ctx, f.partner.ID, reseller.RoleFinance, "fin", "itglobal_finance_key"))
		must(t, f.svc.EnsureKey(ctx, f.partner.ID, reseller.RoleFinance, "fin", "itglobal_finance_key"))
		wantErr(t, f.svc.EnsureKey(ctx, f.other.ID, reseller.RoleFinance, "fin", "itglobal_finance_key"), errs.KindInvalid, "secret")
		keys, err := f.svc.ListKeys(ctx, sys, f.partner.ID)
		must(t, err)
		if len(keys) != 2 {
			t.Fatalf("keys %+v", keys)
		}
		must(t, f.svc.RevokeKey(ctx, sys, f.partner.ID, k.ID))
		must(t, f.svc.RevokeKey(ctx, sys, f.partner.ID, k.ID))
		_, err = f.svc.Authenticate(ctx, k.Secret, "r")
		wantErr(t, err, errs.KindUnauthenticated, "")

		st, err := f.svc.Settings(ctx, f.a, "")
		must(t, err)
		if st.Currency != "RUB" || st.TimeZone != "UTC" || st.Has(reseller.FeatureSimpleOneSupport) {
			t.Fatalf("default settings %+v", st)
		}
		_, err = f.svc.UpdateSettings(ctx, f.a, f.partner.ID, reseller.SettingsInput{}) // partners cannot
		wantErr(t, err, errs.KindForbidden, "")
		bad := []string{"Nope"}
		_, err = f.svc.UpdateSettings(ctx, sys, f.partner.ID, reseller.SettingsInput{Features: &bad})
		wantErr(t, err, errs.KindInvalid, "features[0]")
		tz := "Mars/Base"
		_, err = f.svc.UpdateSettings(ctx, sys, f.partner.ID, reseller.SettingsInput{TimeZone: &tz})
		wantErr(t, err, errs.KindInvalid, "timeZone")
		feats, cur := []string{reseller.FeatureSimpleOneSupport}, "KZT"
		tz = "Asia/Dhaka"
		st, err = f.svc.UpdateSettings(ctx, sys, f.partner.ID, reseller.SettingsInput{Features: &feats, Currency: &cur, TimeZone: &tz})
		must(t, err)
		st2, err := f.svc.Settings(ctx, f.a, "")
		must(t, err)
		if !st2.Has(reseller.FeatureSimpleOneSupport) || st2.Currency != "KZT" || st2.TimeZone != "Asia/Dhaka" {
			t.Fatalf("settings %+v / %+v", st, st2)
		}
		loc, err := f.svc.PartnerLocation(ctx, f.a)
		must(t, err)
		if loc.String() != "Asia/Dhaka" {
			t.Fatalf("location %v", loc)
		}
		must(t, f.svc.RequireFeature(ctx, f.a, reseller.FeatureSimpleOneSupport))
		wantErr(t, f.svc.RequireFeature(ctx, f.oa, reseller.FeatureSimpleOneSupport), errs.KindForbidden, "")
		_, err = f.svc.Settings(ctx, f.oa, f.partner.ID) // another partner's settings are not found
		wantErr(t, err, errs.KindNotFound, "")
	})
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		acct, err := f.svc.CreateAccount(ctx, f.a, reseller.CreateAccountInput{Email: "Jack.Brown@Example.com",
			State: reseller.StateNotActivated, AdditionalData: json.RawMessage(`{"b": 2, "a": [1]}`)})
		must(t, err)
		if acct.State != reseller.StateNotActivated || acct.ActivationToken == "" || acct.PersonalProjectID == 0 ||
			string(acct.AdditionalData) != `{"a":[1],"b":2}` || acct.Email != "jack.brown@example.com" {
			t.Fatalf("account %+v", acct)
		}
		// The project's billing account is the reseller's: billing's own
		// writes (the native and idcloudhost billing routes) refuse it.
		err = f.billing.DeleteAccount(ctx, actor.System(""), acct.PersonalProjectID)
		wantErr(t, err, errs.KindConflict, "billing_account_id")
		_, err = f.billing.AdminUpdate(ctx, actor.System(""), acct.PersonalProjectID, billing.AdminInput{})
		wantErr(t, err, errs.KindConflict, "billing_account_id")
		mails, err := f.st.ListOutboxEmails(ctx, 10)
		must(t, err)
		if len(mails) != 1 || mails[0].To != acct.Email || !strings.Contains(mails[0].Body, acct.ActivationToken) {
			t.Fatalf("outbox %+v", mails)
		}
		entries, err := f.st.ListAudit(ctx, "/", "", 100)
		must(t, err)
		sent := 0
		for _, e := range entries {
			if e.Action == "account.activation_sent" && e.ObjectID == acct.ID {
				sent++
			}
		}
		if sent != 1 {
			t.Fatalf("activation audit rows: %d", sent)
		}
		_, err = f.svc.ActivateAccount(ctx, f.a, acct.ID, "wrong")
		wantErr(t, err, errs.KindInvalid, "token")
		_, err = f.svc.ActivateAccount(ctx, f.a, acct.ID, "")
		wantErr(t, err, errs.KindInvalid, "token")
		act, err := f.svc.ActivateAccount(ctx, f.a, acct.ID, acct.ActivationToken)
		must(t, err)
		if act.State != reseller.StateActive || act.ActivationToken != "" || act.ActivatedAt == nil {
			t.Fatalf("activated %+v", act)
		}
		internal, err := f.svc.CreateAccount(ctx, f.a, reseller.CreateAccountInput{Email: "ops@example.com",
			State: reseller.StateActive, InternalRole: true})
		must(t, err)

		for _, c := range []struct {
			f    reseller.AccountFilter
			want int
		}{
			{reseller.AccountFilter{}, 2},
			{reseller.AccountFilter{Email: "jack.brown"}, 1},
			{reseller.AccountFilter{Email: "JACK"}, 1},
			{reseller.AccountFilter{Email: "nobody"}, 0},
			{reseller.AccountFilter{InternalOnly: true}, 1},
		} {
			list, err := f.svc.ListAccounts(ctx, f.a, c.f)
			must(t, err)
			if len(list) != c.want {
				t.Fatalf("ListAccounts(%+v) = %d, want %d", c.f, len(list), c.want)
			}
		}
		if list, _ := f.svc.ListAccounts(ctx, f.oa, reseller.AccountFilter{}); len(list) != 0 {
			t.Fatalf("another partner sees %d accounts", len(list))
		}
		_, err = f.svc.GetAccount(ctx, f.oa, internal.ID)
		wantErr(t, err, errs.KindNotFound, "")

		// Bad input changes nothing.
		for _, c := range []struct {
			in    reseller.CreateAccountInput
			field string
		}{
			{reseller.CreateAccountInput{Email: "not an email", State: reseller.StateActive}, "Email"},
			{reseller.CreateAccountInput{Email: "", State: reseller.StateActive}, "Email"},
			{reseller.CreateAccountInput{Email: "a@example.com", State: "active"}, "State"},
			{reseller.CreateAccountInput{Email: "a@example.com", State: reseller.StateActive, AdditionalData: json.RawMessage(`[1]`)}, "AdditionalData"},
			{reseller.CreateAccountInput{Email: "a@example.com", State: reseller.StateActive, AdditionalData: json.RawMessage(`{`)}, "AdditionalData"},
		} {
			_, err := f.svc.CreateAccount(ctx, f.a, c.in)
			wantErr(t, err, errs.KindInvalid, c.field)
		}
		list, _ := f.svc.ListAccounts(ctx, f.a, reseller.AccountFilter{})
		projects, _ := f.svc.ListProjects(ctx, f.a)
		if len(list) != 2 || len(projects) != 2 {
			t.Fatalf("bad input changed something: %d accounts, %d projects", len(list), len(projects))
		}
	})
}

// TestDeleteAccountGuards checks IT-5's three guards one at a time, each
// failing alone with a message naming it, then a deletion that passes.
func TestDeleteAccountGuards(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		acct, p := f.account(t, "owner@example.com")
		friend, fp := f.account(t, "friend@example.com")
		conflict := func(want string) {
			t.Helper()
			err := f.svc.DeleteAccount(ctx, f.a, acct.ID)
			wantErr(t, err, errs.KindConflict, "")
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not explain %q", err, want)
			}
			if _, err := f.svc.GetAccount(ctx, f.a, acct.ID); err != nil {
				t.Fatalf("refused deletion changed the account: %v", err)
			}
		}
		// Guard 1: its project is shared with another account…
		_, err := f.svc.ShareProject(ctx, f.a, p.ID, friend.ID)
		must(t, err)
		conflict("only its personal project")
		_, err = f.svc.UnshareProject(ctx, f.a, p.ID, friend.ID)
		must(t, err)
		// … or it is a member of another account's project.
		_, err = f.svc.ShareProject(ctx, f.a, fp.ID, acct.ID)
		must(t, err)
		conflict("member of 1 other project")
		_, err = f.svc.UnshareProject(ctx, f.a, fp.ID, acct.ID)
		must(t, err)
		_, err = f.svc.UnshareProject(ctx, f.a, fp.ID, friend.ID)
		wantErr(t, err, errs.KindInvalid, "accountId") // the owner stays

		// Guard 2: a positive balance.
		_, err = f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpDengiOnlinePlus, 100)
		must(t, err)
		conflict("balance must be zero or negative")
		_, _, err = f.charge(p.ID, 100, "k1")
		must(t, err)

		// Guard 3: active services, or open tickets.
		f.services.set(p.ID, 2)
		conflict("2 active service(s)")
		f.services.set(p.ID, 0)
		f.tickets.set(p.ID, 1)
		conflict("1 open ticket(s)")
		f.tickets.set(p.ID, 0)

		// Two failing together are both named.
		f.services.set(p.ID, 1)
		_, err = f.svc.ShareProject(ctx, f.a, p.ID, friend.ID)
		must(t, err)
		err = f.svc.DeleteAccount(ctx, f.a, acct.ID)
		if err == nil || !strings.Contains(err.Error(), "personal project") || !strings.Contains(err.Error(), "active service") {
			t.Fatalf("both guards: %v", err)
		}
		f.services.set(p.ID, 0)
		_, err = f.svc.UnshareProject(ctx, f.a, p.ID, friend.ID)
		must(t, err)

		// Another partner cannot delete it.
		wantErr(t, f.svc.DeleteAccount(ctx, f.oa, acct.ID), errs.KindNotFound, "")
		must(t, f.svc.DeleteAccount(ctx, f.a, acct.ID))
		_, err = f.svc.GetAccount(ctx, f.a, acct.ID)
		wantErr(t, err, errs.KindNotFound, "")
		_, err = f.svc.GetProject(ctx, f.a, p.ID)
		wantErr(t, err, errs.KindNotFound, "")
		f.trial(t)
	})
}

func TestSimpleOne(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		in := reseller.CreateSimpleOneInput{CompanyID: "168024140823013231", UserID: "1448024140823013481", Email: "so@example.com"}
		_, err := f.svc.CreateSimpleOneAccount(ctx, f.a, in)
		wantErr(t, err, errs.KindForbidden, "")
		feats := []string{reseller.FeatureSimpleOneSupport}
		_, err = f.svc.UpdateSettings(ctx, sys, f.partner.ID, reseller.SettingsInput{Features: &feats})
		must(t, err)
		_, err = f.svc.CreateSimpleOneAccount(ctx, f.a, reseller.CreateSimpleOneInput{CompanyID: "x1", UserID: "1", Email: "a@example.com"})
		wantErr(t, err, errs.KindInvalid, "SimpleOneCompanyId")
		acct, err := f.svc.CreateSimpleOneAccount(ctx, f.a, in)
		must(t, err)
		_, err = f.svc.CreateSimpleOneAccount(ctx, f.a, in)
		wantErr(t, err, errs.KindConflict, "SimpleOneUserId")
		got, err := f.svc.GetSimpleOneAccount(ctx, f.a, acct.ID)
		must(t, err)
		if !got.SimpleOne || got.SimpleOneUserID != in.UserID || got.State != reseller.StateActive {
			t.Fatalf("SimpleOne account %+v", got)
		}
		plain, _ := f.account(t, "plain@example.com")
		_, err = f.svc.GetSimpleOneAccount(ctx, f.a, plain.ID)
		wantErr(t, err, errs.KindNotFound, "")
		yes := true
		list, err := f.svc.ListAccounts(ctx, f.a, reseller.AccountFilter{SimpleOne: &yes})
		must(t, err)
		if len(list) != 1 {
			t.Fatalf("SimpleOne list %d", len(list))
		}
		p, err := f.svc.ChangeSimpleOneCompany(ctx, f.a, acct.PersonalProjectID, "42")
		must(t, err)
		if p.SimpleOneCompanyID != "42" {
			t.Fatalf("project %+v", p)
		}
		got, _ = f.svc.GetAccount(ctx, f.a, acct.ID)
		if got.SimpleOneCompanyID != "42" {
			t.Fatalf("account company %q", got.SimpleOneCompanyID)
		}
		_, err = f.svc.ChangeSimpleOneCompany(ctx, f.a, plain.PersonalProjectID, "42")
		wantErr(t, err, errs.KindNotFound, "")
		// IT-20: a shared project does not block SimpleOne deletion, a
		// positive balance does.
		_, err = f.svc.ShareProject(ctx, f.a, acct.PersonalProjectID, plain.ID)
		must(t, err)
		_, err = f.svc.CreateOperation(ctx, f.a, acct.PersonalProjectID, reseller.OpDengiOnlinePlus, 1)
		must(t, err)
		wantErr(t, f.svc.DeleteSimpleOneAccountByUser(ctx, f.a, in.UserID), errs.KindConflict, "")
		_, _, err = f.charge(acct.PersonalProjectID, 1, "k")
		must(t, err)
		wantErr(t, f.svc.DeleteSimpleOneAccount(ctx, f.a, plain.ID), errs.KindNotFound, "")
		must(t, f.svc.DeleteSimpleOneAccountByUser(ctx, f.a, in.UserID))
		wantErr(t, f.svc.DeleteSimpleOneAccountByUser(ctx, f.a, in.UserID), errs.KindNotFound, "SimpleOneUserId")
		// The user may get a new account now.
		_, err = f.svc.CreateSimpleOneAccount(ctx, f.a, in)
		must(t, err)
	})
}

func TestCompanies(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		_, p := f.account(t, "c@example.com")
		c1, err := f.svc.CreateCompany(ctx, f.a, p.ID, ruCompany())
		must(t, err)
		if c1.State != reseller.CompanyActive || c1.TIN() != "7838413489" {
			t.Fatalf("company %+v", c1)
		}
		kz := ruCompany()
		kz.CountryTwoLetterCode, kz.INN, kz.BIN, kz.KPP, kz.Ogrn, kz.Okpo, kz.Kbe = "KZ", "", "990740002243", "", "", "", "17"
		c2, err := f.svc.CreateCompany(ctx, f.a, p.ID, kz)
		must(t, err)
		list, err := f.svc.ListCompanies(ctx, f.a, p.ID)
		must(t, err)
		if len(list) != 2 || list[0].State != reseller.CompanyInActive || list[1].State != reseller.CompanyActive {
			t.Fatalf("one active: %+v", list)
		}
		edit := kz.CompanyEditInput
		edit.CompanyName = "Renamed"
		_, err = f.svc.UpdateCompany(ctx, f.a, p.ID, c1.ID, edit)
		wantErr(t, err, errs.KindConflict, "")
		up, err := f.svc.UpdateCompany(ctx, f.a, p.ID, c2.ID, edit)
		must(t, err)
		if up.CompanyName != "Renamed" || up.State != reseller.CompanyActive || up.BIN != "990740002243" {
			t.Fatalf("edited %+v", up)
		}
		d1, err := f.svc.DeactivateCompany(ctx, f.a, p.ID, c2.ID)
		must(t, err)
		d2, err := f.svc.DeactivateCompany(ctx, f.a, p.ID, c2.ID)
		must(t, err)
		if d1.State != reseller.CompanyInActive || d2.UpdatedAt != d1.UpdatedAt {
			t.Fatalf("deactivate %+v %+v", d1, d2)
		}
		_, err = f.svc.GetCompany(ctx, f.oa, p.ID, c2.ID)
		wantErr(t, err, errs.KindNotFound, "")

		// Bad input: each rule names its field, and nothing changes.
		bad := func(mod func(*reseller.CompanyInput), field string) {
			t.Helper()
			in := ruCompany()
			mod(&in)
			_, err := f.svc.CreateCompany(ctx, f.a, p.ID, in)
			wantErr(t, err, errs.KindInvalid, field)
		}
		bad(func(c *reseller.CompanyInput) { c.INN = "7838413488" }, "INN")
		bad(func(c *reseller.CompanyInput) { c.INN = "" }, "INN")
		bad(func(c *reseller.CompanyInput) { c.CountryTwoLetterCode = "DE" }, "CountryTwoLetterCode")
		bad(func(c *reseller.CompanyInput) { c.BIN = "990740002243" }, "BIN")
		bad(func(c *reseller.CompanyInput) {
			c.CountryTwoLetterCode, c.INN, c.KPP, c.Ogrn, c.Okpo, c.BIN = "KZ", "", "", "", "", "990740002244"
		}, "BIN")
		bad(func(c *reseller.CompanyInput) {
			c.CountryTwoLetterCode, c.INN, c.KPP, c.Ogrn, c.Okpo, c.UNP = "BY", "", "", "", "", "19034567"
		}, "UNP")
		bad(func(c *reseller.CompanyInput) { c.CountryTwoLetterCode, c.INN, c.UNP = "BY", "", "190345678" }, "KPP")
		bad(func(c *reseller.CompanyInput) { c.Kbe = "17" }, "Kbe")
		bad(func(c *reseller.CompanyInput) { c.Ogrn = "1089847323181" }, "Ogrn")
		bad(func(c *reseller.CompanyInput) { c.TypeAutoInvoiceGeneration = "Daily" }, "TypeAutoInvoiceGeneration")
		bad(func(c *reseller.CompanyInput) { c.DocDeliveryPeriod = "Weekly" }, "DocDeliveryPeriod")
		bad(func(c *reseller.CompanyInput) { c.FinanceEmail = "nope" }, "FinanceEmail")
		bad(func(c *reseller.CompanyInput) { c.LegalAddress = " " }, "LegalAddress")
		bad(func(c *reseller.CompanyInput) { c.AutoInvoiceAmount = -1 }, "AutoInvoiceAmount")
		bad(func(c *reseller.CompanyInput) { c.AgreementDate = time.Time{} }, "AgreementDate")
		bad(func(c *reseller.CompanyInput) { c.PartnerCompanyID = 0 }, "PartnerCompanyId")
		okNull := ruCompany()
		okNull.DocDeliveryPeriod = "null"
		after, _ := f.svc.ListCompanies(ctx, f.a, p.ID)
		if len(after) != 2 || after[1].State != reseller.CompanyInActive {
			t.Fatalf("bad input changed companies: %+v", after)
		}
		c3, err := f.svc.CreateCompany(ctx, f.a, p.ID, okNull)
		must(t, err)
		if c3.DocDeliveryPeriod != "" {
			t.Fatalf(`"null" period stored as %q`, c3.DocDeliveryPeriod)
		}
	})
}

func TestInvoicesAndBankPayment(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		_, p := f.account(t, "inv@example.com")
		c, err := f.svc.CreateCompany(ctx, f.a, p.ID, ruCompany())
		must(t, err)
		inv, err := f.svc.CreateInvoice(ctx, f.a, p.ID, c.ID, 123400)
		must(t, err)
		// 1234.00 incl. 20% VAT: VAT = 123400·20/120 = 20566.67 → 20567.
		if inv.Number != "1" || inv.State != reseller.InvoiceNew || inv.VAT != 20567 || inv.Net != 102833 || inv.VATRate != 20 {
			t.Fatalf("invoice %+v", inv)
		}
		_, err = f.svc.CreateInvoice(ctx, f.a, p.ID, c.ID, 0)
		wantErr(t, err, errs.KindInvalid, "Amount")
		// Partial payment, then the rest.
		pay1, err := f.svc.BankPayment(ctx, f.a, reseller.BankPaymentInput{Number: "B1", TIN: "7838413489", Amount: 100000,
			InvoiceNumber: "1", CompanyID: c.ID, ProjectID: p.ID})
		must(t, err)
		got, _ := f.svc.GetInvoice(ctx, f.a, p.ID, c.ID, "1")
		if pay1.InvoicePaid || got.State != reseller.InvoiceNew || got.PaidAmount != 100000 {
			t.Fatalf("partial: %+v %+v", pay1, got)
		}
		// Bad input changes nothing.
		for _, c2 := range []struct {
			in    reseller.BankPaymentInput
			field string
			kind  errs.Kind
		}{
			{reseller.BankPaymentInput{Number: "B2", TIN: " ", Amount: 1, InvoiceNumber: "1", CompanyID: c.ID, ProjectID: p.ID}, "TIN", errs.KindInvalid},
			{reseller.BankPaymentInput{Number: "B2", TIN: "7838413489", Amount: 1, InvoiceNumber: "9", CompanyID: c.ID, ProjectID: p.ID}, "InvoiceNumber", errs.KindNotFound},
			{reseller.BankPaymentInput{Number: "B2", TIN: "7838413489", Amount: 1, InvoiceNumber: "x", CompanyID: c.ID, ProjectID: p.ID}, "InvoiceNumber", errs.KindInvalid},
			{reseller.BankPaymentInput{Number: "B2", TIN: "7838413489", Amount: 0, CompanyID: c.ID, ProjectID: p.ID}, "Amount", errs.KindInvalid},
			{reseller.BankPaymentInput{Number: "", TIN: "7838413489", Amount: 1, ProjectID: p.ID}, "Number", errs.KindInvalid},
			// Issue 14: a NUL byte reached PostgreSQL (500).
			{reseller.BankPaymentInput{Number: "B\x00", TIN: "7838413489", Amount: 1, ProjectID: p.ID}, "Number", errs.KindInvalid},
			{reseller.BankPaymentInput{Number: "B3", TIN: "78384\x0013489", Amount: 1, ProjectID: p.ID}, "TIN", errs.KindInvalid},
			{reseller.BankPaymentInput{Number: "B2", TIN: "7838413489", Amount: 1, ProjectID: p.ID + 100}, "ProjectId", errs.KindNotFound},
			{reseller.BankPaymentInput{Number: "B2", TIN: "7838413489", Amount: 1, CompanyID: c.ID + 100, ProjectID: p.ID}, "CompanyId", errs.KindNotFound},
			{reseller.BankPaymentInput{Number: "B1", TIN: "7838413489", Amount: 2, ProjectID: p.ID}, "Number", errs.KindConflict},
		} {
			_, err := f.svc.BankPayment(ctx, f.a, c2.in)
			wantErr(t, err, c2.kind, c2.field)
		}
		pays, _ := f.svc.ListPayments(ctx, f.a)
		if bal, _, _ := f.svc.Balance(ctx, p.ID); bal != 100000 || len(pays) != 1 {
			t.Fatalf("bad input changed something: balance %d, %d payments", bal, len(pays))
		}
		// The rest comes from another payer (a parent company): the TIN is
		// recorded, not matched, and the invoice is paid.
		pay2, err := f.svc.BankPayment(ctx, f.a, reseller.BankPaymentInput{Number: "B2", TIN: "7707083893", Amount: 23400,
			InvoiceNumber: "1", ProjectID: p.ID})
		must(t, err)
		got, _ = f.svc.GetInvoice(ctx, f.a, p.ID, c.ID, "1")
		if !pay2.InvoicePaid || pay2.TIN != "7707083893" || got.State != reseller.InvoicePaid || got.PaidAt == nil {
			t.Fatalf("paid: %+v %+v", pay2, got)
		}
		// An online payment with a replay.
		on, err := f.svc.OnlinePayment(ctx, f.a, reseller.OnlinePaymentInput{PaymentID: "BF1R3", Amount: 2021, ProjectID: p.ID})
		must(t, err)
		on2, err := f.svc.OnlinePayment(ctx, f.a, reseller.OnlinePaymentInput{PaymentID: "BF1R3", Amount: 2021, ProjectID: p.ID})
		must(t, err)
		_, err = f.svc.OnlinePayment(ctx, f.a, reseller.OnlinePaymentInput{PaymentID: "BF1R3", Amount: 2022, ProjectID: p.ID})
		wantErr(t, err, errs.KindConflict, "PaymentId")
		if on.ID != on2.ID {
			t.Fatalf("replay returned another payment: %d vs %d", on.ID, on2.ID)
		}
		if bal, _, _ := f.svc.Balance(ctx, p.ID); bal != 123400+2021 {
			t.Fatalf("balance %d", bal)
		}
		// Another partner sees none of it.
		if l, _ := f.svc.ListPayments(ctx, f.oa); len(l) != 0 {
			t.Fatalf("other partner sees %d payments", len(l))
		}
		_, err = f.svc.GetInvoice(ctx, f.oa, p.ID, c.ID, "1")
		wantErr(t, err, errs.KindNotFound, "")
		f.trial(t)
	})
}

// TestGaplessInvoiceNumbers: 30 concurrent creates get 1..30 exactly;
// refused creates in between take no number.
func TestGaplessInvoiceNumbers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		_, p := f.account(t, "gap@example.com")
		c, err := f.svc.CreateCompany(ctx, f.a, p.ID, ruCompany())
		must(t, err)
		_, p2 := f.account(t, "gap2@example.com")
		c2, err := f.svc.CreateCompany(ctx, f.a, p2.ID, ruCompany())
		must(t, err)
		_, err = f.svc.DeactivateCompany(ctx, f.a, p2.ID, c2.ID)
		must(t, err)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errc := make(chan error, 40)
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if i%4 == 3 { // refused: the company is InActive
					_, err := f.svc.CreateInvoice(ctx, f.a, p2.ID, c2.ID, 100)
					if !errs.Is(err, errs.KindConflict) {
						errc <- fmt.Errorf("inactive company: %v", err)
					}
					return
				}
				if _, err := f.svc.CreateInvoice(ctx, f.a, p.ID, c.ID, int64(100+i)); err != nil {
					errc <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		list, err := f.svc.ListInvoices(ctx, f.a, p.ID, c.ID)
		must(t, err)
		if len(list) != 30 {
			t.Fatalf("%d invoices", len(list))
		}
		for i, inv := range list {
			if inv.Number != fmt.Sprint(i+1) {
				t.Fatalf("invoice %d has number %s", i, inv.Number)
			}
		}
	})
}

// TestBankPaymentRace: 50 parallel bank payments, 10 of which reuse an
// earlier Number with the same body, credit exactly 40 payments once each,
// and every replay returns the first payment.
func TestBankPaymentRace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		_, p1 := f.account(t, "race1@example.com")
		_, p2 := f.account(t, "race2@example.com")
		in := func(i int) reseller.BankPaymentInput {
			proj := p1.ID
			if i%2 == 1 {
				proj = p2.ID
			}
			return reseller.BankPaymentInput{Number: fmt.Sprintf("N-%02d", i), TIN: "7838413489", Amount: int64(1000 + i), ProjectID: proj}
		}
		var want int64
		for i := range 40 {
			want += int64(1000 + i)
		}
		results := make([]reseller.Payment, 50)
		errsOut := make([]error, 50)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				i := g
				if g >= 40 {
					i = (g - 40) * 3 // reuse N-00, N-03, … N-27
				}
				results[g], errsOut[g] = f.svc.BankPayment(ctx, f.a, in(i))
			}()
		}
		close(start)
		wg.Wait()
		for g, err := range errsOut {
			if err != nil {
				t.Fatalf("payment %d: %v", g, err)
			}
		}
		for g := 40; g < 50; g++ {
			first := results[(g-40)*3]
			if results[g].ID != first.ID || results[g].LedgerTxID != first.LedgerTxID {
				t.Fatalf("replay %d returned %+v, first was %+v", g, results[g], first)
			}
		}
		pays, err := f.svc.ListPayments(ctx, f.a)
		must(t, err)
		b1, _, _ := f.svc.Balance(ctx, p1.ID)
		b2, _, _ := f.svc.Balance(ctx, p2.ID)
		rep, err := f.svc.Report(ctx, f.a, 0, t0.Add(-time.Hour), t0.Add(time.Hour))
		must(t, err)
		ops := 0
		for _, pp := range rep {
			for _, op := range pp.Operations {
				if op.Type == reseller.OpBankPayment {
					ops++
				}
			}
		}
		if len(pays) != 40 || b1+b2 != want || ops != 40 {
			t.Fatalf("%d payments, balance %d (want %d), %d operations", len(pays), b1+b2, want, ops)
		}
		f.trial(t)
	})
}

// TestBonusMinusRace: racing BonusMinus operations never take the bonus
// below zero; exactly as many succeed as the bonus covers.
func TestBonusMinusRace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		_, p := f.account(t, "bonus@example.com")
		_, err := f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpBonusPlus, 1000)
		must(t, err)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		start := make(chan struct{})
		for range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpBonusMinus, 100)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errs.Is(err, errs.KindInsufficientFunds):
					refused++
				default:
					t.Errorf("BonusMinus: %v", err)
				}
			}()
		}
		close(start)
		wg.Wait()
		money, bonus, err := f.svc.Balance(ctx, p.ID)
		must(t, err)
		if ok != 10 || refused != 20 || bonus != 0 || money != 0 {
			t.Fatalf("%d ok, %d refused, bonus %d, money %d", ok, refused, bonus, money)
		}
		_, err = f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpBonusMinus, 1)
		wantErr(t, err, errs.KindInsufficientFunds, "Amount")
		_, err = f.svc.CreateOperation(ctx, f.a, p.ID, "Dengi", 1)
		wantErr(t, err, errs.KindInvalid, "TypeOperation")
		_, err = f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpBonusPlus, 0)
		wantErr(t, err, errs.KindInvalid, "Amount")
		f.trial(t)
	})
}

// TestBlockingAndCharges: a charge takes bonus first, then money, which
// may go negative and block the project (orders refused, hook told); a
// credit lifts it; postpay with MaxDebt moves the threshold.
func TestBlockingAndCharges(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		_, p := f.account(t, "block@example.com")
		_, err := f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpBonusPlus, 300)
		must(t, err)
		_, err = f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpDengiOnlinePlus, 500)
		must(t, err)
		op, isNew, err := f.charge(p.ID, 1200, "reseller:charge:1:2026-03-02T00:00:00Z")
		must(t, err)
		if !isNew || op.Bonus != -300 || op.Money != -900 {
			t.Fatalf("charge %+v new=%v", op, isNew)
		}
		op2, isNew2, err := f.charge(p.ID, 1200, "reseller:charge:1:2026-03-02T00:00:00Z")
		must(t, err)
		if isNew2 || op2.ID != op.ID {
			t.Fatalf("replayed charge %+v new=%v", op2, isNew2)
		}
		got, _ := f.svc.GetProject(ctx, f.a, p.ID)
		if got.Balance != -400 || got.Bonus != 0 || !got.Blocked || got.BlockedAt == nil {
			t.Fatalf("project %+v", got)
		}
		err = sqlstore.Reseller{Store: f.st}.Tx(ctx, func(tx reseller.Store) error {
			_, err := f.svc.AdmitTx(ctx, tx, f.a, p.ID)
			return err
		})
		wantErr(t, err, errs.KindConflict, "")
		// Postpaid with enough debt allowed: unblocked.
		yes, debt := true, int64(500)
		got, err = f.svc.UpdateProject(ctx, f.a, p.ID, reseller.ProjectInput{IsPostPaid: &yes, MaxDebt: &debt})
		must(t, err)
		if got.Blocked {
			t.Fatalf("postpaid within MaxDebt still blocked: %+v", got)
		}
		no := false
		got, err = f.svc.UpdateProject(ctx, f.a, p.ID, reseller.ProjectInput{IsPostPaid: &no})
		must(t, err)
		if !got.Blocked {
			t.Fatal("prepaid below 0 not blocked")
		}
		neg := int64(-1)
		_, err = f.svc.UpdateProject(ctx, f.a, p.ID, reseller.ProjectInput{MaxDebt: &neg})
		wantErr(t, err, errs.KindInvalid, "MaxDebt")
		_, err = f.svc.OnlinePayment(ctx, f.a, reseller.OnlinePaymentInput{PaymentID: "P1", Amount: 400, ProjectID: p.ID})
		must(t, err)
		got, _ = f.svc.GetProject(ctx, f.a, p.ID)
		if got.Blocked || got.Balance != 0 {
			t.Fatalf("after payment %+v", got)
		}
		err = sqlstore.Reseller{Store: f.st}.Tx(ctx, func(tx reseller.Store) error {
			_, err := f.svc.AdmitTx(ctx, tx, f.a, p.ID)
			return err
		})
		must(t, err)
		f.blocks.mu.Lock()
		calls := fmt.Sprint(f.blocks.calls)
		f.blocks.mu.Unlock()
		if calls != "[true false true false]" {
			t.Fatalf("block hook calls %s", calls)
		}
		// VAT of charges: revenue + VAT = the charge.
		f.trial(t)
	})
}

func TestReports(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		tz := "Asia/Dhaka" // UTC+6, no DST
		_, err := f.svc.UpdateSettings(ctx, sys, f.partner.ID, reseller.SettingsInput{TimeZone: &tz})
		must(t, err)
		_, p := f.account(t, "rep@example.com")
		_, q := f.account(t, "rep2@example.com")
		at := func(s string) {
			tm, err := time.Parse(time.RFC3339, s)
			must(t, err)
			f.clk.Set(tm)
		}
		at("2021-11-01T17:30:00Z") // 23:30 in Dhaka, Nov 1
		_, err = f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpDengiOnlinePlus, 100)
		must(t, err)
		at("2021-11-01T18:30:00Z") // 00:30 in Dhaka, Nov 2; still Nov 1 in UTC
		_, err = f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpBonusPlus, 50)
		must(t, err)
		_, err = f.svc.CreateOperation(ctx, f.a, q.ID, reseller.OpDengiOnlinePlus, 7)
		must(t, err)
		at("2021-11-02T10:00:00Z")
		_, err = f.svc.CreateOperation(ctx, f.a, p.ID, reseller.OpBonusMinus, 20)
		must(t, err)

		from, _ := reseller.ParseReportDate("dateFromUtc", "2021-11-01", time.UTC, false)
		to, _ := reseller.ParseReportDate("dateToUtc", "2021-11-01", time.UTC, true)
		rep, err := f.svc.Report(ctx, f.a, 0, from, to)
		must(t, err)
		if len(rep) != 2 || rep[0].ProjectID != p.ID || len(rep[0].Operations) != 2 || rep[0].MoneyIn != 100 ||
			rep[0].BonusIn != 50 || rep[1].ProjectID != q.ID {
			t.Fatalf("UTC report %+v", rep)
		}
		one, err := f.svc.Report(ctx, f.a, q.ID, from, to)
		must(t, err)
		if len(one) != 1 || len(one[0].Operations) != 1 {
			t.Fatalf("project report %+v", one)
		}

		loc, _ := f.svc.PartnerLocation(ctx, f.a)
		lf, _ := reseller.ParseReportDate("dateFrom", "2021-11-01", loc, false)
		lt, _ := reseller.ParseReportDate("dateTo", "2021-11-02", loc, true)
		days, err := f.svc.ReportByDay(ctx, f.a, p.ID, lf, lt)
		must(t, err)
		if len(days) != 2 || days[0].Day != "2021-11-01" || len(days[0].Operations) != 1 || days[1].Day != "2021-11-02" ||
			len(days[1].Operations) != 2 || days[1].BonusOut != 20 {
			t.Fatalf("by-day report %+v", days)
		}
		if days[1].From.UTC().Format(time.RFC3339) != "2021-11-01T18:00:00Z" {
			t.Fatalf("day starts at %v", days[1].From.UTC())
		}
		_, err = f.svc.Report(ctx, f.a, 0, to, from)
		wantErr(t, err, errs.KindInvalid, "dateToUtc")
		_, err = f.svc.Report(ctx, f.oa, p.ID, from, to)
		wantErr(t, err, errs.KindNotFound, "")
		other, err := f.svc.ReportByDay(ctx, f.oa, 0, lf, lt)
		must(t, err)
		if len(other) != 0 {
			t.Fatalf("other partner sees %+v", other)
		}
	})
}

func TestParseReportDate(t *testing.T) {
	t.Parallel()
	dhaka, err := time.LoadLocation("Asia/Dhaka")
	must(t, err)
	for _, c := range []struct {
		s     string
		loc   *time.Location
		upper bool
		want  string // RFC 3339 in UTC; "" = invalid
	}{
		{"2019-07-01", time.UTC, false, "2019-07-01T00:00:00Z"},
		{"2019-07-01", time.UTC, true, "2019-07-02T00:00:00Z"},
		{"2019-07-01", dhaka, false, "2019-06-30T18:00:00Z"},
		{"20190701T000000Z", dhaka, false, "2019-07-01T00:00:00Z"},
		{"20190701T235959Z", time.UTC, true, "2019-07-02T00:00:00Z"},
		{"2023-03-19T12:30:00", dhaka, false, "2023-03-19T06:30:00Z"},
		{"2023-04-21T09:15:30", time.UTC, true, "2023-04-21T09:15:31Z"},
		{"2021-08-12T15:19:27.1211245Z", time.UTC, false, "2021-08-12T15:19:27.1211245Z"},
		{"2021-08-12T15:19:27.5Z", time.UTC, true, "2021-08-12T15:19:27.6Z"},
		{"2021-08-12T15:19:27+03:00", time.UTC, false, "2021-08-12T12:19:27Z"},
		{"2021-08-12T15:19:27-01:30", dhaka, false, "2021-08-12T16:49:27Z"},
		{"2019-7-01", time.UTC, false, ""},
		{"2019-02-30", time.UTC, false, ""},
		{"20190701", time.UTC, false, ""},
		{"20190701T000000", time.UTC, false, ""},
		{"2019-07-01T25:00:00", time.UTC, false, ""},
		{"2019-07-01 00:00:00", time.UTC, false, ""},
		{"2019-07-01T00:00:00+24:00", time.UTC, false, ""},
		{"2019-07-01T00:00:00.Z", time.UTC, false, ""},
		{"", time.UTC, false, ""},
		{"yesterday", time.UTC, false, ""},
	} {
		got, err := reseller.ParseReportDate("dateFromUtc", c.s, c.loc, c.upper)
		if c.want == "" {
			wantErr(t, err, errs.KindInvalid, "dateFromUtc")
			continue
		}
		must(t, err)
		if s := got.UTC().Format(time.RFC3339Nano); s != c.want {
			t.Errorf("ParseReportDate(%q, %v, %v) = %s, want %s", c.s, c.loc, c.upper, s, c.want)
		}
	}
}

func FuzzParseReportDate(f *testing.F) {
	for _, s := range []string{"2019-07-01", "20190701T000000Z", "2023-03-19T12:30:00", "2021-08-12T15:19:27.1211245Z",
		"2021-08-12T15:19:27+03:00", "x"} {
		f.Add(s)
	}
	dhaka, err := time.LoadLocation("Asia/Dhaka")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, loc := range []*time.Location{time.UTC, dhaka} {
			lo, err1 := reseller.ParseReportDate("d", s, loc, false)
			hi, err2 := reseller.ParseReportDate("d", s, loc, true)
			if (err1 == nil) != (err2 == nil) {
				t.Fatalf("%q: lower %v, upper %v", s, err1, err2)
			}
			if err1 == nil && !hi.After(lo) {
				t.Fatalf("%q: upper %v not after lower %v", s, hi, lo)
			}
			if err1 != nil && !errs.Is(err1, errs.KindInvalid) {
				t.Fatalf("%q: %v", s, err1)
			}
		}
	})
}

// TestPaymentNumberAcrossProjects: the same Number racing for two projects
// (not serialised by one project lock) credits once; the other is a
// conflict naming Number.
func TestPaymentNumberAcrossProjects(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	each(t, func(t *testing.T, f *fixture) {
		_, p1 := f.account(t, "x1@example.com")
		_, p2 := f.account(t, "x2@example.com")
		for round := range 5 {
			num := fmt.Sprintf("X-%d", round)
			var wg sync.WaitGroup
			start := make(chan struct{})
			res := make([]error, 2)
			for i, p := range []int64{p1.ID, p2.ID} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, res[i] = f.svc.BankPayment(ctx, f.a, reseller.BankPaymentInput{Number: num, TIN: "7838413489", Amount: 10, ProjectID: p})
				}()
			}
			close(start)
			wg.Wait()
			okN := 0
			for _, err := range res {
				if err == nil {
					okN++
				} else {
					wantErr(t, err, errs.KindConflict, "Number")
				}
			}
			if okN != 1 {
				t.Fatalf("round %d: %v", round, res)
			}
		}
		b1, _, _ := f.svc.Balance(ctx, p1.ID)
		b2, _, _ := f.svc.Balance(ctx, p2.ID)
		if b1+b2 != 50 {
			t.Fatalf("balances %d + %d", b1, b2)
		}
		f.trial(t)
	})
}
