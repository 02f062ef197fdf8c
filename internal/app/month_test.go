package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/native"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// client drives one app over HTTP in-process, validating every exchange
// against the spec of the dialect it addresses.
type client struct {
	t      *testing.T
	h      http.Handler
	native *apitest.Validator
	idch   *apitest.Validator
}

func newClient(t *testing.T, h http.Handler) *client {
	return &client{t: t, h: h, native: validator(t, nativeSpec()), idch: validator(t, idchSpec())}
}

// api sends a native API request with a bearer key and a JSON body.
func (c *client) api(want int, method, path, key, body string) map[string]any {
	c.t.Helper()
	req := apitest.Request{Method: method, Path: native.Prefix + path, Header: http.Header{"Authorization": {"Bearer " + key}}}
	if body != "" {
		req.Body = []byte(body)
	}
	resp := c.native.Do(c.t, c.h, req)
	if resp.Status != want {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, resp.Status, want, resp.Body)
	}
	var out map[string]any
	if len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, &out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, resp.Body)
		}
	}
	return out
}

// idc sends an idcloudhost request the way the seed's curl lines do: the
// apikey header and form data (in the query string for GET).
func (c *client) idc(want int, method, path, key string, form url.Values) []byte {
	c.t.Helper()
	req := apitest.Request{Method: method, Path: "/idcloudhost/v1" + path, Header: http.Header{}}
	req.Header.Set("apikey", key)
	if method == http.MethodGet {
		if len(form) > 0 {
			req.Path += "?" + form.Encode()
		}
	} else if form != nil {
		req.Body = []byte(form.Encode())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp := c.idch.Do(c.t, c.h, req)
	if resp.Status != want {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, resp.Status, want, resp.Body)
	}
	return resp.Body
}

// customer sets up, as the provider admin, the org chain down to a
// customer, its idcloudhost user, a billing account with the given extra
// JSON members, and a token; it returns the account and the token.
func (c *client) customer(admin, root, account string) (int64, string) {
	c.t.Helper()
	dist := c.api(201, "POST", "/orgs", admin, fmt.Sprintf(`{"parentId":%q,"name":"D"}`, root))["id"].(string)
	contract := c.api(201, "POST", "/contracts", admin, fmt.Sprintf(`{"orgId":%q,"reservedCapacity":1,"currency":"EUR","details":"c"}`, dist))["id"].(string)
	partner := c.api(201, "POST", "/contracts/"+contract+"/partners", admin, `{"name":"P"}`)["id"].(string)
	cust := c.api(201, "POST", "/orgs", admin, fmt.Sprintf(`{"parentId":%q,"name":"Customer"}`, partner))["id"].(string)
	user := int64(c.api(201, "POST", "/users", admin, fmt.Sprintf(`{"orgId":%q,"email":"customer@example.com"}`, cust))["id"].(float64))
	if account != "" {
		account = "," + account
	}
	acct := int64(c.api(201, "POST", "/billing-accounts", admin, fmt.Sprintf(`{"orgId":%q,"userId":%d%s}`, cust, user, account))["id"].(float64))
	key := c.api(201, "POST", fmt.Sprintf("/users/%d/tokens", user), admin, `{}`)["secret"].(string)
	return acct, key
}

