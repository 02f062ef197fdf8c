package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.UTC)

type env struct {
	t   *testing.T
	d   *db.DB
	st  *sqlstore.Store
	svc *ledger.Service
	clk *clock.Fake
	ctx context.Context
}

func each(t *testing.T, fn func(e *env)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		st := sqlstore.New(d)
		clk := clock.NewFake(t0)
		fn(&env{t: t, d: d, st: st, svc: ledger.NewService(sqlstore.Ledger{Store: st}, clk), clk: clk, ctx: t.Context()})
	})
}

func must(t *testing.T, err error) {
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

// account creates an account of a fresh owner.
func (e *env) account(kind ledger.Kind, currency string, f ledger.Floor) ledger.Account {
	e.t.Helper()
	a, err := e.svc.EnsureAccount(e.ctx, ledger.AccountSpec{Owner: ids.New(), Kind: kind, Currency: currency, Floor: f})
	must(e.t, err)
	return a
}

func (e *env) balance(id string) int64 {
	e.t.Helper()
	b, _, err := e.svc.Balance(e.ctx, id)
	must(e.t, err)
	return b
}

// move posts amount from → to (both in currency).
func (e *env) move(key string, from, to ledger.Account, amount int64) (ledger.Transaction, error) {
	return e.svc.Post(e.ctx, ledger.PostInput{IdempotencyKey: key, Description: "move", Postings: []ledger.PostingInput{
		{AccountID: from.ID, Currency: from.Currency, Amount: -amount},
		{AccountID: to.ID, Currency: to.Currency, Amount: amount},
	}})
}

// snapshot returns every account and the number of transactions and postings.
func (e *env) snapshot() (map[string]ledger.Account, int, int) {
	e.t.Helper()
	rows, err := e.d.Read().QueryContext(e.ctx, `SELECT id FROM ledger_accounts`)
	must(e.t, err)
	var idList []string
	for rows.Next() {
		var id string
		must(e.t, rows.Scan(&id))
		idList = append(idList, id)
	}
	must(e.t, rows.Err())
	_ = rows.Close()
	out := map[string]ledger.Account{}
	for _, id := range idList {
		a, err := e.svc.Account(e.ctx, id)
		must(e.t, err)
		out[id] = a
	}
	var txs, ps int
	must(e.t, e.d.Read().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM ledger_transactions`).Scan(&txs))
	must(e.t, e.d.Read().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM ledger_postings`).Scan(&ps))
	return out, txs, ps
}

