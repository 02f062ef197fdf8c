package native

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/payment/testprocessor"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// billingEnv holds the billing objects of the fixture: a customer with a
// billing account under each distributor, an unverified invoice payment
// method and an unpaid top-up invoice under A, and the same under B.
type billingEnv struct {
	custA, custB       string
	acctA, acctB       int64
	methodA, methodB   int64
	invoiceA, invoiceB int64
}

// addBillingDeps builds the money services on st.
func addBillingDeps(t *testing.T, d *Deps, st *sqlstore.Store, clk clock.Clock) {
	t.Helper()
	d.Ledger = ledger.NewService(sqlstore.Ledger{Store: st}, clk)
	d.Pricing = pricing.NewService(sqlstore.Pricing{Store: st}, clk)
	if err := d.Pricing.EnsureDefault(t.Context()); err != nil {
		t.Fatal(err)
	}
	d.Hourly = metering.NewHourlyService(sqlstore.MeteringHourly{Store: st}, d.Pricing, clk)
	d.Billing = billing.NewService(sqlstore.Billing{Store: st}, d.Ledger, clk, billing.Config{Usage: d.Hourly})
	d.Payment = payment.NewService(sqlstore.Payment{Store: st}, d.Ledger, d.Billing, testprocessor.New(clk), clk, payment.Config{})
}

func (e *env) seedBilling(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	b := &e.billing
	b.custA = e.create(t, "/orgs", `{"parentId":%q,"name":"Billing customer A"}`, e.partnerA)
	b.custB = e.create(t, "/orgs", `{"parentId":%q,"name":"Billing customer B"}`, e.partnerB)
	for _, c := range []struct {
		org               string
		acct, method, inv *int64
	}{{b.custA, &b.acctA, &b.methodA, &b.invoiceA}, {b.custB, &b.acctB, &b.methodB, &b.invoiceB}} {
		acct, err := e.deps.Billing.CreateAccount(ctx, actor.System(""), billing.CreateAccountInput{OrgID: c.org, UserID: 0,
			Data: billing.AccountData{Title: "konto", Email: "billing@example.com"}, VATPercentage: 20})
		if err != nil {
			t.Fatal(err)
		}
		*c.acct = acct.ID
		// The customer's own applications, made as the customer would.
		cust := actor.Actor{Type: actor.TypeAPIKey, ID: "customer", OrgID: c.org, OrgPath: acct.OrgPath, OrgKind: actor.Customer,
			Role: actor.Admin, RequestID: "seed"}
		m, err := e.deps.Payment.ApplyForInvoicePayment(ctx, cust, acct.ID)
		if err != nil {
			t.Fatal(err)
		}
		*c.method = m.ID
		inv, err := e.deps.Billing.CreateTopUpInvoice(ctx, cust, acct.ID, money.NewAmount(5000, money.EUR))
		if err != nil {
			t.Fatal(err)
		}
		*c.inv = inv.ID
	}
}

