package payment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
)

// Billing is what payments need from the billing service (implemented by
// *billing.Service).
type Billing interface {
	// ResolveAccount finds the account a request means (ID-amb-24) within
	// the actor's scope and token restriction.
	ResolveAccount(ctx context.Context, a actor.Actor, id int64) (billing.Account, error)
	// EnsureLedgerAccountsTx returns the account's ledger accounts.
	EnsureLedgerAccountsTx(ctx context.Context, tx billing.Queries, acct billing.Account) (billing.LedgerAccounts, error)
	// AddCreditRecordTx writes a credit history entry.
	AddCreditRecordTx(ctx context.Context, tx billing.Queries, accountID, amount int64, description, ledgerTx string) (billing.CreditRecord, error)
	// AfterPaymentTx lifts a dunning restriction once nothing is overdue.
	AfterPaymentTx(ctx context.Context, tx billing.Queries, accountID int64) (bool, error)
	// Describe returns the account's running totals at an instant (the
	// recurring top-up compares their Ongoing with its threshold).
	Describe(ctx context.Context, acct billing.Account, at time.Time) (billing.Details, error)
	// SetRecurring stores the recurring top-up configuration.
	SetRecurring(ctx context.Context, a actor.Actor, id int64, in billing.RecurringInput) (billing.Account, error)
}

// Config tunes the service; zero values take the defaults.
type Config struct {
	// PendingGrace is how old a pending charge must be before
	// ResolvePending takes it over from the request that created it
	// (default 5 minutes). Taking over earlier is safe (the processor
	// call is idempotent and settling is conditional), only wasteful.
	PendingGrace time.Duration
	// BatchSize bounds the rows one job run handles (default 500).
	BatchSize int
	// MaxAmount bounds one payment or credit purchase, minor units
	// (default 100,000,000 = 1,000,000.00).
	MaxAmount int64
	// Logger receives the jobs' per-item failures (default: discard).
	Logger *slog.Logger
}

// Service manages payment methods and charges.
type Service struct {
	store   Store
	ledger  *ledger.Service
	billing Billing
	proc    Processor
	clock   clock.Clock
	cfg     Config
}

// NewService returns a payment service.
func NewService(st Store, l *ledger.Service, b Billing, p Processor, c clock.Clock, cfg Config) *Service {
	if cfg.PendingGrace <= 0 {
		cfg.PendingGrace = 5 * time.Minute
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.MaxAmount <= 0 {
		cfg.MaxAmount = 100_000_000
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, ledger: l, billing: b, proc: p, clock: c, cfg: cfg}
}

var _ billing.AutoPayer = (*Service)(nil)

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// payer resolves the account a customer acts on and checks it may be
// written: a staff role, and a live account.
func (s *Service) payer(ctx context.Context, a actor.Actor, id int64) (billing.Account, error) {
	if err := a.Require(actor.Staff); err != nil {
		return billing.Account{}, err
	}
	acct, err := s.billing.ResolveAccount(ctx, a, id)
	if err != nil {
		return billing.Account{}, withField(err, "billing_account_id")
	}
	if acct.Deleted() {
		return billing.Account{}, &errs.Error{Kind: errs.KindPrecondition, Field: "billing_account_id",
			Msg: fmt.Sprintf("billing account %d is deleted", acct.ID)}
	}
	return acct, nil
}

// operator checks the actor is the provider's staff (verifying payment
// methods and recording bank payments are back-office work).
func operator(a actor.Actor) error {
	if err := a.RequireKind(actor.Provider); err != nil {
		return err
	}
	return a.Require(actor.Staff)
}

// withField names field in a not-found or invalid error that names none,
// so the caller learns which input was wrong.
func withField(err error, field string) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Field == "" && (e.Kind == errs.KindNotFound || e.Kind == errs.KindInvalid) {
		c := *e
		c.Field = field
		return &c
	}
	return err
}

func notFound(field, format string, args ...any) error {
	return &errs.Error{Kind: errs.KindNotFound, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func precondition(field, format string, args ...any) error {
	return &errs.Error{Kind: errs.KindPrecondition, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// sees reports whether a restricted token may touch the account.
func sees(a actor.Actor, accountID int64) bool {
	return a.BillingAccount == 0 || a.BillingAccount == accountID
}

// requestKey scopes a caller's Idempotency-Key to its principal, or makes
// a fresh key when there is none.
func requestKey(op string, a actor.Actor, key string) string {
	if key == "" {
		return op + ":" + newNonce()
	}
	return op + ":" + a.Type + ":" + a.ID + ":" + key
}

// hashRequest is the SHA-256 of the request's canonical fields.
func hashRequest(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(strconv.Itoa(len(p))))
		h.Write([]byte{':'})
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Service) audit(ctx context.Context, tx Queries, a actor.Actor, acct billing.Account, action, objectType string,
	objectID int64, detail string) error {
	return tx.AppendAudit(ctx, audit.New(a, s.now(), action, objectType, strconv.FormatInt(objectID, 10), acct.OrgPath, detail))
}

// errRolledBack makes a transaction roll back without failing the call
// (a racing request won; the caller re-reads).
var errRolledBack = errors.New("payment: rolled back")

func newNonce() string { return ids.New() }
