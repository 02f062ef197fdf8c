package itglobal_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/httpapi/middleware"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/orders/sim"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/support"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// The services implement the dialect's interfaces.
var (
	_ itglobal.Authenticator = (*reseller.Service)(nil)
	_ itglobal.Reseller      = (*reseller.Service)(nil)
	_ itglobal.Orders        = (*orders.Service)(nil)
	_ itglobal.Support       = (*support.Service)(nil)
)

const prefix = itglobal.Prefix

// Keys. Partner A's User key is the seed's example token.
const (
	keyAUser    = "3CC4476F-D690-1456-BF13-7514981B121F"
	keyAFinance = "8D0A1F35-2C7E-4B0A-9E61-0F3C2B7A5D14"
	keyBUser    = "1B7E4C22-93A0-4F5D-8C1B-6E2D9A0F3B57"
	keyBFinance = "5F2C8E91-7A34-4D6B-B0E2-3C9A1D7F4E68"
	keyCUser    = "9A4D2B60-1E7C-4F38-A5D9-2B8E6C0F1A73" // partner C: SimpleOneSupport off
	keyBad      = "00000000-0000-0000-0000-000000000000"
)

// The seed's samples name these objects of partner A.
const (
	projVOrg     = 1288 // createVOrg's ProjectId; orders, operation, editProject
	projReport   = 1311 // the report examples; createCompany
	projBank     = 1317 // createBankPayment's ProjectId
	projOnline   = 1427 // createOnlinePayment's ProjectId
	companyBank  = 522  // createBankPayment's CompanyId
	invoiceBank  = 1517 // createBankPayment's InvoiceNumber
	vorgSample   = 88   // createVdc's OrgId
	soDeleteUser = "1448024140823013481"
)

// t0: the tickets fall inside the seed's ticket filter examples.
var t0 = time.Date(2023, 4, 1, 10, 0, 0, 0, time.UTC)

type fixture struct {
	ctx  context.Context
	st   *sqlstore.Store
	clk  *clock.Fake
	res  *reseller.Service
	ord  *orders.Service
	sup  *support.Service
	h    http.Handler
	v    *apitest.Validator
	a, b tenancy.Org
	c    tenancy.Org
	actA actor.Actor // partner A as its User key acts
	actB actor.Actor

	// objects of partner A
	accountA      reseller.Account // owner of project 1288
	soAccount     reseller.Account // a SimpleOne account (its project: changeSimpleOneCompany)
	clientTicket  int64
	systemTicket  int64
	companyEdited int64 // made by the createCompany sample (seedAll)
	vdc           int64 // made by the createVdc sample (seedAll)
}

