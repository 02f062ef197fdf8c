package billing_test

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// feb is the month most tests bill: February 2026.
var feb = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

// usage is an in-memory billing.Usage: lines per account and month start.
type usage struct {
	mu    sync.Mutex
	lines map[int64]map[time.Time][]billing.UsageLine
}

func newUsage() *usage { return &usage{lines: map[int64]map[time.Time][]billing.UsageLine{}} }

func (u *usage) add(account int64, month time.Time, ls ...billing.UsageLine) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.lines[account] == nil {
		u.lines[account] = map[time.Time][]billing.UsageLine{}
	}
	u.lines[account][month] = append(u.lines[account][month], ls...)
}

func (u *usage) AccountsWithUsage(_ context.Context, from, to time.Time) ([]int64, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []int64
	for id, months := range u.lines {
		for m := range months {
			if !m.Before(from) && m.Before(to) {
				out = append(out, id)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

func (u *usage) Lines(_ context.Context, id int64, from, to time.Time) ([]billing.UsageLine, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []billing.UsageLine
	for m, ls := range u.lines[id] {
		if !m.Before(monthStart(from)) && m.Before(to) {
			out = append(out, ls...)
		}
	}
	return out, nil
}

func monthStart(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// line is a usage line of hours at price (decimal literals).
func line(name, price, hours string) billing.UsageLine {
	p, q := dec(price), dec(hours)
	return billing.UsageLine{ResourceID: ids.New(), Description: name, UnitPrice: p, Quantity: q, Amount: p.Mul(q),
		LocationSlug: "tll", OwnerUUID: ids.New(), UptimeTypes: []string{"VM_COMPUTE"}, FirstPeriod: feb}
}

func dec(s string) money.Decimal {
	d, err := money.ParseJSONNumber("test", json.Number(s))
	if err != nil {
		panic(err)
	}
	return d
}

type resources map[int64]int

func (r resources) ActiveResourcesTx(_ context.Context, _ billing.Store, id int64) (int, error) {
	return r[id], nil
}

type fixture struct {
	t        testing.TB
	st       *sqlstore.Store
	svc      *billing.Service
	ledger   *ledger.Service
	clock    *clock.Fake
	usage    *usage
	res      resources
	op       actor.Actor // an operator over every customer
	root     tenancy.Org
	customer tenancy.Org
	cust     actor.Actor // the customer's own key
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	ctx := t.Context()
	st := sqlstore.New(d)
	f := &fixture{t: t, st: st, clock: clock.NewFake(feb.Add(10 * 24 * time.Hour)), usage: newUsage(), res: resources{}}
	f.ledger = ledger.NewService(sqlstore.Ledger{Store: st}, f.clock)
	f.svc = billing.NewService(sqlstore.Billing{Store: st}, f.ledger, f.clock, billing.Config{Usage: f.usage, Resources: f.res})
	now := db.Micro(f.clock.Now())
	rid := ids.New()
	root := tenancy.Org{ID: rid, Kind: actor.Provider, Path: "/" + rid + "/", Name: "P", TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	must(t, st.InsertOrg(ctx, root))
	f.root = root
	f.op = actor.Actor{Type: actor.TypeAPIKey, ID: "op", OrgID: rid, OrgPath: root.Path, OrgKind: actor.Provider, Role: actor.Admin}
	f.customer = f.org(root)
	f.cust = actor.Actor{Type: actor.TypeAPIKey, ID: "cust", OrgID: f.customer.ID, OrgPath: f.customer.Path,
		OrgKind: actor.Customer, Role: actor.Admin}
	return f
}

func (f *fixture) org(parent tenancy.Org) tenancy.Org {
	ctx := f.t.Context()
	now := db.Micro(f.clock.Now())
	id := ids.New()
	o := tenancy.Org{ID: id, Kind: actor.Customer, ParentID: parent.ID, Path: parent.Path + id + "/", Name: "C",
		TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	must(f.t, f.st.InsertOrg(ctx, o))
	return o
}

// account creates an account of the fixture's customer (user 8).
func (f *fixture) account(vat, discount int, welcome int64) billing.Account {
	f.t.Helper()
	ctx := f.t.Context()
	a, err := f.svc.CreateAccount(ctx, f.op, billing.CreateAccountInput{OrgID: f.customer.ID, UserID: 8,
		Data:          billing.AccountData{Title: "konto", Email: "user@example.com", City: "Küla", Country: "EE"},
		VATPercentage: vat, DiscountPercentage: discount, WelcomeCredit: welcome})
	must(f.t, err)
	return a
}

// balances returns every ledger balance of an account by kind.
func (f *fixture) balances(id int64) map[ledger.Kind]int64 {
	f.t.Helper()
	ctx := f.t.Context()
	accts, err := f.ledger.Accounts(ctx, billing.LedgerOwner(id))
	must(f.t, err)
	out := map[ledger.Kind]int64{}
	for _, a := range accts {
		out[a.Kind] = a.Balance
	}
	return out
}

// trialBalanceZero checks Σ balances = 0 in every currency.
func (f *fixture) trialBalanceZero() {
	f.t.Helper()
	ctx := f.t.Context()
	tb, err := f.ledger.TrialBalance(ctx)
	must(f.t, err)
	for _, c := range tb {
		if c.Total.Sign() != 0 {
			f.t.Fatalf("trial balance in %s is %s", c.Currency, c.Total)
		}
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err error, k errs.Kind) {
	t.Helper()
	if err == nil || errs.KindOf(err) != k {
		t.Fatalf("got error %v (kind %v), want kind %v", err, errs.KindOf(err), k)
	}
}

var _ billing.Usage = (*metering.HourlyService)(nil) // metering's hourly usage is billing's Usage as it is

func errsField(err error) string { return errs.FieldOf(err) }
