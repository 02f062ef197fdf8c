package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/money"
	"golang.org/x/sync/errgroup"
)

// UsageInvoiceKey is the ledger idempotency key of the usage invoice of
// an account's month (the month's first instant, UTC).
func UsageInvoiceKey(accountID int64, periodStart time.Time) string {
	return "invoice:" + itoa(accountID) + ":" + periodStart.UTC().Format("2006-01") + ":issue"
}

// errAlreadyInvoiced rolls an issue transaction back when the month turned
// out to be invoiced already (so the invoice number taken is returned).
var errAlreadyInvoiced = errors.New("billing: already invoiced")

// IssueInvoices is the invoice run: for every billing account with usage in
// a closed calendar month (UTC; closed once its end + CloseGrace ≤ at) that
// has no invoice for it yet, it issues one invoice. It is idempotent and
// safe to run on many nodes at once: each account-month is issued in one
// transaction under the account's row lock, re-checked there, and backed by
// a unique index. After each commit autoPay (nil: none) is asked to
// charge an unpaid invoice: it is passed per call because the payments
// service that implements it is built on billing (billing ↔ payments would
// otherwise be a cycle). Failures (an account that cannot be invoiced,
// an auto-pay error other than a decline, which simply leaves the invoice
// unpaid) do not stop the run: they are returned joined at the end, and the
// next run retries what was not issued. n is the number of invoices this
// call issued.
func (s *Service) IssueInvoices(ctx context.Context, at time.Time, autoPay AutoPayer) (int, error) {
	if s.cfg.Usage == nil {
		return 0, nil
	}
	end := monthStart(at.Add(-s.cfg.CloseGrace)) // the first month not closed yet
	var (
		mu      sync.Mutex
		n       int
		runErrs []error
	)
	for i := s.cfg.LookbackMonths; i >= 1; i-- {
		from, to := end.AddDate(0, -i, 0), end.AddDate(0, -i+1, 0)
		all, err := s.cfg.Usage.AccountsWithUsage(ctx, from, to)
		if err != nil {
			return n, err
		}
		done, err := s.store.InvoicedAccounts(ctx, from)
		if err != nil {
			return n, err
		}
		// A few accounts at a time: each one's transaction waits on the
		// database, not on the others (they share only the counter rows,
		// taken at the end of each transaction).
		var g errgroup.Group
		g.SetLimit(s.cfg.Workers)
		for _, id := range without(all, done) {
			if ctx.Err() != nil {
				break
			}
			g.Go(func() error {
				issued, err := s.invoiceAccount(ctx, autoPay, id, from, to, at)
				mu.Lock()
				defer mu.Unlock()
				if issued {
					n++
				}
				if err != nil {
					runErrs = append(runErrs, err)
				}
				return nil // one account's failure does not stop the others
			})
		}
		_ = g.Wait()
		if err := ctx.Err(); err != nil {
			return n, errors.Join(append(runErrs, err)...)
		}
	}
	return n, errors.Join(runErrs...)
}

// invoiceAccount issues an account's invoice of the month [from, to) and
// asks autoPay (if any) to charge it when unpaid. An error is this
// account's alone: the next run retries an invoice not issued, and a
// decline simply leaves the invoice unpaid.
func (s *Service) invoiceAccount(ctx context.Context, autoPay AutoPayer, id int64, from, to, at time.Time) (issued bool, err error) {
	inv, issued, err := s.issue(ctx, id, from, to, at)
	if err != nil {
		return false, fmt.Errorf("billing: invoice of account %d for %s: %w", id, from.Format("2006-01"), err)
	}
	if !issued {
		return false, nil
	}
	if autoPay != nil && inv.Status == StatusUnpaid && inv.Total > 0 {
		if err := autoPay.AutoPay(ctx, inv); err != nil && !errs.Is(err, errs.KindPaymentDeclined) {
			return true, fmt.Errorf("billing: auto-pay of invoice %d: %w", inv.ID, err)
		}
	}
	return true, nil
}

// without returns the ids of all that are not in done, in all's order.
func without(all, done []int64) []int64 {
	if len(done) == 0 {
		return all
	}
	skip := make(map[int64]bool, len(done))
	for _, id := range done {
		skip[id] = true
	}
	out := make([]int64, 0, len(all))
	for _, id := range all {
		if !skip[id] {
			out = append(out, id)
		}
	}
	return out
}

