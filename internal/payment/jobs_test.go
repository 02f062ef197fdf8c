package payment_test

import (
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/payment/testprocessor"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// The invoice run charges the primary card of each account it invoices; a
// decline leaves the invoice unpaid; the sweep catches invoices the hook
// missed and never charges an invoice twice.
func TestAutoPay(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		good := e.account(cust, 0)
		bad := e.account(cust, 0)
		none := e.account(cust, 0)
		e.card(cust, good, testprocessor.TokenVisa)
		e.card(cust, bad, testprocessor.TokenChargeCustomerFail)
		month := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		for _, a := range []billing.Account{good, bad, none} {
			e.usage.set(a.ID, month, 4321)
		}
		n, err := e.bill.IssueInvoices(e.ctx, e.clk.Now(), e.pay)
		e.must(err)
		if n != 3 {
			t.Fatalf("%d invoices issued", n)
		}
		invs := map[int64]billing.Invoice{}
		for _, a := range []billing.Account{good, bad, none} {
			list, err := e.bill.ListInvoices(e.ctx, cust, a.ID)
			e.must(err)
			if len(list) != 1 {
				t.Fatalf("account %d has %d invoices", a.ID, len(list))
			}
			invs[a.ID] = list[0]
		}
		if inv := invs[good.ID]; inv.Status != billing.StatusPaid || inv.PaidAmount != 4321 {
			t.Fatalf("auto-paid invoice %+v", inv)
		}
		if invs[bad.ID].Status != billing.StatusUnpaid || invs[bad.ID].PendingAmount != 0 || invs[none.ID].Status != billing.StatusUnpaid {
			t.Fatal("declined or card-less invoices changed")
		}
		if len(e.proc.Charges()) != 1 {
			t.Fatalf("%d processor charges", len(e.proc.Charges()))
		}
		// The sweep finds nothing new: the declined invoice had its one
		// attempt, the card-less account has no card.
		calls := e.proc.Calls()
		n, err = e.pay.AutoPayIssued(e.ctx, e.clk.Now())
		e.must(err)
		if n != 0 || e.proc.Calls() != calls {
			t.Fatalf("sweep charged %d (%d processor calls)", n, e.proc.Calls()-calls)
		}
		// A card added later: the sweep pays the invoice once.
		e.card(cust, none, testprocessor.TokenMastercard)
		n, err = e.pay.AutoPayIssued(e.ctx, e.clk.Now())
		e.must(err)
		if n != 1 || e.invoiceNow(invs[none.ID].ID).Status != billing.StatusPaid {
			t.Fatalf("sweep: %d charges, invoice status %d", n, e.invoiceNow(invs[none.ID].ID).Status)
		}
		if n, _ = e.pay.AutoPayIssued(e.ctx, e.clk.Now()); n != 0 {
			t.Fatalf("second sweep charged %d", n)
		}
		// The hook called again (a re-run) does not charge twice.
		e.must(e.pay.AutoPay(e.ctx, invs[good.ID]))
		err = e.pay.AutoPay(e.ctx, invs[bad.ID])
		if err != nil && !errs.Is(err, errs.KindPaymentDeclined) {
			t.Fatal(err)
		}
		if len(e.proc.Charges()) != 2 {
			t.Fatalf("%d processor charges, want 2", len(e.proc.Charges()))
		}
	})
}

