package reseller

import (
	"context"
	"fmt"
	"strconv"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/money"
)

// MaxAmount bounds every money input (minor units): 10^13 = 100 billion
// units, far beyond any real payment, and small enough that VAT arithmetic
// never overflows.
const MaxAmount int64 = 10_000_000_000_000

// amountLimit checks a money input that may be zero (a debt limit, an
// auto-invoice threshold): not negative and at most MaxAmount.
func amountLimit(field string, v int64) error {
	switch {
	case v < 0:
		return errs.Invalid(field, "must not be negative")
	case v > MaxAmount:
		return errs.Invalid(field, "must be at most the maximum amount (10^13 minor units)")
	}
	return nil
}

// createProjectTx creates a project: a billing account of the partner org
// (no VAT on the billing row, not a default account), its ledger accounts
// (billing's set plus the money account) and the reseller row.
func (s *Service) createProjectTx(ctx context.Context, tx Queries, partnerID, partnerPath, ownerID, name, simpleOne string) (Project, error) {
	st, err := settingsOf(ctx, tx, partnerID, "")
	if err != nil {
		return Project{}, err
	}
	id, err := tx.NextNumber(ctx, billing.CounterBillingAccount)
	if err != nil {
		return Project{}, err
	}
	now := s.now()
	ba := billing.Account{ID: id, OrgID: partnerID, OrgPath: partnerPath, Currency: st.Currency, Title: name,
		IsActive: true, RecurringAmount: money.DecimalFromInt(0), RecurringThreshold: money.DecimalFromInt(0),
		AdditionalData: "{}", ManagedBy: billing.ManagedByReseller, CreatedAt: now, UpdatedAt: now}
	if err := tx.InsertBillingAccount(ctx, ba); err != nil {
		return Project{}, err
	}
	la, err := s.billing.EnsureLedgerAccountsTx(ctx, tx, ba)
	if err != nil {
		return Project{}, err
	}
	m, err := s.ledger.EnsureAccountTx(ctx, tx, ledger.AccountSpec{Owner: billing.LedgerOwner(id), Kind: ledger.KindBalance,
		Currency: la.Currency, Floor: ledger.NoFloor()})
	if err != nil {
		return Project{}, err
	}
	return Project{ID: id, PartnerID: partnerID, PartnerPath: partnerPath, Name: name, OwnerAccountID: ownerID,
		Members: []string{ownerID}, Currency: la.Currency, SimpleOneCompanyID: simpleOne, CreatedAt: now, UpdatedAt: now,
		MoneyAccount: m.ID, BonusAccount: la.Credit}, nil
}

// ledgerIDs are a project's ledger accounts.
type ledgerIDs struct {
	billing.LedgerAccounts
	Money string
}

func (s *Service) ledgerOf(ctx context.Context, tx Queries, p Project) (ledgerIDs, error) {
	ba, err := tx.GetBillingAccount(ctx, "/", p.ID)
	if err != nil {
		return ledgerIDs{}, err
	}
	la, err := s.billing.EnsureLedgerAccountsTx(ctx, tx, ba)
	if err != nil {
		return ledgerIDs{}, err
	}
	return ledgerIDs{LedgerAccounts: la, Money: p.MoneyAccount}, nil
}

// ListProjects returns the partner's live projects by id.
func (s *Service) ListProjects(ctx context.Context, a actor.Actor) ([]Project, error) {
	if err := reader(a); err != nil {
		return nil, err
	}
	return s.store.ListResellerProjects(ctx, a.Scope(), "")
}

// GetProject returns a live project of the partner.
func (s *Service) GetProject(ctx context.Context, a actor.Actor, id int64) (Project, error) {
	if err := reader(a); err != nil {
		return Project{}, err
	}
	return s.store.GetResellerProject(ctx, a.Scope(), id)
}

// Balance returns a project's money and bonus balances (minor units).
func (s *Service) Balance(ctx context.Context, projectID int64) (money, bonus int64, err error) {
	p, err := s.store.GetResellerProject(ctx, "/", projectID)
	if err != nil {
		return 0, 0, err
	}
	return p.Balance, p.Bonus, nil
}

// ProjectInput edits a project (IT-8); nil fields are unchanged.
type ProjectInput struct {
	IsPostPaid *bool
	MaxDebt    *int64 // minor units, ≥ 0
}

// UpdateProject edits postpay and the debt limit, and re-evaluates the
// blocked state under the project's lock.
func (s *Service) UpdateProject(ctx context.Context, a actor.Actor, id int64, in ProjectInput) (Project, error) {
	if err := writer(a); err != nil {
		return Project{}, err
	}
	if in.MaxDebt != nil {
		if err := amountLimit("MaxDebt", *in.MaxDebt); err != nil {
			return Project{}, err
		}
	}
	var out Project
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := s.lockScoped(ctx, tx, a, id)
		if err != nil {
			return err
		}
		now := s.now()
		if in.IsPostPaid != nil {
			p.IsPostPaid = *in.IsPostPaid
		}
		if in.MaxDebt != nil {
			if *in.MaxDebt > p.MaxDebt {
				if err := s.debtWithinLimitTx(ctx, tx, p, *in.MaxDebt); err != nil {
					return err
				}
			}
			p.MaxDebt = *in.MaxDebt
		}
		p.UpdatedAt = now
		if err := tx.UpdateResellerProject(ctx, p); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, audit.New(a, now, "project.update", "reseller_project", strconv.FormatInt(p.ID, 10),
			p.PartnerPath, fmt.Sprintf("is_post_paid=%t max_debt=%d", p.IsPostPaid, p.MaxDebt))); err != nil {
			return err
		}
		out, err = s.refreshBlockTx(ctx, tx, a, p.ID)
		return err
	})
	return out, err
}