// consistent checks the ledger's invariants with SQL: every account's
// balance is the sum of its postings and the last posting's balance_after,
// its postings are numbered 1..seq without gaps, no balance is below its
// floor, every transaction balances per currency, and Σ balances per
// currency is 0.
func (e *env) consistent() {
	e.t.Helper()
	rows, err := e.d.Read().QueryContext(e.ctx, `SELECT a.id, a.balance, a.seq, COALESCE(a.balance_floor, -1),
		a.balance_floor IS NULL, COALESCE(SUM(p.amount), 0), COUNT(p.seq), COALESCE(MIN(p.seq), 0), COALESCE(MAX(p.seq), 0),
		COALESCE((SELECT l.balance_after FROM ledger_postings l WHERE l.account_id = a.id AND l.seq = a.seq), 0)
		FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id
		GROUP BY a.id, a.balance, a.seq, a.balance_floor`)
	must(e.t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id string
		var bal, seq, floor, sum, cnt, minSeq, maxSeq, last int64
		var unbounded bool
		must(e.t, rows.Scan(&id, &bal, &seq, &floor, &unbounded, &sum, &cnt, &minSeq, &maxSeq, &last))
		n++
		if bal != sum || bal != last {
			e.t.Errorf("account %s: balance %d, sum of postings %d, last balance_after %d", id, bal, sum, last)
		}
		if cnt != seq || maxSeq != seq || (cnt > 0 && minSeq != 1) {
			e.t.Errorf("account %s: seq %d but %d postings numbered %d..%d", id, seq, cnt, minSeq, maxSeq)
		}
		if !unbounded && bal < floor {
			e.t.Errorf("account %s: balance %d below its floor %d", id, bal, floor)
		}
	}
	must(e.t, rows.Err())
	if n == 0 {
		e.t.Fatal("no accounts checked")
	}
	var unbalanced int
	must(e.t, e.d.Read().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM (SELECT transaction_id, currency FROM ledger_postings
		GROUP BY transaction_id, currency HAVING SUM(amount) <> 0) x`).Scan(&unbalanced))
	if unbalanced != 0 {
		e.t.Errorf("%d unbalanced (transaction, currency) pairs", unbalanced)
	}
	var small int
	must(e.t, e.d.Read().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM (SELECT transaction_id FROM ledger_postings
		GROUP BY transaction_id HAVING COUNT(*) < 2) x`).Scan(&small))
	if small != 0 {
		e.t.Errorf("%d transactions with fewer than two postings", small)
	}
	tb, err := e.svc.TrialBalance(e.ctx)
	must(e.t, err)
	for _, c := range tb {
		if c.Total.Sign() != 0 {
			e.t.Errorf("trial balance: %s totals %s over %d accounts", c.Currency, c.Total, c.Accounts)
		}
	}
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		owner := ids.New()
		spec := ledger.AccountSpec{Owner: owner, Kind: ledger.KindBalance, Currency: "EUR", Floor: ledger.AtLeast(-500)}
		a, err := e.svc.EnsureAccount(e.ctx, spec)
		must(t, err)
		if a.ID == "" || a.Owner != owner || a.Kind != ledger.KindBalance || a.Currency != "EUR" || a.Floor != ledger.AtLeast(-500) ||
			a.Balance != 0 || a.Seq != 0 || !a.CreatedAt.Equal(db.Micro(t0)) {
			t.Fatalf("new account: %+v", a)
		}
		// Idempotent: the same account back, keeping its floor.
		spec.Floor = ledger.NoFloor()
		again, err := e.svc.EnsureAccount(e.ctx, spec)
		must(t, err)
		if d := cmp.Diff(a, again); d != "" {
			t.Fatalf("EnsureAccount twice (-first +second):\n%s", d)
		}
		got, err := e.svc.Account(e.ctx, a.ID)
		must(t, err)
		if d := cmp.Diff(a, got); d != "" {
			t.Fatalf("Account (-want +got):\n%s", d)
		}
		usd, err := e.svc.EnsureAccount(e.ctx, ledger.AccountSpec{Owner: owner, Kind: ledger.KindBalance, Currency: "USD"})
		must(t, err)
		if usd.ID == a.ID || usd.Floor != ledger.AtLeast(0) {
			t.Fatalf("USD account: %+v", usd)
		}
		list, err := e.svc.Accounts(e.ctx, owner)
		must(t, err)
		if len(list) != 2 || list[0].ID != a.ID || list[1].ID != usd.ID {
			t.Fatalf("Accounts: %+v", list)
		}
		sys, err := e.svc.EnsureAccount(e.ctx, ledger.AccountSpec{Kind: ledger.KindRevenue, Currency: "EUR", Floor: ledger.NoFloor()})
		must(t, err)
		if sys.Owner != "" || !sys.Floor.Unbounded {
			t.Fatalf("system account: %+v", sys)
		}

		bad := []struct {
			spec  ledger.AccountSpec
			field string
		}{
			{ledger.AccountSpec{Owner: owner, Kind: "cash", Currency: "EUR"}, "kind"},
			{ledger.AccountSpec{Kind: ledger.KindBalance, Currency: "EUR"}, "owner"},
			{ledger.AccountSpec{Owner: owner, Kind: ledger.KindBalance, Currency: "eur"}, "currency"},
			{ledger.AccountSpec{Owner: owner, Kind: ledger.KindBalance, Currency: "EURO"}, "currency"},
			{ledger.AccountSpec{Owner: owner, Kind: ledger.KindBalance, Currency: "EUR", Floor: ledger.AtLeast(1)}, "floor"},
		}
		for _, b := range bad {
			_, err := e.svc.EnsureAccount(e.ctx, b.spec)
			wantKind(t, err, errs.KindInvalid)
			if errs.FieldOf(err) != b.field {
				t.Fatalf("%+v: field %q, want %q", b.spec, errs.FieldOf(err), b.field)
			}
		}
		_, err = e.svc.Account(e.ctx, ids.New())
		wantKind(t, err, errs.KindNotFound)
		_, _, err = e.svc.Balance(e.ctx, ids.New())
		wantKind(t, err, errs.KindNotFound)
	})
}

