package billing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// closeFeb is when February is closed and invoiced: March 1st + the grace.
var closeFeb = feb.AddDate(0, 1, 0).Add(time.Hour)

// The seed's invoice 1 (getInvoice.json): five records summing to 1.22231,
// a 10 % discount, 0.10 of credit and 20 % VAT: subtotal 1.23, discount
// 0.12, credit −0.10, VAT 0.20, total 1.21.
func TestInvoiceReproducesSeedTotals(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		a := f.account(20, 10, 10)
		seed := []billing.UsageLine{
			line("DEBUGXYZ-buntu, 2 CPUs, 2 GB RAM, null GB disk", "0.02602", "1"),
			line("buntu-b-Parool123, 4 CPUs, 1 GB RAM, 30 GB disk", "0.04187", "21"),
			line("Ubuntu-3-16-04, 2 CPUs, 2 GB RAM, 20 GB disk", "0.02882", "3"),
			line("DEBUGXYZ-2-buntu, 2 CPUs, 2 GB RAM, 20 GB disk", "0.02882", "5"),
			line("Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk", "0.02882", "3"),
		}
		for i := range seed {
			seed[i].FirstPeriod = feb.Add(time.Duration(i) * time.Hour) // the seed's record order
		}
		f.usage.add(a.ID, feb, seed...)

		// Not before the month is closed.
		n, err := f.svc.IssueInvoices(ctx, closeFeb.Add(-time.Second), nil)
		must(t, err)
		if n != 0 {
			t.Fatalf("issued %d invoices before the month closed", n)
		}
		n, err = f.svc.IssueInvoices(ctx, closeFeb, nil)
		must(t, err)
		if n != 1 {
			t.Fatalf("issued %d invoices, want 1", n)
		}
		inv, err := f.svc.GetInvoice(ctx, f.cust, 1)
		must(t, err)
		want := billing.Invoice{ID: 1, AccountID: a.ID, Kind: billing.KindUsage, Status: billing.StatusUnpaid, Name: "Invoice 001",
			Currency: "EUR", PeriodStart: feb, PeriodEnd: feb.AddDate(0, 1, 0), CreatedAt: closeFeb,
			DueAt: closeFeb.Add(1200000 * time.Second), DiscountPercentage: 10, VATPercentage: 20,
			Subtotal: 123, Discount: 12, Credit: -10, VAT: 20, Total: 121}
		got := inv
		got.Records, got.AccountSnapshot, got.LedgerTransactionID = nil, "", ""
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
			t.Fatalf("invoice\n got %+v\nwant %+v", got, want)
		}
		if inv.PaddedID() != "001" || inv.LedgerTransactionID == "" {
			t.Fatalf("padded id %q, ledger tx %q", inv.PaddedID(), inv.LedgerTransactionID)
		}
		wantAmounts := []string{"0.02602", "0.87927", "0.08646", "0.1441", "0.08646"}
		if len(inv.Records) != 5 {
			t.Fatalf("%d records", len(inv.Records))
		}
		for i, r := range inv.Records {
			if r.ID != int64(i+1) || r.InvoiceID != 1 || r.Name != seed[i].Description || r.QtyUnit != "h" ||
				!r.Amount.Equal(dec(wantAmounts[i])) || !r.Qty.Equal(seed[i].Quantity) || !r.ItemPrice.Equal(seed[i].UnitPrice) ||
				r.LocationSlug != "tll" {
				t.Fatalf("record %d: %+v", i, r)
			}
		}
		// account_snapshot: the account as JSON, the seed's way.
		var snap map[string]any
		must(t, json.Unmarshal([]byte(inv.AccountSnapshot), &snap))
		if snap["id"] != float64(a.ID) || snap["city"] != "Küla" || snap["user_id"] != float64(8) || snap["is_deleted"] != false {
			t.Fatalf("snapshot %s", inv.AccountSnapshot)
		}
		if !strings.Contains(inv.AccountSnapshot, `"city": "K\u00fcla"`) || !strings.HasPrefix(inv.AccountSnapshot, `{"address_line1": "", "address_line2": null,`) {
			t.Fatalf("snapshot is not written the seed's way: %s", inv.AccountSnapshot)
		}

		// Ledger: revenue +1.11, VAT +0.20, credit −0.10, receivables −1.21
		// (revenue started at −0.10: the welcome credit).
		bal := f.balances(a.ID)
		if bal[ledger.KindRevenue] != 101 || bal[ledger.KindVATPayable] != 20 || bal[ledger.KindCredit] != 0 || bal[ledger.KindReceivables] != -121 {
			t.Fatalf("balances %v", bal)
		}
		lt, err := f.ledger.TransactionByKey(ctx, billing.UsageInvoiceKey(a.ID, feb))
		must(t, err)
		if lt.ID != inv.LedgerTransactionID {
			t.Fatal("the invoice does not name its posting")
		}
		credits, err := f.svc.ListCredit(ctx, f.cust, a.ID)
		must(t, err)
		if len(credits) != 2 || credits[0].Amount != -10 || credits[0].Description != billing.CreditInvoicePayment {
			t.Fatalf("credit records %+v", credits)
		}
		if n, _ := f.svc.UnpaidAmount(ctx, f.cust, a.ID); n != 121 {
			t.Fatalf("unpaid %d", n)
		}
		// Idempotent: the month is not invoiced twice.
		n, err = f.svc.IssueInvoices(ctx, closeFeb.Add(24*time.Hour), nil)
		must(t, err)
		if n != 0 {
			t.Fatalf("second run issued %d", n)
		}
		if _, issued, err := f.svc.IssueInvoice(ctx, a.ID, feb, closeFeb); err != nil || issued {
			t.Fatalf("IssueInvoice again: %v %v", issued, err)
		}
		f.trialBalanceZero()
	})
}

