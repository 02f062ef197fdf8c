package app_test

import (
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// payEnv is an app with one customer whose billing account (no VAT) owes
// five monthly usage invoices of 10.26 each (300,000 GB-hours of object
// storage at 0.0000342) and has a card of the given token.
type payEnv struct {
	*client
	a        *app.App
	key      string
	acct     int64
	invoices []int64 // oldest first
}

func newPayEnv(t *testing.T, d *db.DB, cardToken string) *payEnv {
	t.Helper()
	ctx := t.Context()
	start := time.Date(2027, 5, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	a, err := app.New(ctx, d, app.Config{DataDir: t.TempDir(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := a.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, a.Handler)
	admin := boot.NewAdminKey
	acct, key := c.customer(admin, boot.Root.ID, "")
	e := &payEnv{client: c, a: a, acct: acct, key: key}
	for m := 0; m < 5; m++ {
		month := start.AddDate(0, m, 0)
		clk.Set(month)
		c.api(200, "POST", "/usage/hourly", admin, fmt.Sprintf(`{"records":[{"resourceId":"bucket-1","meter":"object_storage",`+
			`"periodStart":%q,"billingAccountId":%d,"config":{"name":"bucket"},"quantity":"300000"}]}`, month.Format(time.RFC3339), acct))
		clk.Set(month.AddDate(0, 1, 0).Add(time.Hour))
		if n, err := a.Billing.IssueInvoices(ctx, clk.Now(), a.Payment); err != nil || n != 1 {
			t.Fatalf("month %d: issued %d invoices, %v", m, n, err)
		}
	}
	var invs []map[string]any
	decodeInto(t, e.idc(200, "GET", "/payment/invoice/list", e.key, url.Values{"billing_account_id": {fmt.Sprint(acct)}}), &invs)
	if len(invs) != 5 {
		t.Fatalf("%d invoices, want 5", len(invs))
	}
	for i := len(invs) - 1; i >= 0; i-- { // the list is newest first
		var id int64
		fmt.Sscan(fmt.Sprint(invs[i]["id"]), &id)
		if !sameNumber(fmt.Sprint(invs[i]["totals"].(map[string]any)["total"]), "10.26") {
			t.Fatalf("invoice %d totals %v, want 10.26", id, invs[i]["totals"])
		}
		e.invoices = append(e.invoices, id)
	}
	e.idc(200, "POST", "/payment/card", e.key, url.Values{"billing_account_id": {fmt.Sprint(acct)}, "token": {cardToken}})
	return e
}

// money is the state a payment can change: every invoice's status and paid
// amount, the ledger balances of the account, and the processor's total.
func (e *payEnv) money(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	var b strings.Builder
	for _, id := range e.invoices {
		inv, err := e.a.Billing.InvoiceByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "invoice %d: status %d paid %d pending %d\n", id, inv.Status, inv.PaidAmount, inv.PendingAmount)
	}
	accts, err := e.a.Ledger.Accounts(ctx, billing.LedgerOwner(e.acct))
	if err != nil {
		t.Fatal(err)
	}
	for _, la := range accts {
		fmt.Fprintf(&b, "ledger %s: %d\n", la.Kind, la.Balance)
	}
	fmt.Fprintf(&b, "processor: %d\n", e.a.Processor.Charged("EUR"))
	return b.String()
}

func (e *payEnv) trialBalanceZero(t *testing.T) {
	t.Helper()
	tb, err := e.a.Ledger.TrialBalance(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range tb {
		if c.Total.Sign() != 0 {
			t.Errorf("ledger total in %s = %s, want 0", c.Currency, c.Total)
		}
	}
}

// payAmount sends pay_amount as the seed's curl does, with an optional
// Idempotency-Key, from any goroutine.
func (e *payEnv) payAmount(t *testing.T, amount, idemKey string) apitest.Response {
	req := apitest.Request{Method: "POST", Path: "/idcloudhost/v1/payment/pay_amount", Header: http.Header{},
		Body: []byte(url.Values{"billing_account_id": {fmt.Sprint(e.acct)}, "amount": {amount}}.Encode())}
	req.Header.Set("apikey", e.key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	return e.idch.Do(t, e.h, req)
}

// TestParallelPayAmount races 100 pay_amount calls of 0.37 against five
// unpaid 10.26 invoices: 37.00 must be applied oldest first (three invoices
// paid, 6.22 of the fourth, the fifth untouched), no invoice overpaid, and
// the processor, the ledger and the responses must agree on every cent.
func TestParallelPayAmount(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newPayEnv(t, d, "tok_visa")
		const n = 100
		var wg sync.WaitGroup
		used := make([]*big.Rat, n)
		status := make([]int, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.payAmount(t, "0.37", "")
				status[i] = r.Status
				var out map[string]any
				if r.Status == http.StatusOK {
					decodeInto(t, r.Body, &out)
					used[i], _ = new(big.Rat).SetString(fmt.Sprint(out["amount_used"]))
				}
			}()
		}
		wg.Wait()
		sum := new(big.Rat)
		for i := range n {
			if status[i] != http.StatusOK || used[i] == nil {
				t.Fatalf("call %d: status %d", i, status[i])
			}
			sum.Add(sum, used[i])
		}
		if sum.Cmp(big.NewRat(3700, 100)) != 0 {
			t.Errorf("Σ amount_used = %s, want 37", sum.FloatString(2))
		}
		if got := e.a.Processor.Charged("EUR"); got != 3700 {
			t.Errorf("the processor charged %d cents, want 3700", got)
		}
		ctx := t.Context()
		wantPaid := []int64{1026, 1026, 1026, 622, 0}
		for i, id := range e.invoices {
			inv, err := e.a.Billing.InvoiceByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			wantStatus := billing.StatusUnpaid
			if wantPaid[i] == inv.Total {
				wantStatus = billing.StatusPaid
			}
			if inv.PaidAmount != wantPaid[i] || inv.PendingAmount != 0 || inv.Status != wantStatus || inv.PaidAmount > inv.Total {
				t.Errorf("invoice %d (oldest %d): paid %d pending %d status %d of %d; want paid %d", id, i+1, inv.PaidAmount,
					inv.PendingAmount, inv.Status, inv.Total, wantPaid[i])
			}
		}
		// Receivables went up by exactly what was charged.
		accts, err := e.a.Ledger.Accounts(ctx, billing.LedgerOwner(e.acct))
		if err != nil {
			t.Fatal(err)
		}
		for _, la := range accts {
			if la.Kind == "receivables" && la.Balance != -5*1026+3700 {
				t.Errorf("receivables = %d, want %d", la.Balance, -5*1026+3700)
			}
		}
		e.trialBalanceZero(t)
	})
}

// TestPaymentReplays sends the same pay_amount (same Idempotency-Key) 50
// times at once: exactly one charge reaches the processor, and every
// answer is the first one or "still in progress".
func TestPaymentReplays(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newPayEnv(t, d, "tok_visa")
		const n = 50
		var wg sync.WaitGroup
		resps := make([]apitest.Response, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resps[i] = e.payAmount(t, "12.50", "replay-1")
			}()
		}
		wg.Wait()
		var first []byte
		for i, r := range resps {
			switch r.Status {
			case http.StatusOK:
				if first == nil {
					first = r.Body
				} else if string(r.Body) != string(first) {
					t.Errorf("replay %d answered %s, the first %s", i, r.Body, first)
				}
			case http.StatusConflict: // the first was still running
			default:
				t.Errorf("replay %d: %d %s", i, r.Status, r.Body)
			}
		}
		if first == nil {
			t.Fatal("no replay succeeded")
		}
		// A later replay returns the stored answer.
		if r := e.payAmount(t, "12.50", "replay-1"); r.Status != http.StatusOK || string(r.Body) != string(first) {
			t.Errorf("late replay = %d %s, want %s", r.Status, r.Body, first)
		}
		if calls, charged := len(e.a.Processor.Charges()), e.a.Processor.Charged("EUR"); calls != 1 || charged != 1250 {
			t.Errorf("processor: %d charges, %d cents; want exactly one of 1250", calls, charged)
		}
		e.trialBalanceZero(t)
	})
}

