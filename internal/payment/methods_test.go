package payment_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/payment/testprocessor"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

func TestCards(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		if ok, _ := e.pay.CanPay(e.ctx, acct.ID); ok {
			t.Fatal("can pay without a method")
		}
		visa := e.card(cust, acct, testprocessor.TokenVisa)
		if !visa.IsPrimary || !visa.IsVerified || visa.Brand != "visa" || visa.Last4 != "4242" || visa.Kind != payment.MethodCard ||
			visa.ID == 0 || visa.Identifier[:3] != "pm_" || !visa.ValidThru.After(start) || visa.ValidThru.Day() != 1 {
			t.Fatalf("first card %+v", visa)
		}
		var data map[string]any
		if err := json.Unmarshal(visa.AdditionalData, &data); err != nil || data["object"] != "payment_method" || data["id"] != visa.Identifier {
			t.Fatalf("card additional_data %s (%v)", visa.AdditionalData, err)
		}
		mc := e.card(cust, acct, testprocessor.TokenMastercard)
		if mc.IsPrimary || mc.ID != visa.ID+1 || mc.CustomerID != visa.CustomerID {
			t.Fatalf("second card %+v", mc)
		}
		got, err := e.pay.GetMethod(e.ctx, cust, mc.ID)
		e.must(err)
		if got.Identifier != mc.Identifier || got.IsPrimary {
			t.Fatalf("GetMethod %+v", got)
		}
		if _, err := e.pay.SetPrimary(e.ctx, cust, mc.ID); err != nil {
			t.Fatal(err)
		}
		p, ok, err := e.pay.PrimaryMethod(e.ctx, acct.ID)
		e.must(err)
		if !ok || p.ID != mc.ID {
			t.Fatalf("primary %+v %v", p, ok)
		}
		list, err := e.pay.ListMethods(e.ctx, cust, acct.ID)
		e.must(err)
		if len(list) != 2 || list[0].IsPrimary || !list[1].IsPrimary {
			t.Fatalf("methods %+v", list)
		}
		// Deleting the primary promotes the remaining card.
		e.must(e.pay.DeleteMethod(e.ctx, cust, mc.ID))
		if p, _, _ = e.pay.PrimaryMethod(e.ctx, acct.ID); p.ID != visa.ID {
			t.Fatalf("after deleting the primary, primary is %d", p.ID)
		}
		_, err = e.pay.GetMethod(e.ctx, cust, mc.ID)
		wantErr(t, err, errs.KindNotFound, "payment_object_id")
		wantErr(t, e.pay.DeleteMethod(e.ctx, cust, mc.ID), errs.KindNotFound, "payment_object_id")
		// Another tenant sees nothing; a token restricted to another
		// account neither.
		stranger := e.customer()
		_, err = e.pay.GetMethod(e.ctx, stranger, visa.ID)
		wantErr(t, err, errs.KindNotFound, "payment_object_id")
		wantErr(t, e.pay.DeleteMethod(e.ctx, stranger, visa.ID), errs.KindNotFound, "payment_object_id")
		_, err = e.pay.ListMethods(e.ctx, stranger, acct.ID)
		wantErr(t, err, errs.KindNotFound, "billing_account_id")
		restricted := cust
		restricted.BillingAccount = acct.ID + 1
		_, err = e.pay.GetMethod(e.ctx, restricted, visa.ID)
		wantErr(t, err, errs.KindNotFound, "payment_object_id")
		viewer := cust
		viewer.Role = "viewer"
		_, err = e.pay.AddCard(e.ctx, viewer, payment.AddCardInput{AccountID: acct.ID, Token: testprocessor.TokenVisa})
		wantErr(t, err, errs.KindForbidden, "")
		if ok, _ := e.pay.CanPay(e.ctx, acct.ID); !ok {
			t.Fatal("cannot pay with a card")
		}
		// A card expires at the end of its month.
		e.clk.Set(visa.ValidThru)
		if ok, _ := e.pay.CanPay(e.ctx, acct.ID); ok {
			t.Fatal("can pay with an expired card")
		}
		_, err = e.pay.BuyCredit(e.ctx, cust, payment.BuyCreditInput{AccountID: acct.ID, PaymentObjectID: visa.ID, Amount: "1"})
		wantErr(t, err, errs.KindPrecondition, "payment_object_id")
	})
}

func TestInvoiceMethod(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		m, err := e.pay.ApplyForInvoicePayment(e.ctx, cust, acct.ID)
		e.must(err)
		if m.Identifier != "N/A" || m.IsVerified || m.IsPrimary || m.Kind != payment.MethodInvoice ||
			m.ValidThru.Unix() != 4102358400 || m.CustomerID == 0 {
			t.Fatalf("invoice method %+v", m)
		}
		var data map[string]any
		if err := json.Unmarshal(m.AdditionalData, &data); err != nil || data["type"] != "paying_by_invoice" ||
			data["card_holder"] != "user@example.com" {
			t.Fatalf("invoice method data %s", m.AdditionalData)
		}
		again, err := e.pay.ApplyForInvoicePayment(e.ctx, cust, acct.ID)
		e.must(err)
		if again.ID != m.ID {
			t.Fatalf("applying twice made methods %d and %d", m.ID, again.ID)
		}
		if ok, _ := e.pay.CanPay(e.ctx, acct.ID); ok {
			t.Fatal("an unverified method can pay")
		}
		if ok, _ := e.pay.PaysByInvoice(e.ctx, acct.ID); ok {
			t.Fatal("pays by invoice before verification")
		}
		_, err = e.pay.VerifyMethod(e.ctx, cust, m.ID)
		wantErr(t, err, errs.KindForbidden, "")
		v, err := e.pay.VerifyMethod(e.ctx, e.operator, m.ID)
		e.must(err)
		if !v.IsVerified || !v.IsPrimary || v.VerifiedAt == nil {
			t.Fatalf("verified method %+v", v)
		}
		if _, err := e.pay.VerifyMethod(e.ctx, e.operator, m.ID); err != nil {
			t.Fatalf("verifying twice: %v", err)
		}
		if ok, _ := e.pay.PaysByInvoice(e.ctx, acct.ID); !ok {
			t.Fatal("does not pay by invoice after verification")
		}
		if ok, _ := e.pay.CanPay(e.ctx, acct.ID); !ok {
			t.Fatal("a verified invoice method cannot pay")
		}
		// A card added later does not take the primary from it.
		c := e.card(cust, acct, testprocessor.TokenVisa)
		if c.IsPrimary {
			t.Fatal("a new card took the primary")
		}
	})
}