func TestPostValidation(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		eur1 := e.account(ledger.KindBalance, "EUR", ledger.NoFloor())
		eur2 := e.account(ledger.KindRevenue, "EUR", ledger.NoFloor())
		usd1 := e.account(ledger.KindBalance, "USD", ledger.NoFloor())
		usd2 := e.account(ledger.KindRevenue, "USD", ledger.NoFloor())
		p := func(a ledger.Account, n int64) ledger.PostingInput {
			return ledger.PostingInput{AccountID: a.ID, Currency: a.Currency, Amount: n}
		}
		cases := []struct {
			name     string
			postings []ledger.PostingInput
			kind     errs.Kind
			field    string
		}{
			{"unbalanced", []ledger.PostingInput{p(eur1, -10), p(eur2, 9)}, errs.KindInvalid, "postings"},
			{"one posting", []ledger.PostingInput{p(eur1, 0)}, errs.KindInvalid, "postings"},
			{"no postings", nil, errs.KindInvalid, "postings"},
			{"zero amount", []ledger.PostingInput{p(eur1, 0), p(eur2, 0)}, errs.KindInvalid, "postings[0].amount"},
			{"same account twice", []ledger.PostingInput{p(eur1, -1), p(eur1, 1)}, errs.KindInvalid, "postings[1].accountId"},
			{"balanced in total, not per currency", []ledger.PostingInput{p(eur1, -10), p(usd2, 10)}, errs.KindInvalid, "postings"},
			{"mixed, one currency unbalanced", []ledger.PostingInput{p(eur1, -10), p(eur2, 10), p(usd1, -5), p(usd2, 4)}, errs.KindInvalid, "postings"},
			{"currency not the account's", []ledger.PostingInput{p(eur1, -10), {AccountID: usd2.ID, Currency: "EUR", Amount: 10}}, errs.KindInvalid, "postings[1].currency"},
			{"bad currency", []ledger.PostingInput{{AccountID: eur1.ID, Currency: "€", Amount: -1}, p(eur2, 1)}, errs.KindInvalid, "postings[0].currency"},
			{"unknown account", []ledger.PostingInput{p(eur1, -10), {AccountID: ids.New(), Currency: "EUR", Amount: 10}}, errs.KindNotFound, "postings[1].accountId"},
			{"missing account id", []ledger.PostingInput{p(eur1, -10), {Currency: "EUR", Amount: 10}}, errs.KindInvalid, "postings[1].accountId"},
			{"overflow", []ledger.PostingInput{p(eur1, math.MaxInt64), p(eur2, -math.MaxInt64)}, 0, ""},
			{"overflow again", []ledger.PostingInput{p(eur1, 1), p(eur2, -1)}, errs.KindInvalid, "postings[0].amount"},
		}
		for i, c := range cases {
			before, txs, ps := e.snapshot()
			_, err := e.svc.Post(e.ctx, ledger.PostInput{IdempotencyKey: fmt.Sprint("k", i), Postings: c.postings})
			if c.field == "" {
				must(t, err)
				continue
			}
			if err == nil || errs.KindOf(err) != c.kind || errs.FieldOf(err) != c.field {
				t.Fatalf("%s: got %v (kind %v, field %q), want kind %v field %q", c.name, err, errs.KindOf(err), errs.FieldOf(err), c.kind, c.field)
			}
			after, txs2, ps2 := e.snapshot()
			if d := cmp.Diff(before, after); d != "" || txs != txs2 || ps != ps2 {
				t.Fatalf("%s: a rejected post changed the ledger (-before +after):\n%s", c.name, d)
			}
		}
		_, err := e.svc.Post(e.ctx, ledger.PostInput{Postings: []ledger.PostingInput{p(eur1, -1), p(eur2, 1)}})
		wantKind(t, err, errs.KindInvalid)
		if errs.FieldOf(err) != "idempotencyKey" {
			t.Fatalf("missing key: field %q", errs.FieldOf(err))
		}

		// Balanced in each of two currencies: one transaction.
		tr, err := e.svc.Post(e.ctx, ledger.PostInput{IdempotencyKey: "fx", Description: "two currencies",
			Metadata: map[string]string{"invoice": "42"},
			Postings: []ledger.PostingInput{p(eur1, -10), p(usd1, -7), p(eur2, 10), p(usd2, 7)}})
		must(t, err)
		if len(tr.Postings) != 4 || tr.Replayed {
			t.Fatalf("mixed currencies: %+v", tr)
		}
		got, err := e.svc.Transaction(e.ctx, tr.ID)
		must(t, err)
		if d := cmp.Diff(tr, got); d != "" {
			t.Fatalf("Transaction round trip (-posted +read):\n%s", d)
		}
		if e.balance(usd1.ID) != -7 || e.balance(usd2.ID) != 7 {
			t.Fatal("USD balances not moved")
		}
		_, err = e.svc.Transaction(e.ctx, ids.New())
		wantKind(t, err, errs.KindNotFound)
		e.consistent()
	})
}

