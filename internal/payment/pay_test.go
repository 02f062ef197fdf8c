package payment_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/payment/testprocessor"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

func TestPayAmountOldestFirstAndPartial(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		e.card(cust, acct, testprocessor.TokenVisa)
		i1 := e.invoice(acct, 3, 1000)
		i2 := e.invoice(acct, 2, 2000)
		i3 := e.invoice(acct, 1, 500)
		topup, err := e.bill.CreateTopUpInvoice(e.ctx, cust, acct.ID, money100())
		e.must(err)

		// 15.00 pays the oldest invoice and part of the next one.
		r, err := e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: "15"})
		e.must(err)
		want := payment.PayResult{Success: true, Currency: "EUR", AmountUsed: 1500, AmountLeft: 0,
			PaidInvoices: []int64{i1.ID, i2.ID}, ChargeID: r.ChargeID,
			Message: fmt.Sprintf("All amount were used. Invoices (#%d, #%d) were paid fully or partially.", i1.ID, i2.ID)}
		if d := cmp.Diff(want, r); d != "" {
			t.Fatalf("pay_amount 15 (-want +got):\n%s", d)
		}
		if inv := e.invoiceNow(i1.ID); inv.Status != billing.StatusPaid || inv.PaidAmount != 1000 || inv.PaidAt == nil {
			t.Fatalf("oldest invoice: status %d paid %d", inv.Status, inv.PaidAmount)
		}
		if inv := e.invoiceNow(i2.ID); inv.Status != billing.StatusUnpaid || inv.PaidAmount != 500 || inv.PendingAmount != 0 {
			t.Fatalf("second invoice: status %d paid %d pending %d", inv.Status, inv.PaidAmount, inv.PendingAmount)
		}

		// 100.00 pays the rest (2000) and leaves 80.00; the top-up invoice
		// is not a debt and stays unpaid.
		r, err = e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: "100.00"})
		e.must(err)
		if r.AmountUsed != 2000 || r.AmountLeft != 8000 || !cmp.Equal(r.PaidInvoices, []int64{i2.ID, i3.ID}) ||
			r.Message != fmt.Sprintf("Amount left: 80.00. Invoices (#%d, #%d) were paid fully.", i2.ID, i3.ID) {
			t.Fatalf("pay_amount 100: %+v", r)
		}
		if e.invoiceNow(topup.ID).Status != billing.StatusUnpaid {
			t.Fatal("pay_amount paid the top-up invoice")
		}
		unpaid, err := e.bill.UnpaidAmount(e.ctx, cust, acct.ID)
		e.must(err)
		if unpaid != 0 {
			t.Fatalf("unpaid amount %d after paying everything", unpaid)
		}
		// Nothing left: success, nothing charged.
		charges := len(e.proc.Charges())
		r, err = e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: "10"})
		e.must(err)
		if !r.Success || r.AmountUsed != 0 || r.AmountLeft != 1000 || len(r.PaidInvoices) != 0 || r.ChargeID != 0 ||
			r.Message != "There are no unpaid invoices." || len(e.proc.Charges()) != charges {
			t.Fatalf("pay_amount with nothing unpaid: %+v", r)
		}

		// The ledger moved exactly what was charged.
		if got := e.balance(acct, ledger.KindReceivables); got != 0 {
			t.Fatalf("receivables %d after paying every usage invoice", got)
		}
		if got := e.balance(acct, ledger.KindPaymentClearing); got != -3500 || e.proc.Charged("EUR") != 3500 {
			t.Fatalf("clearing %d, charged %d, want −3500 and 3500", got, e.proc.Charged("EUR"))
		}
		// Each payment is one ledger transaction keyed by its charge.
		if r.ChargeID != 0 {
			t.Fatal("the last call charged")
		}
		rows, err := e.pay.Charges(e.ctx, cust, acct.ID)
		e.must(err)
		if len(rows) != 2 {
			t.Fatalf("%d charges", len(rows))
		}
		for _, c := range rows {
			lt, err := e.led.TransactionByKey(e.ctx, fmt.Sprintf("charge:%d", c.ID))
			e.must(err)
			if lt.ID != c.LedgerTransactionID || len(lt.Postings) != 2 {
				t.Fatalf("ledger transaction of charge %d: %+v", c.ID, lt)
			}
		}
		// The partly paid invoice lists both payments with their parts.
		txs, err := e.pay.InvoiceTransactions(e.ctx, cust, i2.ID)
		e.must(err)
		if len(txs) != 2 || txs[0].Amount != 500 || txs[1].Amount != 1500 || txs[0].Identifier == "" ||
			txs[0].PaymentObjectID == 0 || len(txs[0].AdditionalData) < 10 {
			t.Fatalf("invoice transactions %+v", txs)
		}
	})
}

