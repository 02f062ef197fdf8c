package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// Service records transactions and reads balances.
//
// Writes come in two forms. Post and EnsureAccount run their own database
// transaction. PostTx and EnsureAccountTx run inside the caller's: another
// domain whose Store embeds Queries calls them with the store its Tx handed
// it, so its own writes (an invoice marked paid, a payment recorded) and the
// money movement commit or roll back together. They take the transaction as
// an argument rather than hiding it in a context, so the type system shows
// which store the postings go to, and the caller stays the one who decides
// where the transaction begins and ends (and db.Tx's retries re-run the
// whole unit). If PostTx returns an error the caller must roll back (return
// the error from its Tx function); on success nothing else is needed.
type Service struct {
	store Store
	clock clock.Clock
}

// NewService returns a ledger service.
func NewService(s Store, c clock.Clock) *Service { return &Service{store: s, clock: c} }

// ---- accounts ----

// EnsureAccount returns the account (owner, kind, currency), creating it with
// spec's floor if it does not exist. An existing account keeps its floor
// (change it with SetFloor).
func (s *Service) EnsureAccount(ctx context.Context, spec AccountSpec) (Account, error) {
	var a Account
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		a, err = s.EnsureAccountTx(ctx, tx, spec)
		return err
	})
	return a, err
}

// EnsureAccountTx is EnsureAccount inside the caller's transaction.
func (s *Service) EnsureAccountTx(ctx context.Context, tx Queries, spec AccountSpec) (Account, error) {
	if err := spec.validate(); err != nil {
		return Account{}, err
	}
	now := clock.Micro(s.clock.Now())
	a, _, err := tx.EnsureLedgerAccount(ctx, Account{ID: ids.New(), Owner: spec.Owner, Kind: spec.Kind,
		Currency: spec.Currency, Floor: spec.Floor, CreatedAt: now, UpdatedAt: now})
	return a, err
}

func (spec AccountSpec) validate() error {
	switch {
	case len(spec.Owner) > MaxOwnerLen:
		return errs.Invalidf("owner", "must be at most %d bytes", MaxOwnerLen)
	case !spec.Kind.Valid():
		return errs.Invalidf("kind", "unknown account kind %q", spec.Kind)
	case spec.Owner == "" && !spec.Kind.System():
		return errs.Invalidf("owner", "is required for a %s account (system accounts are revenue, vat_payable or payment_clearing)", spec.Kind)
	case !validCurrency(spec.Currency):
		return errs.Invalid("currency", "must be an ISO-4217 code of three capital letters")
	}
	return validFloor(spec.Floor)
}

func validFloor(f Floor) error {
	if !f.Unbounded && f.Min > 0 {
		return errs.Invalid("floor", "must not be positive")
	}
	return nil
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := range 3 {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// SetFloor changes an account's floor (a customer moving between prepaid and
// postpaid, or a new debt limit). It is refused with KindPrecondition when
// the balance is already below the new floor.
func (s *Service) SetFloor(ctx context.Context, accountID string, f Floor) error {
	return s.store.Tx(ctx, func(tx Store) error { return s.SetFloorTx(ctx, tx, accountID, f) })
}

// SetFloorTx is SetFloor inside the caller's transaction.
func (s *Service) SetFloorTx(ctx context.Context, tx Queries, accountID string, f Floor) error {
	if err := validFloor(f); err != nil {
		return err
	}
	a, err := tx.LockLedgerAccount(ctx, accountID)
	if err != nil {
		return err
	}
	ok, err := tx.SetLedgerAccountFloor(ctx, a.ID, f, clock.Micro(s.clock.Now()))
	if err != nil {
		return err
	}
	if !ok {
		return &errs.Error{Kind: errs.KindPrecondition, Field: "floor",
			Msg: fmt.Sprintf("account %s has balance %d, below the new floor %d", a.ID, a.Balance, f.Min)}
	}
	return nil
}

// ---- reads ----

// Account returns an account.
func (s *Service) Account(ctx context.Context, id string) (Account, error) {
	return s.store.GetLedgerAccount(ctx, id)
}

// Accounts returns the accounts of an owner ("" for the system accounts),
// ordered by kind, then currency.
func (s *Service) Accounts(ctx context.Context, owner string) ([]Account, error) {
	return s.store.ListLedgerAccounts(ctx, owner)
}

// Balance returns an account's balance and its currency.
func (s *Service) Balance(ctx context.Context, accountID string) (int64, string, error) {
	a, err := s.store.GetLedgerAccount(ctx, accountID)
	if err != nil {
		return 0, "", err
	}
	return a.Balance, a.Currency, nil
}

// Transaction returns a transaction with its postings.
func (s *Service) Transaction(ctx context.Context, id string) (Transaction, error) {
	return s.store.GetLedgerTransaction(ctx, id)
}

// TransactionByKey returns the transaction recorded under an idempotency key.
func (s *Service) TransactionByKey(ctx context.Context, key string) (Transaction, error) {
	return s.store.GetLedgerTransactionByKey(ctx, key)
}

// Postings returns an account's statement: its postings with Seq > afterSeq,
// in order, at most limit (1 … MaxPageSize) of them.
func (s *Service) Postings(ctx context.Context, accountID string, afterSeq int64, limit int) ([]Posting, error) {
	if limit < 1 || limit > MaxPageSize {
		return nil, errs.Invalidf("limit", "must be between 1 and %d", MaxPageSize)
	}
	if afterSeq < 0 {
		return nil, errs.Invalid("afterSeq", "must not be negative")
	}
	if _, err := s.store.GetLedgerAccount(ctx, accountID); err != nil {
		return nil, err
	}
	return s.store.ListLedgerPostings(ctx, accountID, afterSeq, limit)
}

// TrialBalance returns Σ balances per currency, ordered by currency. Every
// Total is 0 in a consistent ledger; the operator check and the tests assert
// it.
func (s *Service) TrialBalance(ctx context.Context) ([]CurrencyTotal, error) {
	return s.store.LedgerTrialBalance(ctx)
}

// ---- posting ----

// Post records a balanced transaction in its own database transaction. See
// PostTx.
func (s *Service) Post(ctx context.Context, in PostInput) (Transaction, error) {
	var t Transaction
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		t, err = s.PostTx(ctx, tx, in)
		return err
	})
	return t, err
}