func (e *env) scenarioBilling(t *testing.T) {
	b := e.billing
	// Accounts: the provider admin creates one for A's customer, with
	// credit and a debt limit (money is the provider's: money_test.go);
	// A's admin may lower the limit.
	created := e.ok(t, http.StatusCreated, "POST", "/billing-accounts", provAdmin, fmt.Sprintf(
		`{"orgId":%q,"userId":0,"title":"Second","email":"second@example.com","country":"EE","vatPercentage":20,`+
			`"discountPercentage":10,"allowDebt":true,"maxDebt":"100.00","welcomeCredit":"10.00"}`, b.custA))
	id := int64(created["id"].(float64))
	if created["orgId"] != b.custA || created["vatPercentage"] != 20.0 || created["discountPercentage"] != 10.0 ||
		created["maxDebt"] != "100.00" || created["currency"] != "EUR" || created["restrictionLevel"] != "" || created["country"] != "EE" {
		t.Errorf("created account = %v", created)
	}
	if got := e.ok(t, http.StatusOK, "GET", fmt.Sprintf("/billing-accounts/%d", id), aViewer, ""); got["title"] != "Second" {
		t.Errorf("read back %v", got)
	}
	var ids []float64
	for _, it := range e.ok(t, http.StatusOK, "GET", "/billing-accounts", aViewer, "")["items"].([]any) {
		if it.(map[string]any)["orgId"] == e.partnerA {
			continue // partner A's reseller projects (reseller_test.go) are billing accounts of the partner
		}
		ids = append(ids, it.(map[string]any)["id"].(float64))
	}
	if fmt.Sprint(ids) != fmt.Sprint([]float64{float64(b.acctA), float64(id)}) {
		t.Errorf("A's accounts = %v, want [%d %d]", ids, b.acctA, id)
	}
	upd := e.ok(t, http.StatusOK, "PATCH", fmt.Sprintf("/billing-accounts/%d", id), aAdmin, `{"vatPercentage":9,"maxDebt":"5.5","isActive":false}`)
	if upd["vatPercentage"] != 9.0 || upd["maxDebt"] != "5.50" || upd["isActive"] != false || upd["discountPercentage"] != 10.0 {
		t.Errorf("updated account = %v", upd)
	}

	// Usage: provider staff record an hour; the same record again is a no-op.
	hour := e.clock.Now().Truncate(time.Hour).Format(time.RFC3339)
	rec := fmt.Sprintf(`{"records":[{"resourceId":"vm-1","meter":"vm","periodStart":%q,"billingAccountId":%d,`+
		`"config":{"vm_name":"web","cpus":2,"ram_MB":2048,"disk_size_GB":20,"os_name":"ubuntu"}}]}`, hour, b.acctA)
	got := e.ok(t, http.StatusOK, "POST", "/usage/hourly", provStaff, rec)
	r0 := got["items"].([]any)[0].(map[string]any)
	// 2 × 0.00521 + 2 × 0.00329 + 20 × 0.0001 by the default price list.
	if r0["unitPrice"] != "0.019" || r0["description"] != "web, 2 CPUs, 2 GB RAM, 20 GB disk" || r0["quantity"] != "1" {
		t.Errorf("recorded %v", r0)
	}
	if again := e.ok(t, http.StatusOK, "POST", "/usage/hourly", provStaff, rec); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Errorf("replayed record = %v, want %v", again, got)
	}

	// Pricing.
	versions := e.ok(t, http.StatusOK, "GET", "/pricing/versions", provViewer, "")["items"].([]any)
	if len(versions) != 1 {
		t.Fatalf("price versions = %v", versions)
	}
	items := versions[0].(map[string]any)["items"].([]any)
	var itemsJSON []string
	for _, it := range items {
		m := it.(map[string]any)
		if m["resourceType"] == "CPU" {
			m["price"] = "0.006"
		}
		itemsJSON = append(itemsJSON, jsonOf(t, m))
	}
	from := e.clock.Now().Add(24 * time.Hour).Truncate(time.Hour).Format(time.RFC3339)
	v := e.ok(t, http.StatusCreated, "POST", "/pricing/versions", provAdmin,
		`{"effectiveFrom":"`+from+`","items":[`+strings.Join(itemsJSON, ",")+`]}`)
	if v["effectiveFrom"] != from || len(v["items"].([]any)) != len(items) {
		t.Errorf("created version = %v", v)
	}
	if n := len(e.ok(t, http.StatusOK, "GET", "/pricing/versions", provViewer, "")["items"].([]any)); n != 2 {
		t.Errorf("%d versions after adding one, want 2", n)
	}
	m := e.ok(t, http.StatusOK, "PUT", "/pricing/multipliers/postgresql", provAdmin,
		`{"multipliers":[{"resourceType":"CPU","priceMultiplier":"3.0"},{"resourceType":"STORAGE","serviceNameInUptime":"main","priceMultiplier":"1.5"}]}`)
	if m["service"] != "postgresql" || len(m["multipliers"].([]any)) != 2 {
		t.Errorf("multipliers = %v", m)
	}
	// The defaults (the seed's mariadb and postgresql packages), with postgresql replaced.
	l := e.ok(t, http.StatusOK, "GET", "/pricing/multipliers", provViewer, "")["items"].([]any)
	if len(l) != 2 || jsonOf(t, l[1]) != jsonOf(t, m) {
		t.Errorf("multiplier lists = %v, want mariadb's and %v", l, m)
	}

	// Payments: verify A's application to pay by invoice, pay A's top-up invoice by bank.
	pm := e.ok(t, http.StatusOK, "POST", fmt.Sprintf("/payment-methods/%d/verify", b.methodA), provStaff, "")
	if pm["isVerified"] != true || pm["billingAccountId"] != float64(b.acctA) {
		t.Errorf("verified method = %v", pm)
	}
	invs := e.ok(t, http.StatusOK, "GET", fmt.Sprintf("/billing-accounts/%d/invoices", b.acctA), aViewer, "")["items"].([]any)
	if len(invs) != 1 || invs[0].(map[string]any)["status"] != 5.0 || invs[0].(map[string]any)["total"] != "50.00" {
		t.Fatalf("A's invoices = %v", invs)
	}
	bank := fmt.Sprintf(`{"amount":"50.00","reference":"BANK-%d"}`, b.invoiceA)
	c := e.ok(t, http.StatusOK, "POST", fmt.Sprintf("/invoices/%d/bank-payments", b.invoiceA), provStaff, bank)
	if c["status"] != "succeeded" || c["amount"] != "50.00" {
		t.Errorf("bank payment = %v", c)
	}
	if again := e.ok(t, http.StatusOK, "POST", fmt.Sprintf("/invoices/%d/bank-payments", b.invoiceA), provStaff, bank); again["id"] != c["id"] {
		t.Errorf("recording the same transfer again gave %v, want the first record %v", again, c)
	}
	invs = e.ok(t, http.StatusOK, "GET", fmt.Sprintf("/billing-accounts/%d/invoices", b.acctA), aViewer, "")["items"].([]any)
	if invs[0].(map[string]any)["status"] != 10.0 || invs[0].(map[string]any)["paid"] != "50.00" {
		t.Errorf("paid invoice = %v", invs[0])
	}
	// EUR, and RUB for the reseller projects (reseller_test.go): each
	// currency balances.
	tb := e.ok(t, http.StatusOK, "GET", "/ledger/trial-balance", provAdmin, "")["items"].([]any)
	if len(tb) != 2 || tb[0].(map[string]any)["currency"] != "EUR" || tb[1].(map[string]any)["currency"] != "RUB" {
		t.Errorf("trial balance = %v", tb)
	}
	for _, c := range tb {
		if c.(map[string]any)["total"] != "0" {
			t.Errorf("trial balance = %v", tb)
		}
	}
}