// The totals of the seed's list samples (ID-amb-13), and edge cases, each
// written out by hand.
func TestInvoiceTotalsByHand(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		cases := []struct {
			name                             string
			vat, discount                    int
			credit                           int64
			lines                            []billing.UsageLine
			sub, disc, cred, vatTax, total   int64
			status                           int
			revenue, creditLeft, receivables int64
		}{
			{"2.9568", 20, 0, 0, []billing.UsageLine{line("a", "0.02464", "120")}, 296, 0, 0, 59, 355, 5, 296, 0, -355},
			{"22.88591", 20, 0, 0, []billing.UsageLine{line("a", "0.02882", "700"), line("b", "2.71191", "1")}, 2289, 0, 0, 458, 2747, 5, 2289, 0, -2747},
			{"2.352", 20, 0, 0, []billing.UsageLine{line("a", "0.0028", "840")}, 236, 0, 0, 47, 283, 5, 236, 0, -283},
			{"21.75006", 20, 0, 0, []billing.UsageLine{line("a", "0.02882", "754"), line("b", "0.02578", "1")}, 2176, 0, 0, 435, 2611, 5, 2176, 0, -2611},
			// 1.23 − 0.12 discount; 5.00 of credit covers the rest: total 0, paid.
			{"credit covers all", 20, 10, 500, []billing.UsageLine{line("a", "1.22231", "1")}, 123, 12, -111, 0, 0, 10, 111 - 500, 389, 0},
			// 100 % discount: nothing to post.
			{"full discount", 20, 100, 0, []billing.UsageLine{line("a", "3", "2")}, 600, 600, 0, 0, 0, 10, 0, 0, 0},
			// Tiny usage rounds up to a cent.
			{"one micro-cent", 0, 0, 0, []billing.UsageLine{line("a", "3.42e-05", "0.5")}, 1, 0, 0, 0, 1, 5, 1, 0, -1},
		}
		for _, c := range cases {
			a := f.account(c.vat, c.discount, c.credit)
			f.usage.add(a.ID, feb, c.lines...)
			inv, issued, err := f.svc.IssueInvoice(ctx, a.ID, feb, closeFeb)
			must(t, err)
			if !issued {
				t.Fatalf("%s: not issued", c.name)
			}
			if inv.Subtotal != c.sub || inv.Discount != c.disc || inv.Credit != c.cred || inv.VAT != c.vatTax || inv.Total != c.total || inv.Status != c.status {
				t.Fatalf("%s: totals %d %d %d %d %d status %d", c.name, inv.Subtotal, inv.Discount, inv.Credit, inv.VAT, inv.Total, inv.Status)
			}
			if (c.status == billing.StatusPaid) != (inv.PaidAt != nil) {
				t.Fatalf("%s: paid_at %v with status %d", c.name, inv.PaidAt, inv.Status)
			}
			bal := f.balances(a.ID)
			if bal[ledger.KindRevenue] != c.revenue || bal[ledger.KindCredit] != c.creditLeft || bal[ledger.KindReceivables] != c.receivables ||
				bal[ledger.KindVATPayable] != c.vatTax {
				t.Fatalf("%s: balances %v", c.name, bal)
			}
			stored, err := f.svc.GetInvoice(ctx, f.op, inv.ID)
			must(t, err)
			if stored.Total != inv.Total || len(stored.Records) != len(c.lines) {
				t.Fatalf("%s: stored %+v", c.name, stored)
			}
		}
		// A month not closed yet, or not a month start, is refused.
		a := f.account(0, 0, 0)
		_, _, err := f.svc.IssueInvoice(ctx, a.ID, feb.AddDate(0, 1, 0), closeFeb)
		wantKind(t, err, errs.KindPrecondition)
		_, _, err = f.svc.IssueInvoice(ctx, a.ID, feb.Add(time.Hour), closeFeb)
		wantKind(t, err, errs.KindInvalid)
		// No usage, no invoice.
		if _, issued, err := f.svc.IssueInvoice(ctx, a.ID, feb, closeFeb); err != nil || issued {
			t.Fatalf("invoice without usage: %v %v", issued, err)
		}
		f.trialBalanceZero()
	})
}

