package billing

import (
	"context"

	"github.com/trellis-cloud/trellis/internal/ledger"
)

// LedgerAccounts are the ledger account ids of one billing account.
type LedgerAccounts struct {
	Currency        string
	Credit          string // floor 0: prepaid and promotional credit
	Receivables     string // unbounded: negative while the customer owes
	Revenue         string
	VATPayable      string
	PaymentClearing string
}

// EnsureLedgerAccountsTx creates (or finds) the billing account's ledger
// accounts inside the caller's transaction.
func (s *Service) EnsureLedgerAccountsTx(ctx context.Context, tx Queries, acct Account) (LedgerAccounts, error) {
	out := LedgerAccounts{Currency: acct.Cur().Code()}
	// One read finds them all once they exist (every call after the
	// account's creation); only missing ones are inserted.
	have, err := tx.ListLedgerAccounts(ctx, LedgerOwner(acct.ID))
	if err != nil {
		return LedgerAccounts{}, err
	}
	found := map[ledger.Kind]string{}
	for _, la := range have {
		if la.Currency == out.Currency {
			found[la.Kind] = la.ID
		}
	}
	for _, k := range []struct {
		kind  ledger.Kind
		floor ledger.Floor
		id    *string
	}{
		{ledger.KindCredit, ledger.AtLeast(0), &out.Credit},
		{ledger.KindReceivables, ledger.NoFloor(), &out.Receivables},
		{ledger.KindRevenue, ledger.NoFloor(), &out.Revenue},
		{ledger.KindVATPayable, ledger.NoFloor(), &out.VATPayable},
		{ledger.KindPaymentClearing, ledger.NoFloor(), &out.PaymentClearing},
	} {
		if id, ok := found[k.kind]; ok {
			*k.id = id
			continue
		}
		a, err := s.ledger.EnsureAccountTx(ctx, tx, ledger.AccountSpec{Owner: LedgerOwner(acct.ID), Kind: k.kind,
			Currency: out.Currency, Floor: k.floor})
		if err != nil {
			return LedgerAccounts{}, err
		}
		*k.id = a.ID
	}
	return out, nil
}

// CreditBalance returns the account's credit (the credit ledger balance).
func (s *Service) CreditBalance(ctx context.Context, accountID int64) (int64, error) {
	return creditBalance(ctx, s.store, accountID)
}

func creditBalance(ctx context.Context, q Queries, accountID int64) (int64, error) {
	accts, err := q.ListLedgerAccounts(ctx, LedgerOwner(accountID))
	if err != nil {
		return 0, err
	}
	for _, a := range accts {
		if a.Kind == ledger.KindCredit {
			return a.Balance, nil
		}
	}
	return 0, nil
}