func TestFloors(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		clearing := e.account(ledger.KindPaymentClearing, "EUR", ledger.NoFloor())
		prepaid := e.account(ledger.KindBalance, "EUR", ledger.AtLeast(0))
		postpaid := e.account(ledger.KindBalance, "EUR", ledger.AtLeast(-300))
		revenue := e.account(ledger.KindRevenue, "EUR", ledger.NoFloor())

		_, err := e.move("top-up", clearing, prepaid, 1000)
		must(t, err)
		if e.balance(clearing.ID) != -1000 {
			t.Fatal("an unbounded account did not go negative")
		}
		steps := []struct {
			key      string
			from     ledger.Account
			amount   int64
			ok       bool
			balance  int64
			overdraw string
		}{
			{"p1", prepaid, 999, true, 1, ""},
			{"p2", prepaid, 2, false, 1, prepaid.ID},
			{"p3", prepaid, 1, true, 0, ""},
			{"p4", prepaid, 1, false, 0, prepaid.ID},
			{"d1", postpaid, 300, true, -300, ""},
			{"d2", postpaid, 1, false, -300, postpaid.ID},
		}
		for _, s := range steps {
			_, err := e.move(s.key, s.from, revenue, s.amount)
			if s.ok {
				must(t, err)
			} else {
				wantKind(t, err, errs.KindInsufficientFunds)
				if got := errs.Public(err); !contains(got, s.overdraw) {
					t.Fatalf("%s: message %q does not name account %s", s.key, got, s.overdraw)
				}
			}
			if b := e.balance(s.from.ID); b != s.balance {
				t.Fatalf("%s: balance %d, want %d", s.key, b, s.balance)
			}
		}

		// The floor can be lowered (more debt allowed), not raised above
		// the balance.
		wantKind(t, e.svc.SetFloor(e.ctx, postpaid.ID, ledger.AtLeast(-100)), errs.KindPrecondition)
		must(t, e.svc.SetFloor(e.ctx, postpaid.ID, ledger.AtLeast(-400)))
		_, err = e.move("d3", postpaid, revenue, 100)
		must(t, err)
		must(t, e.svc.SetFloor(e.ctx, prepaid.ID, ledger.NoFloor()))
		_, err = e.move("p5", prepaid, revenue, 50)
		must(t, err)
		if a, _ := e.svc.Account(e.ctx, prepaid.ID); a.Balance != -50 || !a.Floor.Unbounded {
			t.Fatalf("unbounded prepaid: %+v", a)
		}
		wantKind(t, e.svc.SetFloor(e.ctx, prepaid.ID, ledger.AtLeast(0)), errs.KindPrecondition)
		wantKind(t, e.svc.SetFloor(e.ctx, prepaid.ID, ledger.AtLeast(5)), errs.KindInvalid)
		wantKind(t, e.svc.SetFloor(e.ctx, ids.New(), ledger.AtLeast(0)), errs.KindNotFound)
		e.consistent()
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		a := e.account(ledger.KindBalance, "EUR", ledger.NoFloor())
		b := e.account(ledger.KindRevenue, "EUR", ledger.NoFloor())
		in := ledger.PostInput{IdempotencyKey: "invoice:1", Description: "Invoice 1", Metadata: map[string]string{"x": "y"},
			Postings: []ledger.PostingInput{{AccountID: a.ID, Currency: "EUR", Amount: -100}, {AccountID: b.ID, Currency: "EUR", Amount: 100}}}
		first, err := e.svc.Post(e.ctx, in)
		must(t, err)
		e.clk.Advance(time.Hour)
		// The same body, postings listed in another order: the first
		// transaction, nothing posted twice.
		in.Postings[0], in.Postings[1] = in.Postings[1], in.Postings[0]
		again, err := e.svc.Post(e.ctx, in)
		must(t, err)
		if !again.Replayed {
			t.Fatal("replay not flagged")
		}
		again.Replayed = false
		if d := cmp.Diff(first, again); d != "" {
			t.Fatalf("replay (-first +replay):\n%s", d)
		}
		if e.balance(a.ID) != -100 || e.balance(b.ID) != 100 {
			t.Fatal("replay posted again")
		}
		byKey, err := e.svc.TransactionByKey(e.ctx, "invoice:1")
		must(t, err)
		if byKey.ID != first.ID {
			t.Fatal("TransactionByKey")
		}
		// The same key with a different body is a conflict.
		for name, change := range map[string]func(*ledger.PostInput){
			"amount":      func(in *ledger.PostInput) { in.Postings[0].Amount, in.Postings[1].Amount = 101, -101 },
			"description": func(in *ledger.PostInput) { in.Description = "other" },
			"metadata":    func(in *ledger.PostInput) { in.Metadata = nil },
		} {
			other := in
			other.Postings = append([]ledger.PostingInput(nil), in.Postings...)
			change(&other)
			_, err := e.svc.Post(e.ctx, other)
			wantKind(t, err, errs.KindConflict)
			if errs.FieldOf(err) != "idempotencyKey" {
				t.Fatalf("%s: field %q", name, errs.FieldOf(err))
			}
		}
		// A replay is recognised even when the balance no longer allows the
		// movement (the floor check comes after the key).
		must(t, e.svc.SetFloor(e.ctx, b.ID, ledger.AtLeast(0)))
		rev := ledger.PostInput{IdempotencyKey: "refund:1", Postings: []ledger.PostingInput{
			{AccountID: a.ID, Currency: "EUR", Amount: 100}, {AccountID: b.ID, Currency: "EUR", Amount: -100}}}
		_, err = e.svc.Post(e.ctx, rev)
		must(t, err)
		r, err := e.svc.Post(e.ctx, rev)
		must(t, err)
		if !r.Replayed || e.balance(b.ID) != 0 {
			t.Fatalf("replay after the funds are gone: %+v, balance %d", r, e.balance(b.ID))
		}
		e.consistent()
	})
}

