package reseller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// ListPayments returns the partner's payments, newest first.
func (s *Service) ListPayments(ctx context.Context, a actor.Actor) ([]Payment, error) {
	if err := reader(a); err != nil {
		return nil, err
	}
	return s.store.ListResellerPayments(ctx, a.Scope())
}

// BankPaymentInput is a received bank payment (IT-30).
type BankPaymentInput struct {
	Number        string
	TIN           string
	Amount        int64
	InvoiceNumber string // "" = null (no invoice)
	CompanyID     int64
	ProjectID     int64
}

// OnlinePaymentInput is a received online payment (IT-31).
type OnlinePaymentInput struct {
	PaymentID string
	Amount    int64
	ProjectID int64
}

func paymentNumber(field, v string) (string, error) {
	if v == "" {
		return "", errs.Invalid(field, "must not be empty")
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", errs.Invalid(field, "is required")
	}
	if len(v) > 100 || !utf8.ValidString(v) {
		return "", errs.Invalid(field, "must be UTF-8 of at most 100 bytes")
	}
	// No NUL or other control character (PostgreSQL refuses NUL).
	if err := validate.Wire(field, v, nil, 100); err != nil {
		return "", err
	}
	return v, nil
}

// paymentAmount checks a payment's amount (minor units): positive, at most
// MaxAmount. It is checked first, before the number.
func paymentAmount(v int64) error {
	if v <= 0 || v > MaxAmount {
		return errs.Invalid("Amount", "must be positive")
	}
	return nil
}