// posting is a validated PostingInput with its index in the request.
type posting struct {
	PostingInput
	index int
}

func (p posting) field(name string) string { return fmt.Sprintf("postings[%d].%s", p.index, name) }

// PostTx records a balanced transaction inside the caller's transaction tx.
//
// It checks the input (at least two postings, none zero, one per account,
// Σ amounts = 0 per currency), then locks the accounts in id order (so
// concurrent posts never deadlock each other on PostgreSQL), then looks the
// idempotency key up: a transaction recorded under it with the same request
// hash is returned with Replayed set, with another hash the post is a
// KindConflict. Looking the key up after taking the locks means a racing post
// with the same key, which locks the same accounts, has committed by then
// and is seen. Then every account must exist and hold the posting's
// currency, and every new balance must stay at or above its floor
// (KindInsufficientFunds naming the account) and within int64. The
// transaction row is inserted with the key as a unique column (a racer with
// the same key but other accounts is caught there, and re-read), each
// balance moves by a conditional update that refuses to pass the floor and
// gives the posting the account's next sequence number, and finally the
// stored postings and balances are read back and the invariants checked
// again before the caller commits. A rejected post changes nothing.
func (s *Service) PostTx(ctx context.Context, tx Queries, in PostInput) (Transaction, error) {
	if !tx.InTx() {
		return Transaction{}, errs.New(errs.KindInternal, "ledger: PostTx must run inside a transaction")
	}
	ps, hash, err := in.check()
	if err != nil {
		return Transaction{}, err
	}
	accts, missing, err := lockAccounts(ctx, tx, ps)
	if err != nil {
		return Transaction{}, err
	}
	if prev, err := tx.GetLedgerTransactionByKey(ctx, in.IdempotencyKey); err == nil {
		return replay(prev, hash)
	} else if !errs.Is(err, errs.KindNotFound) {
		return Transaction{}, err
	}
	if missing >= 0 {
		p := ps[missing]
		return Transaction{}, &errs.Error{Kind: errs.KindNotFound, Field: p.field("accountId"),
			Msg: fmt.Sprintf("ledger account %s not found", p.AccountID)}
	}
	next, err := newBalances(ps, accts)
	if err != nil {
		return Transaction{}, err
	}

	now := clock.Micro(s.clock.Now())
	t := Transaction{ID: ids.New(), IdempotencyKey: in.IdempotencyKey, RequestHash: hash,
		Description: in.Description, Metadata: in.metadata(), CreatedAt: now}
	inserted, err := tx.InsertLedgerTransaction(ctx, t)
	if err != nil {
		return Transaction{}, err
	}
	if !inserted {
		// Another post with this key committed after our look-up.
		prev, err := tx.GetLedgerTransactionByKey(ctx, in.IdempotencyKey)
		if err != nil {
			return Transaction{}, err
		}
		return replay(prev, hash)
	}
	if t.Postings, err = writePostings(ctx, tx, t.ID, ps, accts, next, now); err != nil {
		return Transaction{}, err
	}
	if err := s.recheck(ctx, tx, t); err != nil {
		return Transaction{}, err
	}
	return t, nil
}

