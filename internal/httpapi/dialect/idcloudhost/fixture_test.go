package idcloudhost_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/httpapi/ratelimit"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/payment/testprocessor"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

const prefix = idcloudhost.Prefix

// The seed's demo tokens (access.LoadDemoTokens): 2 is unrestricted, 7 is
// restricted to billing account 6.
const (
	keyUser       = access.DemoIDCHUnrestrictedKey
	keyRestricted = access.DemoIDCHRestrictedKey
)

// t0 is where the fake clock stops once the fixture is loaded: the usage
// of February 2026 is invoiced, March has begun.
var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

// feb is where the fixture's clock starts, to meter February.
var feb = time.Date(2026, 2, 27, 10, 0, 0, 0, time.UTC)

var sys = actor.System("")

// The fixture's numbers, chosen so the seed's requests find their objects.
const (
	acctDefault = 1      // user 8's default account (buyCredit, requestCreditInvoice)
	acctMain    = 6      // the seed's account: VAT 20 %, a card, the February invoice
	acctSecond  = 9      // another of user 8's accounts
	acctOther   = 11     // the other user's account
	acctFar     = 129072 // setDefaultBillingAccount's account
	cardDefault = 5      // a card of account 1 (buyCredit)
	cardMain    = 6      // the primary card of account 6 (getCard, setPrimaryCard)
	invoiceFeb  = 1      // account 6's February invoice (getInvoice)
	vmUUID      = "f80b1d62-ffe4-43ef-9210-60f05445456a"
)

// fixture is a seeded database behind the dialect's handler: the seed's
// user 8 with its accounts, tokens 2 and 7, cards, a February invoice and
// March usage, the sample locations, and a second, unrelated user with its
// own account and token.
type fixture struct {
	ctx  context.Context
	st   *sqlstore.Store
	clk  *clock.Fake
	idn  *access.Identity
	cat  *catalog.Service
	bil  *billing.Service
	pay  *payment.Service
	proc *testprocessor.Processor
	led  *ledger.Service
	h    http.Handler
	v    *apitest.Validator
	deps idcloudhost.Deps

	partner         tenancy.Org
	customer, other tenancy.Org
	user8           actor.Actor // user 8 as an unrestricted token acts
	otherKey        string      // the other user's token
	otherAccount    int64
}

type fixtureOpt func(*idcloudhost.Deps)

func withLimiter(l *ratelimit.Limiter) fixtureOpt {
	return func(d *idcloudhost.Deps) { d.Limiter = l }
}

