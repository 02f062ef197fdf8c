package billing_test

import (
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

func TestAccounts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		a := f.account(20, 0, 1000)
		b := f.account(20, 0, 0)
		if !a.IsDefault || b.IsDefault {
			t.Fatalf("first account default %v, second %v", a.IsDefault, b.IsDefault)
		}
		if a.ID != 1 || b.ID != 2 || a.Currency != "EUR" || !a.IsActive {
			t.Fatalf("accounts %d %d %s", a.ID, b.ID, a.Currency)
		}

		// Welcome credit: a credit record and the credit ledger balance.
		credits, err := f.svc.ListCredit(ctx, f.cust, a.ID)
		must(t, err)
		if len(credits) != 1 || credits[0].Amount != 1000 || credits[0].Description != billing.CreditFirstAccount || credits[0].LedgerTransactionID == "" {
			t.Fatalf("welcome credit records: %+v", credits)
		}
		if bal := f.balances(a.ID); bal[ledger.KindCredit] != 1000 || bal[ledger.KindRevenue] != -1000 {
			t.Fatalf("welcome credit balances: %v", bal)
		}
		if n, _ := f.svc.CreditBalance(ctx, a.ID); n != 1000 {
			t.Fatalf("CreditBalance = %d", n)
		}

		// Resolve (ID-amb-24): 0 → the default; a restricted token → its account.
		got, err := f.svc.ResolveAccount(ctx, f.cust, 0)
		must(t, err)
		if got.ID != a.ID {
			t.Fatalf("id 0 resolved to %d, want the default %d", got.ID, a.ID)
		}
		restricted := f.cust
		restricted.BillingAccount = b.ID
		got, err = f.svc.ResolveAccount(ctx, restricted, 0)
		must(t, err)
		if got.ID != b.ID {
			t.Fatalf("restricted token resolved id 0 to %d", got.ID)
		}
		_, err = f.svc.ResolveAccount(ctx, restricted, a.ID)
		wantKind(t, err, errs.KindForbidden)
		list, err := f.svc.ListAccounts(ctx, restricted, true)
		must(t, err)
		if len(list) != 1 || list[0].ID != b.ID {
			t.Fatalf("restricted list: %+v", list)
		}
		// Another tenant sees nothing of ours, and has no default.
		other := f.org(f.customer) // a sibling would do; any org outside f.cust's path
		_ = other
		stranger := actor.Actor{Type: actor.TypeAPIKey, ID: "x", OrgID: other.ID, OrgPath: other.Path + "x/", OrgKind: actor.Customer, Role: actor.Admin}
		_, err = f.svc.GetAccount(ctx, stranger, a.ID)
		wantKind(t, err, errs.KindNotFound)
		_, err = f.svc.ResolveAccount(ctx, stranger, 0)
		wantKind(t, err, errs.KindInvalid)
		_, err = f.svc.GetAccount(ctx, f.cust, 999)
		wantKind(t, err, errs.KindNotFound)
		if errs.FieldOf(err) != "billing_account_id" {
			t.Fatalf("not found names field %q", errs.FieldOf(err))
		}

		// Full-replace update (ID-amb-17): absent fields cleared, e-mail kept.
		upd, err := f.svc.UpdateAccount(ctx, f.cust, a.ID, billing.AccountData{Title: "new", CompanyName: "Firma"})
		must(t, err)
		if upd.Title != "new" || upd.CompanyName != "Firma" || upd.City != "" || upd.Country != "" || upd.Email != "user@example.com" {
			t.Fatalf("after full replace: %+v", upd)
		}
		upd, err = f.svc.UpdateAccount(ctx, f.cust, a.ID, billing.AccountData{Email: "new@example.com"})
		must(t, err)
		if upd.Email != "new@example.com" || upd.Title != "" {
			t.Fatalf("e-mail not changed: %+v", upd)
		}
		for _, bad := range []billing.AccountData{{Country: "EST"}, {Email: "no-at-sign"}, {Title: string(make([]byte, 300))}} {
			_, err := f.svc.UpdateAccount(ctx, f.cust, a.ID, bad)
			wantKind(t, err, errs.KindInvalid)
		}
		after, err := f.svc.GetAccount(ctx, f.cust, a.ID)
		must(t, err)
		if after.Email != "new@example.com" {
			t.Fatal("a refused update changed the account")
		}

		// Recurring fields only.
		on, amt, thr := true, dec("52"), dec("55.50")
		rec, err := f.svc.SetRecurring(ctx, f.cust, a.ID, billing.RecurringInput{Enabled: &on, Amount: &amt, Threshold: &thr})
		must(t, err)
		if !rec.RecurringEnabled || !rec.RecurringAmount.Equal(amt) || !rec.RecurringThreshold.Equal(thr) || rec.Email != "new@example.com" {
			t.Fatalf("recurring: %+v", rec)
		}
		neg := dec("-1")
		_, err = f.svc.SetRecurring(ctx, f.cust, a.ID, billing.RecurringInput{Amount: &neg})
		wantKind(t, err, errs.KindInvalid)
		frac := dec("1.001")
		_, err = f.svc.SetRecurring(ctx, f.cust, a.ID, billing.RecurringInput{Threshold: &frac})
		wantKind(t, err, errs.KindInvalid)

		// Admin update: operators only; bad VAT changes nothing.
		vat, disc, debt := 9, 10, int64(5000)
		_, err = f.svc.AdminUpdate(ctx, f.cust, a.ID, billing.AdminInput{VATPercentage: &vat})
		wantKind(t, err, errs.KindForbidden)
		badVAT := -1
		_, err = f.svc.AdminUpdate(ctx, f.op, a.ID, billing.AdminInput{VATPercentage: &badVAT, DiscountPercentage: &disc})
		wantKind(t, err, errs.KindInvalid)
		if errs.FieldOf(err) != "vat_percentage" {
			t.Fatalf("bad VAT names %q", errs.FieldOf(err))
		}
		tooMuch := 101
		_, err = f.svc.AdminUpdate(ctx, f.op, a.ID, billing.AdminInput{DiscountPercentage: &tooMuch})
		wantKind(t, err, errs.KindInvalid)
		got, _ = f.svc.GetAccount(ctx, f.op, a.ID)
		if got.VATPercentage != 20 || got.DiscountPercentage != 0 {
			t.Fatalf("a refused admin update changed the account: %+v", got)
		}
		allow := true
		got, err = f.svc.AdminUpdate(ctx, f.op, a.ID, billing.AdminInput{VATPercentage: &vat, DiscountPercentage: &disc, AllowDebt: &allow, MaxDebt: &debt})
		must(t, err)
		if got.VATPercentage != 9 || got.DiscountPercentage != 10 || !got.AllowDebt || got.MaxDebt != 5000 {
			t.Fatalf("admin update: %+v", got)
		}

		// Delete (ID-amb-18): not the default, not with resources, not with
		// unpaid invoices; then a shadow account.
		wantKind(t, f.svc.DeleteAccount(ctx, f.cust, a.ID), errs.KindPrecondition)
		f.res[b.ID] = 1
		wantKind(t, f.svc.DeleteAccount(ctx, f.cust, b.ID), errs.KindPrecondition)
		delete(f.res, b.ID)
		f.usage.add(b.ID, feb, line("vm", "0.5", "10"))
		f.clock.Set(feb.AddDate(0, 1, 0).Add(2 * 3600e9))
		_, _, err = f.svc.IssueInvoice(ctx, b.ID, feb, f.clock.Now())
		must(t, err)
		if n, _ := f.svc.UnpaidAmount(ctx, f.cust, b.ID); n != 600 { // 5.00 + 20 % VAT
			t.Fatalf("unpaid = %d", n)
		}
		wantKind(t, f.svc.DeleteAccount(ctx, f.cust, b.ID), errs.KindPrecondition)
		_, err = d.Write().ExecContext(ctx, `UPDATE invoices SET status = 10, paid_amount = total`)
		must(t, err)
		must(t, f.svc.DeleteAccount(ctx, f.cust, b.ID))
		wantKind(t, f.svc.DeleteAccount(ctx, f.cust, b.ID), errs.KindPrecondition)
		live, err := f.svc.ListAccounts(ctx, f.cust, false)
		must(t, err)
		all, err := f.svc.ListAccounts(ctx, f.cust, true)
		must(t, err)
		if len(live) != 1 || len(all) != 2 || !all[1].Deleted() || all[1].IsActive {
			t.Fatalf("after delete: live %d, with shadow %d", len(live), len(all))
		}
		wantKind(t, f.svc.SetDefault(ctx, f.cust, b.ID), errs.KindPrecondition)
		_, err = f.svc.UpdateAccount(ctx, f.cust, b.ID, billing.AccountData{Title: "x"})
		wantKind(t, err, errs.KindPrecondition)

		// Viewers read but do not write.
		viewer := f.cust
		viewer.Role = actor.Viewer
		_, err = f.svc.GetAccount(ctx, viewer, a.ID)
		must(t, err)
		_, err = f.svc.UpdateAccount(ctx, viewer, a.ID, billing.AccountData{Title: "x"})
		wantKind(t, err, errs.KindForbidden)

		// Bad create input.
		_, err = f.svc.CreateAccount(ctx, f.op, billing.CreateAccountInput{OrgID: f.customer.ID, VATPercentage: -5})
		wantKind(t, err, errs.KindInvalid)
		_, err = f.svc.CreateAccount(ctx, f.op, billing.CreateAccountInput{OrgID: f.customer.ID, Currency: "XXX"})
		wantKind(t, err, errs.KindInvalid)
		_, err = f.svc.CreateAccount(ctx, f.op, billing.CreateAccountInput{OrgID: f.customer.ID, AdditionalData: "[1]"})
		wantKind(t, err, errs.KindInvalid)
		_, err = f.svc.CreateAccount(ctx, stranger, billing.CreateAccountInput{OrgID: f.customer.ID})
		wantKind(t, err, errs.KindNotFound)
		_, err = f.svc.CreateAccount(ctx, restricted, billing.CreateAccountInput{})
		wantKind(t, err, errs.KindForbidden)
		// An explicit id (the demo's account 6) raises the counter past it.
		six, err := f.svc.CreateAccount(ctx, f.op, billing.CreateAccountInput{OrgID: f.customer.ID, UserID: 8, ID: 6})
		must(t, err)
		next := f.account(0, 0, 0)
		if six.ID != 6 || next.ID != 7 {
			t.Fatalf("explicit id 6, next %d", next.ID)
		}
		_, err = f.svc.CreateAccount(ctx, f.op, billing.CreateAccountInput{OrgID: f.customer.ID, ID: 6})
		wantKind(t, err, errs.KindConflict)
		f.trialBalanceZero()
	})
}