type autoPayer struct {
	mu      sync.Mutex
	paid    []int64
	decline map[int64]bool
}

func (p *autoPayer) AutoPay(_ context.Context, inv billing.Invoice) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paid = append(p.paid, inv.ID)
	if p.decline[inv.AccountID] {
		return &errs.Error{Kind: errs.KindPaymentDeclined, Field: "payment_object_id", Msg: "declined"}
	}
	return nil
}

// Many accounts, two invoice runs at once and top-up invoices requested
// meanwhile: every account gets exactly one invoice for the month, and the
// invoice numbers are exactly 1 … N, without gaps or repeats.
func TestInvoiceNumbersConcurrent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		pay := &autoPayer{decline: map[int64]bool{}}
		const accounts, topUps = 40, 10
		var accts []billing.Account
		for i := range accounts {
			a := f.account(20, i%3*5, int64(i%4)*50)
			accts = append(accts, a)
			f.usage.add(a.ID, feb, line(fmt.Sprintf("vm-%d", i), "0.02882", fmt.Sprint(1+i)), line("disk", "0.001", "720"))
			if i%5 == 0 {
				pay.decline[a.ID] = true
			}
		}
		f.clock.Set(closeFeb)
		var wg sync.WaitGroup
		var mu sync.Mutex
		issued := 0
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := f.svc.IssueInvoices(ctx, closeFeb, pay)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				issued += n
				mu.Unlock()
			}()
		}
		for i := range topUps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f.svc.CreateTopUpInvoice(ctx, f.cust, accts[i*3].ID, money.NewAmount(1000, money.EUR)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if issued != accounts {
			t.Fatalf("the runs issued %d invoices together, want %d", issued, accounts)
		}
		var numbers []int64
		perAccount := map[int64]int{}
		for _, a := range accts {
			list, err := f.svc.ListInvoices(ctx, f.cust, a.ID)
			must(t, err)
			for i, inv := range list {
				numbers = append(numbers, inv.ID)
				if inv.Kind == billing.KindUsage {
					perAccount[a.ID]++
				}
				if i > 0 && list[i-1].ID < inv.ID {
					t.Fatal("invoices are not listed newest first")
				}
			}
		}
		sort.Slice(numbers, func(i, j int) bool { return numbers[i] < numbers[j] })
		if len(numbers) != accounts+topUps {
			t.Fatalf("%d invoices, want %d", len(numbers), accounts+topUps)
		}
		for i, n := range numbers {
			if n != int64(i+1) {
				t.Fatalf("invoice numbers have a gap or repeat at %d: %v", i+1, numbers)
			}
		}
		for _, a := range accts {
			if perAccount[a.ID] != 1 {
				t.Fatalf("account %d has %d usage invoices", a.ID, perAccount[a.ID])
			}
		}
		// Every unpaid invoice went to the auto-payer once.
		unpaid := 0
		for _, a := range accts {
			list, _ := f.svc.ListInvoices(ctx, f.cust, a.ID)
			for _, inv := range list {
				if inv.Kind == billing.KindUsage && inv.Status == billing.StatusUnpaid {
					unpaid++
				}
			}
		}
		if len(pay.paid) != unpaid {
			t.Fatalf("auto-pay called %d times for %d unpaid invoices", len(pay.paid), unpaid)
		}
		f.trialBalanceZero()
	})
}