// requestHash is the SHA-256 of a payment's canonical fields: a replay has
// the same, a different body under the same number does not.
func requestHash(p Payment) string {
	b, _ := json.Marshal([]any{p.Kind, p.Number, p.TIN, p.Amount, p.InvoiceNumber, p.CompanyID, p.ProjectID})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// errReplay stops a payment transaction whose number was taken meanwhile.
var errReplay = errors.New("reseller: payment number taken")

// BankPayment records a bank payment and credits the project's money
// (clearing −A, balance +A) in one transaction. The Number is unique per
// partner: the same Number with the same body returns the first payment
// (nothing credited again); with another body it is a KindConflict naming
// Number. ProjectID says whose money it is; CompanyID (a company of the
// project) and InvoiceNumber (an invoice of the project and company, marked
// Paid once its payments cover it) are the seed's "additional
// identifiers". The TIN is the payer's and is recorded, not matched: a
// payment may come from another legal entity than the project's company
// (a parent company, a factor), and refusing money that has arrived would
// only hide it — the seed's own sample pays company 522 from TIN
// 1234567891, which is not even a valid INN.
func (s *Service) BankPayment(ctx context.Context, a actor.Actor, in BankPaymentInput) (Payment, error) {
	if err := writer(a); err != nil {
		return Payment{}, err
	}
	if err := paymentAmount(in.Amount); err != nil {
		return Payment{}, err
	}
	num, err := paymentNumber("Number", in.Number)
	if err != nil {
		return Payment{}, err
	}
	tin := strings.TrimSpace(in.TIN)
	if tin == "" {
		return Payment{}, errs.Invalid("TIN", "is required")
	}
	if err := validate.Wire("TIN", tin, nil, 20); err != nil {
		return Payment{}, err
	}
	if len(tin) > 20 {
		return Payment{}, errs.Invalid("TIN", "must be at most 20 characters")
	}
	if in.InvoiceNumber != "" {
		if _, err := invoiceNumber("InvoiceNumber", in.InvoiceNumber); err != nil {
			return Payment{}, err
		}
	}
	if in.CompanyID < 0 {
		return Payment{}, errs.Invalid("CompanyId", "must be a positive whole number")
	}
	p := Payment{Kind: PaymentBank, Number: num, TIN: tin, Amount: in.Amount, InvoiceNumber: in.InvoiceNumber,
		CompanyID: in.CompanyID, ProjectID: in.ProjectID}
	return s.pay(ctx, a, p, func(ctx context.Context, tx Queries, proj Project, p *Payment) error {
		if p.CompanyID != 0 {
			_, err := tx.GetResellerCompany(ctx, proj.PartnerPath, proj.ID, p.CompanyID)
			if errs.Is(err, errs.KindNotFound) {
				return &errs.Error{Kind: errs.KindNotFound, Field: "CompanyId", Msg: "the project has no such company"}
			}
			if err != nil {
				return err
			}
		}
		if p.InvoiceNumber == "" {
			return nil
		}
		inv, err := tx.GetResellerInvoice(ctx, proj.PartnerPath, proj.PartnerID, p.InvoiceNumber)
		if errs.Is(err, errs.KindNotFound) || (err == nil && (inv.ProjectID != proj.ID ||
			(p.CompanyID != 0 && inv.CompanyID != p.CompanyID))) {
			return &errs.Error{Kind: errs.KindNotFound, Field: "InvoiceNumber",
				Msg: "no such invoice of this project and company"}
		}
		if err != nil {
			return err
		}
		if inv.State == InvoiceCancelled {
			return errs.Invalid("InvoiceNumber", "the invoice is cancelled")
		}
		return nil
	})
}

// OnlinePayment records an online payment (PaymentId unique per partner,
// with BankPayment's replay rules) and credits the project's money.
func (s *Service) OnlinePayment(ctx context.Context, a actor.Actor, in OnlinePaymentInput) (Payment, error) {
	if err := writer(a); err != nil {
		return Payment{}, err
	}
	if err := paymentAmount(in.Amount); err != nil {
		return Payment{}, err
	}
	num, err := paymentNumber("PaymentId", in.PaymentID)
	if err != nil {
		return Payment{}, err
	}
	p := Payment{Kind: PaymentOnline, Number: num, Amount: in.Amount, ProjectID: in.ProjectID}
	return s.pay(ctx, a, p, nil)
}

// paymentCheck is a payment kind's own check, run inside the
// transaction after the project is locked and before anything is written.
type paymentCheck func(ctx context.Context, tx Queries, proj Project, p *Payment) error

// pay records p and credits its project; a payment whose number was
// recorded before answers as a replay (the first payment, or 409 if its
// body differed).
func (s *Service) pay(ctx context.Context, a actor.Actor, p Payment, check paymentCheck) (Payment, error) {
	if err := paymentAmount(p.Amount); err != nil {
		return Payment{}, err
	}
	if p.ProjectID <= 0 {
		return Payment{}, errs.Invalid("ProjectId", "must be a positive whole number")
	}
	p.RequestHash = requestHash(p)
	var out Payment
	var prev *Payment
	partner := ""
	err := s.store.Tx(ctx, func(tx Store) error {
		prev = nil
		proj, err := lockPaymentProject(ctx, tx, a, p.ProjectID)
		if err != nil {
			return err
		}
		partner = proj.PartnerID
		if old, err := tx.GetResellerPayment(ctx, proj.PartnerID, p.Kind, p.Number); err == nil {
			prev = &old
			return nil
		} else if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		q := p
		if check != nil {
			if err := check(ctx, tx, proj, &q); err != nil {
				return err
			}
		}
		out, err = s.recordPaymentTx(ctx, tx, a, proj, q)
		return err
	})
	switch {
	case err == nil && prev != nil:
		return replayOf(p, *prev)
	case err == nil:
		return out, nil
	case partner != "":
		return s.afterRace(ctx, p, partner, err)
	}
	return Payment{}, err
}

// paymentNumberField names a payment's number as the API does.
func paymentNumberField(kind string) string {
	if kind == PaymentOnline {
		return "PaymentId"
	}
	return "Number"
}

// replayOf answers a payment whose number prev took first: prev itself if
// the bodies match, else a KindConflict.
func replayOf(p, prev Payment) (Payment, error) {
	if prev.RequestHash != p.RequestHash {
		return Payment{}, &errs.Error{Kind: errs.KindConflict, Field: paymentNumberField(p.Kind),
			Msg: fmt.Sprintf("payment %s was recorded before with a different body", p.Number)}
	}
	return prev, nil
}

// lockPaymentProject finds the payment's project in the caller's scope
// (not found names ProjectId) and locks it.
func lockPaymentProject(ctx context.Context, tx Store, a actor.Actor, id int64) (Project, error) {
	proj, err := tx.GetResellerProject(ctx, a.Scope(), id)
	if errs.Is(err, errs.KindNotFound) {
		return Project{}, &errs.Error{Kind: errs.KindNotFound, Field: "ProjectId", Msg: "project not found"}
	}
	if err != nil {
		return Project{}, err
	}
	return tx.LockResellerProject(ctx, proj.ID)
}

// recordPaymentTx credits q to the locked project: the intake limit, the
// ledger operation, the invoice it pays, the payment row and its audit.
func (s *Service) recordPaymentTx(ctx context.Context, tx Store, a actor.Actor, proj Project, q Payment) (Payment, error) {
	// After the replay check, so that a replay is not counted again;
	// a racer's replay rolls this back with the rest.
	if err := s.intakeTx(ctx, tx, proj, "Amount", q.Amount, s.now()); err != nil {
		return Payment{}, err
	}
	id, err := tx.NextNumber(ctx, CounterPayment)
	if err != nil {
		return Payment{}, err
	}
	key := "reseller:payment:" + proj.PartnerID + ":" + q.Kind + ":" + q.Number
	typ := OpBankPayment
	if q.Kind == PaymentOnline {
		typ = OpOnlinePayment
	}
	op, err := s.operationTx(ctx, tx, a, proj, Operation{Type: typ, Money: q.Amount,
		Description: "payment " + q.Number, Reference: q.Number}, key,
		[]line{{kind: lineClearing, amount: -q.Amount}, {kind: lineMoney, amount: q.Amount}})
	if err != nil {
		return Payment{}, err
	}
	q.ID, q.PartnerID, q.PartnerPath, q.Currency, q.CreatedAt, q.LedgerTxID = id, proj.PartnerID, proj.PartnerPath,
		proj.Currency, op.CreatedAt, op.LedgerTxID
	if q.InvoiceNumber != "" {
		_, paid, err := tx.PayResellerInvoice(ctx, proj.PartnerID, q.InvoiceNumber, q.Amount, q.CreatedAt)
		if err != nil {
			return Payment{}, err
		}
		q.InvoicePaid = paid
	}
	ok, err := tx.InsertResellerPayment(ctx, q)
	if err != nil {
		return Payment{}, err
	}
	if !ok {
		return Payment{}, errReplay
	}
	return q, tx.AppendAudit(ctx, audit.New(a, q.CreatedAt, "payment.create", "reseller_payment",
		strconv.FormatInt(q.ID, 10), proj.PartnerPath, fmt.Sprintf("kind=%s number=%q project=%d amount=%d invoice=%q paid=%t",
			q.Kind, q.Number, proj.ID, q.Amount, q.InvoiceNumber, q.InvoicePaid)))
}

// afterRace answers a payment whose transaction failed with err. A racer
// with the same number (possibly for another project, so not serialised by
// our project lock) committed first: its ledger key or its payment row made
// ours fail. Answer as a replay would.
func (s *Service) afterRace(ctx context.Context, p Payment, partner string, err error) (Payment, error) {
	if !errors.Is(err, errReplay) && !errs.Is(err, errs.KindConflict) {
		return Payment{}, err
	}
	if old, gerr := s.store.GetResellerPayment(ctx, partner, p.Kind, p.Number); gerr == nil {
		return replayOf(p, old)
	}
	if errors.Is(err, errReplay) {
		return Payment{}, &errs.Error{Kind: errs.KindConflict, Field: paymentNumberField(p.Kind), Msg: "payment number in use"}
	}
	return Payment{}, err
}