// IssueInvoice issues the usage invoice of one account for the month
// starting at periodStart, if it has usage and no invoice yet (tests and the
// operator's re-run); issued reports whether this call created it.
func (s *Service) IssueInvoice(ctx context.Context, accountID int64, periodStart, at time.Time) (Invoice, bool, error) {
	from := monthStart(periodStart)
	if !from.Equal(periodStart.UTC()) {
		return Invoice{}, false, errs.Invalid("period_start", "must be the first instant of a UTC month")
	}
	to := from.AddDate(0, 1, 0)
	if to.Add(s.cfg.CloseGrace).After(at) {
		return Invoice{}, false, errs.New(errs.KindPrecondition, "the month is not closed yet")
	}
	return s.issue(ctx, accountID, from, to, at)
}

func (s *Service) issue(ctx context.Context, accountID int64, from, to, at time.Time) (Invoice, bool, error) {
	if done, err := s.store.HasUsageInvoice(ctx, accountID, from); err != nil || done {
		return Invoice{}, false, err
	}
	// A closed month's usage no longer changes: read it before the
	// transaction, to keep the transaction short. Records keep the order
	// Usage gives the lines (metering: by first hour, then resource).
	lines, err := s.cfg.Usage.Lines(ctx, accountID, from, to)
	if err != nil || len(lines) == 0 {
		return Invoice{}, false, err
	}
	var inv Invoice
	err = s.store.Tx(ctx, func(tx Store) (err error) {
		inv, err = s.issueTx(ctx, tx, accountID, lines, from, to, at)
		return err
	})
	if errors.Is(err, errAlreadyInvoiced) {
		return Invoice{}, false, nil
	}
	if err != nil {
		return Invoice{}, false, err
	}
	return inv, true, nil
}

// issueTx issues the usage invoice of lines in tx, under the account's row
// lock: priced with the credit available, posted to the ledger, numbered,
// and written with a record per line. errAlreadyInvoiced: the month has
// its invoice already.
func (s *Service) issueTx(ctx context.Context, tx Store, accountID int64, lines []UsageLine, from, to, at time.Time) (Invoice, error) {
	acct, err := tx.LockBillingAccount(ctx, accountID)
	if err != nil {
		return Invoice{}, err
	}
	if done, err := tx.HasUsageInvoice(ctx, accountID, from); err != nil {
		return Invoice{}, err
	} else if done {
		return Invoice{}, errAlreadyInvoiced
	}
	la, err := s.EnsureLedgerAccountsTx(ctx, tx, acct)
	if err != nil {
		return Invoice{}, err
	}
	creditAcct, err := tx.LockLedgerAccount(ctx, la.Credit)
	if err != nil {
		return Invoice{}, err
	}
	t, applied, err := priceLines(acct, lines, creditAcct.Balance)
	if err != nil {
		return Invoice{}, err
	}
	inv := s.usageInvoice(acct, la.Currency, t, from, to, at)
	if inv.LedgerTransactionID, err = s.postUsageInvoiceTx(ctx, tx, acct, la, inv, applied); err != nil {
		return Invoice{}, err
	}
	// The invoice number is taken last: the counter row, which every
	// invoice of every account shares, stays locked only for the last few
	// statements of the transaction.
	if inv.ID, err = tx.NextNumber(ctx, CounterInvoice); err != nil {
		return Invoice{}, err
	}
	inv.Name = invoiceName(inv.ID)
	if applied > 0 {
		if _, err := s.creditRecordTx(ctx, tx, acct.ID, -applied, CreditInvoicePayment, inv.LedgerTransactionID); err != nil {
			return Invoice{}, err
		}
	}
	inv.AccountSnapshot = accountSnapshot(acct, creditAcct.Balance-applied)
	ok, err := tx.InsertInvoice(ctx, inv)
	if err != nil {
		return Invoice{}, err
	}
	if !ok {
		return Invoice{}, errAlreadyInvoiced
	}
	if inv.Records, err = insertUsageRecordsTx(ctx, tx, inv.ID, lines, inv.CreatedAt); err != nil {
		return Invoice{}, err
	}
	return inv, nil
}

// usageInvoice is the unnumbered usage invoice of acct's month [from, to)
// with totals t, created at at; an invoice of 0 is paid at once.
func (s *Service) usageInvoice(acct Account, currency string, t money.InvoiceTotals, from, to, at time.Time) Invoice {
	created := clock.Micro(at)
	inv := Invoice{AccountID: acct.ID, Kind: KindUsage, Status: StatusUnpaid,
		Currency: currency, PeriodStart: from, PeriodEnd: to, CreatedAt: created,
		DueAt: clock.Micro(created.Add(s.cfg.DueAfter)), DiscountPercentage: acct.DiscountPercentage,
		VATPercentage: acct.VATPercentage, Subtotal: t.Subtotal.Minor(), Discount: t.Discount.Minor(),
		Credit: t.Credit.Minor(), VAT: t.VAT.Minor(), Total: t.Total.Minor()}
	if inv.Total == 0 {
		inv.Status, inv.PaidAt = StatusPaid, &created
	}
	return inv
}