func TestTopUpInvoice(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		a := f.account(20, 10, 0)
		before := f.balances(a.ID)
		inv, err := f.svc.CreateTopUpInvoice(ctx, f.cust, 0, money.NewAmount(10000, money.EUR))
		must(t, err)
		if inv.Kind != billing.KindTopUp || inv.Status != billing.StatusUnpaid || inv.Subtotal != 10000 || inv.Total != 10000 ||
			inv.VAT != 0 || inv.Discount != 0 || len(inv.Records) != 1 || inv.Records[0].Name != "Credit top-up" ||
			!inv.DueAt.Equal(inv.CreatedAt.Add(billing.DefaultDueAfter)) || inv.LedgerTransactionID != "" {
			t.Fatalf("top-up invoice %+v", inv)
		}
		stored, err := f.svc.GetInvoice(ctx, f.cust, inv.ID)
		must(t, err)
		if stored.Total != 10000 || len(stored.Records) != 1 || !stored.Records[0].Amount.Equal(dec("100")) {
			t.Fatalf("stored top-up %+v", stored)
		}
		mails, err := sqlstore.New(d).ListOutboxEmails(ctx, 10)
		must(t, err)
		if len(mails) != 1 || mails[0].To != "user@example.com" || !strings.Contains(mails[0].Subject, "Invoice 001") ||
			!strings.Contains(mails[0].Body, "100.00 EUR") {
			t.Fatalf("outbox %+v", mails)
		}
		// A prepayment request is not a debt and posts nothing.
		if n, _ := f.svc.UnpaidAmount(ctx, f.cust, a.ID); n != 0 {
			t.Fatalf("unpaid %d", n)
		}
		if after := f.balances(a.ID); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("balances moved: %v → %v", before, after)
		}
		// Bad input changes nothing.
		for _, bad := range []money.Amount{money.NewAmount(0, money.EUR), money.NewAmount(-100, money.EUR),
			money.NewAmount(100_000_001, money.EUR), money.NewAmount(100, money.CHF)} {
			_, err := f.svc.CreateTopUpInvoice(ctx, f.cust, a.ID, bad)
			wantKind(t, err, errs.KindInvalid)
		}
		other := f.org(f.customer)
		b, err := f.svc.CreateAccount(ctx, f.op, billing.CreateAccountInput{OrgID: other.ID})
		must(t, err)
		sibling := f.cust
		sibling.OrgID, sibling.OrgPath = other.ID+"x", "/nowhere/"
		_, err = f.svc.CreateTopUpInvoice(ctx, sibling, b.ID, money.NewAmount(100, money.EUR))
		wantKind(t, err, errs.KindNotFound)
		_, err = f.svc.GetInvoice(ctx, sibling, inv.ID)
		wantKind(t, err, errs.KindNotFound)
		restricted := f.cust
		restricted.BillingAccount = b.ID
		_, err = f.svc.GetInvoice(ctx, restricted, inv.ID) // another account's invoice
		wantKind(t, err, errs.KindNotFound)
		list, err := f.svc.ListInvoices(ctx, f.cust, a.ID)
		must(t, err)
		if len(list) != 1 {
			t.Fatalf("%d invoices after refused requests", len(list))
		}
		if mails, _ = sqlstore.New(d).ListOutboxEmails(ctx, 10); len(mails) != 1 {
			t.Fatalf("%d e-mails after refused requests", len(mails))
		}
		f.trialBalanceZero()
	})
}