// Many goroutines move the default between a user's accounts at once: in
// the end exactly one account is the default.
func TestSetDefaultRace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		var accts []billing.Account
		for range 6 {
			accts = append(accts, f.account(0, 0, 0))
		}
		var wg sync.WaitGroup
		for i := range 48 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f.svc.SetDefault(ctx, f.cust, accts[i%len(accts)].ID); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		list, err := f.svc.ListAccounts(ctx, f.cust, false)
		must(t, err)
		n := 0
		for _, a := range list {
			if a.IsDefault {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d default accounts after the race", n)
		}
		// Creating accounts concurrently for a new user: exactly one default.
		var mu sync.Mutex
		defaults := 0
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := f.svc.CreateAccount(ctx, f.op, billing.CreateAccountInput{OrgID: f.customer.ID, UserID: 9})
				if err != nil {
					t.Error(err)
					return
				}
				if a.IsDefault {
					mu.Lock()
					defaults++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if defaults != 1 {
			t.Fatalf("%d accounts of a new user were created as default", defaults)
		}
		_ = money.EUR
	})
}

// TestOneDefaultWithUserlessAccounts: an account created without a user
// (POST /api/v1/billing-accounts without userId) lives in the same org as
// the user's accounts and is listed to the user with them, so it must not
// become a second default — created first, after, in parallel, or made the
// default.
func TestOneDefaultWithUserlessAccounts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		defaults := func() []int64 {
			t.Helper()
			list, err := f.svc.ListAccounts(ctx, f.cust, false)
			must(t, err)
			var out []int64
			for _, a := range list {
				if a.IsDefault {
					out = append(out, a.ID)
				}
			}
			return out
		}
		create := func(user int64) billing.Account {
			t.Helper()
			a, err := f.svc.CreateAccount(ctx, f.op, billing.CreateAccountInput{OrgID: f.customer.ID, UserID: user})
			if err != nil {
				t.Error(err)
			}
			return a
		}
		first := create(8)
		if got := create(0); got.IsDefault {
			t.Fatalf("an account without a user became a second default: %v", defaults())
		}
		if got := defaults(); len(got) != 1 || got[0] != first.ID {
			t.Fatalf("defaults %v, want [%d]", got, first.ID)
		}
		// Parallel creates, with and without the user.
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				create(int64(8 * (i % 2)))
			}()
		}
		wg.Wait()
		if got := defaults(); len(got) != 1 {
			t.Fatalf("defaults after parallel creates: %v", got)
		}
		// Making a userless account the default leaves it the only one,
		// and back.
		userless := create(0)
		must(t, f.svc.SetDefault(ctx, f.cust, userless.ID))
		if got := defaults(); len(got) != 1 || got[0] != userless.ID {
			t.Fatalf("defaults %v, want [%d]", got, userless.ID)
		}
		must(t, f.svc.SetDefault(ctx, f.cust, first.ID))
		if got := defaults(); len(got) != 1 || got[0] != first.ID {
			t.Fatalf("defaults %v, want [%d]", got, first.ID)
		}
	})
}
