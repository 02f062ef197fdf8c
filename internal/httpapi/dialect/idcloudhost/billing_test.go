package idcloudhost_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/payment/testprocessor"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

type obj = map[string]any

// num returns a JSON number field as its text ("0.07", "2.0").
func num(t *testing.T, m obj, key string) string {
	t.Helper()
	n, ok := m[key].(json.Number)
	if !ok {
		t.Fatalf("%s is %T (%v), want a number", key, m[key], m[key])
	}
	return n.String()
}

// balances reads every ledger balance of the given billing accounts.
func (f *fixture) balances(t *testing.T, accounts ...int64) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, id := range accounts {
		list, err := f.led.Accounts(f.ctx, billing.LedgerOwner(id))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range list {
			out[a.Owner+"/"+string(a.Kind)+"/"+a.Currency] = a.Balance
		}
	}
	return out
}

// TestSeedRequests sends every billing, payment, pricing and charging curl
// example of the seed verbatim (TestIdentitySeedRequests covers the user,
// token and location ones) against the fixture, in an order that gives each
// its documented kind of answer, checks the documented fields and values,
// and requires every operation of the spec to have succeeded at least once.
func TestSeedRequests(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d, v)
		send := func(name string, status int) apitest.Response {
			t.Helper()
			resp := f.send(t, keyUser, readSeedRequest(t, name))
			wantStatus(t, resp, status)
			return resp
		}
		// Identity requests, for the coverage check below (their answers are
		// checked in TestIdentitySeedRequests).
		for _, name := range []string{"getUser", "listTokens", "listLocations", "updateUserProfile", "createToken"} {
			send(name, http.StatusOK)
		}
		send("updateToken", http.StatusNotFound)
		send("deleteToken", http.StatusNotFound)
		wantStatus(t, f.form(t, keyUser, "PATCH", "/user-resource/token", "token_id=2&description=d"), http.StatusOK)
		wantStatus(t, f.form(t, keyUser, "DELETE", "/user-resource/token", "token_id=9"), http.StatusOK)

		// ID-77: account 6 as stored, with the money figures of now.
		acct := decode[obj](t, send("getBillingAccount", http.StatusOK))
		want := sample(t, "getBillingAccount").(obj)
		for _, k := range []string{"additional_data", "address_line1", "allow_debt", "can_pay", "city", "company_name",
			"company_reg_code", "company_vat_number", "country", "county", "discount_percentage", "email", "id", "is_active",
			"is_deleted", "is_recurring_payment_enabled", "paying_by_invoice", "post_index", "referral_share_code", "reseller",
			"send_invoice_email", "site", "suspend_reason", "title", "user_id", "vat_percentage"} {
			if !reflect.DeepEqual(acct[k], want[k]) {
				t.Errorf("account %s = %#v, sample %#v", k, acct[k], want[k])
			}
		}
		if acct["is_default"] != false || acct["restriction_level"] != nil || len(acct["eligible_promotions"].([]any)) != 0 ||
			num(t, acct, "credit_amount") != "0.0" || num(t, acct, "unpaid_amount") != "0.07" ||
			acct["primary_card"].(obj)["type"] != "creditcard" || acct["primary_card"].(obj)["is_verified"] != true {
			t.Errorf("account 6: %v", acct)
		}
		// March so far: 2 VM-hours at 0.019 = 0.038 → 0.04, VAT 20 % 0.01.
		rt := acct["running_totals"].(obj)
		for k, want := range map[string]string{"subtotal": "0.04", "vat_tax": "0.01", "total": "0.05", "credit_available": "0.0",
			"credit_amount": "0.0", "discount_amount": "0.0", "ongoing": "-0.05"} {
			if got := num(t, rt, k); got != want {
				t.Errorf("running_totals.%s = %s, want %s", k, got, want)
			}
		}

		// ID-80: user 8's four accounts, not the other user's.
		var ids []int64
		for _, a := range decode[[]obj](t, send("listBillingAccounts", http.StatusOK)) {
			n, _ := a["id"].(json.Number).Int64()
			ids = append(ids, n)
		}
		if fmt.Sprint(ids) != "[1 6 9 129072]" {
			t.Errorf("accounts %v", ids)
		}

		// ID-82, ID-93, ID-92: the February invoice, unpaid: 3 VM-hours at
		// 0.019 = 0.057 → 0.06, VAT 20 % 0.012 → 0.01, total 0.07.
		if m := decode[obj](t, send("getUnpaidAmount", http.StatusOK)); num(t, m, "message") != "0.07" {
			t.Errorf("unpaid %v", m)
		}
		list := decode[[]obj](t, send("listInvoices", http.StatusOK))
		if len(list) != 1 {
			t.Fatalf("invoices %v", list)
		}
		inv := decode[obj](t, send("getInvoice", http.StatusOK))
		if d := cmp.Diff(list[0], inv); d != "" {
			t.Errorf("list and detail differ:\n%s", d)
		}
		tot := inv["totals"].(obj)
		if inv["padded_id"] != "001" || inv["status"] != json.Number("5") || num(t, tot, "subtotal") != "0.06" ||
			num(t, tot, "discount_amount") != "0.0" || num(t, tot, "credit") != "0.0" || num(t, tot, "vat_tax") != "0.01" ||
			num(t, tot, "total") != "0.07" || inv["period_start"] != json.Number("1769904000") ||
			inv["period_end"] != json.Number("1772323200") || len(inv["transaction_list"].([]any)) != 0 {
			t.Errorf("invoice %v", inv)
		}
		created, _ := inv["created"].(json.Number).Int64()
		if due, _ := inv["due_date"].(json.Number).Int64(); due != created+1200000 {
			t.Errorf("due_date %d, created %d", due, created)
		}
		recs := inv["records_list"].([]any)
		if len(recs) != 1 {
			t.Fatalf("records %v", recs)
		}
		rec := recs[0].(obj)
		if rec["name"] != "Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk" || rec["qty"] != json.Number("3") || rec["qty_unit"] != "h" ||
			num(t, rec, "item_price") != "0.019" || num(t, rec, "amount") != "0.057" || rec["location_slug"] != "cyc01" {
			t.Errorf("record %v", rec)
		}
		var snap map[string]any
		if err := json.Unmarshal([]byte(inv["account_snapshot"].(string)), &snap); err != nil || snap["title"] != "konto" {
			t.Errorf("account_snapshot %v: %v", inv["account_snapshot"], err)
		}

		// ID-95: pays invoice 1 with the primary card; 9.93 is left.
		pay := decode[obj](t, send("payAmount", http.StatusOK))
		if pay["success"] != true || num(t, pay, "amount_used") != "0.07" || num(t, pay, "amount_left") != "9.93" ||
			fmt.Sprint(pay["paid_invoices"]) != "[1]" || pay["error_log"] != "" || pay["message"] == "" {
			t.Errorf("pay_amount %v", pay)
		}
		inv = decode[obj](t, send("getInvoice", http.StatusOK))
		txs := inv["transaction_list"].([]any)
		if inv["status"] != json.Number("10") || len(txs) != 1 || num(t, txs[0].(obj), "amount") != "0.07" ||
			txs[0].(obj)["payment_object_id"] != json.Number("6") {
			t.Errorf("paid invoice %v", inv)
		}
		if m := decode[obj](t, send("getUnpaidAmount", http.StatusOK)); num(t, m, "message") != "0.0" {
			t.Errorf("unpaid after paying %v", m)
		}

		// ID-79: enabling the top-up with ongoing below the threshold buys
		// 52.00 at once.
		rec79 := decode[obj](t, send("configureRecurringPayment", http.StatusOK))
		rep := rec79["payment_report"].(obj)
		a79 := rec79["account"].(obj)
		if rep["triggered"] != true || len(rep["errors"].([]any)) != 0 || a79["is_recurring_payment_enabled"] != true ||
			num(t, a79, "recurring_payment_amount") != "52.0" || num(t, a79, "recurring_payment_threshold") != "55.0" {
			t.Errorf("recurring %v", rec79)
		}
		// ID-89: the purchase is in the credit history.
		credits := decode[[]obj](t, send("listCredit", http.StatusOK))
		if len(credits) != 1 || num(t, credits[0], "amount") != "52.0" || credits[0]["billing_account_id"] != json.Number("6") {
			t.Errorf("credit %v", credits)
		}

		// ID-85, ID-87, ID-88: card 6.
		card := decode[obj](t, send("getCard", http.StatusOK))
		if card["id"] != json.Number("6") || card["is_primary"] != true || card["is_verified"] != true || card["billing_account_id"] != json.Number("6") {
			t.Errorf("card %v", card)
		}
		var cardData map[string]any
		if err := json.Unmarshal([]byte(card["additional_data"].(string)), &cardData); err != nil {
			t.Errorf("card additional_data is not JSON: %v", err)
		}
		if cards := decode[[]obj](t, send("listCards", http.StatusOK)); len(cards) != 1 || !reflect.DeepEqual(cards[0], card) {
			t.Errorf("cards %v", cards)
		}
		if m := decode[obj](t, send("setPrimaryCard", http.StatusOK)); m["success"] != true {
			t.Errorf("set_primary %v", m)
		}
		// ID-83: the invoice method, unverified.
		po := decode[obj](t, send("applyForInvoicePayment", http.StatusOK))
		if po["identifier"] != "N/A" || po["is_verified"] != false || po["valid_thru"] != json.Number("4102358400") {
			t.Errorf("invoice method %v", po)
		}

		// ID-90 and ID-91 on account 1 (card 5), and their aliases.
		before := f.proc.Calls()
		if m := decode[obj](t, send("buyCredit", http.StatusOK)); m["success"] != true {
			t.Errorf("buy %v", m)
		}
		if f.proc.Calls() != before+1 {
			t.Errorf("buy credit made %d processor calls", f.proc.Calls()-before)
		}
		if m := decode[obj](t, send("requestCreditInvoice", http.StatusOK)); m["success"] != true {
			t.Errorf("request_invoice %v", m)
		}
		for _, alias := range []string{"/credit/buy", "/credit/request_invoice"} {
			body := "billing_account_id=1&payment_object_id=5&amount=1.50"
			resp := f.do(t, keyUser, apitest.Request{Method: "POST", Path: prefix + alias, Body: []byte(body),
				Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, AllowUnknownRoute: true})
			if resp.Status != http.StatusOK || string(resp.Body) != "{\"success\":true}\n" {
				t.Errorf("alias %s: %d %s", alias, resp.Status, resp.Body)
			}
		}
		acct1 := decode[obj](t, f.form(t, keyUser, "GET", "/payment/billing_account?billing_account_id=1", ""))
		// 10.00 welcome + 100.00 + 1.50 bought; two top-up invoices of 100.00 and 1.50 unpaid
		// (top-up invoices are not debts: unpaid_amount counts usage invoices).
		if num(t, acct1, "credit_amount") != "111.5" {
			t.Errorf("account 1 credit %s", num(t, acct1, "credit_amount"))
		}
		invs1 := decode[[]obj](t, f.form(t, keyUser, "GET", "/payment/invoice/list?billing_account_id=1", ""))
		if len(invs1) != 2 {
			t.Fatalf("account 1 invoices %v", invs1)
		}

		// ID-96 and ID-94 (success variants: the seed's own examples name
		// invoice 0 and the default account, see below): pay one top-up
		// invoice, then everything else.
		topUp := invs1[0]["id"].(json.Number).String()
		res := decode[obj](t, f.form(t, keyUser, "POST", "/payment/pay_invoice", "invoice_id="+topUp))
		if res["success"] != true || fmt.Sprint(res["paid_invoices"]) != "["+topUp+"]" {
			t.Errorf("pay_invoice %v", res)
		}
		// pay_all pays usage invoices; account 1 has none (top-up invoices
		// are prepayment requests, paid one by one).
		res = decode[obj](t, f.form(t, keyUser, "POST", "/payment/pay_all", "billing_account_id=1"))
		if res["success"] != true || len(res["paid_invoices"].([]any)) != 0 || num(t, res, "amount_used") != "0.0" {
			t.Errorf("pay_all %v", res)
		}

		// ID-81 then ID-76: 129072 becomes the default, and the seed's
		// delete of account 0 (the default) is refused.
		if m := decode[obj](t, send("setDefaultBillingAccount", http.StatusOK)); m["success"] != true {
			t.Errorf("set_default %v", m)
		}
		if msg := errorMessage(t, send("deleteBillingAccount", http.StatusConflict)); !strings.Contains(msg, "default") {
			t.Errorf("delete default: %q", msg)
		}
		if m := decode[obj](t, f.form(t, keyUser, "DELETE", "/payment/billing_account", "billing_account_id=9")); m["success"] != true {
			t.Errorf("delete 9 %v", m)
		}
		shadow := decode[[]obj](t, f.form(t, keyUser, "GET", "/payment/billing_account/list?show_shadow", ""))
		if len(shadow) != 4 || shadow[2]["is_deleted"] != true {
			t.Errorf("show_shadow %v", shadow)
		}
		if live := decode[[]obj](t, send("listBillingAccounts", http.StatusOK)); len(live) != 3 {
			t.Errorf("live accounts %d", len(live))
		}

		// ID-78 on the default account (0): a full replace that keeps the
		// e-mail.
		upd := decode[obj](t, send("updateBillingAccount", http.StatusOK))
		if upd["id"] != json.Number("129072") || upd["title"] != "" || upd["email"] != "user@example.com" || upd["country"] != "" {
			t.Errorf("update %v", upd)
		}
		upd = decode[obj](t, f.form(t, keyUser, "PUT", "/payment/billing_account",
			"billing_account_id=6&title=konto2&country=EE&send_invoice_email=false"))
		if upd["title"] != "konto2" || upd["company_name"] != "" || upd["send_invoice_email"] != false || upd["email"] != "user@example.com" {
			t.Errorf("update 6 %v", upd)
		}

		// ID-86 and ID-84: the seed's token "val" is not a card token and its
		// card 0 does not exist; a real token adds a card, which is then
		// deleted.
		if msg := errorMessage(t, send("addCard", http.StatusBadRequest)); !strings.HasPrefix(msg, "token: ") {
			t.Errorf("addCard val: %q", msg)
		}
		send("deleteCard", http.StatusBadRequest)
		added := decode[obj](t, f.form(t, keyUser, "POST", "/payment/card", "billing_account_id=6&token="+testprocessor.TokenMastercard))
		if added["is_verified"] != true || added["is_primary"] != false {
			t.Errorf("added card %v", added)
		}
		if m := decode[obj](t, f.form(t, keyUser, "DELETE", "/payment/card", "payment_object_id="+added["id"].(json.Number).String())); m["success"] != true {
			t.Errorf("delete card %v", m)
		}
		// The seed's pay_invoice names invoice 0; its pay_all the default
		// account, which has nothing to pay and no card.
		send("payInvoice", http.StatusBadRequest)
		if r := f.send(t, keyUser, readSeedRequest(t, "payAll")); r.Status != http.StatusOK && r.Status != http.StatusConflict {
			t.Errorf("payAll: %d %s", r.Status, r.Body)
		}

		// ID-97, ID-98, ID-99.
		if m := decode[obj](t, send("hasActiveCampaigns", http.StatusOK)); m["success"] != false {
			t.Errorf("campaigns %v", m)
		}
		// The seed's eight prices, then the two it does not print
		// (unassigned floating IP, load balancer; pricing.DefaultItems).
		policy := decode[obj](t, send("getPricingPolicy", http.StatusOK))["policy"].([]any)
		wantPolicy := sample(t, "getPricingPolicy").(obj)["policy"].([]any)
		if len(policy) != len(wantPolicy)+2 {
			t.Fatalf("policy has %d items, want %d", len(policy), len(wantPolicy)+2)
		}
		if d := cmp.Diff(wantPolicy, policy[:len(wantPolicy)]); d != "" {
			t.Errorf("pricing policy (-sample +got):\n%s", d)
		}
		for i, rt := range []string{"UNASSIGNED_FLOATING_IP", "LOAD_BALANCER"} {
			if it := policy[len(wantPolicy)+i].(obj); it["resourceType"] != rt {
				t.Errorf("extra item %d: %v", i, it)
			}
		}
		usage := decode[[]obj](t, send("getUsage", http.StatusOK))
		wantUsage := []obj{{"billing_account_id": json.Number("6"), "configurations": []any{obj{"cpus": json.Number("2"),
			"disk_size_GB": json.Number("20"), "os_name": "ubuntu", "ram_MB": json.Number("2048"), "vm_name": "Ubuntu-16-04"}},
			"cost": json.Number("0.038"), "description": "Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk", "hours": json.Number("2.0"),
			"owner_uuid": vmUUID, "price": json.Number("0.019"), "price_unit": "h",
			"uptime_types": []any{"VM_COMPUTE", "VM_RUNNING", "MAIN_STORAGE"}, "user_id": json.Number("8")}}
		if d := cmp.Diff(wantUsage, usage); d != "" {
			t.Errorf("usage (-want +got):\n%s", d)
		}

		// ID-74 and ID-75: no virtual machines exist yet.
		for _, name := range []string{"listBillingResources", "listBillingResourcesInLocation"} {
			if got := decode[[]any](t, send(name, http.StatusOK)); len(got) != 0 {
				t.Errorf("%s: %v", name, got)
			}
		}
		wantMsg := sample(t, "setResourceBilling").(obj)["errors"].(obj)["Error"]
		for _, name := range []string{"setResourceBilling", "setResourceBillingInLocation"} {
			if msg := errorMessage(t, send(name, http.StatusNotFound)); msg != wantMsg {
				t.Errorf("%s: %q, want %q", name, msg, wantMsg)
			}
		}
		// A location slug that does not exist is a 404.
		resp := f.form(t, keyUser, "GET", "/nope01/user-resource/billing_resources?id=6", "")
		wantStatus(t, resp, http.StatusNotFound)
		if msg := errorMessage(t, resp); msg != "no such location: nope01" {
			t.Errorf("unknown slug: %q", msg)
		}
		wantStatus(t, f.form(t, keyUser, "GET", "/bus02/user-resource/billing_resources?id=6", ""), http.StatusOK)
	})
	// resource_billing cannot succeed without virtual machines (this
	// fixture has no compute service; compute_test.go covers it). The
	// resource families' operations are covered by their own tests.
	want := []string{"POST /user-resource/resource_billing", "POST /{location}/user-resource/resource_billing"}
	var got []string
	for _, op := range v.Uncovered() {
		p := strings.TrimPrefix(strings.SplitN(op, " ", 2)[1], "/{location}")
		for _, own := range []string{"/payment/", "/user-resource/user", "/user-resource/token", "/config/locations",
			"/pricing/", "/charging/", "/user-resource/billing_resources", "/user-resource/resource_billing"} {
			if strings.HasPrefix(p, own) {
				got = append(got, op)
				break
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("operations never answered with success: %q, want only %q", got, want)
	}
}

// TestTenancyAndRestriction: another user's objects are not found, a
// restricted token is limited to its account, and refused requests leave
// the ledger as it was.
func TestTenancyAndRestriction(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		before := f.balances(t, acctDefault, acctMain, acctOther)
		charges := f.proc.Calls()
		form := "application/x-www-form-urlencoded"
		for _, c := range []struct {
			key, method, path, body string
			status                  int
		}{
			// The other user: user 8's objects do not exist for it.
			{f.otherKey, "GET", "/payment/billing_account?billing_account_id=6", "", 404},
			{f.otherKey, "GET", "/payment/invoice?invoice_id=1", "", 404},
			{f.otherKey, "GET", "/payment/card?payment_object_id=6", "", 404},
			{f.otherKey, "GET", "/payment/credit/list?billing_account_id=6", "", 404},
			{f.otherKey, "GET", "/charging/usage?billing_account_id=6", "", 404},
			{f.otherKey, "POST", "/payment/pay_invoice", "invoice_id=1", 404},
			{f.otherKey, "POST", "/payment/pay_amount", "billing_account_id=6&amount=1", 404},
			{f.otherKey, "POST", "/payment/credit/buy", "billing_account_id=11&payment_object_id=6&amount=5", 404},
			{f.otherKey, "PUT", "/payment/card/set_primary", "payment_object_id=6", 404},
			{f.otherKey, "DELETE", "/payment/card", "payment_object_id=6", 404},
			{f.otherKey, "DELETE", "/payment/billing_account", "billing_account_id=6", 404},
			{f.otherKey, "PUT", "/payment/billing_account", "billing_account_id=6&title=x", 404},
			{f.otherKey, "GET", "/user-resource/billing_resources?id=6", "", 404},
			// The restricted token: account 6 only.
			{keyRestricted, "GET", "/payment/billing_account?billing_account_id=1", "", 403},
			{keyRestricted, "POST", "/payment/pay_amount", "billing_account_id=1&amount=1", 403},
			{keyRestricted, "POST", "/payment/credit/buy", "billing_account_id=1&payment_object_id=5&amount=5", 403},
			// Bad amounts and unknown objects.
			{keyUser, "POST", "/payment/pay_amount", "billing_account_id=6&amount=-5", 400},
			{keyUser, "POST", "/payment/pay_amount", "billing_account_id=6&amount=ten", 400},
			{keyUser, "POST", "/payment/pay_amount", "billing_account_id=6&amount=0.001", 400},
			{keyUser, "POST", "/payment/pay_amount", "billing_account_id=6", 400},
			{keyUser, "POST", "/payment/credit/buy", "billing_account_id=6&payment_object_id=6&amount=0", 400},
			{keyUser, "POST", "/payment/credit/buy", "billing_account_id=6&payment_object_id=5&amount=5", 404},
			{keyUser, "POST", "/payment/credit/request_invoice", "billing_account_id=6&amount=-1", 400},
			{keyUser, "POST", "/payment/pay_invoice", "invoice_id=999", 404},
			{keyUser, "GET", "/payment/invoice?invoice_id=999", "", 404},
			{keyUser, "GET", "/payment/billing_account?billing_account_id=11", "", 404},
		} {
			req := apitest.Request{Method: c.method, Path: prefix + c.path, Header: http.Header{}}
			if c.body != "" {
				req.Body = []byte(c.body)
				req.Header.Set("Content-Type", form)
			}
			// Negative and non-numeric amounts break the spec's types too.
			req.ExpectInvalidRequest = strings.Contains(c.body, "amount=-") || strings.Contains(c.body, "amount=ten")
			resp := f.do(t, c.key, req)
			if resp.Status != c.status {
				t.Errorf("%s %s %s: %d, want %d: %s", c.method, c.path, c.body, resp.Status, c.status, resp.Body)
			}
		}
		// The restricted token sees its account only, and may omit it.
		list := decode[[]obj](t, f.form(t, keyRestricted, "GET", "/payment/billing_account/list", ""))
		if len(list) != 1 || list[0]["id"] != json.Number("6") {
			t.Errorf("restricted list %v", list)
		}
		if a := decode[obj](t, f.form(t, keyRestricted, "GET", "/payment/billing_account", "")); a["id"] != json.Number("6") {
			t.Errorf("restricted default %v", a)
		}
		if after := f.balances(t, acctDefault, acctMain, acctOther); !reflect.DeepEqual(before, after) || f.proc.Calls() != charges {
			t.Errorf("refused requests changed the ledger or charged:\nbefore %v\nafter  %v", before, after)
		}
	})
}