func TestPayAmountSampleMessage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		e.card(cust, acct, testprocessor.TokenVisa)
		inv := e.invoice(acct, 1, 5996)
		r, err := e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: "10"})
		e.must(err)
		if r.Message != fmt.Sprintf("All amount were used. Invoices (#%d) were paid fully or partially.", inv.ID) ||
			r.AmountUsed != 1000 || r.AmountLeft != 0 || !r.Success || r.ErrorLog != "" {
			t.Fatalf("%+v", r)
		}
		// pay_all pays the rest; pay_invoice of a paid invoice is refused.
		r, err = e.pay.PayAll(e.ctx, cust, payment.PayInput{AccountID: acct.ID})
		e.must(err)
		if r.AmountUsed != 4996 || r.AmountLeft != 0 || !cmp.Equal(r.PaidInvoices, []int64{inv.ID}) {
			t.Fatalf("pay_all: %+v", r)
		}
		_, err = e.pay.PayInvoice(e.ctx, cust, payment.PayInvoiceInput{InvoiceID: inv.ID})
		wantErr(t, err, errs.KindPrecondition, "invoice_id")
	})
}

// 100 parallel pay_amount calls against one account's unpaid invoices never
// overpay an invoice, pay oldest first, and Σ applied = Σ charged at the
// processor = the ledger's movement.
func TestPayAmountConcurrent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		other := e.account(cust, 0) // a second account of the same customer, paid at the same time
		e.card(cust, acct, testprocessor.TokenVisa)
		e.card(cust, other, testprocessor.TokenMastercard)
		rng := rand.New(rand.NewPCG(1, 2))
		var invs []billing.Invoice
		var owed int64
		for m := 12; m >= 1; m-- {
			inv := e.invoice(acct, m, 100+rng.Int64N(900))
			invs = append(invs, inv)
			owed += inv.Total
		}
		otherInv := e.invoice(other, 1, 5000)
		receivablesBefore := e.balance(acct, ledger.KindReceivables)

		const n = 100
		results := make([]payment.PayResult, n)
		errors := make([]error, n)
		requested := make([]int64, n)
		var wg sync.WaitGroup
		for i := range n {
			requested[i] = 1 + rng.Int64N(300)
			amount := fmt.Sprintf("%d.%02d", requested[i]/100, requested[i]%100)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%10 == 0 { // interleave the other account's payments
					_, err := e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: other.ID, Amount: "1"})
					if err != nil {
						t.Error(err)
					}
				}
				results[i], errors[i] = e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: amount,
					IdempotencyKey: e.key()})
			}()
		}
		wg.Wait()
		var used int64
		for i, r := range results {
			if errors[i] != nil {
				t.Fatalf("call %d: %v", i, errors[i])
			}
			if !r.Success || r.AmountUsed+r.AmountLeft != requested[i] || r.AmountUsed < 0 {
				t.Fatalf("call %d asked %d: %+v", i, requested[i], r)
			}
			used += r.AmountUsed
		}
		var paid int64
		seenPartial := false
		for i, inv := range invs {
			got := e.invoiceNow(inv.ID)
			if got.PaidAmount > got.Total || got.PendingAmount != 0 {
				t.Fatalf("invoice %d: paid %d of %d, pending %d", got.ID, got.PaidAmount, got.Total, got.PendingAmount)
			}
			if (got.Status == billing.StatusPaid) != (got.PaidAmount == got.Total) {
				t.Fatalf("invoice %d: status %d with %d of %d paid", got.ID, got.Status, got.PaidAmount, got.Total)
			}
			// Oldest first: after the first invoice not fully paid, none
			// has been paid at all.
			if seenPartial && got.PaidAmount != 0 {
				t.Fatalf("invoice %d (#%d oldest) was paid while an older one was not fully paid", got.ID, i)
			}
			if got.PaidAmount < got.Total {
				seenPartial = true
			}
			paid += got.PaidAmount
		}
		otherPaid := e.invoiceNow(otherInv.ID).PaidAmount
		if otherPaid != 1000 {
			t.Fatalf("other account paid %d, want 10 × 1.00", otherPaid)
		}
		clearing := e.balance(acct, ledger.KindPaymentClearing)
		charged := e.proc.Charged("EUR") - otherPaid
		receivables := e.balance(acct, ledger.KindReceivables) - receivablesBefore
		if used != paid || used != charged || -clearing != used || receivables != used {
			t.Fatalf("Σ applied %d, Σ paid on invoices %d, Σ charged %d, clearing %d, receivables moved %d",
				used, paid, charged, clearing, receivables)
		}
		if used == 0 || used > owed {
			t.Fatalf("used %d of %d owed", used, owed)
		}
		t.Logf("100 parallel pay_amount: %d of %d owed paid by %d charges", used, owed, len(e.proc.Charges()))
	})
}