func decodeInto(t *testing.T, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// TestMonthOfBilling simulates March 2027 for one billing account (VAT 20 %,
// discount 10 %, 5.00 of credit) with three resources metered every hour
// through the native API while the sandbox clock moves hour by hour; one VM
// changes configuration in the middle of the month. At the month boundary
// the invoice must show the totals computed by hand below; paying it with
// the test card must settle it; the ledger must balance.
func TestMonthOfBilling(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		march := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
		clk := clock.NewFake(march)
		a, err := app.New(ctx, d, app.Config{DataDir: t.TempDir(), Clock: clk, Sandbox: true})
		if err != nil {
			t.Fatal(err)
		}
		boot, err := a.Bootstrap(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		c := newClient(t, a.Handler)
		admin := boot.NewAdminKey

		acct, key := c.customer(admin, boot.Root.ID,
			`"title":"Month","email":"month@example.com","vatPercentage":20,"discountPercentage":10,"welcomeCredit":"5.00"`)

		// Three resources, metered every hour of March (744 hours).
		vm1 := func(h int) string {
			if h < 360 { // 2 CPUs, 2 GB, 20 GB until the 16th 00:00, then 4 CPUs, 4 GB, 40 GB
				return `{"vm_name":"web","cpus":2,"ram_MB":2048,"disk_size_GB":20,"os_name":"ubuntu"}`
			}
			return `{"vm_name":"web","cpus":4,"ram_MB":4096,"disk_size_GB":40,"os_name":"ubuntu"}`
		}
		const hours = 31 * 24
		for h := 0; h < hours; h++ {
			at := march.Add(time.Duration(h) * time.Hour).Format(time.RFC3339)
			rec := func(id, meter, config string) string {
				return fmt.Sprintf(`{"resourceId":%q,"meter":%q,"periodStart":%q,"billingAccountId":%d,"locationSlug":"cyc01","config":%s}`,
					id, meter, at, acct, config)
			}
			c.api(200, "POST", "/usage/hourly", admin, `{"records":[`+
				rec("11111111-1111-4111-8111-111111111111", "vm", vm1(h))+","+
				rec("22222222-2222-4222-8222-222222222222", "vm", `{"vm_name":"win","cpus":2,"ram_MB":2048,"disk_size_GB":50,"os_name":"windows"}`)+","+
				rec("33333333-3333-4333-8333-333333333333", "disk", `{"name":"data","size_GB":100}`)+`]}`)
			c.api(200, "POST", "/sandbox/clock", admin, `{"advance":"1h"}`)
			if h == 15*24 {
				// Mid-month: no invoice yet, and the running totals are under way.
				var inv []any
				decodeInto(t, c.idc(200, "GET", "/payment/invoice/list", key, url.Values{"billing_account_id": {fmt.Sprint(acct)}}), &inv)
				if len(inv) != 0 {
					t.Fatalf("invoices in the middle of the month: %v", inv)
				}
			}
		}
		// The month closes when its last hour's grace (1 h) has passed.
		c.api(200, "POST", "/sandbox/clock", admin, `{"advance":"1h"}`)

		var invoices []map[string]any
		decodeInto(t, c.idc(200, "GET", "/payment/invoice/list", key, url.Values{"billing_account_id": {fmt.Sprint(acct)}}), &invoices)
		if len(invoices) != 1 {
			t.Fatalf("invoices after the month = %v, want 1", invoices)
		}
		inv := invoices[0]
		// Hand-computed with the default price list (per hour: CPU 0.00521, RAM per GB 0.00329,
		// storage 0.0001 per GB, Windows 0.00548 per core):
		//   web, 2 CPUs, 2 GB RAM, 20 GB disk   0.019   × 360 h =  6.84
		//   web, 4 CPUs, 4 GB RAM, 40 GB disk   0.038   × 384 h = 14.592
		//   win, 2 CPUs, 2 GB RAM, 50 GB disk   0.03296 × 744 h = 24.52224
		//   data, 100 GB                        0.01    × 744 h =  7.44
		//   Σ 53.39424 → subtotal 53.40 (up to the cent); discount 10 % 5.34;
		//   credit −5.00; VAT 20 % of 43.06 = 8.612 → 8.61; total 51.67.
		wantTotals := map[string]string{"subtotal": "53.4", "discount_amount": "5.34", "credit": "-5", "vat_tax": "8.61", "total": "51.67"}
		totals := inv["totals"].(map[string]any)
		for k, want := range wantTotals {
			if got := fmt.Sprint(totals[k]); !sameNumber(got, want) {
				t.Errorf("totals.%s = %s, want %s (%v)", k, got, want, totals)
			}
		}
		if fmt.Sprint(inv["status"]) != "5" || fmt.Sprint(inv["period_start"]) != fmt.Sprint(march.Unix()) ||
			fmt.Sprint(inv["period_end"]) != fmt.Sprint(march.AddDate(0, 1, 0).Unix()) {
			t.Errorf("invoice = %v", inv)
		}
		wantLines := map[string][3]string{ // name → qty, item price, amount
			"web, 2 CPUs, 2 GB RAM, 20 GB disk": {"360", "0.019", "6.84"},
			"web, 4 CPUs, 4 GB RAM, 40 GB disk": {"384", "0.038", "14.592"},
			"win, 2 CPUs, 2 GB RAM, 50 GB disk": {"744", "0.03296", "24.52224"},
		}
		records := inv["records_list"].([]any)
		if len(records) != 4 {
			t.Errorf("records = %v, want 4 lines", records)
		}
		for _, r := range records {
			r := r.(map[string]any)
			want, ok := wantLines[r["name"].(string)]
			if !ok {
				if !sameNumber(fmt.Sprint(r["amount"]), "7.44") || !sameNumber(fmt.Sprint(r["qty"]), "744") {
					t.Errorf("record %v, want the disk's 744 h for 7.44", r)
				}
				continue
			}
			if !sameNumber(fmt.Sprint(r["qty"]), want[0]) || !sameNumber(fmt.Sprint(r["item_price"]), want[1]) ||
				!sameNumber(fmt.Sprint(r["amount"]), want[2]) || r["qty_unit"] != "h" {
				t.Errorf("record %v, want qty %s, price %s, amount %s", r, want[0], want[1], want[2])
			}
		}
		invID := fmt.Sprint(inv["id"])

		var unpaid map[string]any
		decodeInto(t, c.idc(200, "GET", "/payment/billing_account/unpaid_amount", key, url.Values{"billing_account_id": {fmt.Sprint(acct)}}), &unpaid)
		if !sameNumber(fmt.Sprint(unpaid["message"]), "51.67") {
			t.Errorf("unpaid = %v, want 51.67", unpaid)
		}

		// Pay it with the test card.
		c.idc(200, "POST", "/payment/card", key, url.Values{"billing_account_id": {fmt.Sprint(acct)}, "token": {"tok_visa"}})
		c.idc(200, "POST", "/payment/pay_invoice", key, url.Values{"invoice_id": {invID}})
		var paid map[string]any
		decodeInto(t, c.idc(200, "GET", "/payment/invoice", key, url.Values{"invoice_id": {invID}}), &paid)
		if fmt.Sprint(paid["status"]) != "10" {
			t.Errorf("status after payment = %v, want 10", paid["status"])
		}
		txs := paid["transaction_list"].([]any)
		if len(txs) != 1 || !sameNumber(fmt.Sprint(txs[0].(map[string]any)["amount"]), "51.67") {
			t.Errorf("transactions = %v, want one of 51.67", txs)
		}
		decodeInto(t, c.idc(200, "GET", "/payment/billing_account/unpaid_amount", key, url.Values{"billing_account_id": {fmt.Sprint(acct)}}), &unpaid)
		if !sameNumber(fmt.Sprint(unpaid["message"]), "0") {
			t.Errorf("unpaid after payment = %v, want 0", unpaid)
		}
		var credit []map[string]any
		decodeInto(t, c.idc(200, "GET", "/payment/credit/list", key, url.Values{"billing_account_id": {fmt.Sprint(acct)}}), &credit)
		if len(credit) != 2 || !sameNumber(fmt.Sprint(credit[0]["amount"]), "-5") || credit[0]["description"] != "Invoice payment" ||
			!sameNumber(fmt.Sprint(credit[1]["amount"]), "5") || credit[1]["description"] != "First billing account" {
			t.Errorf("credit history = %v", credit)
		}

		// The ledger balances to zero per currency.
		tb := c.api(200, "GET", "/ledger/trial-balance", admin, "")["items"].([]any)
		if len(tb) != 1 || tb[0].(map[string]any)["total"] != "0" {
			t.Errorf("trial balance = %v", tb)
		}
	})
}

// sameNumber compares two decimal renderings exactly ("53.4" = "53.40").
func sameNumber(a, b string) bool {
	x, ok1 := new(big.Rat).SetString(strings.TrimSpace(a))
	y, ok2 := new(big.Rat).SetString(strings.TrimSpace(b))
	return ok1 && ok2 && x.Cmp(y) == 0
}