// The recurring top-up buys credit when ongoing falls below the threshold:
// at once when configured (ID-79's payment_report) and by the job, at most
// once a day.
func TestRecurringTopUp(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 200) // 2.00 credit
		on := true
		_, _, err := e.pay.ConfigureRecurring(e.ctx, cust, payment.RecurringInput{AccountID: acct.ID, Enabled: &on})
		wantErr(t, err, errs.KindPrecondition, "is_recurring_payment_enabled")

		e.card(cust, acct, testprocessor.TokenVisa)
		amount, threshold := "52", "55"
		got, rep, err := e.pay.ConfigureRecurring(e.ctx, cust, payment.RecurringInput{AccountID: acct.ID, Enabled: &on,
			Amount: &amount, Threshold: &threshold})
		e.must(err)
		if !got.RecurringEnabled || !rep.Triggered || len(rep.Errors) != 0 || rep.ChargeID == 0 {
			t.Fatalf("configure: %+v %+v", got, rep)
		}
		if c := e.balance(acct, ledger.KindCredit); c != 5400 {
			t.Fatalf("credit %d after the immediate top-up, want 54.00", c)
		}
		// Still below 55: configuring again the same day does not charge.
		_, rep, err = e.pay.ConfigureRecurring(e.ctx, cust, payment.RecurringInput{AccountID: acct.ID, Enabled: &on})
		e.must(err)
		if rep.Triggered || len(e.proc.Charges()) != 1 {
			t.Fatalf("second configure the same day: %+v, %d charges", rep, len(e.proc.Charges()))
		}
		n, err := e.pay.RecurringTopUp(e.ctx, e.clk.Now())
		e.must(err)
		if n != 0 {
			t.Fatalf("job the same day topped up %d", n)
		}
		// Usage this month makes ongoing drop; the next day the job tops up.
		e.clk.Advance(24 * time.Hour)
		now := e.clk.Now()
		e.usage.set(acct.ID, time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), 3000)
		n, err = e.pay.RecurringTopUp(e.ctx, e.clk.Now())
		e.must(err)
		if n != 1 || e.balance(acct, ledger.KindCredit) != 10600 {
			t.Fatalf("job: %d top-ups, credit %d", n, e.balance(acct, ledger.KindCredit))
		}
		// 106.00 − 30.00 = 76.00 ≥ 55: the next day nothing happens.
		e.clk.Advance(24 * time.Hour)
		if n, _ = e.pay.RecurringTopUp(e.ctx, e.clk.Now()); n != 0 {
			t.Fatalf("top-up above the threshold: %d", n)
		}
		credits, err := e.bill.ListCredit(e.ctx, cust, acct.ID)
		e.must(err)
		if len(credits) != 3 || credits[0].Description != payment.CreditPurchase || credits[0].Amount != 5200 {
			t.Fatalf("credit history %+v", credits)
		}
		// Disabled: nothing, whatever the balance.
		off := false
		_, rep, err = e.pay.ConfigureRecurring(e.ctx, cust, payment.RecurringInput{AccountID: acct.ID, Enabled: &off})
		e.must(err)
		e.usage.set(acct.ID, time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC), 20000)
		e.clk.Advance(24 * time.Hour)
		if n, _ = e.pay.RecurringTopUp(e.ctx, e.clk.Now()); n != 0 || rep.Triggered {
			t.Fatalf("disabled top-up charged %d", n)
		}
		bad := "1.234"
		_, _, err = e.pay.ConfigureRecurring(e.ctx, cust, payment.RecurringInput{AccountID: acct.ID, Amount: &bad})
		wantErr(t, err, errs.KindInvalid, "recurring_payment_amount")
		neg := "-5"
		_, _, err = e.pay.ConfigureRecurring(e.ctx, cust, payment.RecurringInput{AccountID: acct.ID, Threshold: &neg})
		wantErr(t, err, errs.KindInvalid, "recurring_payment_threshold")
	})
}

// A declined recurring top-up is reported in payment_report.errors.
func TestRecurringTopUpDeclined(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		e.card(cust, acct, testprocessor.TokenChargeCustomerFail)
		on, amount, threshold := true, "10", "5"
		before := e.snapshot(acct)
		_, rep, err := e.pay.ConfigureRecurring(e.ctx, cust, payment.RecurringInput{AccountID: acct.ID, Enabled: &on,
			Amount: &amount, Threshold: &threshold})
		e.must(err)
		if !rep.Triggered || len(rep.Errors) != 1 {
			t.Fatalf("report %+v", rep)
		}
		e.unchanged(before, acct)
	})
}