// postUsageInvoiceTx posts a usage invoice and returns its ledger
// transaction ("" for a zero invoice, which posts nothing): revenue
// +(subtotal − discount), vat_payable +vat, credit −applied, receivables
// −total, zero lines left out. The key is the business event, the
// account's month.
func (s *Service) postUsageInvoiceTx(ctx context.Context, tx Store, acct Account, la LedgerAccounts, inv Invoice, applied int64) (string, error) {
	month := inv.PeriodStart.Format("2006-01")
	var ps []ledger.PostingInput
	for _, p := range []ledger.PostingInput{
		{AccountID: la.Revenue, Amount: inv.Subtotal - inv.Discount},
		{AccountID: la.VATPayable, Amount: inv.VAT},
		{AccountID: la.Credit, Amount: -applied},
		{AccountID: la.Receivables, Amount: -inv.Total},
	} {
		if p.Amount != 0 {
			p.Currency = la.Currency
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return "", nil
	}
	lt, err := s.ledger.PostTx(ctx, tx, ledger.PostInput{IdempotencyKey: UsageInvoiceKey(acct.ID, inv.PeriodStart),
		Description: "Usage invoice " + month, Postings: ps,
		Metadata: map[string]string{"billing_account_id": itoa(acct.ID), "period": month}})
	if err != nil {
		return "", err
	}
	if lt.Replayed {
		// Only this transaction, under the account lock and after the
		// check of issueTx, ever posts the month's invoice.
		return "", errs.Newf(errs.KindInternal, "billing: month %s of account %d was posted without an invoice", month, acct.ID)
	}
	return lt.ID, nil
}

// insertUsageRecordsTx writes an invoice's records, one per usage line.
func insertUsageRecordsTx(ctx context.Context, tx Store, invoiceID int64, lines []UsageLine, created time.Time) ([]InvoiceRecord, error) {
	first, err := tx.NextNumbers(ctx, CounterInvoiceRecord, int64(len(lines)))
	if err != nil {
		return nil, err
	}
	records := make([]InvoiceRecord, len(lines))
	for i, l := range lines {
		r := InvoiceRecord{ID: first + int64(i), InvoiceID: invoiceID, Name: l.Description, LocationSlug: l.LocationSlug,
			OwnerUUID: l.OwnerUUID, Qty: l.Quantity, QtyUnit: "h", ItemPrice: l.UnitPrice,
			Amount: l.UnitPrice.Mul(l.Quantity), CreatedAt: created}
		if err := tx.InsertInvoiceRecord(ctx, r); err != nil {
			return nil, err
		}
		records[i] = r
	}
	return records, nil
}

// CreateTopUpInvoice issues a top-up invoice (ID-91): a request to pay
// amount by bank transfer, which becomes credit when paid. amount is the
// credit to add and the invoice's total: a prepayment carries no VAT here
// (VAT is charged on the usage invoices the credit later pays), so subtotal
// = total = amount and nothing is posted until the payment arrives. The
// invoice is e-mailed to the account's address through the outbox.
func (s *Service) CreateTopUpInvoice(ctx context.Context, a actor.Actor, accountID int64, amount money.Amount) (Invoice, error) {
	if amount.Sign() <= 0 {
		return Invoice{}, errs.Invalid("amount", "must be positive")
	}
	if amount.Minor() > s.cfg.MaxTopUp {
		return Invoice{}, errs.Invalidf("amount", "must be at most %s", money.NewAmount(s.cfg.MaxTopUp, amount.Currency()).Decimal().StringFixed(2))
	}
	var inv Invoice
	err := s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.writable(ctx, tx, a, accountID)
		if err != nil {
			return err
		}
		if amount.Currency() != acct.Cur() {
			return errs.Invalidf("amount", "must be in the account's currency %s", acct.Cur().Code())
		}
		id, err := tx.NextNumber(ctx, CounterInvoice)
		if err != nil {
			return err
		}
		now := clock.Micro(s.clock.Now())
		inv = Invoice{ID: id, AccountID: acct.ID, Kind: KindTopUp, Status: StatusUnpaid, Name: invoiceName(id),
			Currency: acct.Cur().Code(), PeriodStart: now, PeriodEnd: now, CreatedAt: now,
			DueAt: clock.Micro(now.Add(s.cfg.DueAfter)), Subtotal: amount.Minor(), Total: amount.Minor(),
			AccountSnapshot: "{}"}
		credit, err := creditBalance(ctx, tx, acct.ID)
		if err != nil {
			return err
		}
		inv.AccountSnapshot = accountSnapshot(acct, credit)
		ok, err := tx.InsertInvoice(ctx, inv)
		if err != nil {
			return err
		}
		if !ok {
			return errs.Newf(errs.KindConflict, "invoice %d already exists", id)
		}
		rid, err := tx.NextNumber(ctx, CounterInvoiceRecord)
		if err != nil {
			return err
		}
		r := InvoiceRecord{ID: rid, InvoiceID: id, Name: "Credit top-up", Qty: money.DecimalFromInt(1), QtyUnit: "pcs",
			ItemPrice: amount.Decimal(), Amount: amount.Decimal(), CreatedAt: now}
		if err := tx.InsertInvoiceRecord(ctx, r); err != nil {
			return err
		}
		inv.Records = []InvoiceRecord{r}
		if acct.Email == "" {
			return nil
		}
		sum := money.FormatIDCHFormAmount(amount)
		return tx.InsertOutboxEmail(ctx, OutboxEmail{ID: ids.New(), To: acct.Email, CreatedAt: now,
			Subject: fmt.Sprintf("Invoice %s: credit top-up of %s %s", inv.PaddedID(), sum, inv.Currency),
			Body: fmt.Sprintf("Invoice %s for billing account %d (%s)\n\nCredit top-up: %s %s\nDue: %s\n\n"+
				"Please pay by bank transfer quoting the invoice number %s. The credit is added when the payment arrives.\n",
				inv.PaddedID(), acct.ID, acct.Title, sum, inv.Currency, inv.DueAt.Format("2006-01-02"), inv.PaddedID())})
	})
	return inv, err
}