// Racing set-primary calls leave exactly one primary.
func TestSetPrimaryRace(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		var cards []payment.PaymentObject
		for range 4 {
			cards = append(cards, e.card(cust, acct, testprocessor.TokenVisa))
		}
		var wg sync.WaitGroup
		for i := range 60 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := cards[i%len(cards)]
				if i%7 == 3 {
					// Deleting concurrently too; the deleted card may then
					// be refused.
					if i == 3 {
						_ = e.pay.DeleteMethod(e.ctx, cust, cards[3].ID)
					}
					return
				}
				if _, err := e.pay.SetPrimary(e.ctx, cust, c.ID); err != nil && !(c.ID == cards[3].ID && errs.Is(err, errs.KindNotFound)) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		list, err := e.pay.ListMethods(e.ctx, cust, acct.ID)
		e.must(err)
		primaries := 0
		for _, o := range list {
			if o.IsPrimary {
				primaries++
			}
		}
		if len(list) != 3 || primaries != 1 {
			t.Fatalf("%d methods, %d primaries after racing set-primary", len(list), primaries)
		}
	})
}

func TestTopUpInvoiceAndBankPayment(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 0)
		e.card(cust, acct, testprocessor.TokenVisa)
		topup, err := e.bill.CreateTopUpInvoice(e.ctx, cust, acct.ID, money100())
		e.must(err)
		r, err := e.pay.PayInvoice(e.ctx, cust, payment.PayInvoiceInput{InvoiceID: topup.ID})
		e.must(err)
		if r.AmountUsed != 10000 || e.balance(acct, "credit") != 10000 || e.invoiceNow(topup.ID).Status != 10 {
			t.Fatalf("top-up invoice paid by card: %+v, credit %d", r, e.balance(acct, "credit"))
		}
		credits, err := e.bill.ListCredit(e.ctx, cust, acct.ID)
		e.must(err)
		if len(credits) != 1 || credits[0].Amount != 10000 || credits[0].Description[:len(payment.CreditTopUp)] != payment.CreditTopUp {
			t.Fatalf("credit records %+v", credits)
		}

		// Bank payments: partial, replayed, conflicting, completing.
		// (a new account: the first one's credit would pay its invoice at issue)
		acct = e.account(cust, 0)
		inv := e.invoice(acct, 1, 1200)
		owed := inv.Total
		first, err := e.pay.RecordBankPayment(e.ctx, e.operator, payment.BankPaymentInput{InvoiceID: inv.ID, Amount: "5.00", Reference: "BANK-1"})
		e.must(err)
		if first.Source != payment.SourceBank || first.Status != payment.ChargeSucceeded || first.PaymentObjectID != 0 || first.LedgerTransactionID == "" {
			t.Fatalf("bank payment %+v", first)
		}
		again, err := e.pay.RecordBankPayment(e.ctx, e.operator, payment.BankPaymentInput{InvoiceID: inv.ID, Amount: "5", Reference: "BANK-1"})
		e.must(err)
		if again.ID != first.ID || e.invoiceNow(inv.ID).PaidAmount != 500 {
			t.Fatalf("replayed bank payment %d vs %d, paid %d", again.ID, first.ID, e.invoiceNow(inv.ID).PaidAmount)
		}
		_, err = e.pay.RecordBankPayment(e.ctx, e.operator, payment.BankPaymentInput{InvoiceID: inv.ID, Amount: "6", Reference: "BANK-1"})
		wantErr(t, err, errs.KindConflict, "reference")
		rest := owed - 500
		_, err = e.pay.RecordBankPayment(e.ctx, e.operator, payment.BankPaymentInput{InvoiceID: inv.ID,
			Amount: "7.00", Reference: "BANK-2"})
		e.must(err)
		got := e.invoiceNow(inv.ID)
		if got.Status != 10 || got.PaidAmount != owed || got.PaidAt == nil {
			t.Fatalf("invoice after bank payments: %+v", got)
		}
		txs, err := e.pay.InvoiceTransactions(e.ctx, cust, inv.ID)
		e.must(err)
		if len(txs) != 2 || txs[0].Identifier != "BANK-1" || txs[0].PaymentObjectID != 0 || txs[1].Amount != rest {
			t.Fatalf("transactions %+v", txs)
		}
		if e.balance(acct, "receivables") != 0 {
			t.Fatalf("receivables %d", e.balance(acct, "receivables"))
		}
	})
}