// 50 concurrent replays of one payment request (same idempotency key)
// produce one processor charge and one result.
func TestReplaysChargeOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		card := e.card(cust, acct, testprocessor.TokenVisa)
		for m := 3; m >= 1; m-- {
			e.invoice(acct, m, 1000)
		}
		const n = 50
		results := make([]payment.PayResult, n)
		errors := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errors[i] = e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: "12.34",
					IdempotencyKey: "same-key"})
			}()
		}
		wg.Wait()
		fresh := 0
		for i := range n {
			if errors[i] != nil {
				t.Fatalf("replay %d: %v", i, errors[i])
			}
			if !results[i].Replayed {
				fresh++
			}
			r := results[i]
			r.Replayed = results[0].Replayed
			if d := cmp.Diff(results[0], r); d != "" {
				t.Fatalf("replay %d differs (-first +this):\n%s", i, d)
			}
		}
		if fresh != 1 || len(e.proc.Charges()) != 1 || e.proc.Charged("EUR") != 1234 || results[0].AmountUsed != 1234 {
			t.Fatalf("%d fresh results, %d processor charges of %d in total", fresh, len(e.proc.Charges()), e.proc.Charged("EUR"))
		}
		charges, err := e.pay.Charges(e.ctx, cust, acct.ID)
		e.must(err)
		if len(charges) != 1 {
			t.Fatalf("%d charge rows", len(charges))
		}
		// The same key with another request is a conflict, not a charge.
		_, err = e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: "1", IdempotencyKey: "same-key"})
		wantErr(t, err, errs.KindConflict, "Idempotency-Key")
		// Keys are per principal: another key of the customer may use it.
		other := cust
		other.ID = "another-key"
		r, err := e.pay.PayAmount(e.ctx, other, payment.PayInput{AccountID: acct.ID, Amount: "1", IdempotencyKey: "same-key"})
		e.must(err)
		if r.Replayed || r.AmountUsed != 100 {
			t.Fatalf("another principal's key: %+v", r)
		}

		// Buying credit: 50 replays, one charge, one credit record.
		before := len(e.proc.Charges())
		chs := make([]payment.Charge, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				chs[i], errors[i] = e.pay.BuyCredit(e.ctx, cust, payment.BuyCreditInput{AccountID: acct.ID,
					PaymentObjectID: card.ID, Amount: "5.00", IdempotencyKey: "buy-key"})
			}()
		}
		wg.Wait()
		for i := range n {
			if errors[i] != nil || chs[i].ID != chs[0].ID || chs[i].Status != payment.ChargeSucceeded {
				t.Fatalf("buy replay %d: %+v %v", i, chs[i], errors[i])
			}
		}
		credits, err := e.bill.ListCredit(e.ctx, cust, acct.ID)
		e.must(err)
		if len(e.proc.Charges()) != before+1 || e.balance(acct, ledger.KindCredit) != 500 || len(credits) != 1 ||
			credits[0].Amount != 500 || credits[0].Description != payment.CreditPurchase {
			t.Fatalf("after 50 buy replays: %d charges, credit %d, records %+v", len(e.proc.Charges())-before,
				e.balance(acct, ledger.KindCredit), credits)
		}
	})
}