// TestDeclinedAndBadPayments: a card the processor declines at charge time
// and bad input leave invoices, ledger and processor exactly as they were.
func TestDeclinedAndBadPayments(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newPayEnv(t, d, "tok_chargeCustomerFail")
		before := e.money(t)
		if r := e.payAmount(t, "5.00", ""); r.Status != http.StatusPaymentRequired || !strings.Contains(string(r.Body), `"errors"`) {
			t.Errorf("declined pay_amount = %d %s, want 402 with the seed's error shape", r.Status, r.Body)
		}
		acct := fmt.Sprint(e.acct)
		for _, c := range []struct {
			path    string
			form    url.Values
			want    int
			invalid bool // the spec refuses it too
		}{
			{"/payment/pay_invoice", url.Values{"invoice_id": {fmt.Sprint(e.invoices[0])}}, http.StatusPaymentRequired, false},
			{"/payment/pay_all", url.Values{"billing_account_id": {acct}}, http.StatusPaymentRequired, false},
			{"/payment/pay_amount", url.Values{"billing_account_id": {acct}, "amount": {"-1"}}, http.StatusBadRequest, true},
			{"/payment/pay_amount", url.Values{"billing_account_id": {acct}, "amount": {"ten"}}, http.StatusBadRequest, true},
			{"/payment/pay_amount", url.Values{"billing_account_id": {acct}, "amount": {"1.001"}}, http.StatusBadRequest, false},
			{"/payment/pay_amount", url.Values{"billing_account_id": {"999999"}, "amount": {"1"}}, http.StatusNotFound, false},
			{"/payment/pay_invoice", url.Values{"invoice_id": {"999999"}}, http.StatusNotFound, false},
			{"/payment/credit/buy", url.Values{"billing_account_id": {acct}, "payment_object_id": {"999999"}, "amount": {"1"}}, http.StatusNotFound, false},
			{"/payment/credit/buy", url.Values{"billing_account_id": {acct}, "payment_object_id": {"1"}, "amount": {"0"}}, http.StatusBadRequest, false},
		} {
			req := apitest.Request{Method: "POST", Path: "/idcloudhost/v1" + c.path, Header: http.Header{},
				Body: []byte(c.form.Encode()), ExpectInvalidRequest: c.invalid}
			req.Header.Set("apikey", e.key)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if r := e.idch.Do(t, e.h, req); r.Status != c.want || !strings.Contains(string(r.Body), `{"errors":{"Error":`) {
				t.Errorf("%s %v = %d %s, want %d with the seed's error shape", c.path, c.form, r.Status, r.Body, c.want)
			}
		}
		if after := e.money(t); after != before {
			t.Errorf("refused payments changed money:\nbefore\n%s\nafter\n%s", before, after)
		}
		e.trialBalanceZero(t)
	})
}
