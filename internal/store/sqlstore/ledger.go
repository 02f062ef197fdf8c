package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math/big"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Ledger is the ledger.Store.
type Ledger struct{ *Store }

// Tx implements ledger.Store.
func (l Ledger) Tx(ctx context.Context, fn func(ledger.Store) error) error {
	return l.tx(ctx, func(s *Store) error { return fn(Ledger{s}) })
}

var _ ledger.Store = Ledger{}

// InTx reports whether the store runs inside a transaction (ledger.PostTx
// checks it, so postings never run one statement at a time).
func (s *Store) InTx() bool { return s.inTx }

const ledgerAccountCols = `id, owner, kind, currency, balance_floor, balance, seq, created_at, updated_at`

func scanLedgerAccount(sc interface{ Scan(...any) error }) (ledger.Account, error) {
	var a ledger.Account
	var kind string
	var floor sql.NullInt64
	var created, updated db.Time
	err := sc.Scan(&a.ID, &a.Owner, &kind, &a.Currency, &floor, &a.Balance, &a.Seq, &created, &updated)
	a.Kind = ledger.Kind(kind)
	a.Floor = ledger.Floor{Unbounded: !floor.Valid, Min: floor.Int64}
	a.CreatedAt, a.UpdatedAt = created.Time, updated.Time
	return a, err
}

// floorArg is the balance_floor column's value: NULL when unbounded.
func floorArg(f ledger.Floor) any {
	if f.Unbounded {
		return nil
	}
	return f.Min
}

// EnsureLedgerAccount implements ledger.Store.
func (s *Store) EnsureLedgerAccount(ctx context.Context, a ledger.Account) (ledger.Account, bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO ledger_accounts (id, owner, kind, currency, balance_floor,
		balance, seq, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 0, 0, $6, $7)
		ON CONFLICT (owner, kind, currency) DO NOTHING`,
		a.ID, a.Owner, string(a.Kind), a.Currency, floorArg(a.Floor), a.CreatedAt, a.UpdatedAt)
	created, err := s.changed(res, err, "ledger account")
	if err != nil {
		return ledger.Account{}, false, err
	}
	got, err := scanLedgerAccount(s.w().QueryRowContext(ctx, `SELECT `+ledgerAccountCols+` FROM ledger_accounts
		WHERE owner = $1 AND kind = $2 AND currency = $3`, a.Owner, string(a.Kind), a.Currency))
	return got, created, s.mapErr(err, "ledger account")
}

// GetLedgerAccount implements ledger.Store.
func (s *Store) GetLedgerAccount(ctx context.Context, id string) (ledger.Account, error) {
	a, err := scanLedgerAccount(s.r().QueryRowContext(ctx, `SELECT `+ledgerAccountCols+` FROM ledger_accounts WHERE id = $1`, id))
	return a, s.mapErr(err, "ledger account")
}

// ListLedgerAccounts implements ledger.Store.
func (s *Store) ListLedgerAccounts(ctx context.Context, owner string) ([]ledger.Account, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+ledgerAccountCols+` FROM ledger_accounts
		WHERE owner = $1 ORDER BY kind, currency`, owner)
	if err != nil {
		return nil, s.mapErr(err, "ledger account")
	}
	return collect(rows, scanLedgerAccount)
}

// LockLedgerAccount implements ledger.Store. The no-op update takes
// PostgreSQL's row lock with the same SQL on both databases, and RETURNING
// reads the row as locked.
func (s *Store) LockLedgerAccount(ctx context.Context, id string) (ledger.Account, error) {
	a, err := scanLedgerAccount(s.w().QueryRowContext(ctx, `UPDATE ledger_accounts SET balance = balance
		WHERE id = $1 RETURNING `+ledgerAccountCols, id))
	return a, s.mapErr(err, "ledger account")
}

// SetLedgerAccountFloor implements ledger.Store.
func (s *Store) SetLedgerAccountFloor(ctx context.Context, id string, f ledger.Floor, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE ledger_accounts SET balance_floor = CAST($2 AS BIGINT), updated_at = $3
		WHERE id = $1 AND (CAST($2 AS BIGINT) IS NULL OR balance >= CAST($2 AS BIGINT))`, id, floorArg(f), at)
	ok, err := s.changed(res, err, "ledger account")
	if err == nil && !ok {
		// Tell "no such account" from "balance below the new floor".
		if _, err := s.GetLedgerAccount(ctx, id); err != nil {
			return false, err
		}
	}
	return ok, err
}

// UpdateLedgerBalance implements ledger.Store: a compare-and-set from the
// balance the caller read under the row lock to the new one, refused when
// the new balance would be below the floor. No arithmetic on balances happens
// in SQL, so nothing can overflow there (the caller checks the sum in Go).
func (s *Store) UpdateLedgerBalance(ctx context.Context, id string, from, to int64, at time.Time) (int64, bool, error) {
	var seq int64
	err := s.w().QueryRowContext(ctx, `UPDATE ledger_accounts SET balance = $3, seq = seq + 1, updated_at = $4
		WHERE id = $1 AND balance = CAST($2 AS BIGINT)
		AND (balance_floor IS NULL OR balance_floor <= CAST($3 AS BIGINT))
		RETURNING seq`, id, from, to, at).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, s.mapErr(err, "ledger account")
	}
	return seq, true, nil
}