// TestDeclinedCard: a card the processor declines at charge time answers
// 402 and changes nothing; one declined when added is never stored.
func TestDeclinedCard(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		resp := f.form(t, keyUser, "POST", "/payment/card", "billing_account_id=9&token="+testprocessor.TokenChargeDeclined)
		wantStatus(t, resp, http.StatusPaymentRequired)
		if cards := decode[[]obj](t, f.form(t, keyUser, "GET", "/payment/card/list?billing_account_id=9", "")); len(cards) != 0 {
			t.Fatalf("declined card stored: %v", cards)
		}
		resp = f.form(t, keyUser, "POST", "/payment/card", "billing_account_id=9&token="+testprocessor.TokenChargeCustomerFail)
		wantStatus(t, resp, http.StatusOK)
		card := decode[obj](t, resp)["id"].(json.Number).String()
		wantStatus(t, f.form(t, keyUser, "POST", "/payment/credit/request_invoice", "billing_account_id=9&amount=20"), http.StatusOK)
		invs := decode[[]obj](t, f.form(t, keyUser, "GET", "/payment/invoice/list?billing_account_id=9", ""))
		if len(invs) != 1 {
			t.Fatalf("top-up invoices %v", invs)
		}
		invoice := invs[0]["id"].(json.Number).String()

		before := f.balances(t, acctSecond)
		resp = f.form(t, keyUser, "POST", "/payment/pay_invoice", "invoice_id="+invoice)
		if resp.Status != http.StatusPaymentRequired {
			// The service may report the decline in the ID-95 shape instead.
			if r := decode[obj](t, resp); resp.Status != http.StatusOK || r["success"] != false || r["error_log"] == "" {
				t.Fatalf("declined pay_invoice: %d %s", resp.Status, resp.Body)
			}
		}
		wantStatus(t, f.form(t, keyUser, "POST", "/payment/credit/buy", "billing_account_id=9&payment_object_id="+card+"&amount=5"),
			http.StatusPaymentRequired)
		if after := f.balances(t, acctSecond); !reflect.DeepEqual(before, after) {
			t.Errorf("a declined card changed the ledger:\nbefore %v\nafter  %v", before, after)
		}
		invs = decode[[]obj](t, f.form(t, keyUser, "GET", "/payment/invoice/list?billing_account_id=9", ""))
		if len(invs) != 1 || invs[0]["status"] != json.Number("5") || len(invs[0]["transaction_list"].([]any)) != 0 {
			t.Errorf("invoice after declines %v", invs)
		}
	})
}