// Many goroutines post the same key at once: one transaction, every caller
// gets it.
func TestConcurrentSameKey(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		a := e.account(ledger.KindBalance, "EUR", ledger.NoFloor())
		b := e.account(ledger.KindRevenue, "EUR", ledger.NoFloor())
		c := e.account(ledger.KindPaymentClearing, "EUR", ledger.NoFloor())
		const n = 50
		got := make([]ledger.Transaction, n)
		errList := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				// Half list the postings in another order (same body).
				ps := []ledger.PostingInput{{AccountID: a.ID, Currency: "EUR", Amount: -70}, {AccountID: b.ID, Currency: "EUR", Amount: 50},
					{AccountID: c.ID, Currency: "EUR", Amount: 20}}
				if i%2 == 1 {
					ps[0], ps[2] = ps[2], ps[0]
				}
				got[i], errList[i] = e.svc.Post(e.ctx, ledger.PostInput{IdempotencyKey: "same", Description: "race", Postings: ps})
			})
		}
		close(start)
		wg.Wait()
		replays := 0
		for i := range n {
			must(t, errList[i])
			if got[i].ID != got[0].ID {
				t.Fatalf("caller %d got transaction %s, caller 0 %s", i, got[i].ID, got[0].ID)
			}
			if got[i].Replayed {
				replays++
			}
		}
		if replays != n-1 {
			t.Fatalf("%d replays, want %d", replays, n-1)
		}
		var txs, ps int
		must(t, e.d.Read().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM ledger_transactions`).Scan(&txs))
		must(t, e.d.Read().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM ledger_postings`).Scan(&ps))
		if txs != 1 || ps != 3 || e.balance(a.ID) != -70 || e.balance(b.ID) != 50 {
			t.Fatalf("%d transactions, %d postings, balances %d/%d", txs, ps, e.balance(a.ID), e.balance(b.ID))
		}
		e.consistent()
	})
}

