package reseller_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

var (
	t0  = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	sys = actor.System("")
)

// counter is a Services/Tickets hook with settable counts.
type counter struct {
	mu sync.Mutex
	n  map[int64]int
}

func (c *counter) set(id int64, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[id] = n
}

func (c *counter) get(id int64) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[id]
}

func (c *counter) ActiveServicesTx(_ context.Context, _ reseller.Queries, id int64) (int, error) {
	return c.get(id), nil
}
func (c *counter) OpenTicketsTx(_ context.Context, _ reseller.Queries, id int64) (int, error) {
	return c.get(id), nil
}

// blockRec records block hook calls.
type blockRec struct {
	mu    sync.Mutex
	calls []bool
}

func (b *blockRec) ProjectBlockChangedTx(_ context.Context, tx reseller.Queries, _ int64, blocked bool, _ time.Time) error {
	if !tx.InTx() {
		panic("block hook outside a transaction")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, blocked)
	return nil
}

type fixture struct {
	ctx      context.Context // the test's
	billing  *billing.Service
	st       *sqlstore.Store
	svc      *reseller.Service
	ledger   *ledger.Service
	clk      *clock.Fake
	partner  tenancy.Org
	other    tenancy.Org
	a        actor.Actor // the partner's Finance key
	oa       actor.Actor // another partner's key
	services *counter
	tickets  *counter
	blocks   *blockRec
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := t.Context()
	st := sqlstore.New(d)
	clk := clock.NewFake(t0)
	l := ledger.NewService(sqlstore.Ledger{Store: st}, clk)
	b := billing.NewService(sqlstore.Billing{Store: st}, l, clk, billing.Config{})
	f := &fixture{ctx: ctx, billing: b, st: st, ledger: l, clk: clk, services: &counter{n: map[int64]int{}},
		tickets: &counter{n: map[int64]int{}}, blocks: &blockRec{}}
	f.svc = wiring.Must(reseller.NewService(sqlstore.Reseller{Store: st}, b, l, clk,
		reseller.Deps{Services: f.services, Tickets: f.tickets, Blocks: f.blocks}, reseller.Config{}))
	now := db.Micro(t0)
	rid, did := ids.New(), ids.New()
	root := tenancy.Org{ID: rid, Kind: actor.Provider, Path: "/" + rid + "/", Name: "P", TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	dist := tenancy.Org{ID: did, Kind: actor.Distributor, ParentID: rid, Path: root.Path + did + "/", Name: "D", TimeZone: "UTC",
		CreatedAt: now, UpdatedAt: now}
	must(t, st.InsertOrg(ctx, root))
	must(t, st.InsertOrg(ctx, dist))
	partner := func(name string) tenancy.Org {
		id := ids.New()
		p := tenancy.Org{ID: id, Kind: actor.Partner, ParentID: did, Path: dist.Path + id + "/", Name: name, TimeZone: "UTC",
			CreatedAt: now, UpdatedAt: now}
		must(t, st.InsertOrg(ctx, p))
		return p
	}
	f.partner, f.other = partner("Reseller"), partner("Other")
	f.a = keyActor(f.partner, reseller.RoleFinance)
	f.oa = keyActor(f.other, reseller.RoleUser)
	return f
}

func keyActor(p tenancy.Org, role string) actor.Actor {
	return actor.Actor{Type: actor.TypeAPIKey, ID: "key-" + role, OrgID: p.ID, OrgPath: p.Path, OrgKind: actor.Partner,
		Role: actor.Staff, ResellerRole: role}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err error, k errs.Kind, field string) {
	t.Helper()
	if err == nil || errs.KindOf(err) != k {
		t.Fatalf("got %v (kind %v), want kind %v", err, errs.KindOf(err), k)
	}
	if field != "" {
		if e, ok := err.(*errs.Error); !ok || e.Field != field {
			t.Fatalf("got %v, want it to name the field %q", err, field)
		}
	}
}

// account creates an Active account and returns it with its project.
func (f *fixture) account(t testing.TB, email string) (reseller.Account, reseller.Project) {
	t.Helper()
	ctx := t.Context()
	acct, err := f.svc.CreateAccount(ctx, f.a, reseller.CreateAccountInput{Email: email, State: reseller.StateActive})
	must(t, err)
	p, err := f.svc.GetProject(ctx, f.a, acct.PersonalProjectID)
	must(t, err)
	return acct, p
}

func ruCompany() reseller.CompanyInput {
	return reseller.CompanyInput{
		CompanyEditInput: reseller.CompanyEditInput{CompanyName: "ИТГЛОБАЛКОМ РУС", LegalAddress: "191028, Литейный 26",
			ActualAddress: "191028, Литейный 26", KPP: "784101001", AutoInvoiceAmount: 44400,
			TypeAutoInvoiceGeneration: "DaysBeforeZeroBalance7", Ogrn: "1089847323180", Okpo: "87350562",
			Bank: "Банк Санкт-Петербург", Bik: "044030790", SignatoryName: "Иванов", SignatoryJob: "ГЕНЕРАЛЬНЫЙ ДИРЕКТОР",
			CanUserEditCompanyData: true, FinanceEmail: "example@gmail.com", DocDeliveryPeriod: "Monthly"},
		CountryTwoLetterCode: "RU", INN: "7838413489", AgreementNumber: "1311/544",
		AgreementDate: time.Date(2021, 8, 12, 15, 19, 27, 121124500, time.UTC), PartnerCompanyID: 1,
	}
}

// each runs fn on every database.
func each(t *testing.T, fn func(t *testing.T, f *fixture)) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		fn(t, newFixture(t, d))
	})
}

// trial checks that the ledger balances.
func (f *fixture) trial(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	tb, err := f.ledger.TrialBalance(ctx)
	must(t, err)
	for _, c := range tb {
		if c.Total.Sign() != 0 {
			t.Fatalf("ledger out of balance: %+v", tb)
		}
	}
}

// charge runs ChargeTx in its own transaction.
func (f *fixture) charge(projectID, amount int64, key string) (reseller.Operation, bool, error) {
	var op reseller.Operation
	var isNew bool
	err := sqlstore.Reseller{Store: f.st}.Tx(f.ctx, func(tx reseller.Store) error {
		var err error
		op, isNew, err = f.svc.ChargeTx(f.ctx, tx, reseller.ChargeInput{ProjectID: projectID, Amount: amount, Key: key,
			Description: "a day", Reference: "order"})
		return err
	})
	return op, isNew, err
}
