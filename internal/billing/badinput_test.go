package billing_test

import (
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// state renders everything billing writes: ledger balances, accounts,
// invoices, credit records, e-mails and counters.
func state(t *testing.T, d *db.DB) string {
	t.Helper()
	ctx := t.Context()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id || ':' || balance || ':' || seq FROM ledger_accounts ORDER BY id`,
		`SELECT COUNT(*) || '' FROM ledger_transactions`,
		`SELECT id || ':' || title || ':' || email || ':' || vat_percentage || ':' || discount_percentage || ':' || max_debt || ':' ||
			is_default || ':' || COALESCE(CAST(deleted_at AS TEXT), '-') || ':' || restriction_level || ':' || recurring_payment_amount
			FROM billing_accounts ORDER BY id`,
		`SELECT id || ':' || billing_account_id || ':' || status || ':' || total FROM invoices ORDER BY id`,
		`SELECT COUNT(*) || '' FROM invoice_records`,
		`SELECT id || ':' || amount FROM credit_records ORDER BY id`,
		`SELECT COUNT(*) || '' FROM outbox_emails`,
		`SELECT name || ':' || value FROM counters ORDER BY name`,
	} {
		rows, err := d.Read().QueryContext(ctx, q)
		must(t, err)
		for rows.Next() {
			var s string
			must(t, rows.Scan(&s))
			b.WriteString(s + "\n")
		}
		must(t, rows.Err())
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

// Bad input — out-of-range percentages, unknown and foreign accounts,
// malformed fields, non-positive amounts — gets an error naming the field
// and changes nothing at all.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		a := f.account(20, 0, 500)
		b := f.account(20, 0, 0)
		other := f.org(f.root) // a sibling customer
		foreign, err := f.svc.CreateAccount(ctx, f.op, billing.CreateAccountInput{OrgID: other.ID, UserID: 77})
		must(t, err)
		f.usage.add(a.ID, feb, line("vm", "1", "5"))
		_, err = f.svc.IssueInvoices(ctx, closeFeb, nil)
		must(t, err)
		stranger := actor.Actor{Type: actor.TypeAPIKey, ID: "s", OrgID: "nobody", OrgPath: "/nobody/", OrgKind: actor.Customer, Role: actor.Admin}
		restricted := f.cust
		restricted.BillingAccount = b.ID
		neg, big, negDebt := -1, 101, int64(-5)
		badAmt := dec("-3")

		before := state(t, d)
		for _, c := range []struct {
			name  string
			kind  errs.Kind
			field string
			err   error
		}{
			{"negative VAT", errs.KindInvalid, "vat_percentage", second(f.svc.AdminUpdate(ctx, f.op, a.ID, billing.AdminInput{VATPercentage: &neg}))},
			{"discount over 100", errs.KindInvalid, "discount_percentage", second(f.svc.AdminUpdate(ctx, f.op, a.ID, billing.AdminInput{DiscountPercentage: &big}))},
			{"negative debt", errs.KindInvalid, "max_debt", second(f.svc.AdminUpdate(ctx, f.op, a.ID, billing.AdminInput{MaxDebt: &negDebt}))},
			{"admin by a customer", errs.KindForbidden, "", second(f.svc.AdminUpdate(ctx, f.cust, a.ID, billing.AdminInput{VATPercentage: &big}))},
			{"unknown account update", errs.KindNotFound, "billing_account_id", second(f.svc.UpdateAccount(ctx, f.cust, 999, billing.AccountData{Title: "x"}))},
			{"foreign account update", errs.KindNotFound, "billing_account_id", second(f.svc.UpdateAccount(ctx, f.cust, foreign.ID, billing.AccountData{Title: "x"}))},
			{"stranger update", errs.KindNotFound, "billing_account_id", second(f.svc.UpdateAccount(ctx, stranger, a.ID, billing.AccountData{Title: "x"}))},
			{"restricted token, other account", errs.KindForbidden, "billing_account_id", second(f.svc.UpdateAccount(ctx, restricted, a.ID, billing.AccountData{Title: "x"}))},
			{"bad e-mail", errs.KindInvalid, "email", second(f.svc.UpdateAccount(ctx, f.cust, a.ID, billing.AccountData{Email: "nope"}))},
			{"negative recurring amount", errs.KindInvalid, "recurring_payment_amount", second(f.svc.SetRecurring(ctx, f.cust, a.ID, billing.RecurringInput{Amount: &badAmt}))},
			{"foreign set default", errs.KindNotFound, "billing_account_id", f.svc.SetDefault(ctx, f.cust, foreign.ID)},
			{"foreign delete", errs.KindNotFound, "billing_account_id", f.svc.DeleteAccount(ctx, f.cust, foreign.ID)},
			{"negative id", errs.KindInvalid, "billing_account_id", f.svc.DeleteAccount(ctx, f.cust, -4)},
			{"delete the default", errs.KindPrecondition, "billing_account_id", f.svc.DeleteAccount(ctx, f.cust, a.ID)},
			{"top-up of a foreign account", errs.KindNotFound, "billing_account_id", second(f.svc.CreateTopUpInvoice(ctx, f.cust, foreign.ID, money.NewAmount(100, money.EUR)))},
			{"top-up of an unknown account", errs.KindNotFound, "billing_account_id", second(f.svc.CreateTopUpInvoice(ctx, f.cust, 999, money.NewAmount(100, money.EUR)))},
			{"negative top-up", errs.KindInvalid, "amount", second(f.svc.CreateTopUpInvoice(ctx, f.cust, a.ID, money.NewAmount(-100, money.EUR)))},
			{"unknown invoice", errs.KindNotFound, "invoice_id", second(f.svc.GetInvoice(ctx, f.cust, 999))},
			{"foreign invoice list", errs.KindNotFound, "billing_account_id", second(f.svc.ListInvoices(ctx, f.cust, foreign.ID))},
			{"foreign unpaid amount", errs.KindNotFound, "billing_account_id", second(f.svc.UnpaidAmount(ctx, f.cust, foreign.ID))},
			{"foreign credit list", errs.KindNotFound, "billing_account_id", second(f.svc.ListCredit(ctx, f.cust, foreign.ID))},
		} {
			if c.err == nil || errs.KindOf(c.err) != c.kind || (c.field != "" && errs.FieldOf(c.err) != c.field) {
				t.Errorf("%s: got %v (kind %v, field %q), want kind %v field %q", c.name, c.err, errs.KindOf(c.err), errs.FieldOf(c.err), c.kind, c.field)
			}
		}
		if after := state(t, d); after != before {
			t.Fatalf("bad input changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
		}

		// Usage billed to an account that does not exist: the run reports
		// it, still invoices everyone else, and skips no invoice number.
		f.usage.add(999, feb.AddDate(0, 1, 0), line("ghost", "1", "1"))
		f.usage.add(b.ID, feb.AddDate(0, 1, 0), line("vm", "1", "1"))
		n, err := f.svc.IssueInvoices(ctx, closeFeb.AddDate(0, 1, 0), nil)
		if err == nil || !strings.Contains(err.Error(), "account 999") {
			t.Fatalf("run with a ghost account: %v", err)
		}
		if n != 1 {
			t.Fatalf("issued %d, want 1", n)
		}
		list, err := f.svc.ListInvoices(ctx, f.cust, b.ID)
		must(t, err)
		if len(list) != 1 || list[0].ID != 2 {
			t.Fatalf("b's invoices %+v", list)
		}
		f.trialBalanceZero()
	})
}

func second[T any](_ T, err error) error { return err }