// TestPaymentReplays: 50 concurrent pay_amount requests with one
// Idempotency-Key charge once; the replays answer the first result (or
// 409 while it runs).
func TestPaymentReplays(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		calls := f.proc.Calls()
		req := apitest.Request{Method: "POST", Path: prefix + "/payment/pay_amount", Body: []byte("billing_account_id=6&amount=0.05"),
			Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Idempotency-Key": {"pay-once"}}}
		var wg sync.WaitGroup
		var mu sync.Mutex
		bodies := map[string]int{}
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp := f.do(t, keyUser, req)
				switch resp.Status {
				case http.StatusOK:
					mu.Lock()
					bodies[string(resp.Body)]++
					mu.Unlock()
				case http.StatusConflict:
				default:
					t.Errorf("replay: %d %s", resp.Status, resp.Body)
				}
			}()
		}
		wg.Wait()
		resp := f.do(t, keyUser, req)
		wantStatus(t, resp, http.StatusOK)
		bodies[string(resp.Body)]++
		if len(bodies) != 1 {
			t.Fatalf("replays answered differently: %v", bodies)
		}
		if got := f.proc.Calls() - calls; got != 1 {
			t.Fatalf("%d processor calls for one payment", got)
		}
		inv := decode[obj](t, f.form(t, keyUser, "GET", "/payment/invoice?invoice_id=1", ""))
		if txs := inv["transaction_list"].([]any); len(txs) != 1 || num(t, txs[0].(obj), "amount") != "0.05" {
			t.Fatalf("invoice after replays %v", inv)
		}
	})
}