func TestDunning(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		a := f.account(20, 0, 0)
		b := f.account(20, 0, 0)
		f.usage.add(a.ID, feb, line("vm", "1", "10"))
		f.usage.add(b.ID, feb, line("vm", "1", "10"))
		_, err := f.svc.IssueInvoices(ctx, closeFeb, nil)
		must(t, err)
		due := closeFeb.Add(billing.DefaultDueAfter)
		frozen, lifted, err := f.svc.Dunning(ctx, due.Add(-time.Second))
		must(t, err)
		if frozen != 0 || lifted != 0 {
			t.Fatalf("before due: frozen %d lifted %d", frozen, lifted)
		}
		// An operator's own restriction is left alone by dunning.
		_, err = d.Write().ExecContext(ctx, `UPDATE billing_accounts SET restriction_level = 'FROZEN', suspend_reason = 'fraud check' WHERE id = $1`, b.ID)
		must(t, err)
		frozen, _, err = f.svc.Dunning(ctx, due)
		must(t, err)
		if frozen != 1 {
			t.Fatalf("frozen %d, want 1", frozen)
		}
		got, _ := f.svc.GetAccount(ctx, f.cust, a.ID)
		invs, err := f.svc.ListInvoices(ctx, f.cust, a.ID)
		must(t, err)
		if got.RestrictionLevel != billing.RestrictionFrozen || got.SuspendReason != "invoice "+invs[0].PaddedID()+" is past due" {
			t.Fatalf("after dunning: %q %q", got.RestrictionLevel, got.SuspendReason)
		}
		if frozen, lifted, _ = f.svc.Dunning(ctx, due.Add(time.Hour)); frozen != 0 || lifted != 0 {
			t.Fatalf("dunning twice: frozen %d lifted %d", frozen, lifted)
		}
		// Paid (as payments does it), then lifted inside the payment's transaction.
		f.clock.Set(due.Add(time.Hour))
		st := sqlstore.Billing{Store: sqlstore.New(d)}
		must(t, st.Tx(ctx, func(tx billing.Store) error {
			ok, err := f.svc.AfterPaymentTx(ctx, tx, a.ID)
			if err != nil || ok {
				return fmt.Errorf("lifted while still unpaid: %v %v", ok, err)
			}
			return nil
		}))
		_, err = d.Write().ExecContext(ctx, `UPDATE invoices SET status = 10, paid_amount = total WHERE billing_account_id = $1`, a.ID)
		must(t, err)
		must(t, st.Tx(ctx, func(tx billing.Store) error {
			ok, err := f.svc.LiftRestrictionTx(ctx, tx, a.ID)
			if err == nil && !ok {
				err = fmt.Errorf("not lifted after payment")
			}
			return err
		}))
		got, _ = f.svc.GetAccount(ctx, f.cust, a.ID)
		if got.RestrictionLevel != "" || got.SuspendReason != "" {
			t.Fatalf("after payment: %q %q", got.RestrictionLevel, got.SuspendReason)
		}
		// The operator's restriction survives a payment and dunning.
		_, err = d.Write().ExecContext(ctx, `UPDATE invoices SET status = 10, paid_amount = total WHERE billing_account_id = $1`, b.ID)
		must(t, err)
		if _, lifted, _ = f.svc.Dunning(ctx, due.Add(2*time.Hour)); lifted != 0 {
			t.Fatal("dunning lifted an operator's restriction")
		}
		got, _ = f.svc.GetAccount(ctx, f.cust, b.ID)
		if got.SuspendReason != "fraud check" {
			t.Fatalf("operator restriction changed: %q", got.SuspendReason)
		}
		// The job also lifts what it froze once nothing is overdue (a bank payment).
		c := f.account(20, 0, 0)
		f.usage.add(c.ID, feb.AddDate(0, 1, 0), line("vm", "1", "1"))
		closeMar := feb.AddDate(0, 2, 0).Add(time.Hour)
		_, err = f.svc.IssueInvoices(ctx, closeMar, nil)
		must(t, err)
		if frozen, _, _ = f.svc.Dunning(ctx, closeMar.Add(billing.DefaultDueAfter)); frozen != 1 {
			t.Fatalf("frozen %d", frozen)
		}
		// A second overdue invoice; paying the first keeps the account
		// frozen, now for the second.
		f.usage.add(c.ID, feb.AddDate(0, 2, 0), line("vm", "1", "1"))
		closeApr := feb.AddDate(0, 3, 0).Add(time.Hour)
		_, err = f.svc.IssueInvoices(ctx, closeApr, nil)
		must(t, err)
		cInvs, err := f.svc.ListInvoices(ctx, f.cust, c.ID)
		must(t, err)
		if len(cInvs) != 2 {
			t.Fatalf("%d invoices", len(cInvs))
		}
		_, err = d.Write().ExecContext(ctx, `UPDATE invoices SET status = 10, paid_amount = total WHERE id = $1`, cInvs[1].ID)
		must(t, err)
		dueApr := closeApr.Add(billing.DefaultDueAfter)
		if _, lifted, _ = f.svc.Dunning(ctx, dueApr); lifted != 0 {
			t.Fatal("lifted with an overdue invoice left")
		}
		got, _ = f.svc.GetAccount(ctx, f.cust, c.ID)
		if got.RestrictionLevel != billing.RestrictionFrozen || got.SuspendReason != "invoice "+cInvs[0].PaddedID()+" is past due" {
			t.Fatalf("after paying the first: %q %q", got.RestrictionLevel, got.SuspendReason)
		}
		_, err = d.Write().ExecContext(ctx, `UPDATE invoices SET status = 10, paid_amount = total WHERE billing_account_id = $1`, c.ID)
		must(t, err)
		if _, lifted, _ = f.svc.Dunning(ctx, dueApr); lifted != 1 {
			t.Fatalf("lifted %d", lifted)
		}
		f.trialBalanceZero()
	})
}