// Many goroutines move money between a few floored accounts: whatever the
// interleaving, no balance goes below its floor, every currency sums to 0,
// sequences have no gaps and balances equal the sums of their postings.
func TestConcurrentTransfers(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		src := e.account(ledger.KindPaymentClearing, "EUR", ledger.NoFloor())
		var accts []ledger.Account
		for i := range 5 {
			f := ledger.AtLeast(0)
			if i%2 == 1 {
				f = ledger.AtLeast(-50)
			}
			a := e.account(ledger.KindBalance, "EUR", f)
			_, err := e.move("fund-"+a.ID, src, a, 100)
			must(t, err)
			accts = append(accts, a)
		}
		usdSrc := e.account(ledger.KindPaymentClearing, "USD", ledger.NoFloor())
		usd := e.account(ledger.KindBalance, "USD", ledger.AtLeast(0))
		_, err := e.move("fund-usd", usdSrc, usd, 100)
		must(t, err)

		const workers = 100
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		start := make(chan struct{})
		for w := range workers {
			wg.Go(func() {
				<-start
				r := rand.New(rand.NewPCG(uint64(w), 7))
				for j := range 5 {
					i, k := r.IntN(len(accts)), r.IntN(len(accts)-1)
					if k >= i {
						k++
					}
					key := fmt.Sprintf("w%d-%d", w, j)
					var err error
					if j == 4 {
						// A four-leg post in two currencies.
						amt := int64(1 + r.IntN(60))
						_, err = e.svc.Post(e.ctx, ledger.PostInput{IdempotencyKey: key, Postings: []ledger.PostingInput{
							{AccountID: accts[i].ID, Currency: "EUR", Amount: -amt}, {AccountID: accts[k].ID, Currency: "EUR", Amount: amt},
							{AccountID: usd.ID, Currency: "USD", Amount: -3}, {AccountID: usdSrc.ID, Currency: "USD", Amount: 3}}})
					} else {
						_, err = e.move(key, accts[i], accts[k], int64(1+r.IntN(60)))
					}
					mu.Lock()
					switch {
					case err == nil:
						ok++
					case errs.Is(err, errs.KindInsufficientFunds):
						refused++
					default:
						t.Errorf("worker %d: %v", w, err)
					}
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		t.Logf("%d posts, %d refused for funds", ok, refused)
		if ok == 0 || refused == 0 {
			t.Fatalf("%d accepted and %d refused: the race did not exercise both paths", ok, refused)
		}
		var total int64
		for _, a := range accts {
			got, err := e.svc.Account(e.ctx, a.ID)
			must(t, err)
			if !got.Floor.Allows(got.Balance) {
				t.Errorf("account %s at %d, floor %d", a.ID, got.Balance, got.Floor.Min)
			}
			total += got.Balance
		}
		if total != 500 {
			t.Errorf("the accounts hold %d in total, want the 500 they were funded with", total)
		}
		e.consistent()
	})
}

// PostTx joins the caller's transaction: rolled back with it, and refused
// outside one.
func TestPostInCallersTransaction(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		a := e.account(ledger.KindBalance, "EUR", ledger.NoFloor())
		b := e.account(ledger.KindRevenue, "EUR", ledger.NoFloor())
		in := ledger.PostInput{IdempotencyKey: "tx", Postings: []ledger.PostingInput{
			{AccountID: a.ID, Currency: "EUR", Amount: -5}, {AccountID: b.ID, Currency: "EUR", Amount: 5}}}
		boom := errors.New("boom")
		store := sqlstore.Ledger{Store: e.st}
		err := store.Tx(e.ctx, func(tx ledger.Store) error {
			// Two posts and the caller's own failure: all or nothing.
			if _, err := e.svc.PostTx(e.ctx, tx, in); err != nil {
				return err
			}
			acc, err := e.svc.EnsureAccountTx(e.ctx, tx, ledger.AccountSpec{Owner: "rolled-back", Kind: ledger.KindCredit, Currency: "EUR"})
			if err != nil {
				return err
			}
			if _, err := e.svc.PostTx(e.ctx, tx, ledger.PostInput{IdempotencyKey: "tx2", Postings: []ledger.PostingInput{
				{AccountID: b.ID, Currency: "EUR", Amount: -5}, {AccountID: acc.ID, Currency: "EUR", Amount: 5}}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx: %v", err)
		}
		_, txs, _ := e.snapshot()
		if txs != 0 || e.balance(a.ID) != 0 {
			t.Fatal("the rolled-back transaction left postings")
		}
		list, err := e.svc.Accounts(e.ctx, "rolled-back")
		must(t, err)
		if len(list) != 0 {
			t.Fatal("the rolled-back transaction left an account")
		}
		// Committed with the caller's transaction.
		must(t, store.Tx(e.ctx, func(tx ledger.Store) error {
			_, err := e.svc.PostTx(e.ctx, tx, in)
			return err
		}))
		if e.balance(a.ID) != -5 {
			t.Fatal("PostTx did not commit")
		}
		_, err = e.svc.PostTx(e.ctx, store, in)
		wantKind(t, err, errs.KindInternal)
		e.consistent()
	})
}

func TestStatement(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		a := e.account(ledger.KindBalance, "EUR", ledger.NoFloor())
		b := e.account(ledger.KindRevenue, "EUR", ledger.NoFloor())
		for i := range 7 {
			e.clk.Advance(time.Minute)
			_, err := e.move(fmt.Sprint("s", i), a, b, int64(i+1))
			must(t, err)
		}
		var all []ledger.Posting
		after := int64(0)
		for {
			page, err := e.svc.Postings(e.ctx, a.ID, after, 3)
			must(t, err)
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			after = page[len(page)-1].Seq
		}
		if len(all) != 7 {
			t.Fatalf("statement has %d postings", len(all))
		}
		run := int64(0)
		for i, p := range all {
			run -= int64(i + 1)
			if p.Seq != int64(i+1) || p.Amount != -int64(i+1) || p.BalanceAfter != run || !p.CreatedAt.Equal(db.Micro(t0.Add(time.Duration(i+1)*time.Minute))) {
				t.Fatalf("posting %d: %+v", i, p)
			}
		}
		_, err := e.svc.Postings(e.ctx, a.ID, 0, 0)
		wantKind(t, err, errs.KindInvalid)
		_, err = e.svc.Postings(e.ctx, a.ID, -1, 10)
		wantKind(t, err, errs.KindInvalid)
		_, err = e.svc.Postings(e.ctx, ids.New(), 0, 10)
		wantKind(t, err, errs.KindNotFound)
		e.consistent()
	})
}