func (e *env) billingAuthzCases() []authzCase {
	b := e.billing
	admins := []string{aViewer, aStaff, provViewer, provStaff}
	providerAdmin := []string{aAdmin, provStaff, provViewer}
	providerStaff := []string{aAdmin, aStaff, aViewer, provViewer} // payments are the provider's finance work
	hour := e.clock.Now().Truncate(time.Hour).Format(time.RFC3339)
	rec := func(acct int64) string {
		return fmt.Sprintf(`{"records":[{"resourceId":"vm-z","meter":"vm","periodStart":%q,"billingAccountId":%d,"config":{"vm_name":"z","cpus":1,"ram_MB":1024,"disk_size_GB":1}}]}`, hour, acct)
	}
	return []authzCase{
		{method: "POST", path: "/billing-accounts", body: `{"orgId":"` + b.custA + `"}`, forbidden: []string{aViewer, provViewer},
			foreignBody: `{"orgId":"` + b.custB + `"}`},
		{method: "GET", path: "/billing-accounts"},
		{method: "GET", path: fmt.Sprintf("/billing-accounts/%d", b.acctA), foreignPath: fmt.Sprintf("/billing-accounts/%d", b.acctB)},
		{method: "PATCH", path: fmt.Sprintf("/billing-accounts/%d", b.acctA), body: `{"vatPercentage":5}`, forbidden: admins,
			foreignPath: fmt.Sprintf("/billing-accounts/%d", b.acctB)},
		{method: "GET", path: fmt.Sprintf("/billing-accounts/%d/invoices", b.acctA), foreignPath: fmt.Sprintf("/billing-accounts/%d/invoices", b.acctB)},
		{method: "POST", path: "/usage/hourly", body: rec(b.acctA), forbidden: []string{aAdmin, aViewer, provViewer}},
		{method: "GET", path: "/pricing/versions", forbidden: []string{aAdmin, aViewer}},
		{method: "POST", path: "/pricing/versions", body: `{"effectiveFrom":"2030-01-01T00:00:00Z","items":[{"policyId":1,"resourceType":"CPU","serviceNameUserFriendly":"CPU","numCpus":1,"price":"1"}]}`,
			forbidden: providerAdmin},
		{method: "GET", path: "/pricing/multipliers", forbidden: []string{aAdmin, aViewer}},
		{method: "PUT", path: "/pricing/multipliers/mariadb", body: `{"multipliers":[]}`, forbidden: providerAdmin},
		{method: "POST", path: fmt.Sprintf("/payment-methods/%d/verify", b.methodA), forbidden: providerStaff},
		{method: "POST", path: fmt.Sprintf("/invoices/%d/bank-payments", b.invoiceA), body: `{"amount":"1.00","reference":"R"}`,
			forbidden: providerStaff},
		{method: "GET", path: "/ledger/trial-balance", forbidden: providerAdmin},
	}
}