// A declined card changes nothing: not at attach, not at charge.
func TestDeclinedChangesNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 700)
		inv := e.invoice(acct, 2, 2000)
		e.invoice(acct, 1, 1500)
		before := e.snapshot(acct)

		_, err := e.pay.AddCard(e.ctx, cust, payment.AddCardInput{AccountID: acct.ID, Token: testprocessor.TokenChargeDeclined})
		wantErr(t, err, errs.KindPaymentDeclined, "token")
		if list, _ := e.pay.ListMethods(e.ctx, cust, acct.ID); len(list) != 0 {
			t.Fatalf("a declined card was stored: %+v", list)
		}
		e.unchanged(before, acct)

		failing := e.card(cust, acct, testprocessor.TokenChargeCustomerFail)
		if !failing.IsPrimary || !failing.IsVerified {
			t.Fatalf("attached card %+v", failing)
		}
		r, err := e.pay.PayAll(e.ctx, cust, payment.PayInput{AccountID: acct.ID, IdempotencyKey: "k"})
		wantErr(t, err, errs.KindPaymentDeclined, "payment_object_id")
		if r.Success || r.AmountUsed != 0 || r.ErrorLog == "" || len(r.PaidInvoices) != 0 || r.Message != "Payment failed. No invoices were paid." {
			t.Fatalf("declined result %+v", r)
		}
		_, err = e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: "5"})
		wantErr(t, err, errs.KindPaymentDeclined, "payment_object_id")
		_, err = e.pay.PayInvoice(e.ctx, cust, payment.PayInvoiceInput{InvoiceID: inv.ID})
		wantErr(t, err, errs.KindPaymentDeclined, "payment_object_id")
		_, err = e.pay.BuyCredit(e.ctx, cust, payment.BuyCreditInput{AccountID: acct.ID, PaymentObjectID: failing.ID, Amount: "10"})
		wantErr(t, err, errs.KindPaymentDeclined, "payment_object_id")
		// A replay repeats the decline without a second attempt.
		calls := e.proc.Calls()
		r2, err := e.pay.PayAll(e.ctx, cust, payment.PayInput{AccountID: acct.ID, IdempotencyKey: "k"})
		wantErr(t, err, errs.KindPaymentDeclined, "payment_object_id")
		if !r2.Replayed || r2.ChargeID != r.ChargeID || e.proc.Calls() != calls {
			t.Fatalf("replayed decline %+v, %d processor calls", r2, e.proc.Calls()-calls)
		}
		e.unchanged(before, acct)
		charges, err := e.pay.Charges(e.ctx, cust, acct.ID)
		e.must(err)
		for _, c := range charges {
			if c.Status != payment.ChargeFailed || c.Error == "" || c.LedgerTransactionID != "" {
				t.Fatalf("declined charge %+v", c)
			}
		}
		if len(charges) != 4 {
			t.Fatalf("%d charges recorded, want the 4 declined ones", len(charges))
		}
	})
}