// lockAccounts locks the postings' accounts in id order (ps is sorted).
// missing is the index of the first posting whose account does not exist
// (-1: none), reported by the caller only after the replay check.
func lockAccounts(ctx context.Context, tx Queries, ps []posting) (accts []Account, missing int, err error) {
	accts = make([]Account, len(ps))
	missing = -1
	for i, p := range ps {
		a, err := tx.LockLedgerAccount(ctx, p.AccountID)
		if errs.Is(err, errs.KindNotFound) {
			if missing < 0 {
				missing = i
			}
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		accts[i] = a
	}
	return accts, missing, nil
}

// newBalances returns each account's balance after its posting, refusing
// a posting in another currency than its account's, a balance past int64
// and one below the account's floor (KindInsufficientFunds).
func newBalances(ps []posting, accts []Account) ([]int64, error) {
	next := make([]int64, len(ps))
	for i, p := range ps {
		a := accts[i]
		if a.Currency != p.Currency {
			return nil, errs.Invalidf(p.field("currency"), "is %s but account %s holds %s", p.Currency, a.ID, a.Currency)
		}
		nb, ok := add(a.Balance, p.Amount)
		if !ok {
			return nil, errs.Invalidf(p.field("amount"), "would overflow the balance of account %s", a.ID)
		}
		if !a.Floor.Allows(nb) {
			return nil, &errs.Error{Kind: errs.KindInsufficientFunds, Field: p.field("amount"),
				Msg: fmt.Sprintf("account %s (%s %s) has %d; %d would take it below its floor %d",
					a.ID, a.Kind, a.Currency, a.Balance, p.Amount, a.Floor.Min)}
		}
		next[i] = nb
	}
	return next, nil
}

// writePostings moves each locked account's balance to next by a
// conditional update, which gives the posting the account's next sequence
// number, and inserts the postings of transaction txID.
func writePostings(ctx context.Context, tx Queries, txID string, ps []posting, accts []Account, next []int64,
	now time.Time) ([]Posting, error) {
	out := make([]Posting, 0, len(ps))
	for i, p := range ps {
		a := accts[i]
		seq, ok, err := tx.UpdateLedgerBalance(ctx, a.ID, a.Balance, next[i], now)
		if err != nil {
			return nil, err
		}
		if !ok {
			// The row is locked, so only a bug gets here.
			return nil, errs.Newf(errs.KindInternal, "ledger: account %s changed under its lock", a.ID)
		}
		if seq != a.Seq+1 {
			return nil, errs.Newf(errs.KindInternal, "ledger: account %s sequence %d after %d", a.ID, seq, a.Seq)
		}
		pt := Posting{TransactionID: txID, AccountID: a.ID, Currency: a.Currency, Amount: p.Amount,
			Seq: seq, BalanceAfter: next[i], CreatedAt: now}
		if err := tx.InsertLedgerPosting(ctx, pt); err != nil {
			return nil, err
		}
		out = append(out, pt)
	}
	return out, nil
}

// recheck reads the transaction and its accounts back and checks the
// invariants the writes were meant to keep.
func (s *Service) recheck(ctx context.Context, tx Queries, want Transaction) error {
	got, err := tx.GetLedgerTransaction(ctx, want.ID)
	if err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return errs.Newf(errs.KindInternal, "ledger: transaction %s: "+format, append([]any{want.ID}, args...)...)
	}
	if len(got.Postings) != len(want.Postings) || len(got.Postings) < 2 {
		return bad("%d postings stored, %d written", len(got.Postings), len(want.Postings))
	}
	sums := map[string]*big.Int{}
	for i, p := range got.Postings {
		if p != want.Postings[i] {
			return bad("posting %d stored as %+v, written as %+v", i, p, want.Postings[i])
		}
		if sums[p.Currency] == nil {
			sums[p.Currency] = new(big.Int)
		}
		sums[p.Currency].Add(sums[p.Currency], big.NewInt(p.Amount))
		a, err := tx.GetLedgerAccount(ctx, p.AccountID)
		if err != nil {
			return err
		}
		if a.Balance != p.BalanceAfter || a.Seq != p.Seq || !a.Floor.Allows(a.Balance) || a.Currency != p.Currency {
			return bad("account %s is at balance %d seq %d, posting says %d seq %d", a.ID, a.Balance, a.Seq, p.BalanceAfter, p.Seq)
		}
	}
	for c, sum := range sums {
		if sum.Sign() != 0 {
			return bad("postings in %s sum to %s", c, sum)
		}
	}
	return nil
}

