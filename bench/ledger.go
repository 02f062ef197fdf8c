package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// ledgerBench measures ledger.Post of a two-posting transaction (a new
// idempotency key each time) against the same rows written by hand: the
// transaction row, two balance updates and two postings in one SQL
// transaction. Each worker posts between its own two accounts, so the
// figure is the cost of the ledger's checks (validation, locks in id order,
// the idempotency look-up, floors, the read-back re-check), not of
// contention on one hot row.
func ledgerBench(ctx context.Context, name string, d *db.DB, dur time.Duration) {
	svc := ledger.NewService(sqlstore.Ledger{Store: sqlstore.New(d)}, clock.Real{})
	type pair struct{ credit, recv ledger.Account }
	mkPairs := func(prefix string) []pair {
		ps := make([]pair, workers)
		for i := range ps {
			owner := fmt.Sprintf("bench:%s:%d:%s", prefix, i, ids.New())
			c, err := svc.EnsureAccount(ctx, ledger.AccountSpec{Owner: owner, Kind: ledger.KindCredit, Currency: "EUR", Floor: ledger.AtLeast(0)})
			check(err)
			r, err := svc.EnsureAccount(ctx, ledger.AccountSpec{Owner: owner, Kind: ledger.KindReceivables, Currency: "EUR", Floor: ledger.NoFloor()})
			check(err)
			ps[i] = pair{c, r}
		}
		return ps
	}
	perWorker := func(ps []pair, fn func(p pair, n int) bool) func() func(int) bool {
		var w atomic.Int64
		return func() func(int) bool {
			p := ps[int(w.Add(1)-1)%len(ps)]
			return func(n int) bool { return fn(p, n) }
		}
	}

	postPairs, rawPairs := mkPairs("post"), mkPairs("raw")
	run := ids.New()
	postRate := rateWith(dur, perWorker(postPairs, func(p pair, n int) bool {
		_, err := svc.Post(ctx, ledger.PostInput{IdempotencyKey: fmt.Sprintf("bench:%s:%d", run, n), Description: "bench",
			Postings: []ledger.PostingInput{{AccountID: p.credit.ID, Currency: "EUR", Amount: 1}, {AccountID: p.recv.ID, Currency: "EUR", Amount: -1}}})
		return err == nil
	}))
	rawRate := rateWith(dur, perWorker(rawPairs, func(p pair, n int) bool {
		return rawPost(ctx, d, fmt.Sprintf("raw:%s:%d", run, n), p.credit.ID, p.recv.ID) == nil
	}))
	fmt.Printf("%-34s %8.0f tx/s    raw SQL rows in one tx      %8.0f tx/s    ratio %.3f\n",
		"ledger.Post, 2 postings ("+name+")", postRate, rawRate, postRate/rawRate)
}

// rawPost writes what one two-posting ledger transaction stores, and
// nothing else: the transaction row, each account's balance and sequence
// moved by one statement, and the two postings.
func rawPost(ctx context.Context, d *db.DB, key, credit, recv string) error {
	return d.Tx(ctx, func(q db.Querier) error {
		now := time.Now().UTC()
		id := ids.New()
		if _, err := q.ExecContext(ctx, `INSERT INTO ledger_transactions (id, idempotency_key, request_hash, description,
			metadata, created_at) VALUES ($1, $2, 'h', 'bench', '{}', $3)`, id, key, now); err != nil {
			return err
		}
		for _, p := range []struct {
			acct   string
			amount int64
		}{{credit, 1}, {recv, -1}} {
			var seq, bal int64
			if err := q.QueryRowContext(ctx, `UPDATE ledger_accounts SET balance = balance + $2, seq = seq + 1, updated_at = $3
				WHERE id = $1 RETURNING seq, balance`, p.acct, p.amount, now).Scan(&seq, &bal); err != nil {
				return err
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO ledger_postings (transaction_id, account_id, currency, amount, seq,
				balance_after, created_at) VALUES ($1, $2, 'EUR', $3, $4, $5, $6)`, id, p.acct, p.amount, seq, bal, now); err != nil {
				return err
			}
		}
		return nil
	})
}
