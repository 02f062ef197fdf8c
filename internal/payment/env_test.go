package payment_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/payment/testprocessor"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// start is the fake clock's start: mid-month, so earlier months are closed.
var start = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

// usage is a billing.Usage with lines set by the test: per account and
// month start.
type usage struct {
	mu    sync.Mutex
	lines map[int64]map[time.Time][]billing.UsageLine
}

func (u *usage) set(account int64, month time.Time, cents int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.lines[account] == nil {
		u.lines[account] = map[time.Time][]billing.UsageLine{}
	}
	price := money.DecimalFromInt(cents).Shift(-2)
	u.lines[account][month] = []billing.UsageLine{{ResourceID: ids.New(), Description: "vm, 1 CPUs, 1 GB RAM, 20 GB disk",
		BillingAccountID: account, UnitPrice: price, Quantity: money.DecimalFromInt(1), Amount: price, Records: 1,
		FirstPeriod: month, LastPeriod: month}}
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

func (u *usage) Lines(_ context.Context, account int64, from, _ time.Time) ([]billing.UsageLine, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	return append([]billing.UsageLine(nil), u.lines[account][m]...), nil
}

type env struct {
	t        *testing.T
	ctx      context.Context
	st       *sqlstore.Store
	clk      *clock.Fake
	led      *ledger.Service
	bill     *billing.Service
	proc     *testprocessor.Processor
	pay      *payment.Service
	usage    *usage
	root     tenancy.Org
	operator actor.Actor
	keys     atomic.Int64
}

func newEnv(t *testing.T, d *db.DB) *env {
	t.Helper()
	st := sqlstore.New(d)
	clk := clock.NewFake(start)
	led := ledger.NewService(sqlstore.Ledger{Store: st}, clk)
	u := &usage{lines: map[int64]map[time.Time][]billing.UsageLine{}}
	bill := billing.NewService(sqlstore.Billing{Store: st}, led, clk, billing.Config{Usage: u})
	proc := testprocessor.New(clk)
	pay := payment.NewService(sqlstore.Payment{Store: st}, led, bill, proc, clk, payment.Config{})
	// Not t.Context(): the cleanup below checks the ledger after it is cancelled.
	e := &env{t: t, ctx: context.Background(), st: st, clk: clk, led: led, bill: bill, proc: proc, pay: pay, usage: u}
	now := db.Micro(start)
	rid := ids.New()
	e.root = tenancy.Org{ID: rid, Kind: actor.Provider, Path: "/" + rid + "/", Name: "Provider", TimeZone: "UTC",
		CreatedAt: now, UpdatedAt: now}
	e.must(st.InsertOrg(e.ctx, e.root))
	e.operator = actor.Actor{Type: actor.TypeUser, ID: "operator", OrgID: rid, OrgPath: e.root.Path,
		OrgKind: actor.Provider, Role: actor.Admin}
	// Every test ends with a balanced ledger.
	t.Cleanup(func() { e.trialBalanceZero() })
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// customer creates a customer org and returns its actor (an API key with
// the admin role).
func (e *env) customer() actor.Actor {
	e.t.Helper()
	now := db.Micro(start)
	id := ids.New()
	org := tenancy.Org{ID: id, Kind: actor.Customer, ParentID: e.root.ID, Path: e.root.Path + id + "/", Name: "Customer",
		TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	e.must(e.st.InsertOrg(e.ctx, org))
	return actor.Actor{Type: actor.TypeAPIKey, ID: "key-" + id, OrgID: id, OrgPath: org.Path, OrgKind: actor.Customer, Role: actor.Admin}
}

// account creates a billing account of the customer (VAT and discount 0,
// so an invoice's total is its usage).
func (e *env) account(a actor.Actor, welcome int64) billing.Account {
	e.t.Helper()
	acct, err := e.bill.CreateAccount(e.ctx, e.operator, billing.CreateAccountInput{OrgID: a.OrgID,
		Data: billing.AccountData{Title: "konto", Email: "user@example.com"}, WelcomeCredit: welcome})
	e.must(err)
	return acct
}

// invoice issues the account's usage invoice for month (months back from
// the clock's month: 1 = last month) with total cents.
func (e *env) invoice(acct billing.Account, monthsBack int, cents int64) billing.Invoice {
	e.t.Helper()
	now := e.clk.Now()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -monthsBack, 0)
	e.usage.set(acct.ID, month, cents)
	inv, issued, err := e.bill.IssueInvoice(e.ctx, acct.ID, month, now)
	e.must(err)
	if !issued || inv.Subtotal != cents {
		e.t.Fatalf("invoice for %s: issued %v, subtotal %d, want %d", month.Format("2006-01"), issued, inv.Subtotal, cents)
	}
	return inv
}

// card attaches a test card and returns it.
func (e *env) card(a actor.Actor, acct billing.Account, token string) payment.PaymentObject {
	e.t.Helper()
	o, err := e.pay.AddCard(e.ctx, a, payment.AddCardInput{AccountID: acct.ID, Token: token})
	e.must(err)
	return o
}

func (e *env) key() string { return fmt.Sprintf("key-%d", e.keys.Add(1)) }

// invoiceState is what payments may change on an invoice.
type invoiceState struct {
	ID                   int64
	Status               int
	Total, Paid, Pending int64
	PaidAt               *time.Time
	Transactions         int
}

// state is a snapshot of everything money-related of some accounts: the
// balance of every ledger account, the invoices, the credit records and
// the charges at the processor.
type state struct {
	Ledger   map[string]int64
	Invoices map[int64][]invoiceState
	Credits  map[int64]int
	Charged  int
}

func (e *env) snapshot(accts ...billing.Account) state {
	e.t.Helper()
	s := state{Ledger: map[string]int64{}, Invoices: map[int64][]invoiceState{}, Credits: map[int64]int{},
		Charged: len(e.proc.Charges())}
	for _, acct := range accts {
		la, err := e.led.Accounts(e.ctx, billing.LedgerOwner(acct.ID))
		e.must(err)
		for _, l := range la {
			s.Ledger[l.ID] = l.Balance
		}
		invs, err := e.st.ListInvoices(e.ctx, acct.ID)
		e.must(err)
		for _, inv := range invs {
			txs, err := e.pay.TransactionsOf(e.ctx, inv.ID)
			e.must(err)
			s.Invoices[acct.ID] = append(s.Invoices[acct.ID], invoiceState{ID: inv.ID, Status: inv.Status, Total: inv.Total,
				Paid: inv.PaidAmount, Pending: inv.PendingAmount, PaidAt: inv.PaidAt, Transactions: len(txs)})
		}
		cr, err := e.st.ListCreditRecords(e.ctx, acct.ID)
		e.must(err)
		s.Credits[acct.ID] = len(cr)
	}
	return s
}

func (e *env) unchanged(before state, accts ...billing.Account) {
	e.t.Helper()
	if d := cmp.Diff(before, e.snapshot(accts...)); d != "" {
		e.t.Fatalf("money changed (-before +after):\n%s", d)
	}
}

// balance returns the balance of the account's ledger account of kind.
func (e *env) balance(acct billing.Account, kind ledger.Kind) int64 {
	e.t.Helper()
	la, err := e.led.Accounts(e.ctx, billing.LedgerOwner(acct.ID))
	e.must(err)
	for _, l := range la {
		if l.Kind == kind {
			return l.Balance
		}
	}
	return 0
}

func (e *env) trialBalanceZero() {
	e.t.Helper()
	tb, err := e.led.TrialBalance(e.ctx)
	if err != nil {
		e.t.Errorf("trial balance: %v", err)
		return
	}
	for _, c := range tb {
		if c.Total.Sign() != 0 {
			e.t.Errorf("trial balance of %s is %s, want 0", c.Currency, c.Total)
		}
	}
}

// wantErr checks an error's kind and field.
func wantErr(t *testing.T, err error, kind errs.Kind, field string) {
	t.Helper()
	if err == nil || errs.KindOf(err) != kind || errs.FieldOf(err) != field {
		t.Fatalf("got error %v (kind %v, field %q), want kind %v naming %q", err, errs.KindOf(err), errs.FieldOf(err), kind, field)
	}
}

func (e *env) invoiceNow(id int64) billing.Invoice {
	e.t.Helper()
	inv, err := e.bill.InvoiceByID(e.ctx, id)
	e.must(err)
	return inv
}

func money100() money.Amount { return money.NewAmount(10000, money.EUR) }
