package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// itg drives the Partner API v2 of one app, validating every exchange
// against the dialect's spec.
type itg struct {
	t *testing.T
	h http.Handler
	v *apitest.Validator
}

// do sends a request with a bearer key and returns the decoded body.
func (c *itg) do(want int, method, path, key, body string) map[string]any {
	c.t.Helper()
	req := apitest.Request{Method: method, Path: itglobal.Prefix + path, Header: http.Header{"Authorization": {"Bearer " + key}}}
	if body != "" {
		req.Body = []byte(body)
	}
	resp := c.v.Do(c.t, c.h, req)
	if resp.Status != want {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, resp.Status, want, resp.Body)
	}
	var out map[string]any
	d := json.NewDecoder(strings.NewReader(string(resp.Body)))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		c.t.Fatalf("%s %s: %v: %s", method, path, err, resp.Body)
	}
	return out
}

// result returns the Result member of an answer as an object.
func (c *itg) result(want int, method, path, key, body string) map[string]any {
	c.t.Helper()
	r, ok := c.do(want, method, path, key, body)["Result"].(map[string]any)
	if !ok {
		c.t.Fatalf("%s %s: no Result object", method, path)
	}
	return r
}

// minor reads an ITGLOBAL amount (a JSON number, currency units) as kopecks.
func minor(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("amount %v (%T) is not a JSON number", v, v)
	}
	a, err := money.ParseITGlobal("amount", n, money.RUB, money.AnySign)
	if err != nil {
		t.Fatal(err)
	}
	return a.Minor()
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("%v (%T) is not a number", v, v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// opTypes lists the TypeOperation of a report's operations, in order.
func opTypes(ops any) []string {
	var out []string
	for _, o := range ops.([]any) {
		out = append(out, o.(map[string]any)["TypeOperation"].(string))
	}
	return out
}

// TestResellerScenario is issue 6's reseller walk-through over HTTP, on
// each database: an account and its project, a company, an invoice paid
// by a bank payment, a vStack server charged daily until the money runs
// out (project blocked, orders refused), an online payment that lifts the
// block, and the operations reports in UTC and in the partner's UTC+6
// grouping the same operations into different days across midnight.
func TestResellerScenario(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		// 17:30 UTC is 23:30 in the partner's zone (UTC+6): the bank
		// payment lands on 10 March in both; an hour later it is
		// 00:30 on 11 March for the partner, still 10 March in UTC.
		start := time.Date(2027, 3, 10, 17, 30, 0, 0, time.UTC)
		clk := clock.NewFake(start)
		a, creds := newDemo(t, d, app.Config{DataDir: t.TempDir(), Clock: clk, Sandbox: true})
		user, fin, partner := creds["itglobal_user_key"], creds["itglobal_finance_key"], creds["itglobal_partner_id"]
		nc := newClient(t, a.Handler)
		// The operator sets the partner's time zone (UTC+6, no DST).
		nc.api(200, "PATCH", "/partners/"+partner+"/reseller-settings", creds["admin_key"], `{"timeZone":"Asia/Omsk"}`)
		c := &itg{t: t, h: a.Handler, v: validator(t, itglobal.Spec())}

		acct := c.result(200, "POST", "/accounts", user, `{"Email":"scenario@example.com","State":"Active","AdditionalData":{}}`)
		p := num(t, acct["PersonalProjectId"])
		proj := c.result(200, "GET", fmt.Sprintf("/projects/%d", p), user, "")
		if minor(t, proj["Balance"]) != 0 || proj["IsBlocked"] != false {
			t.Fatalf("new project: %v", proj)
		}

		company := c.result(200, "POST", fmt.Sprintf("/projects/%d/companies", p), user, `{
			"CountryTwoLetterCode": "RU", "INN": "7838413489", "CompanyName": "ООО Сценарий",
			"LegalAddress": "191028, Санкт-Петербург", "ActualAddress": "191028, Санкт-Петербург",
			"AutoInvoiceAmount": 0, "TypeAutoInvoiceGeneration": "NotGenerate", "AgreementNumber": "S-1",
			"AgreementDate": "2027-03-01T00:00:00Z", "CanUserEditCompanyData": false,
			"FinanceEmail": "finance@example.com", "PartnerCompanyId": 1}`)
		co := num(t, company["Id"])
		if company["State"] != "Active" {
			t.Fatalf("company: %v", company)
		}
		inv := c.result(200, "POST", fmt.Sprintf("/projects/%d/companies/%d/invoices", p, co), fin, `{"Amount": 1000}`)
		if inv["State"] != "New" || minor(t, inv["Amount"]) != 100000 {
			t.Fatalf("invoice: %v", inv)
		}
		// VAT (20 % by default) is inside the amount: 1000 = 833.33 + 166.67.
		if minor(t, inv["VatAmount"]) != 16667 || minor(t, inv["AmountWithoutVat"]) != 83333 {
			t.Fatalf("invoice VAT split: %v", inv)
		}
		number := inv["Number"].(string)

		c.result(200, "POST", "/payments/bank", fin, fmt.Sprintf(`{"Number":"SCN-1","TIN":"7838413489","Amount":1000,
			"InvoiceNumber":%q,"CompanyId":%d,"ProjectId":%d}`, number, co, p))
		inv = c.result(200, "GET", fmt.Sprintf("/projects/%d/companies/%d/invoices/%s", p, co, number), user, "")
		if inv["State"] != "Paid" {
			t.Fatalf("invoice after the bank payment: %v", inv)
		}
		proj = c.result(200, "GET", fmt.Sprintf("/projects/%d", p), user, "")
		if minor(t, proj["Balance"]) != 100000 {
			t.Fatalf("balance after the payment: %v", proj["Balance"])
		}

		// An hour later (00:30 for the partner) a vStack server is
		// ordered; its first day is charged at once.
		if _, err := a.Advance(ctx, start.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		vstack := fmt.Sprintf("/projects/%d/vstack/locations/1/servers", p)
		order := c.result(200, "POST", vstack, user, `{"Name":"Example","Cpu":4,"RamMb":8192,"TemplateId":"1","Volumes":[],"BandwidthMbps":50}`)
		daily := minor(t, order["DailyPrice"])
		if daily <= 0 || order["State"] != "Active" {
			t.Fatalf("order: %v", order)
		}
		balance := func() (int64, bool) {
			pr := c.result(200, "GET", fmt.Sprintf("/projects/%d", p), user, "")
			return minor(t, pr["Balance"]), pr["IsBlocked"].(bool)
		}
		if b, blocked := balance(); b != 100000-daily || blocked {
			t.Fatalf("after the order: balance %d blocked %v, want %d", b, blocked, 100000-daily)
		}

		// Day by day until the money runs out: each day costs exactly
		// the daily price, and the day that takes the balance below 0
		// blocks the project.
		days := int64(1)
		for day := 1; ; day++ {
			if day > 400 {
				t.Fatal("the balance never ran out")
			}
			if _, err := a.Advance(ctx, start.Add(time.Hour).Add(time.Duration(day)*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			days++
			b, blocked := balance()
			if b != 100000-days*daily {
				t.Fatalf("day %d: balance %d, want %d", day, b, 100000-days*daily)
			}
			if blocked != (b < 0) {
				t.Fatalf("day %d: balance %d but blocked = %v", day, b, blocked)
			}
			if blocked {
				break
			}
		}
		blockedBalance, _ := balance()
		// A blocked project takes no new orders, and its server is not
		// charged while it is blocked.
		if e := c.do(409, "POST", vstack, user, `{"Name":"Second","Cpu":1,"RamMb":1024,"TemplateId":"1","Volumes":[],"BandwidthMbps":10}`); e["Error"] == nil {
			t.Fatalf("order in a blocked project: %v", e)
		}
		blockedAt := clk.Now()
		if _, err := a.Advance(ctx, blockedAt.Add(48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if b, blocked := balance(); b != blockedBalance || !blocked {
			t.Fatalf("while blocked: balance %d blocked %v, want %d and blocked", b, blocked, blockedBalance)
		}

		// An online payment lifts the block.
		lift := -blockedBalance + 50000
		c.result(200, "POST", "/payments/online", fin, fmt.Sprintf(`{"PaymentId":"SCN-ONLINE-1","Amount":%s,"ProjectId":%d}`,
			money.FormatJSONNumberShortest(money.NewAmount(lift, money.RUB).Decimal()), p))
		if b, blocked := balance(); b != 50000 || blocked {
			t.Fatalf("after the online payment: balance %d blocked %v", b, blocked)
		}
		c.result(200, "POST", vstack, user, `{"Name":"Second","Cpu":1,"RamMb":1024,"TemplateId":"1","Volumes":[],"BandwidthMbps":10}`)

		// Reports. UTC, 10 March: the bank payment (17:30) and the first
		// charge (18:30) — both on 10 March in UTC.
		utc := c.result(200, "GET", fmt.Sprintf("/operations/projects/%d?dateFromUtc=2027-03-10&dateToUtc=2027-03-10", p), fin, "")
		if got := strings.Join(opTypes(utc["Operations"]), ","); got != "BankPayment,Charge" {
			t.Fatalf("UTC 10 March: %s", got)
		}
		if minor(t, utc["MoneyIn"]) != 100000 || minor(t, utc["MoneyOut"]) != daily {
			t.Fatalf("UTC 10 March sums: %v", utc)
		}
		// The compact form names the same day.
		utc2 := c.result(200, "GET", fmt.Sprintf("/operations/projects/%d?dateFromUtc=20270310T000000Z&dateToUtc=20270310T235959Z", p), fin, "")
		if got := strings.Join(opTypes(utc2["Operations"]), ","); got != "BankPayment,Charge" {
			t.Fatalf("UTC 10 March, compact dates: %s", got)
		}
		// UTC, 11 March: the second day's charge (18:30 UTC).
		utc11 := c.result(200, "GET", fmt.Sprintf("/operations/projects/%d?dateFromUtc=2027-03-11&dateToUtc=2027-03-11", p), fin, "")
		if got := strings.Join(opTypes(utc11["Operations"]), ","); got != "Charge" {
			t.Fatalf("UTC 11 March: %s", got)
		}
		// The partner's days: 10 March holds only the bank payment
		// (23:30 local); the first charge (00:30 local) is on 11 March,
		// and the second (00:30 on 12 March local) is outside the range.
		byDay := c.result(200, "GET", fmt.Sprintf("/operations/projects/%d/by-day?dateFrom=2027-03-10&dateTo=2027-03-11", p), fin, "")
		got := map[string]string{}
		for _, dd := range byDay["Days"].([]any) {
			day := dd.(map[string]any)
			got[day["Date"].(string)] = strings.Join(opTypes(day["Operations"]), ",")
		}
		if got["2027-03-10"] != "BankPayment" || got["2027-03-11"] != "Charge" || len(got) != 2 {
			t.Fatalf("partner days: %v", got)
		}
		// The all-projects by-day report agrees for this project.
		all := c.do(200, "GET", "/operations/projects/by-day?dateFrom=2027-03-10&dateTo=2027-03-11", fin, "")["Result"].([]any)
		gotAll := map[string]string{}
		for _, x := range all {
			row := x.(map[string]any)
			if num(t, row["ProjectId"]) == p {
				gotAll[row["Date"].(string)] = strings.Join(opTypes(row["Operations"]), ",")
			}
		}
		if fmt.Sprint(gotAll) != fmt.Sprint(got) {
			t.Fatalf("all-projects by day %v, per project %v", gotAll, got)
		}

		// The ledger stays balanced.
		tb, err := a.Ledger.TrialBalance(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range tb {
			if ct.Total.Sign() != 0 {
				t.Fatalf("trial balance %s = %s", ct.Currency, ct.Total)
			}
		}
	})
}

// TestResellerActivationLink: a NotActivated account's e-mail (in the
// outbox) links to --public-url's /itglobal/activate; following the link
// activates the account, a wrong token does not.
func TestResellerActivationLink(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := dbtest.Open(t, "sqlite")
	a, creds := newDemo(t, d, app.Config{DataDir: t.TempDir(), Clock: clock.NewFake(time.Date(2027, 3, 10, 9, 0, 0, 0, time.UTC)),
		Sandbox: true, PublicURL: "https://cloud.example.com/"})
	c := &itg{t: t, h: a.Handler, v: validator(t, itglobal.Spec())}
	acct := c.result(200, "POST", "/accounts", creds["itglobal_user_key"], `{"Email":"new.customer@example.com","State":"NotActivated"}`)
	id := acct["Id"].(string)
	if acct["State"] != "NotActivated" {
		t.Fatalf("account %v", acct)
	}
	mails, err := a.Store.ListOutboxEmails(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var link string
	for _, m := range mails {
		if m.To == "new.customer@example.com" {
			for _, w := range strings.Fields(m.Body) {
				if strings.HasPrefix(w, "https://cloud.example.com/itglobal/activate?") {
					link = w
				}
			}
		}
	}
	if link == "" {
		t.Fatalf("no activation link in the outbox: %+v", mails)
	}
	get := func(target string) int {
		rec := httptest.NewRecorder()
		a.Handler.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		return rec.Code
	}
	path := strings.TrimPrefix(link, "https://cloud.example.com")
	if code := get(app.ActivationPath + "?account=" + id + "&token=wrong"); code != 400 {
		t.Fatalf("wrong token: %d", code)
	}
	if got := c.result(200, "GET", "/accounts/"+id, creds["itglobal_user_key"], ""); got["State"] != "NotActivated" {
		t.Fatalf("a wrong token activated the account: %v", got)
	}
	if code := get(path); code != 200 {
		t.Fatalf("activation link %s: %d", path, code)
	}
	if got := c.result(200, "GET", "/accounts/"+id, creds["itglobal_user_key"], ""); got["State"] != "Active" || got["ActivatedAt"] == nil {
		t.Fatalf("after the link: %v", got)
	}
}