// Bad input gets an error naming the field and leaves the ledger unchanged.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		card := e.card(cust, acct, testprocessor.TokenVisa)
		inv := e.invoice(acct, 1, 2500)
		method, err := e.pay.ApplyForInvoicePayment(e.ctx, cust, acct.ID)
		e.must(err)
		stranger := e.customer()
		theirs := e.account(stranger, 0)
		theirCard := e.card(stranger, theirs, testprocessor.TokenVisa)
		theirInv := e.invoice(theirs, 1, 700)
		restricted := cust
		restricted.BillingAccount = acct.ID + 1000
		before := e.snapshot(acct, theirs)

		cases := []struct {
			name  string
			call  func() error
			kind  errs.Kind
			field string
		}{
			{"negative amount", pay(e, cust, acct.ID, "-5"), errs.KindInvalid, "amount"},
			{"zero amount", pay(e, cust, acct.ID, "0"), errs.KindInvalid, "amount"},
			{"non-numeric amount", pay(e, cust, acct.ID, "ten"), errs.KindInvalid, "amount"},
			{"exponent amount", pay(e, cust, acct.ID, "1e3"), errs.KindInvalid, "amount"},
			{"too many decimals", pay(e, cust, acct.ID, "1.234"), errs.KindInvalid, "amount"},
			{"missing amount", pay(e, cust, acct.ID, ""), errs.KindInvalid, "amount"},
			{"huge amount", pay(e, cust, acct.ID, "99999999999999"), errs.KindInvalid, "amount"},
			{"foreign billing account", pay(e, cust, theirs.ID, "5"), errs.KindNotFound, "billing_account_id"},
			{"unknown billing account", pay(e, cust, 424242, "5"), errs.KindNotFound, "billing_account_id"},
			{"restricted token, other account", pay(e, restricted, acct.ID, "5"), errs.KindForbidden, "billing_account_id"},
			{"negative billing account", pay(e, cust, -1, "5"), errs.KindInvalid, "billing_account_id"},
			{"pay_all foreign", func() error {
				_, err := e.pay.PayAll(e.ctx, cust, payment.PayInput{AccountID: theirs.ID})
				return err
			}, errs.KindNotFound, "billing_account_id"},
			{"unknown invoice", payInvoice(e, cust, 999999), errs.KindNotFound, "invoice_id"},
			{"foreign invoice", payInvoice(e, cust, theirInv.ID), errs.KindNotFound, "invoice_id"},
			{"zero invoice", payInvoice(e, cust, 0), errs.KindInvalid, "invoice_id"},
			{"buy: negative amount", buy(e, cust, acct.ID, card.ID, "-1"), errs.KindInvalid, "amount"},
			{"buy: non-numeric amount", buy(e, cust, acct.ID, card.ID, "1,00"), errs.KindInvalid, "amount"},
			{"buy: unverified method", buy(e, cust, acct.ID, method.ID, "10"), errs.KindPrecondition, "payment_object_id"},
			{"buy: foreign card", buy(e, cust, acct.ID, theirCard.ID, "10"), errs.KindNotFound, "payment_object_id"},
			{"buy: foreign account", buy(e, cust, theirs.ID, card.ID, "10"), errs.KindNotFound, "billing_account_id"},
			{"buy: unknown card", buy(e, cust, acct.ID, 987654, "10"), errs.KindNotFound, "payment_object_id"},
			{"buy: no card", buy(e, cust, acct.ID, 0, "10"), errs.KindInvalid, "payment_object_id"},
			{"set primary unverified", func() error {
				_, err := e.pay.SetPrimary(e.ctx, cust, method.ID)
				return err
			}, errs.KindPrecondition, "payment_object_id"},
			{"customer verifies", func() error {
				_, err := e.pay.VerifyMethod(e.ctx, cust, method.ID)
				return err
			}, errs.KindForbidden, ""},
			{"bank: negative", bank(e, inv.ID, "-1", "r1"), errs.KindInvalid, "amount"},
			{"bank: above unpaid", bank(e, inv.ID, "25.01", "r2"), errs.KindInvalid, "amount"},
			{"bank: unknown invoice", bank(e, 999999, "1", "r3"), errs.KindNotFound, "invoice_id"},
			{"bank: no reference", bank(e, inv.ID, "1", " "), errs.KindInvalid, "reference"},
			{"bank by a customer", func() error {
				_, err := e.pay.RecordBankPayment(e.ctx, cust, payment.BankPaymentInput{InvoiceID: inv.ID, Amount: "1", Reference: "x"})
				return err
			}, errs.KindForbidden, ""},
			{"card: empty token", func() error {
				_, err := e.pay.AddCard(e.ctx, cust, payment.AddCardInput{AccountID: acct.ID})
				return err
			}, errs.KindInvalid, "token"},
			{"card: unknown token", func() error {
				_, err := e.pay.AddCard(e.ctx, cust, payment.AddCardInput{AccountID: acct.ID, Token: "tok_nope"})
				return err
			}, errs.KindInvalid, "token"},
			{"card: foreign account", func() error {
				_, err := e.pay.AddCard(e.ctx, cust, payment.AddCardInput{AccountID: theirs.ID, Token: testprocessor.TokenVisa})
				return err
			}, errs.KindNotFound, "billing_account_id"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				wantErr(t, c.call(), c.kind, c.field)
			})
		}
		e.unchanged(before, acct, theirs)
		// The invoice method is refused as a pay_* method too once it is
		// verified and primary.
		_, err = e.pay.VerifyMethod(e.ctx, e.operator, method.ID)
		e.must(err)
		_, err = e.pay.SetPrimary(e.ctx, cust, method.ID)
		e.must(err)
		_, err = e.pay.PayAll(e.ctx, cust, payment.PayInput{AccountID: acct.ID})
		wantErr(t, err, errs.KindPrecondition, "billing_account_id")
		_, err = e.pay.BuyCredit(e.ctx, cust, payment.BuyCreditInput{AccountID: acct.ID, PaymentObjectID: method.ID, Amount: "1"})
		wantErr(t, err, errs.KindPrecondition, "payment_object_id")
		e.unchanged(before, acct, theirs)
	})
}