func (e *env) billingBadRoutes() []badRoute {
	b := e.billing
	join := func(lists ...[]badCase) []badCase {
		var out []badCase
		for _, l := range lists {
			out = append(out, l...)
		}
		return out
	}
	org := `"orgId":"` + b.custA + `"`
	acct := fmt.Sprintf("/billing-accounts/%d", b.acctA)
	hour := e.clock.Now().Truncate(time.Hour)
	rec := func(fields string) string {
		return `{"records":[{"resourceId":"vm-b","meter":"vm","billingAccountId":` + fmt.Sprint(b.acctA) +
			`,"config":{"vm_name":"b","cpus":1,"ram_MB":1024,"disk_size_GB":1},` + fields + `}]}`
	}
	at := func(t time.Time) string { return `"periodStart":"` + t.Format(time.RFC3339) + `"` }
	item := `{"policyId":1,"resourceType":"CPU","serviceNameUserFriendly":"CPU","numCpus":1,"price":"1"}`
	future := `"effectiveFrom":"2030-01-01T00:00:00Z"`
	inv := fmt.Sprintf("/invoices/%d/bank-payments", b.invoiceA)
	return []badRoute{
		{"POST", "/billing-accounts", join(bodyCases(org), []badCase{
			{name: "orgId malformed", body: `{"orgId":"x"}`, status: 422, field: "orgId"},
			{name: "orgId unknown", body: `{"orgId":"` + unknownID + `"}`, status: 404, field: "orgId", specValid: true},
			{name: "orgId foreign", key: aAdmin, body: `{"orgId":"` + b.custB + `"}`, status: 404, field: "orgId", specValid: true},
			{name: "vatPercentage above 100", body: `{` + org + `,"vatPercentage":101}`, status: 422, field: "vatPercentage"},
			{name: "discountPercentage negative", body: `{` + org + `,"discountPercentage":-1}`, status: 422, field: "discountPercentage"},
			{name: "currency lower case", body: `{` + org + `,"currency":"eur"}`, status: 422, field: "currency"},
			{name: "maxDebt negative", body: `{` + org + `,"maxDebt":"-1"}`, status: 400, field: "maxDebt", specValid: true},
			{name: "maxDebt not a number", body: `{` + org + `,"maxDebt":"ten"}`, status: 400, field: "maxDebt", specValid: true},
			{name: "welcomeCredit three decimals", body: `{` + org + `,"welcomeCredit":"1.001"}`, status: 400, field: "welcomeCredit", specValid: true},
			{name: "country too long", body: `{` + org + `,"country":"EST"}`, status: 422, field: "country"},
			{name: "title too long", body: `{` + org + `,"title":"` + strings.Repeat("t", 256) + `"}`, status: 422, field: "title"},
		})},
		{"PATCH", acct, join(bodyCases(`"vatPercentage":1`), []badCase{
			{name: "vatPercentage above 100", body: `{"vatPercentage":101}`, status: 422, field: "vatPercentage"},
			{name: "maxDebt negative", body: `{"maxDebt":"-5"}`, status: 400, field: "maxDebt", specValid: true},
			{name: "maxDebt empty", body: `{"maxDebt":""}`, status: 400, field: "maxDebt", specValid: true},
			{name: "id not a number", path: "/billing-accounts/x", body: `{"vatPercentage":1}`, status: 422, field: "id"},
			{name: "id unknown", path: "/billing-accounts/999999", body: `{"vatPercentage":1}`, status: 404, specValid: true},
			{name: "foreign id", key: aAdmin, path: fmt.Sprintf("/billing-accounts/%d", b.acctB), body: `{"vatPercentage":1}`, status: 404, specValid: true},
		})},
		{"POST", "/usage/hourly", join(bodyCases(`"records":[]`)[:2], []badCase{
			{name: "records empty", body: `{"records":[]}`, status: 422, field: "records"},
			{name: "meter unknown", body: `{"records":[{"resourceId":"r","meter":"gpu","periodStart":"` + hour.Format(time.RFC3339) + `","billingAccountId":1,"config":{}}]}`,
				status: 422, field: "records[0].meter"},
			{name: "hour not started", body: rec(at(hour.Add(time.Hour))), status: 400, field: "records[0].periodStart", specValid: true},
			{name: "hour closed", body: rec(at(hour.Add(-3 * time.Hour))), status: 409, field: "records[0].periodStart", specValid: true},
			{name: "not a whole hour", body: rec(at(hour.Add(time.Minute))), status: 400, field: "records[0].periodStart", specValid: true},
			{name: "quantity above an hour", body: rec(at(hour) + `,"quantity":"1.5"`), status: 400, field: "records[0].quantity", specValid: true},
			{name: "quantity not a number", body: rec(at(hour) + `,"quantity":"x"`), status: 400, field: "records[0].quantity", specValid: true},
			{name: "billingAccountId unknown", body: `{"records":[{"resourceId":"r","meter":"vm","periodStart":"` + hour.Format(time.RFC3339) + `","billingAccountId":999999,"config":{}}]}`,
				status: 404, field: "records[0].billingAccountId", specValid: true},
			{name: "userId not the account's", body: rec(at(hour) + `,"userId":77`), status: 400, field: "records[0].userId", specValid: true},
			{name: "billingAccountId zero", body: `{"records":[{"resourceId":"r","meter":"vm","periodStart":"` + hour.Format(time.RFC3339) + `","billingAccountId":0,"config":{}}]}`,
				status: 422, field: "records[0].billingAccountId"},
		})},
		{"POST", "/pricing/versions", join(bodyCases(future+`,"items":[`+item+`]`), []badCase{
			{name: "items empty", body: `{` + future + `,"items":[]}`, status: 422, field: "items"},
			{name: "effectiveFrom in the past", body: `{"effectiveFrom":"2000-01-01T00:00:00Z","items":[` + item + `]}`, status: 400, field: "effectiveFrom", specValid: true},
			{name: "price negative", body: `{` + future + `,"items":[{"policyId":1,"resourceType":"CPU","serviceNameUserFriendly":"CPU","numCpus":1,"price":"-1"}]}`,
				status: 400, field: "items[0].price", specValid: true},
			{name: "price not a number", body: `{` + future + `,"items":[{"policyId":1,"resourceType":"CPU","serviceNameUserFriendly":"CPU","numCpus":1,"price":"cheap"}]}`,
				status: 400, field: "items[0].price", specValid: true},
			{name: "resourceType unknown", body: `{` + future + `,"items":[{"policyId":1,"resourceType":"GPU","serviceNameUserFriendly":"G","price":"1"}]}`,
				status: 422, field: "items[0].resourceType"},
		})},
		{"PUT", "/pricing/multipliers/postgresql", join(bodyCases(`"multipliers":[]`), []badCase{
			{name: "multiplier negative", body: `{"multipliers":[{"resourceType":"CPU","priceMultiplier":"-1"}]}`, status: 400, field: "multipliers[0].priceMultiplier", specValid: true},
			{name: "multiplier not a number", body: `{"multipliers":[{"resourceType":"CPU","priceMultiplier":"x"}]}`, status: 400, field: "multipliers[0].priceMultiplier", specValid: true},
			{name: "service bad characters", path: "/pricing/multipliers/Post%20gres", body: `{"multipliers":[]}`, status: 400, field: "service", specValid: true},
		})},
		{"POST", fmt.Sprintf("/payment-methods/%d/verify", b.methodA), []badCase{
			{name: "id not a number", path: "/payment-methods/x/verify", status: 422, field: "id"},
			{name: "id unknown", path: "/payment-methods/999999/verify", status: 404, specValid: true},
		}},
		{"POST", inv, join(bodyCases(`"amount":"1.00","reference":"R"`), []badCase{
			{name: "amount negative", body: `{"amount":"-1.00","reference":"R"}`, status: 400, field: "amount", specValid: true},
			{name: "amount not a number", body: `{"amount":"ten","reference":"R"}`, status: 400, field: "amount", specValid: true},
			{name: "amount above what is owed", body: `{"amount":"50.01","reference":"R"}`, status: 400, field: "amount", specValid: true},
			{name: "reference missing", body: `{"amount":"1.00"}`, status: 422, field: "reference"},
			{name: "invoice unknown", path: "/invoices/999999/bank-payments", body: `{"amount":"1.00","reference":"R"}`, status: 404, specValid: true},
		})},
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