func replay(prev Transaction, hash string) (Transaction, error) {
	if prev.RequestHash != hash {
		return Transaction{}, &errs.Error{Kind: errs.KindConflict, Field: "idempotencyKey",
			Msg: fmt.Sprintf("was used for transaction %s with a different request", prev.ID)}
	}
	prev.Replayed = true
	return prev, nil
}

// add returns a+b and whether it fits in int64.
func add(a, b int64) (int64, bool) {
	c := a + b
	if (b > 0 && c < a) || (b < 0 && c > a) {
		return 0, false
	}
	return c, true
}

func (in PostInput) metadata() map[string]string {
	if len(in.Metadata) == 0 {
		return nil
	}
	return in.Metadata
}

// check validates the input and returns its postings sorted by account id
// and the request hash.
func (in PostInput) check() ([]posting, string, error) {
	switch {
	case in.IdempotencyKey == "":
		return nil, "", errs.Invalid("idempotencyKey", "is required")
	case len(in.IdempotencyKey) > MaxKeyLen:
		return nil, "", errs.Invalidf("idempotencyKey", "must be at most %d bytes", MaxKeyLen)
	case !utf8.ValidString(in.IdempotencyKey):
		return nil, "", errs.Invalid("idempotencyKey", "must be UTF-8")
	case len(in.Description) > MaxDescriptionLen || !utf8.ValidString(in.Description):
		return nil, "", errs.Invalidf("description", "must be UTF-8 of at most %d bytes", MaxDescriptionLen)
	case len(in.Postings) < 2:
		return nil, "", errs.Invalid("postings", "a transaction needs at least two postings")
	case len(in.Postings) > MaxPostings:
		return nil, "", errs.Invalidf("postings", "at most %d postings", MaxPostings)
	case len(in.Metadata) > MaxMetadata:
		return nil, "", errs.Invalidf("metadata", "at most %d entries", MaxMetadata)
	}
	for k, v := range in.Metadata {
		if k == "" || len(k) > MaxMetadataKeyLen || !utf8.ValidString(k) {
			return nil, "", errs.Invalidf("metadata", "keys must be UTF-8 of 1 to %d bytes", MaxMetadataKeyLen)
		}
		if len(v) > MaxMetadataValLen || !utf8.ValidString(v) {
			return nil, "", errs.Invalidf("metadata."+k, "must be UTF-8 of at most %d bytes", MaxMetadataValLen)
		}
	}
	ps := make([]posting, len(in.Postings))
	seen := map[string]int{}
	sums := map[string]*big.Int{}
	for i, p := range in.Postings {
		ps[i] = posting{p, i}
		switch {
		case p.AccountID == "":
			return nil, "", errs.Invalid(ps[i].field("accountId"), "is required")
		case !validCurrency(p.Currency):
			return nil, "", errs.Invalid(ps[i].field("currency"), "must be an ISO-4217 code of three capital letters")
		case p.Amount == 0:
			return nil, "", errs.Invalid(ps[i].field("amount"), "must not be zero")
		}
		if j, dup := seen[p.AccountID]; dup {
			return nil, "", errs.Invalidf(ps[i].field("accountId"), "account %s is already in postings[%d]; one posting per account", p.AccountID, j)
		}
		seen[p.AccountID] = i
		if sums[p.Currency] == nil {
			sums[p.Currency] = new(big.Int)
		}
		sums[p.Currency].Add(sums[p.Currency], big.NewInt(p.Amount))
	}
	currencies := make([]string, 0, len(sums))
	for c := range sums {
		currencies = append(currencies, c)
	}
	sort.Strings(currencies)
	for _, c := range currencies {
		if sums[c].Sign() != 0 {
			return nil, "", errs.Invalidf("postings", "the %s amounts sum to %s; a transaction must balance in every currency", c, sums[c])
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].AccountID < ps[j].AccountID })
	return ps, requestHash(in.Description, ps, in.metadata()), nil
}

// requestHash is the SHA-256 of the canonical request: the description, the
// postings in account order (the order the caller listed them in does not
// matter) and the metadata (JSON sorts its keys).
func requestHash(description string, ps []posting, md map[string]string) string {
	type line struct {
		A string `json:"a"`
		C string `json:"c"`
		N int64  `json:"n"`
	}
	canon := struct {
		D string            `json:"d"`
		P []line            `json:"p"`
		M map[string]string `json:"m"`
	}{D: description, M: md}
	for _, p := range ps {
		canon.P = append(canon.P, line{p.AccountID, p.Currency, p.Amount})
	}
	b, err := json.Marshal(canon)
	if err != nil {
		panic(err) // strings and integers always marshal
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