func newFixture(t *testing.T, d *db.DB, v *apitest.Validator) *fixture {
	t.Helper()
	ctx := t.Context()
	// Orders run their steps inline (sim delay 0); the step job they also
	// enqueue as a safety net is only recorded.
	st := sqlstore.New(d).WithJobs(noJobs{})
	clk := clock.NewFake(t0)
	led := ledger.NewService(sqlstore.Ledger{Store: st}, clk)
	bil := billing.NewService(sqlstore.Billing{Store: st}, led, clk, billing.Config{})
	sup := support.NewService(sqlstore.Support{Store: st}, clk)
	res := wiring.Must(reseller.NewService(sqlstore.Reseller{Store: st}, bil, led, clk,
		reseller.Deps{Services: orders.ProjectHooks{}, Tickets: sup, Blocks: orders.ProjectHooks{}}, reseller.Config{}))
	ord := orders.NewService(sqlstore.Orders{Store: st}, res, sim.New(0), clk, orders.Config{})
	f := &fixture{ctx: ctx, st: st, clk: clk, res: res, ord: ord, sup: sup, v: v}
	f.h = middleware.Chain(itglobal.Handler(itglobal.Deps{Auth: res, Reseller: res, Orders: ord, Support: sup,
		Idem: st, Clock: clk, Logger: slog.New(slog.NewTextHandler(tlog{t}, nil))}), middleware.RequestID, middleware.BodyLimit(1<<20))

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
	}
	now := db.Micro(t0)
	org := func(kind actor.OrgKind, parent *tenancy.Org, name string) tenancy.Org {
		id := ids.New()
		o := tenancy.Org{ID: id, Kind: kind, Path: "/" + id + "/", Name: name, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
		if parent != nil {
			o.ParentID, o.Path = parent.ID, parent.Path+id+"/"
		}
		must(st.InsertOrg(ctx, o))
		return o
	}
	root := org(actor.Provider, nil, "Provider")
	dist := org(actor.Distributor, &root, "Distributor")
	f.a = org(actor.Partner, &dist, "Partner A")
	f.b = org(actor.Partner, &dist, "Partner B")
	f.c = org(actor.Partner, &dist, "Partner C")
	sys := actor.System("")
	on := []string{reseller.FeatureSimpleOneSupport}
	for _, p := range []tenancy.Org{f.a, f.b} {
		_, err := res.UpdateSettings(ctx, sys, p.ID, reseller.SettingsInput{Features: &on})
		must(err)
	}
	for _, k := range []struct{ partner, role, secret string }{
		{f.a.ID, reseller.RoleUser, keyAUser}, {f.a.ID, reseller.RoleFinance, keyAFinance},
		{f.b.ID, reseller.RoleUser, keyBUser}, {f.b.ID, reseller.RoleFinance, keyBFinance},
		{f.c.ID, reseller.RoleUser, keyCUser},
	} {
		must(res.EnsureKey(ctx, k.partner, k.role, k.role+" key", k.secret))
	}
	var err error
	f.actA, err = res.Authenticate(ctx, keyAUser, "")
	must(err)
	f.actB, err = res.Authenticate(ctx, keyBUser, "")
	must(err)

	// Partner A's projects with the seed's ids.
	account := func(project int64, email string) reseller.Account {
		t.Helper()
		must(st.RaiseNumber(ctx, billing.CounterBillingAccount, project-1))
		acc, err := res.CreateAccount(ctx, f.actA, reseller.CreateAccountInput{Email: email, State: reseller.StateActive})
		must(err)
		if acc.PersonalProjectID != project {
			t.Fatalf("fixture: project %d, want %d", acc.PersonalProjectID, project)
		}
		return acc
	}
	f.accountA = account(projVOrg, "owner@example.com")
	account(projReport, "reports@example.com")
	bank := account(projBank, "bank@example.com")
	account(projOnline, "online@example.com")
	_ = bank

	// Company 522 of project 1317, created through the service. The
	// sample pays it from TIN 1234567891 (not a valid INN): the TIN is the
	// payer's and is recorded, not matched against the company.
	must(st.RaiseNumber(ctx, reseller.CounterCompany, companyBank-1))
	co, err := res.CreateCompany(ctx, f.actA, projBank, reseller.CompanyInput{
		CompanyEditInput: reseller.CompanyEditInput{CompanyName: "Payer", LegalAddress: "Moscow", ActualAddress: "Moscow",
			TypeAutoInvoiceGeneration: "NotGenerate", CanUserEditCompanyData: true, FinanceEmail: "finance@example.com"},
		CountryTwoLetterCode: "RU", INN: "7838413489", AgreementNumber: "1", AgreementDate: now, PartnerCompanyID: 1})
	must(err)
	if co.ID != companyBank {
		t.Fatalf("fixture: company %d, want %d", co.ID, companyBank)
	}
	// The next invoice of partner A is the sample's 1517.
	must(st.RaiseNumber(ctx, reseller.CounterInvoice(f.a.ID), invoiceBank-1))

	// SimpleOne accounts: one the delete-by-user sample removes, one whose
	// project changes company.
	_, err = res.CreateSimpleOneAccount(ctx, f.actA, reseller.CreateSimpleOneInput{CompanyID: "100", UserID: soDeleteUser,
		Email: "so-delete@example.com"})
	must(err)
	f.soAccount, err = res.CreateSimpleOneAccount(ctx, f.actA, reseller.CreateSimpleOneInput{CompanyID: "100",
		UserID: "200", Email: "so@example.com"})
	must(err)

	// Tickets and a review.
	tk, err := sup.CreateTicket(ctx, f.actA, support.CreateTicketInput{Kind: support.KindClient, ProjectID: projVOrg,
		AccountID: f.accountA.ID, Subject: "Server is slow", Body: "Please check."})
	must(err)
	f.clientTicket = tk.ID
	tk, err = sup.CreateTicket(ctx, f.actA, support.CreateTicketInput{Kind: support.KindSystem, Subject: "Maintenance",
		Body: "Planned works."})
	must(err)
	f.systemTicket = tk.ID
	_, err = sup.AddReview(ctx, sys, support.ReviewInput{Author: "Ivan", Text: "Fast and reliable", Rating: 5})
	must(err)
	return f
}

// do sends a request with a Bearer key (none when empty) and checks the
// exchange against the spec.
func (f *fixture) do(t *testing.T, key string, req apitest.Request) apitest.Response {
	t.Helper()
	req.Header = req.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if !strings.HasPrefix(req.Path, prefix) {
		req.Path = prefix + req.Path
	}
	return f.v.Do(t, f.h, req)
}

func (f *fixture) get(t *testing.T, key, path string) apitest.Response {
	t.Helper()
	return f.do(t, key, apitest.Request{Method: "GET", Path: path})
}

func (f *fixture) send(t *testing.T, key, method, path string, body []byte) apitest.Response {
	t.Helper()
	return f.do(t, key, apitest.Request{Method: method, Path: path, Body: body})
}

// sample returns a seed request sample verbatim.
func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "requests", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantStatus(t *testing.T, resp apitest.Response, status int) {
	t.Helper()
	if resp.Status != status {
		t.Fatalf("status %d, want %d: %s", resp.Status, status, resp.Body)
	}
}

// result decodes {"Result": …} into T, failing without the envelope.
func result[T any](t *testing.T, resp apitest.Response) T {
	t.Helper()
	var env map[string]json.RawMessage
	if err := json.Unmarshal(resp.Body, &env); err != nil {
		t.Fatalf("not JSON: %s", resp.Body)
	}
	raw, ok := env["Result"]
	if !ok || len(env) != 1 {
		t.Fatalf("no {\"Result\": …} envelope: %s", resp.Body)
	}
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, raw, err)
	}
	return v
}

type apiError struct {
	Code, Message, Field string
}

func errorOf(t *testing.T, resp apitest.Response) apiError {
	t.Helper()
	var body struct{ Error *apiError }
	if err := json.Unmarshal(resp.Body, &body); err != nil || body.Error == nil {
		t.Fatalf("not an error body: %s", resp.Body)
	}
	return *body.Error
}

// tlog sends the handler's log (the causes of 5xx answers) to the test log.
type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) { l.t.Log(strings.TrimSpace(string(p))); return len(p), nil }

// noJobs accepts the orders' safety-net step jobs without running them.
type noJobs struct{}

func (noJobs) InsertTx(context.Context, *sql.Tx, jobs.Args, jobs.InsertOpts) error { return nil }