// lockScoped finds a live project in a's scope and locks it.
func (s *Service) lockScoped(ctx context.Context, tx Queries, a actor.Actor, id int64) (Project, error) {
	if _, err := tx.GetResellerProject(ctx, a.Scope(), id); err != nil {
		return Project{}, err
	}
	return tx.LockResellerProject(ctx, id)
}

// ShareProject adds an account of the same partner to a project.
func (s *Service) ShareProject(ctx context.Context, a actor.Actor, projectID int64, accountID string) (Project, error) {
	return s.share(ctx, a, projectID, accountID, true)
}

// UnshareProject removes an account (not the owner) from a project.
func (s *Service) UnshareProject(ctx context.Context, a actor.Actor, projectID int64, accountID string) (Project, error) {
	return s.share(ctx, a, projectID, accountID, false)
}

func (s *Service) share(ctx context.Context, a actor.Actor, projectID int64, accountID string, add bool) (Project, error) {
	if err := writer(a); err != nil {
		return Project{}, err
	}
	var out Project
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := s.lockScoped(ctx, tx, a, projectID)
		if err != nil {
			return err
		}
		acct, err := tx.GetResellerAccount(ctx, p.PartnerPath, accountID)
		if errs.Is(err, errs.KindNotFound) || (err == nil && acct.PartnerID != p.PartnerID) {
			return &errs.Error{Kind: errs.KindNotFound, Field: "accountId", Msg: "account not found"}
		}
		if err != nil {
			return err
		}
		now := s.now()
		action := "project.share"
		var changed bool
		if add {
			if changed, err = tx.AddResellerProjectMember(ctx, p.ID, acct.ID, now); err != nil {
				return err
			}
		} else {
			if acct.ID == p.OwnerAccountID {
				return errs.Invalid("accountId", "is the project's owner, who cannot be removed")
			}
			if changed, err = tx.RemoveResellerProjectMember(ctx, p.ID, acct.ID); err != nil {
				return err
			}
			action = "project.unshare"
		}
		// A repeat (already a member, or not one) changes nothing and is
		// not an event.
		if changed {
			if err := tx.AppendAudit(ctx, audit.New(a, now, action, "reseller_project", strconv.FormatInt(p.ID, 10),
				p.PartnerPath, "account="+acct.ID)); err != nil {
				return err
			}
		}
		out, err = tx.GetResellerProject(ctx, "/", p.ID)
		return err
	})
	return out, err
}

// refreshBlockTx re-reads the locked project and sets or clears its blocked
// state by ShouldBlock, with an audit row and the block hook on a change.
func (s *Service) refreshBlockTx(ctx context.Context, tx Queries, a actor.Actor, id int64) (Project, error) {
	p, err := tx.LockResellerProject(ctx, id)
	if err != nil {
		return Project{}, err
	}
	should := ShouldBlock(p.Balance, p.IsPostPaid, p.MaxDebt)
	if should == p.Blocked {
		return p, nil
	}
	now := s.now()
	action := "project.unblock"
	p.Blocked, p.BlockedAt, p.UpdatedAt = should, nil, now
	if should {
		p.BlockedAt, action = &now, "project.block"
	}
	if err := tx.UpdateResellerProject(ctx, p); err != nil {
		return Project{}, err
	}
	if err := tx.AppendAudit(ctx, audit.New(a, now, action, "reseller_project", strconv.FormatInt(p.ID, 10), p.PartnerPath,
		fmt.Sprintf("balance=%d is_post_paid=%t max_debt=%d", p.Balance, p.IsPostPaid, p.MaxDebt))); err != nil {
		return Project{}, err
	}
	if err := s.block.ProjectBlockChangedTx(ctx, tx, p.ID, should, now); err != nil {
		return Project{}, err
	}
	return p, nil
}

// AdmitTx admits a new order into a project inside the caller's
// transaction: the project must be in a's scope, live and not blocked
// (KindConflict). It takes the project's row lock.
func (s *Service) AdmitTx(ctx context.Context, tx Queries, a actor.Actor, projectID int64) (Project, error) {
	if err := writer(a); err != nil {
		return Project{}, err
	}
	p, err := s.lockScoped(ctx, tx, a, projectID)
	if err != nil {
		return Project{}, err
	}
	if p.Blocked {
		return Project{}, errs.Newf(errs.KindConflict, "project %d is blocked", p.ID)
	}
	return p, nil
}

