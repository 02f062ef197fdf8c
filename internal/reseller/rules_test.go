package reseller_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/reseller"
)

// wantMsg checks an Invalid error naming field whose message says msg.
func wantMsg(t *testing.T, err error, field, msg string) {
	t.Helper()
	wantErr(t, err, errs.KindInvalid, field)
	if !strings.Contains(err.Error(), msg) {
		t.Fatalf("%s: message %q, want it to say %q", field, err.Error(), msg)
	}
}

// TestCompanyRules: the rules a company input obeys are the service's
// (no dialect repeats them): the choices are checked first, with the
// allowed values quoted as the Partner API writes them, and before the
// company's state is read.
func TestCompanyRules(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		_, p := f.account(t, "rules@example.com")
		create := func(mod func(*reseller.CompanyInput)) error {
			in := ruCompany()
			mod(&in)
			_, err := f.svc.CreateCompany(t.Context(), f.a, p.ID, in)
			return err
		}
		wantMsg(t, create(func(c *reseller.CompanyInput) { c.CountryTwoLetterCode = "US" }),
			"CountryTwoLetterCode", `must be one of "RU", "KZ", "BY"`)
		wantMsg(t, create(func(c *reseller.CompanyInput) { c.TypeAutoInvoiceGeneration = "Weekly" }),
			"TypeAutoInvoiceGeneration", `must be one of "NotGenerate", "StartOfMonth", "DaysBeforeZeroBalance7", "DaysBeforeZeroBalance14"`)
		wantMsg(t, create(func(c *reseller.CompanyInput) { c.DocDeliveryPeriod = "Weekly" }),
			"DocDeliveryPeriod", `must be one of "null", "Monthly", "Quarterly", "Semiannually", "Annually"`)
		// A choice is checked before the tax id, the period before the type.
		wantMsg(t, create(func(c *reseller.CompanyInput) { c.TypeAutoInvoiceGeneration, c.INN = "Weekly", "7838413488" }),
			"TypeAutoInvoiceGeneration", "must be one of")
		wantMsg(t, create(func(c *reseller.CompanyInput) { c.TypeAutoInvoiceGeneration, c.DocDeliveryPeriod = "Weekly", "Daily" }),
			"DocDeliveryPeriod", "must be one of")
		wantMsg(t, create(func(c *reseller.CompanyInput) { c.AutoInvoiceAmount = -1 }), "AutoInvoiceAmount", "must not be negative")
		wantMsg(t, create(func(c *reseller.CompanyInput) { c.AutoInvoiceAmount = reseller.MaxAmount + 1 }),
			"AutoInvoiceAmount", "at most")
		if list, err := f.svc.ListCompanies(t.Context(), f.a, p.ID); err != nil || len(list) != 0 {
			t.Fatalf("refused companies were stored: %+v %v", list, err)
		}

		// An edit's choices are refused as bad input even for an InActive
		// company (whose edit is otherwise a conflict).
		c, err := f.svc.CreateCompany(t.Context(), f.a, p.ID, ruCompany())
		must(t, err)
		_, err = f.svc.DeactivateCompany(t.Context(), f.a, p.ID, c.ID)
		must(t, err)
		edit := ruCompany().CompanyEditInput
		edit.DocDeliveryPeriod = "Weekly"
		_, err = f.svc.UpdateCompany(t.Context(), f.a, p.ID, c.ID, edit)
		wantMsg(t, err, "DocDeliveryPeriod", "must be one of")
		edit = ruCompany().CompanyEditInput
		edit.TypeAutoInvoiceGeneration = ""
		_, err = f.svc.UpdateCompany(t.Context(), f.a, p.ID, c.ID, edit)
		wantMsg(t, err, "TypeAutoInvoiceGeneration", "must be one of")
		_, err = f.svc.UpdateCompany(t.Context(), f.a, p.ID, c.ID, ruCompany().CompanyEditInput)
		wantErr(t, err, errs.KindConflict, "")
	})
}

// TestAmountRules: a debt limit may be zero but not negative, an invoice
// amount must be positive; each names its field.
func TestAmountRules(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		_, p := f.account(t, "amounts@example.com")
		neg, zero := int64(-1), int64(0)
		_, err := f.svc.UpdateProject(t.Context(), f.a, p.ID, reseller.ProjectInput{MaxDebt: &neg})
		wantMsg(t, err, "MaxDebt", "must not be negative")
		big := reseller.MaxAmount + 1
		_, err = f.svc.UpdateProject(t.Context(), f.a, p.ID, reseller.ProjectInput{MaxDebt: &big})
		wantMsg(t, err, "MaxDebt", "at most")
		up, err := f.svc.UpdateProject(t.Context(), f.a, p.ID, reseller.ProjectInput{MaxDebt: &zero})
		must(t, err)
		if up.MaxDebt != 0 {
			t.Fatalf("max debt %d, want 0", up.MaxDebt)
		}
		c, err := f.svc.CreateCompany(t.Context(), f.a, p.ID, ruCompany())
		must(t, err)
		for _, amount := range []int64{0, -100} {
			_, err = f.svc.CreateInvoice(t.Context(), f.a, p.ID, c.ID, amount)
			wantMsg(t, err, "Amount", "must be positive")
		}
		if list, err := f.svc.ListInvoices(t.Context(), f.a, p.ID, c.ID); err != nil || len(list) != 0 {
			t.Fatalf("refused invoices were stored: %+v %v", list, err)
		}
	})
}

