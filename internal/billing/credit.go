package billing

import (
	"context"
	"github.com/trellis-cloud/trellis/internal/clock"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ledger"
)

// addCreditTx posts credit +amount against the counter account and writes
// the credit record.
func (s *Service) addCreditTx(ctx context.Context, tx Queries, acct Account, la LedgerAccounts, amount int64,
	counter, key, description string) (CreditRecord, error) {
	t, err := s.ledger.PostTx(ctx, tx, ledger.PostInput{IdempotencyKey: key, Description: description,
		Postings: []ledger.PostingInput{
			{AccountID: la.Credit, Currency: la.Currency, Amount: amount},
			{AccountID: counter, Currency: la.Currency, Amount: -amount},
		}})
	if err != nil {
		return CreditRecord{}, err
	}
	if t.Replayed {
		return CreditRecord{}, nil
	}
	return s.creditRecordTx(ctx, tx, acct.ID, amount, description, t.ID)
}

func (s *Service) creditRecordTx(ctx context.Context, tx Queries, accountID, amount int64, description, ledgerTx string) (CreditRecord, error) {
	id, err := tx.NextNumber(ctx, CounterCreditRecord)
	if err != nil {
		return CreditRecord{}, err
	}
	c := CreditRecord{ID: id, AccountID: accountID, Amount: amount, Description: description,
		CreatedAt: clock.Micro(s.clock.Now()), LedgerTransactionID: ledgerTx}
	return c, tx.InsertCreditRecord(ctx, c)
}

// AddCreditRecordTx writes a credit record inside the caller's transaction
// (payments: "Credit purchase" after its ledger posting). amount is signed.
func (s *Service) AddCreditRecordTx(ctx context.Context, tx Queries, accountID, amount int64, description, ledgerTx string) (CreditRecord, error) {
	if amount == 0 {
		return CreditRecord{}, errs.Invalid("amount", "must not be zero")
	}
	return s.creditRecordTx(ctx, tx, accountID, amount, description, ledgerTx)
}

// ListCredit returns the account's credit history, newest first (ID-89).
func (s *Service) ListCredit(ctx context.Context, a actor.Actor, id int64) ([]CreditRecord, error) {
	acct, err := s.ResolveAccount(ctx, a, id)
	if err != nil {
		return nil, err
	}
	return s.store.ListCreditRecords(ctx, acct.ID)
}