// InsertLedgerTransaction implements ledger.Store. ON CONFLICT DO NOTHING
// makes a racing post with the same key wait for the first to commit and
// then insert nothing, without an error that would abort the transaction
// on PostgreSQL.
func (s *Store) InsertLedgerTransaction(ctx context.Context, t ledger.Transaction) (bool, error) {
	md := "{}"
	if len(t.Metadata) > 0 {
		b, err := json.Marshal(t.Metadata)
		if err != nil {
			return false, errs.Wrap(errs.KindInternal, err, "ledger metadata")
		}
		md = string(b)
	}
	res, err := s.w().ExecContext(ctx, `INSERT INTO ledger_transactions (id, idempotency_key, request_hash,
		description, metadata, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (idempotency_key) DO NOTHING`,
		t.ID, t.IdempotencyKey, t.RequestHash, t.Description, md, t.CreatedAt)
	return s.changed(res, err, "ledger transaction")
}

// InsertLedgerPosting implements ledger.Store.
func (s *Store) InsertLedgerPosting(ctx context.Context, p ledger.Posting) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO ledger_postings (transaction_id, account_id, currency, amount,
		seq, balance_after, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.TransactionID, p.AccountID, p.Currency, p.Amount, p.Seq, p.BalanceAfter, p.CreatedAt)
	return s.mapErr(err, "ledger posting")
}

const ledgerTxCols = `id, idempotency_key, request_hash, description, metadata, created_at`

// GetLedgerTransaction implements ledger.Store.
func (s *Store) GetLedgerTransaction(ctx context.Context, id string) (ledger.Transaction, error) {
	return s.ledgerTransaction(ctx, `SELECT `+ledgerTxCols+` FROM ledger_transactions WHERE id = $1`, id)
}

// GetLedgerTransactionByKey implements ledger.Store.
func (s *Store) GetLedgerTransactionByKey(ctx context.Context, key string) (ledger.Transaction, error) {
	return s.ledgerTransaction(ctx, `SELECT `+ledgerTxCols+` FROM ledger_transactions WHERE idempotency_key = $1`, key)
}

func (s *Store) ledgerTransaction(ctx context.Context, q string, arg string) (ledger.Transaction, error) {
	var t ledger.Transaction
	var md string
	var at db.Time
	err := s.r().QueryRowContext(ctx, q, arg).Scan(&t.ID, &t.IdempotencyKey, &t.RequestHash, &t.Description, &md, &at)
	if err != nil {
		return ledger.Transaction{}, s.mapErr(err, "ledger transaction")
	}
	t.CreatedAt = at.Time
	if err := json.Unmarshal([]byte(md), &t.Metadata); err != nil {
		return ledger.Transaction{}, errs.Wrap(errs.KindInternal, err, "ledger metadata")
	}
	if len(t.Metadata) == 0 {
		t.Metadata = nil
	}
	rows, err := s.r().QueryContext(ctx, `SELECT `+ledgerPostingCols+` FROM ledger_postings
		WHERE transaction_id = $1 ORDER BY account_id`, t.ID)
	if err != nil {
		return ledger.Transaction{}, s.mapErr(err, "ledger posting")
	}
	t.Postings, err = collect(rows, scanLedgerPosting)
	return t, err
}

const ledgerPostingCols = `transaction_id, account_id, currency, amount, seq, balance_after, created_at`

func scanLedgerPosting(sc interface{ Scan(...any) error }) (ledger.Posting, error) {
	var p ledger.Posting
	var at db.Time
	err := sc.Scan(&p.TransactionID, &p.AccountID, &p.Currency, &p.Amount, &p.Seq, &p.BalanceAfter, &at)
	p.CreatedAt = at.Time
	return p, err
}

// ListLedgerPostings implements ledger.Store.
func (s *Store) ListLedgerPostings(ctx context.Context, accountID string, afterSeq int64, limit int) ([]ledger.Posting, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+ledgerPostingCols+` FROM ledger_postings
		WHERE account_id = $1 AND seq > CAST($2 AS BIGINT) ORDER BY seq LIMIT $3`, accountID, afterSeq, limit)
	if err != nil {
		return nil, s.mapErr(err, "ledger posting")
	}
	return collect(rows, scanLedgerPosting)
}

// LedgerTrialBalance implements ledger.Store. The sum is taken in Go with
// big integers: SQL SUM would fail on SQLite (integer overflow) or change
// type on PostgreSQL (numeric) for a corrupted ledger, which is exactly when
// the check must report a number.
func (s *Store) LedgerTrialBalance(ctx context.Context) ([]ledger.CurrencyTotal, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT currency, balance FROM ledger_accounts ORDER BY currency`)
	if err != nil {
		return nil, s.mapErr(err, "ledger account")
	}
	defer rows.Close()
	out := []ledger.CurrencyTotal{}
	for rows.Next() {
		var c string
		var b int64
		if err := rows.Scan(&c, &b); err != nil {
			return nil, errs.Wrap(errs.KindInternal, err, "database error")
		}
		if n := len(out); n == 0 || out[n-1].Currency != c {
			out = append(out, ledger.CurrencyTotal{Currency: c, Total: new(big.Int)})
		}
		last := &out[len(out)-1]
		last.Total.Add(last.Total, big.NewInt(b))
		last.Accounts++
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "database error")
	}
	return out, nil
}