// A charge whose processor answer was lost stays pending with its
// reservation; the recovery job (or a replay) finishes it with one
// processor charge.
func TestResolvePending(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		e.card(cust, acct, testprocessor.TokenVisa)
		inv := e.invoice(acct, 1, 3000)
		before := e.snapshot(acct)

		e.proc.LoseReplies(1)
		_, err := e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: "10", IdempotencyKey: "lost"})
		wantErr(t, err, errs.KindUnavailable, "")
		if got := e.invoiceNow(inv.ID); got.PendingAmount != 1000 || got.PaidAmount != 0 {
			t.Fatalf("invoice while the charge is pending: %+v", got)
		}
		if e.balance(acct, ledger.KindReceivables) != before.Ledger[receivablesID(e, acct)] {
			t.Fatal("the ledger moved for a pending charge")
		}
		// A second payment meanwhile sees only what is not reserved.
		r, err := e.pay.PayAll(e.ctx, cust, payment.PayInput{AccountID: acct.ID})
		e.must(err)
		if r.AmountUsed != 2000 {
			t.Fatalf("pay_all next to a pending charge used %d", r.AmountUsed)
		}
		// Too young for the job.
		n, err := e.pay.ResolvePending(e.ctx, e.clk.Now())
		e.must(err)
		if n != 0 {
			t.Fatalf("resolved %d young charges", n)
		}
		// An outage: the job leaves it pending and reports.
		e.clk.Advance(10 * time.Minute)
		e.proc.SetOutage(true)
		if _, err := e.pay.ResolvePending(e.ctx, e.clk.Now()); err == nil {
			t.Fatal("no error during an outage")
		}
		e.proc.SetOutage(false)
		n, err = e.pay.ResolvePending(e.ctx, e.clk.Now())
		e.must(err)
		got := e.invoiceNow(inv.ID)
		if n != 1 || got.Status != billing.StatusPaid || got.PendingAmount != 0 || got.PaidAmount != 3000 {
			t.Fatalf("after recovery: %d resolved, invoice %+v", n, got)
		}
		if len(e.proc.Charges()) != 2 || e.proc.Charged("EUR") != 3000 {
			t.Fatalf("%d processor charges of %d", len(e.proc.Charges()), e.proc.Charged("EUR"))
		}
		// The replay of the lost request now returns its result.
		r, err = e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: "10", IdempotencyKey: "lost"})
		e.must(err)
		if !r.Replayed || r.AmountUsed != 1000 || r.PaidInvoices[0] != inv.ID {
			t.Fatalf("replay after recovery %+v", r)
		}

		// A replay finishes a pending charge by itself too.
		inv2 := e.invoice(acct, 2, 500)
		e.proc.LoseReplies(1)
		_, err = e.pay.PayInvoice(e.ctx, cust, payment.PayInvoiceInput{InvoiceID: inv2.ID, IdempotencyKey: "lost-2"})
		wantErr(t, err, errs.KindUnavailable, "")
		r, err = e.pay.PayInvoice(e.ctx, cust, payment.PayInvoiceInput{InvoiceID: inv2.ID, IdempotencyKey: "lost-2"})
		e.must(err)
		if !r.Replayed || r.AmountUsed != 500 || e.invoiceNow(inv2.ID).Status != billing.StatusPaid || len(e.proc.Charges()) != 3 {
			t.Fatalf("replay of a pending pay_invoice: %+v", r)
		}
	})
}

func receivablesID(e *env, acct billing.Account) string {
	la, err := e.led.Accounts(e.ctx, billing.LedgerOwner(acct.ID))
	e.must(err)
	for _, l := range la {
		if l.Kind == ledger.KindReceivables {
			return l.ID
		}
	}
	return ""
}

// Paying the overdue invoice lifts the dunning restriction.
func TestPaymentLiftsRestriction(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		inv := e.invoice(acct, 1, 999)
		e.clk.Advance(billing.DefaultDueAfter + time.Hour)
		frozen, _, err := e.bill.Dunning(e.ctx, e.clk.Now())
		e.must(err)
		if a, _ := e.bill.AccountByID(e.ctx, acct.ID); frozen != 1 || a.RestrictionLevel != billing.RestrictionFrozen {
			t.Fatalf("not frozen: %d, %q", frozen, a.RestrictionLevel)
		}
		e.card(cust, acct, testprocessor.TokenVisa)
		// A partial payment leaves it frozen.
		_, err = e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: "5"})
		e.must(err)
		if a, _ := e.bill.AccountByID(e.ctx, acct.ID); a.RestrictionLevel != billing.RestrictionFrozen {
			t.Fatal("lifted by a partial payment")
		}
		_, err = e.pay.PayInvoice(e.ctx, cust, payment.PayInvoiceInput{InvoiceID: inv.ID})
		e.must(err)
		if a, _ := e.bill.AccountByID(e.ctx, acct.ID); a.RestrictionLevel != billing.RestrictionNone || a.SuspendReason != "" {
			t.Fatalf("still restricted: %q %q", a.RestrictionLevel, a.SuspendReason)
		}
	})
}
