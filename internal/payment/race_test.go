package payment_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
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

// Every writer of one account at once: card payments, credit purchases,
// bank payments, the jobs (auto-pay sweep, recurring top-up, dunning,
// recovery) and lost processor replies. Afterwards every invoice and every
// ledger account agrees with the charges, and nothing is overpaid.
func TestMixedRace(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cust := e.customer()
		acct := e.account(cust, 1500)
		card := e.card(cust, acct, testprocessor.TokenVisa)
		on, amount, threshold := true, "3", "1000"
		_, _, err := e.pay.ConfigureRecurring(e.ctx, cust, payment.RecurringInput{AccountID: acct.ID, Enabled: &on,
			Amount: &amount, Threshold: &threshold})
		e.must(err)
		var invs []billing.Invoice
		for m := 8; m >= 1; m-- {
			invs = append(invs, e.invoice(acct, m, 300+int64(m)*97))
		}
		creditBefore := e.balance(acct, ledger.KindCredit)
		clearingBefore := e.balance(acct, ledger.KindPaymentClearing)
		chargedBefore := e.proc.Charged("EUR")
		earlier, err := e.pay.Charges(e.ctx, cust, acct.ID)
		e.must(err)
		lastBefore := earlier[0].ID // the immediate recurring top-up
		e.proc.LoseReplies(3)

		rng := rand.New(rand.NewPCG(7, 9))
		type job struct {
			name string
			run  func() error
		}
		var jobs []job
		for i := range 40 {
			a := fmt.Sprintf("%d.%02d", rng.IntN(4), 1+rng.IntN(99))
			jobs = append(jobs, job{"pay_amount", func() error {
				_, err := e.pay.PayAmount(e.ctx, cust, payment.PayInput{AccountID: acct.ID, Amount: a, IdempotencyKey: fmt.Sprint("p", i%30)})
				return err
			}})
		}
		for i := range 10 {
			jobs = append(jobs, job{"buy", func() error {
				_, err := e.pay.BuyCredit(e.ctx, cust, payment.BuyCreditInput{AccountID: acct.ID, PaymentObjectID: card.ID, Amount: "0.50",
					IdempotencyKey: fmt.Sprint("b", i)})
				return err
			}})
		}
		for i := range 10 {
			inv := invs[rng.IntN(len(invs))]
			jobs = append(jobs, job{"bank", func() error {
				_, err := e.pay.RecordBankPayment(e.ctx, e.operator, payment.BankPaymentInput{InvoiceID: inv.ID, Amount: "0.25",
					Reference: fmt.Sprint("ref-", i)})
				return err
			}})
		}
		for range 3 {
			jobs = append(jobs,
				job{"pay_all", func() error { _, err := e.pay.PayAll(e.ctx, cust, payment.PayInput{AccountID: acct.ID}); return err }},
				job{"autopay", func() error { _, err := e.pay.AutoPayIssued(e.ctx, e.clk.Now()); return err }},
				job{"recurring", func() error { _, err := e.pay.RecurringTopUp(e.ctx, e.clk.Now()); return err }},
				job{"dunning", func() error { _, _, err := e.bill.Dunning(e.ctx, e.clk.Now()); return err }},
				job{"resolve", func() error { _, err := e.pay.ResolvePending(e.ctx, e.clk.Now().Add(time.Hour)); return err }},
			)
		}
		rng.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
		var wg sync.WaitGroup
		for _, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := j.run()
				switch {
				case err == nil:
				case errs.Is(err, errs.KindUnavailable): // a lost reply: recovered below
				case errs.Is(err, errs.KindConflict) && j.name == "pay_amount": // a key reused with another amount
				case (errs.Is(err, errs.KindInvalid) || errs.Is(err, errs.KindPrecondition)) && j.name == "bank":
				default:
					t.Errorf("%s: %v", j.name, err)
				}
			}()
		}
		wg.Wait()
		// Whatever is still pending is finished by the recovery job.
		_, err = e.pay.ResolvePending(e.ctx, e.clk.Now().Add(time.Hour))
		e.must(err)

		charges, err := e.pay.Charges(e.ctx, cust, acct.ID)
		e.must(err)
		var cardCharged, allIn, buys, toInvoices int64
		perInvoice := map[int64]int64{}
		for _, c := range charges {
			if c.Status == payment.ChargePending {
				t.Fatalf("charge %d still pending", c.ID)
			}
			if c.Status != payment.ChargeSucceeded || c.ID <= lastBefore {
				continue
			}
			allIn += c.Amount
			if c.Source == payment.SourceCard {
				cardCharged += c.Amount
			}
			if c.Purpose == payment.PurposeCredit {
				buys += c.Amount
			}
			for _, a := range c.Allocations {
				perInvoice[a.InvoiceID] += a.Amount
				toInvoices += a.Amount
			}
		}
		for _, inv := range invs {
			got := e.invoiceNow(inv.ID)
			if got.PendingAmount != 0 || got.PaidAmount > got.Total || got.PaidAmount != perInvoice[inv.ID] ||
				(got.Status == billing.StatusPaid) != (got.PaidAmount == got.Total) {
				t.Fatalf("invoice %d: %+v, allocations %d", inv.ID, got, perInvoice[inv.ID])
			}
		}
		if cardCharged != e.proc.Charged("EUR")-chargedBefore {
			t.Fatalf("card charges %d, processor charged %d", cardCharged, e.proc.Charged("EUR")-chargedBefore)
		}
		if clearing := e.balance(acct, ledger.KindPaymentClearing) - clearingBefore; -clearing != allIn {
			t.Fatalf("clearing %d, money in %d", clearing, allIn)
		}
		if c := e.balance(acct, ledger.KindCredit); c != creditBefore+buys {
			t.Fatalf("credit %d, want %d + %d bought", c, creditBefore, buys)
		}
		if allIn != toInvoices+buys {
			t.Fatalf("money in %d ≠ invoices %d + credit %d", allIn, toInvoices, buys)
		}
		t.Logf("%d charges: %d to invoices, %d credit, %d by card", len(charges), toInvoices, buys, cardCharged)
	})
}