// TestPaymentEncodings: JSON bodies with numbers or strings, the
// restricted token's implied account (ID-amb-24), and the path winning over
// the body.
func TestPaymentEncodings(t *testing.T) {
	t.Parallel()
	v := apitest.NewValidator(t, idcloudhost.Spec())
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d, v)
		for _, body := range []string{`{"amount": "0.02"}`, `{"amount": 0.01, "billing_account_id": 6}`} {
			resp := f.do(t, keyRestricted, apitest.Request{Method: "POST", Path: prefix + "/payment/pay_amount", Body: []byte(body)})
			wantStatus(t, resp, http.StatusOK)
			if r := decode[obj](t, resp); r["success"] != true || fmt.Sprint(r["paid_invoices"]) != "[1]" {
				t.Fatalf("%s: %v", body, r)
			}
		}
		inv := decode[obj](t, f.form(t, keyUser, "GET", "/payment/invoice?invoice_id=1", ""))
		if txs := inv["transaction_list"].([]any); len(txs) != 2 || num(t, inv["totals"].(obj), "total") != "0.07" {
			t.Fatalf("invoice %v", inv)
		}
		if m := decode[obj](t, f.form(t, keyRestricted, "GET", "/payment/billing_account/unpaid_amount", "")); num(t, m, "message") != "0.04" {
			t.Fatalf("unpaid %v", m)
		}
		// The path's account wins over the body's.
		resp := f.do(t, keyUser, apitest.Request{Method: "PUT", Path: prefix + "/payment/billing_account/6/recurring_payment",
			Body: []byte(`{"billing_account_id": 1, "recurring_payment_amount": 52.5, "recurring_payment_threshold": "0"}`)})
		wantStatus(t, resp, http.StatusOK)
		r := decode[obj](t, resp)
		if a := r["account"].(obj); a["id"] != json.Number("6") || num(t, a, "recurring_payment_amount") != "52.5" ||
			r["payment_report"].(obj)["triggered"] != false {
			t.Fatalf("recurring %v", r)
		}
		a1 := decode[obj](t, f.form(t, keyUser, "GET", "/payment/billing_account?billing_account_id=1", ""))
		if num(t, a1, "recurring_payment_amount") != "0.0" {
			t.Fatalf("account 1 changed: %v", a1)
		}
		// Amounts with more decimals than the currency are refused.
		resp = f.do(t, keyUser, apitest.Request{Method: "POST", Path: prefix + "/payment/credit/request_invoice",
			Body: []byte(`{"billing_account_id": 6, "amount": 1.005}`)})
		wantStatus(t, resp, http.StatusBadRequest)
		if msg := errorMessage(t, resp); !strings.HasPrefix(msg, "amount: ") {
			t.Fatalf("message %q", msg)
		}
	})
}