// GetInvoice returns an invoice of the caller's accounts (ID-92). A token
// restricted to one account sees only that account's invoices.
func (s *Service) GetInvoice(ctx context.Context, a actor.Actor, id int64) (Invoice, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return Invoice{}, err
	}
	inv, err := s.store.GetInvoice(ctx, a.Scope(), id)
	if err == nil && a.BillingAccount != 0 && inv.AccountID != a.BillingAccount {
		err = errs.NotFound("invoice")
	}
	if errs.Is(err, errs.KindNotFound) {
		return Invoice{}, &errs.Error{Kind: errs.KindNotFound, Field: "invoice_id", Msg: "invoice not found"}
	}
	return inv, err
}

// InvoiceByID returns any invoice, for internal callers (payments).
func (s *Service) InvoiceByID(ctx context.Context, id int64) (Invoice, error) {
	return s.store.GetInvoice(ctx, "/", id)
}

// ListInvoices returns an account's invoices, newest first (ID-93).
func (s *Service) ListInvoices(ctx context.Context, a actor.Actor, accountID int64) ([]Invoice, error) {
	acct, err := s.ResolveAccount(ctx, a, accountID)
	if err != nil {
		return nil, err
	}
	return s.store.ListInvoices(ctx, acct.ID)
}

// accountSnapshot is the account as the invoice's account_snapshot shows it:
// a JSON object written the way the seed's (Python) service writes it —
// sorted keys, ", " and ": " separators, non-ASCII as \u escapes.
func accountSnapshot(a Account, credit int64) string {
	fields := map[string]any{
		"address_line1": a.AddressLine1, "address_line2": nil, "city": a.City, "company_name": a.CompanyName,
		"company_reg_code": a.CompanyRegCode, "company_vat_number": a.CompanyVATNumber, "country": a.Country,
		"county": a.County, "created": a.CreatedAt.Unix(), "credit_amount": money.FormatIDCHMoney(money.NewAmount(credit, a.Cur())),
		"email": a.Email, "id": a.ID, "is_deleted": a.Deleted(), "post_index": a.PostIndex, "title": a.Title,
		"user_id": a.UserID,
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		pyString(&b, k)
		b.WriteString(": ")
		switch v := fields[k].(type) {
		case nil:
			b.WriteString("null")
		case string:
			pyString(&b, v)
		case bool:
			b.WriteString(strconv.FormatBool(v))
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case json.Number:
			b.WriteString(string(v))
		}
	}
	b.WriteByte('}')
	return b.String()
}

// pyString writes s as Python's json.dumps does with ensure_ascii.
func pyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r < 0x10000):
			fmt.Fprintf(b, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// validJSONObject checks that s is "" or a JSON object.
func validJSONObject(field, s string) error {
	if s == "" {
		return nil
	}
	var m map[string]json.RawMessage
	if !utf8.ValidString(s) || json.Unmarshal([]byte(s), &m) != nil || m == nil {
		return errs.Invalid(field, "must be a JSON object")
	}
	return nil
}