func pay(e *env, a actor.Actor, account int64, amount string) func() error {
	return func() error {
		_, err := e.pay.PayAmount(e.ctx, a, payment.PayInput{AccountID: account, Amount: amount})
		return err
	}
}

func payInvoice(e *env, a actor.Actor, id int64) func() error {
	return func() error {
		_, err := e.pay.PayInvoice(e.ctx, a, payment.PayInvoiceInput{InvoiceID: id})
		return err
	}
}

func buy(e *env, a actor.Actor, account, object int64, amount string) func() error {
	return func() error {
		_, err := e.pay.BuyCredit(e.ctx, a, payment.BuyCreditInput{AccountID: account, PaymentObjectID: object, Amount: amount})
		return err
	}
}

func bank(e *env, invoice int64, amount, ref string) func() error {
	return func() error {
		_, err := e.pay.RecordBankPayment(e.ctx, e.operator, payment.BankPaymentInput{InvoiceID: invoice, Amount: amount, Reference: ref})
		return err
	}
}

// Without a card a payment is refused, unless there is nothing to pay.
func TestPayWithoutCard(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		r, err := e.pay.PayAll(e.ctx, cust, payment.PayInput{AccountID: acct.ID})
		e.must(err)
		if !r.Success || r.ChargeID != 0 || r.Message != "There are no unpaid invoices." {
			t.Fatalf("pay_all with nothing unpaid: %+v", r)
		}
		// The default account (billing_account_id 0, ID-amb-24).
		r, err = e.pay.PayAmount(e.ctx, cust, payment.PayInput{Amount: "3.50"})
		e.must(err)
		if r.AmountLeft != 350 || r.AmountUsed != 0 {
			t.Fatalf("pay_amount with nothing unpaid: %+v", r)
		}
		e.invoice(acct, 1, 100)
		before := e.snapshot(acct)
		_, err = e.pay.PayAll(e.ctx, cust, payment.PayInput{})
		wantErr(t, err, errs.KindPrecondition, "billing_account_id")
		e.unchanged(before, acct)
	})
}
