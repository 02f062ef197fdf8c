package storetest

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// ledger exercises the ledger's store methods one by one (the posting
// protocol itself is tested in internal/ledger).
func (s *suite) ledger(t *testing.T) {
	s.cover("InTx", "EnsureLedgerAccount", "GetLedgerAccount", "ListLedgerAccounts", "LockLedgerAccount",
		"SetLedgerAccountFloor", "UpdateLedgerBalance", "InsertLedgerTransaction", "InsertLedgerPosting",
		"GetLedgerTransaction", "GetLedgerTransactionByKey", "ListLedgerPostings", "LedgerTrialBalance")
	now := db.Micro(t0)
	owner := ids.New()
	acct := func(kind ledger.Kind, f ledger.Floor) ledger.Account {
		return ledger.Account{ID: ids.New(), Owner: owner, Kind: kind, Currency: "CHF", Floor: f, CreatedAt: now, UpdatedAt: now}
	}

	// Accounts: created once per (owner, kind, currency).
	bal := acct(ledger.KindBalance, ledger.AtLeast(-100))
	got, created, err := s.st.EnsureLedgerAccount(s.ctx, bal)
	must(t, err)
	if !created {
		t.Fatal("EnsureLedgerAccount: not created")
	}
	if d := cmp.Diff(bal, got); d != "" {
		t.Fatalf("ledger account round trip (-want +got):\n%s", d)
	}
	dup := acct(ledger.KindBalance, ledger.NoFloor())
	got, created, err = s.st.EnsureLedgerAccount(s.ctx, dup)
	must(t, err)
	if created || got.ID != bal.ID || got.Floor != bal.Floor {
		t.Fatalf("EnsureLedgerAccount twice: created=%v %+v", created, got)
	}
	rev := acct(ledger.KindRevenue, ledger.NoFloor())
	_, _, err = s.st.EnsureLedgerAccount(s.ctx, rev)
	must(t, err)
	got, err = s.st.GetLedgerAccount(s.ctx, rev.ID)
	must(t, err)
	if d := cmp.Diff(rev, got); d != "" {
		t.Fatalf("unbounded account round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetLedgerAccount(s.ctx, ids.New())
	wantKind(t, err, errs.KindNotFound)
	list, err := s.st.ListLedgerAccounts(s.ctx, owner)
	must(t, err)
	if len(list) != 2 || list[0].ID != bal.ID || list[1].ID != rev.ID {
		t.Fatalf("ListLedgerAccounts: %+v", list)
	}
	// The schema refuses what the service would: a system balance account,
	// a positive floor.
	sys := acct(ledger.KindBalance, ledger.AtLeast(0))
	sys.Owner = ""
	_, _, err = s.st.EnsureLedgerAccount(s.ctx, sys)
	wantKind(t, err, errs.KindInternal)
	_, _, err = s.st.EnsureLedgerAccount(s.ctx, ledger.Account{ID: ids.New(), Owner: owner, Kind: ledger.KindCredit, Currency: "CHF",
		Floor: ledger.AtLeast(1), CreatedAt: now, UpdatedAt: now})
	wantKind(t, err, errs.KindInternal)

	// Balances move by compare-and-set, never below the floor.
	led := sqlstore.Ledger{Store: s.st}
	if s.st.InTx() {
		t.Fatal("InTx outside a transaction")
	}
	tr := ledger.Transaction{ID: ids.New(), IdempotencyKey: "st-" + ids.New(), RequestHash: "h", Description: "d",
		Metadata: map[string]string{"k": "v"}, CreatedAt: now}
	at := db.Micro(t0.Add(time.Minute))
	must(t, led.Tx(s.ctx, func(tx ledger.Store) error {
		if !tx.InTx() {
			t.Error("InTx inside a transaction")
		}
		locked, err := tx.LockLedgerAccount(s.ctx, bal.ID)
		if err != nil {
			return err
		}
		if locked.Balance != 0 || locked.Seq != 0 {
			t.Errorf("locked account: %+v", locked)
		}
		if _, err := tx.LockLedgerAccount(s.ctx, ids.New()); !errs.Is(err, errs.KindNotFound) {
			t.Errorf("LockLedgerAccount of a missing account: %v", err)
		}
		steps := []struct {
			id       string
			from, to int64
			ok       bool
			seq      int64
		}{
			{bal.ID, 0, -101, false, 0},          // below the floor
			{bal.ID, 5, -30, false, 0},           // not the current balance
			{bal.ID, 0, -30, true, 1},            // within the floor
			{rev.ID, 0, 30, true, 1},             //
			{rev.ID, 30, math.MinInt64, true, 2}, // unbounded: anything, and no arithmetic in SQL
			{rev.ID, math.MinInt64, 30, true, 3}, //
			{ids.New(), 0, 1, false, 0},          // no such account
			{bal.ID, -31, math.MaxInt64, false, 0},
		}
		for i, st := range steps {
			seq, ok, err := tx.UpdateLedgerBalance(s.ctx, st.id, st.from, st.to, at)
			if err != nil {
				return err
			}
			if ok != st.ok || seq != st.seq {
				t.Errorf("UpdateLedgerBalance step %d: seq %d ok %v, want %d %v", i, seq, ok, st.seq, st.ok)
			}
		}
		inserted, err := tx.InsertLedgerTransaction(s.ctx, tr)
		if err != nil || !inserted {
			t.Errorf("InsertLedgerTransaction: %v %v", inserted, err)
		}
		again := tr
		again.ID = ids.New()
		inserted, err = tx.InsertLedgerTransaction(s.ctx, again)
		if err != nil || inserted {
			t.Errorf("InsertLedgerTransaction with a used key: %v %v", inserted, err)
		}
		for _, p := range []ledger.Posting{
			{TransactionID: tr.ID, AccountID: bal.ID, Currency: "CHF", Amount: -30, Seq: 1, BalanceAfter: -30, CreatedAt: now},
			{TransactionID: tr.ID, AccountID: rev.ID, Currency: "CHF", Amount: 30, Seq: 1, BalanceAfter: 30, CreatedAt: now},
		} {
			if err := tx.InsertLedgerPosting(s.ctx, p); err != nil {
				return err
			}
			tr.Postings = append(tr.Postings, p)
		}
		return nil
	}))
	// A posting whose sequence number is taken, or whose currency is not
	// its account's, is refused by the schema.
	wantKind(t, s.st.InsertLedgerPosting(s.ctx, ledger.Posting{TransactionID: tr.ID, AccountID: bal.ID, Currency: "CHF",
		Amount: 1, Seq: 1, BalanceAfter: 0, CreatedAt: now}), errs.KindConflict)
	tr2 := ledger.Transaction{ID: ids.New(), IdempotencyKey: "st-" + ids.New(), RequestHash: "h", CreatedAt: now}
	inserted, err := s.st.InsertLedgerTransaction(s.ctx, tr2)
	must(t, err)
	if !inserted {
		t.Fatal("InsertLedgerTransaction outside a transaction: not inserted")
	}
	wantKind(t, s.st.InsertLedgerPosting(s.ctx, ledger.Posting{TransactionID: tr2.ID, AccountID: bal.ID, Currency: "EUR",
		Amount: 1, Seq: 2, BalanceAfter: 0, CreatedAt: now}), errs.KindInternal)

	gotTx, err := s.st.GetLedgerTransaction(s.ctx, tr.ID)
	must(t, err)
	if d := cmp.Diff(tr, gotTx); d != "" {
		t.Fatalf("ledger transaction round trip (-want +got):\n%s", d)
	}
	gotTx, err = s.st.GetLedgerTransactionByKey(s.ctx, tr.IdempotencyKey)
	must(t, err)
	if gotTx.ID != tr.ID || len(gotTx.Postings) != 2 {
		t.Fatalf("GetLedgerTransactionByKey: %+v", gotTx)
	}
	_, err = s.st.GetLedgerTransaction(s.ctx, ids.New())
	wantKind(t, err, errs.KindNotFound)
	_, err = s.st.GetLedgerTransactionByKey(s.ctx, "nope")
	wantKind(t, err, errs.KindNotFound)

	ps, err := s.st.ListLedgerPostings(s.ctx, bal.ID, 0, 10)
	must(t, err)
	if len(ps) != 1 || ps[0] != tr.Postings[0] {
		t.Fatalf("ListLedgerPostings: %+v", ps)
	}
	ps, err = s.st.ListLedgerPostings(s.ctx, bal.ID, 1, 10)
	must(t, err)
	if len(ps) != 0 {
		t.Fatalf("ListLedgerPostings after the last: %+v", ps)
	}

	tb, err := s.st.LedgerTrialBalance(s.ctx)
	must(t, err)
	found := false
	for _, c := range tb {
		if c.Currency == "CHF" {
			found = true
			if c.Total.Sign() != 0 || c.Accounts != 2 {
				t.Fatalf("trial balance CHF: %s over %d accounts", c.Total, c.Accounts)
			}
		}
	}
	if !found {
		t.Fatalf("trial balance without CHF: %+v", tb)
	}

	// Floors: not above the balance; unbounded; a missing account.
	ok, err := s.st.SetLedgerAccountFloor(s.ctx, bal.ID, ledger.AtLeast(-29), at)
	must(t, err)
	if ok {
		t.Fatal("SetLedgerAccountFloor above the balance accepted")
	}
	for _, f := range []ledger.Floor{ledger.AtLeast(-30), ledger.NoFloor()} {
		ok, err = s.st.SetLedgerAccountFloor(s.ctx, bal.ID, f, at)
		must(t, err)
		got, err = s.st.GetLedgerAccount(s.ctx, bal.ID)
		must(t, err)
		if !ok || got.Floor != f || !got.UpdatedAt.Equal(at) {
			t.Fatalf("SetLedgerAccountFloor(%+v): %v %+v", f, ok, got)
		}
	}
	_, err = s.st.SetLedgerAccountFloor(s.ctx, ids.New(), ledger.AtLeast(0), at)
	wantKind(t, err, errs.KindNotFound)

	// A failed transaction leaves nothing.
	boom := errors.New("boom")
	err = led.Tx(s.ctx, func(tx ledger.Store) error {
		if _, _, err := tx.UpdateLedgerBalance(s.ctx, bal.ID, -30, -20, at); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx: %v", err)
	}
	got, err = s.st.GetLedgerAccount(s.ctx, bal.ID)
	must(t, err)
	if got.Balance != -30 || got.Seq != 1 {
		t.Fatalf("after a rolled-back update: %+v", got)
	}
}