// ChargeInput is one charge of a project (a day of an order).
type ChargeInput struct {
	ProjectID   int64
	Amount      int64 // minor units incl. VAT, ≥ 0 (0 charges nothing)
	Key         string
	Description string
	Reference   string
}

// ChargeTx charges a project inside the caller's transaction, idempotent by
// Key: bonus first (never below 0), the rest from the money balance (which
// may go negative, and then blocks the project); revenue gets the net and
// vat_payable the VAT at the configured rate. It returns the operation and
// whether it is new (false: the key was charged before, or Amount is 0).
func (s *Service) ChargeTx(ctx context.Context, tx Queries, in ChargeInput) (Operation, bool, error) {
	switch {
	case in.Key == "":
		return Operation{}, false, errs.Invalid("key", "is required")
	case len(in.Key) > ledger.MaxKeyLen:
		return Operation{}, false, errs.Invalidf("key", "must be at most %d bytes", ledger.MaxKeyLen)
	case in.Amount < 0 || in.Amount > MaxAmount:
		return Operation{}, false, errs.Invalid("amount", "must be between 0 and the maximum amount")
	case in.Amount == 0:
		return Operation{}, false, nil
	}
	p, err := tx.LockResellerProject(ctx, in.ProjectID)
	if err != nil {
		return Operation{}, false, err
	}
	if prev, err := tx.GetResellerOperationByKey(ctx, in.Key); err == nil {
		return prev, false, nil
	} else if !errs.Is(err, errs.KindNotFound) {
		return Operation{}, false, err
	}
	fromBonus := min(p.Bonus, in.Amount)
	fromMoney := in.Amount - fromBonus
	vat := vatOf(in.Amount, s.vat)
	net := in.Amount - vat
	op := Operation{Type: OpCharge, Money: -fromMoney, Bonus: -fromBonus, Description: in.Description,
		Reference: in.Reference, Key: in.Key}
	lines := []line{{kind: lineMoney, amount: -fromMoney}, {kind: lineBonus, amount: -fromBonus},
		{kind: lineRevenue, amount: net}, {kind: lineVAT, amount: vat}}
	op, err = s.operationTx(ctx, tx, actor.System(""), p, op, in.Key, lines)
	if err != nil {
		return Operation{}, false, err
	}
	return op, true, nil
}

// line kinds of a project's postings.
const (
	lineMoney = iota
	lineBonus
	lineRevenue
	lineVAT
	lineClearing
)

type line struct {
	kind   int
	amount int64
}

// operationTx posts lines to the locked project's ledger accounts under key,
// records the operation, and refreshes the blocked state. Insufficient
// bonus is KindInsufficientFunds naming Amount.
func (s *Service) operationTx(ctx context.Context, tx Queries, a actor.Actor, p Project, op Operation, key string, lines []line) (Operation, error) {
	la, err := s.ledgerOf(ctx, tx, p)
	if err != nil {
		return Operation{}, err
	}
	var ps []ledger.PostingInput
	for _, l := range lines {
		if l.amount == 0 {
			continue
		}
		acct := map[int]string{lineMoney: la.Money, lineBonus: la.Credit, lineRevenue: la.Revenue, lineVAT: la.VATPayable,
			lineClearing: la.PaymentClearing}[l.kind]
		ps = append(ps, ledger.PostingInput{AccountID: acct, Currency: la.Currency, Amount: l.amount})
	}
	id, err := tx.NextNumber(ctx, CounterOperation)
	if err != nil {
		return Operation{}, err
	}
	if key == "" {
		key = "reseller:operation:" + strconv.FormatInt(id, 10)
	}
	t, err := s.ledger.PostTx(ctx, tx, ledger.PostInput{IdempotencyKey: key, Description: op.Type + " " + op.Description,
		Postings: ps, Metadata: map[string]string{"project": strconv.FormatInt(p.ID, 10), "type": op.Type}})
	if errs.Is(err, errs.KindInsufficientFunds) {
		return Operation{}, &errs.Error{Kind: errs.KindInsufficientFunds, Field: "Amount",
			Msg: fmt.Sprintf("project %d has %d minor units of bonus, less than asked", p.ID, p.Bonus)}
	}
	if err != nil {
		return Operation{}, err
	}
	if t.Replayed {
		return Operation{}, errs.Newf(errs.KindConflict, "ledger key %s was used before", key)
	}
	op.ID, op.PartnerID, op.PartnerPath, op.ProjectID, op.Currency = id, p.PartnerID, p.PartnerPath, p.ID, la.Currency
	op.CreatedAt, op.LedgerTxID = t.CreatedAt, t.ID
	if err := tx.InsertResellerOperation(ctx, op); err != nil {
		return Operation{}, err
	}
	if _, err := s.refreshBlockTx(ctx, tx, a, p.ID); err != nil {
		return Operation{}, err
	}
	return op, nil
}

// Counter names (billing's counters table).
const (
	CounterCompany   = "reseller_company"
	CounterPayment   = "reseller_payment"
	CounterOperation = "reseller_operation"
)

// CounterInvoice is the counter of a partner's invoice numbers.
func CounterInvoice(partnerID string) string { return "reseller_invoice:" + partnerID }