func TestRunningTotalsAndUsage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		a := f.account(20, 10, 50)
		mar := feb.AddDate(0, 1, 0)
		f.clock.Set(mar.Add(5 * 24 * time.Hour))
		f.usage.add(a.ID, mar, line("Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk", "0.02882", "3"), line("b", "1", "2"))
		f.usage.add(a.ID, feb, line("last month", "1", "100"))
		rt, err := f.svc.RunningTotals(ctx, f.cust, a.ID)
		must(t, err)
		// Σ 2.08646 → 2.09; discount 0.21; credit 0.50; VAT (2.09−0.21−0.50)×20 % = 0.276 → 0.28; total 1.66.
		want := billing.Totals{Subtotal: 209, Discount: 21, CreditAmount: 50, VAT: 28, Total: 166, CreditAvailable: 50, Ongoing: 50 - 166}
		if rt != want {
			t.Fatalf("running totals %+v, want %+v", rt, want)
		}
		lines, err := f.svc.CurrentUsage(ctx, f.cust, a.ID)
		must(t, err)
		if len(lines) != 2 {
			t.Fatalf("current usage: %d lines", len(lines))
		}
		det, err := f.svc.Describe(ctx, a, f.clock.Now())
		must(t, err)
		if det.Running != want || det.CreditAvailable != 50 || det.Unpaid != 0 {
			t.Fatalf("describe %+v", det)
		}
		// Running totals change nothing.
		if bal := f.balances(a.ID); bal[ledger.KindCredit] != 50 {
			t.Fatalf("balances %v", bal)
		}
	})
}