// TestChoiceAndPaymentRules: an account's state and an operation's type
// are choices quoted as the Partner API writes them; a payment's or an
// operation's amount is checked before anything else about it; an empty
// payment number is "empty", not merely "required".
func TestChoiceAndPaymentRules(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		_, err := f.svc.CreateAccount(t.Context(), f.a, reseller.CreateAccountInput{Email: "not-an-email", State: "Pending"})
		wantMsg(t, err, "State", `must be one of "NotActivated", "Active"`)
		_, p := f.account(t, "pay@example.com")
		_, err = f.svc.CreateOperation(t.Context(), f.a, p.ID, "Bonus", 100)
		wantMsg(t, err, "TypeOperation", `must be one of "DengiOnlinePlus", "BonusPlus", "BonusMinus"`)
		_, err = f.svc.CreateOperation(t.Context(), f.a, p.ID, "Bonus", 0)
		wantMsg(t, err, "Amount", "must be positive")
		_, err = f.svc.BankPayment(t.Context(), f.a, reseller.BankPaymentInput{Number: "", TIN: "7838413489", Amount: 100, ProjectID: p.ID})
		wantMsg(t, err, "Number", "must not be empty")
		_, err = f.svc.BankPayment(t.Context(), f.a, reseller.BankPaymentInput{Number: " ", TIN: "7838413489", Amount: 100, ProjectID: p.ID})
		wantMsg(t, err, "Number", "is required")
		_, err = f.svc.BankPayment(t.Context(), f.a, reseller.BankPaymentInput{Number: "", TIN: "", Amount: 0, ProjectID: p.ID})
		wantMsg(t, err, "Amount", "must be positive")
		_, err = f.svc.OnlinePayment(t.Context(), f.a, reseller.OnlinePaymentInput{PaymentID: "", Amount: 100, ProjectID: p.ID})
		wantMsg(t, err, "PaymentId", "must not be empty")
		_, err = f.svc.OnlinePayment(t.Context(), f.a, reseller.OnlinePaymentInput{PaymentID: "", Amount: -1, ProjectID: p.ID})
		wantMsg(t, err, "Amount", "must be positive")
		if list, err := f.svc.ListPayments(t.Context(), f.a); err != nil || len(list) != 0 {
			t.Fatalf("refused payments were stored: %+v %v", list, err)
		}
	})
}

// TestReportPeriod: a report's period must not end before it starts; the
// error names the end and the start by the report's own names.
func TestReportPeriod(t *testing.T) {
	each(t, func(t *testing.T, f *fixture) {
		from, to := t0, t0.Add(-time.Hour)
		_, err := f.svc.Report(t.Context(), f.a, 0, from, to)
		wantMsg(t, err, "dateToUtc", "must not be before dateFromUtc")
		_, err = f.svc.ReportByDay(t.Context(), f.a, 0, from, from)
		wantMsg(t, err, "dateTo", "must not be before dateFrom")

		// The bounds as a request sends them: parsed by the service, each
		// mistake naming its bound.
		_, err = f.svc.PeriodReport(t.Context(), f.a, 0, "2019-13-45", "2019-07-10")
		wantMsg(t, err, "dateFromUtc", "must be a date")
		_, err = f.svc.PeriodReport(t.Context(), f.a, 0, "2019-07-10", "2019-07-01")
		wantMsg(t, err, "dateToUtc", "must not be before dateFromUtc")
		_, err = f.svc.DailyReport(t.Context(), f.a, 0, "2021-11-01", "01.12.2021")
		wantMsg(t, err, "dateTo", "must be a date")
		_, err = f.svc.DailyReport(t.Context(), f.a, 0, "2021-11-02", "2021-11-01")
		wantMsg(t, err, "dateTo", "must not be before dateFrom")
		r, err := f.svc.DailyReport(t.Context(), f.a, 0, "2021-11-01", "2021-11-01")
		must(t, err)
		if r.TimeZone == nil || r.Days == nil {
			t.Fatalf("daily report %+v", r)
		}
		list, err := f.svc.PeriodReport(t.Context(), f.a, 0, "2021-11-01", "2021-11-01")
		must(t, err)
		if list == nil {
			t.Fatal("period report: nil list")
		}
	})
}