func newFixture(t *testing.T, d *db.DB, v *apitest.Validator, opts ...fixtureOpt) *fixture {
	t.Helper()
	st := sqlstore.New(d)
	clk := clock.NewFake(feb)
	f := &fixture{ctx: t.Context(), st: st, clk: clk,
		idn: access.NewIdentity(sqlstore.Identity{Store: st}, clk),
		cat: catalog.NewService(sqlstore.Catalog{Store: st}, clk),
		led: ledger.NewService(sqlstore.Ledger{Store: st}, clk),
		v:   v,
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	prices := pricing.NewService(sqlstore.Pricing{Store: st}, clk)
	must(prices.EnsureDefault(f.ctx))
	hourly := metering.NewHourlyService(sqlstore.MeteringHourly{Store: st}, prices, clk)
	f.bil = billing.NewService(sqlstore.Billing{Store: st}, f.led, clk, billing.Config{CloseGrace: hourly.CloseGrace(), Usage: hourly})
	f.proc = testprocessor.New(clk)
	f.pay = payment.NewService(sqlstore.Payment{Store: st}, f.led, f.bil, f.proc, clk, payment.Config{})
	// No auto-pay at issue: the February invoice stays unpaid for the
	// pay_* requests.
	deps := idcloudhost.Deps{Identity: f.idn, Locations: f.cat, Billing: f.bil, Payments: f.pay, Pricing: prices,
		Idem: st, Clock: clk}
	for _, o := range opts {
		o(&deps)
	}
	f.deps = deps
	f.h = middleware.Chain(idcloudhost.Handler(deps), middleware.RequestID, middleware.BodyLimit(1<<20))

	// provider → distributor → partner → two customers, written directly:
	// the tree is not what this package tests.
	now := db.Micro(feb)
	org := func(kind actor.OrgKind, parent *tenancy.Org, name string) tenancy.Org {
		id := ids.New()
		o := tenancy.Org{ID: id, Kind: kind, Path: "/" + id + "/", Name: name, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
		if parent != nil {
			o.ParentID, o.Path = parent.ID, parent.Path+id+"/"
		}
		must(st.InsertOrg(f.ctx, o))
		return o
	}
	root := org(actor.Provider, nil, "Provider")
	dist := org(actor.Distributor, &root, "Distributor")
	f.partner = org(actor.Partner, &dist, "Partner")
	f.customer = org(actor.Customer, &f.partner, "Cloudia Iaas")
	f.other = org(actor.Customer, &f.partner, "Someone else")
	f.user8 = actor.Actor{Type: actor.TypeAPIKey, ID: "fixture", OrgID: f.customer.ID, OrgPath: f.customer.Path,
		OrgKind: actor.Customer, Role: actor.Admin}

	must(f.cat.LoadDemo(f.ctx, sys))
	_, err := f.idn.LoadDemoUser(f.ctx, f.customer.ID)
	must(err)
	account := func(in billing.CreateAccountInput) {
		t.Helper()
		_, err := f.bil.CreateAccount(f.ctx, sys, in)
		must(err)
	}
	user8 := int64(access.DemoIDCHUserID)
	account(billing.CreateAccountInput{ID: acctDefault, OrgID: f.customer.ID, UserID: user8,
		Data: billing.AccountData{Title: "main", Email: "user@example.com"}, WelcomeCredit: 1000})
	account(billing.CreateAccountInput{ID: acctMain, OrgID: f.customer.ID, UserID: user8, VATPercentage: 20,
		Data: billing.AccountData{Title: "konto", Email: "user@example.com", CompanyName: "Firma", CompanyRegCode: "232",
			CompanyVATNumber: "235235", AddressLine1: "Puiestee", City: "Küla", County: "Moldaavia", Country: "EE",
			PostIndex: "314243123", SendInvoiceEmail: true},
		AdditionalData: `{"link_methods": ["duitku::FT", "duitku::M1"]}`, ReferralShareCode: "yfsx0q", Reseller: "Warren",
		Site: "warren"})
	account(billing.CreateAccountInput{ID: acctSecond, OrgID: f.customer.ID, UserID: user8,
		Data: billing.AccountData{Title: "second", Email: "user@example.com"}})
	_, err = f.idn.LoadDemoTokens(f.ctx)
	must(err)

	other, err := f.idn.CreateUser(f.ctx, sys, access.CreateIDCHUserInput{OrgID: f.other.ID, Email: "other@example.com"})
	must(err)
	f.otherAccount = acctOther
	account(billing.CreateAccountInput{ID: acctOther, OrgID: f.other.ID, UserID: other.ID,
		Data: billing.AccountData{Title: "other", Email: "other@example.com"}})
	account(billing.CreateAccountInput{ID: acctFar, OrgID: f.customer.ID, UserID: user8,
		Data: billing.AccountData{Title: "far", Email: "user@example.com"}})
	tok, err := f.idn.CreateTokenFor(f.ctx, sys, other.ID, access.CreateIDCHTokenInput{Description: "other"})
	must(err)
	f.otherKey = tok.Secret

	// Cards: numbers 5 (account 1) and 6 (account 6), as the seed's
	// requests name them.
	must(st.RaiseNumber(f.ctx, "payment_object", cardDefault-1))
	for _, acct := range []int64{acctDefault, acctMain} {
		_, err := f.pay.AddCard(f.ctx, f.user8, payment.AddCardInput{AccountID: acct, Token: testprocessor.TokenVisa})
		must(err)
	}

	// Three hours of a VM in February on account 6, the invoice run after
	// the month closed (invoice 1), then two hours of March.
	meter := func(hour time.Time) {
		t.Helper()
		clk.Set(hour.Add(30 * time.Minute))
		disk, osName := int64(20), "ubuntu"
		_, err := hourly.Record(f.ctx, sys, metering.RecordInput{ResourceID: vmUUID, Meter: pricing.MeterVM, PeriodStart: hour,
			BillingAccountID: acctMain, LocationSlug: "cyc01", OwnerUUID: vmUUID, UserID: user8,
			Config:   pricing.Config{VMName: "Ubuntu-16-04", CPUs: 2, RAMMB: 2048, DiskGB: &disk, OSName: &osName},
			Quantity: money.DecimalFromInt(1)})
		must(err)
	}
	for h := 0; h < 3; h++ {
		meter(feb.Add(time.Duration(h) * time.Hour))
	}
	clk.Set(time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC))
	n, err := f.bil.IssueInvoices(f.ctx, clk.Now(), nil)
	must(err)
	if n != 1 {
		t.Fatalf("seed: %d invoices issued, want 1", n)
	}
	meter(t0.Add(-90 * time.Minute).Truncate(time.Hour))
	meter(t0.Add(-30 * time.Minute).Truncate(time.Hour))
	clk.Set(t0)
	return f
}

// do sends a request with apikey key (none when empty) and checks the
// exchange against the spec.
func (f *fixture) do(t *testing.T, key string, req apitest.Request) apitest.Response {
	t.Helper()
	// A copy: concurrent callers share one request value.
	req.Header = req.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if key != "" {
		req.Header.Set("apikey", key)
	}
	return f.v.Do(t, f.h, req)
}

// form sends a url-encoded body as curl -d does.
func (f *fixture) form(t *testing.T, key, method, path, body string) apitest.Response {
	t.Helper()
	req := apitest.Request{Method: method, Path: prefix + path, Header: http.Header{}}
	if body != "" {
		req.Body = []byte(body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return f.do(t, key, req)
}

// seedRequest is one testdata/requests file.
type seedRequest struct {
	name         string
	method, path string // path without /v1
	form         []string
	json         string // the body of a JSON request (see spec_test.go's readRequest)
}

func readSeedRequest(t *testing.T, name string) seedRequest {
	t.Helper()
	fh, err := os.Open(filepath.Join(idcloudhost.TestdataDir, "requests", name+".txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	r := seedRequest{name: name}
	sc := bufio.NewScanner(fh)
	isJSON := false
	var body []string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case isJSON:
			body = append(body, line)
		case strings.HasPrefix(line, "#") || line == "":
		case r.method == "":
			method, path, ok := strings.Cut(line, " ")
			if !ok || !strings.HasPrefix(path, "/v1/") {
				t.Fatalf("%s: bad request line %q", name, line)
			}
			r.method, r.path = method, strings.TrimPrefix(path, "/v1")
		case line == "Content-Type: application/json" && len(r.form) == 0:
			isJSON = true
		default:
			r.form = append(r.form, line)
		}
	}
	if isJSON {
		r.json = strings.Join(body, "\n")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return r
}

// send sends the seed's request verbatim: its -d values joined with "&"
// unencoded, as curl -d does.
func (f *fixture) send(t *testing.T, key string, r seedRequest) apitest.Response {
	t.Helper()
	if r.json != "" {
		// The validator reads JSON, so the seed's Python literals (True)
		// are converted; the parameter bag accepts them as they are too
		// (ID-amb-5, TestParamsPythonLiterals).
		req := apitest.Request{Method: r.method, Path: prefix + r.path, Header: http.Header{},
			Body: idcloudhost.PythonLiteralsToJSON([]byte(r.json))}
		req.Header.Set("Content-Type", "application/json")
		return f.do(t, key, req)
	}
	return f.form(t, key, r.method, r.path, strings.Join(r.form, "&"))
}

func decode[T any](t *testing.T, resp apitest.Response) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(string(resp.Body)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, resp.Body, err)
	}
	return v
}

// sample returns a seed sample decoded generically.
func sample(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(idcloudhost.TestdataDir, "samples", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("sample %s: %v", name, err)
	}
	return v
}

// errorMessage returns the message of an {"errors": {"Error": …}} body.
func errorMessage(t *testing.T, resp apitest.Response) string {
	t.Helper()
	var body struct {
		Errors map[string]json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil || body.Errors == nil {
		t.Fatalf("not an error body: %s", resp.Body)
	}
	var msg string
	if raw, ok := body.Errors["Error"]; ok {
		_ = json.Unmarshal(raw, &msg)
		return msg
	}
	var forbidden struct{ Msg string }
	_ = json.Unmarshal(body.Errors["consumer::resource_forbidden"], &forbidden)
	return forbidden.Msg
}

func wantStatus(t *testing.T, resp apitest.Response, status int) {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status %d, want %d: %s", resp.Status, status, resp.Body)
	}
}
