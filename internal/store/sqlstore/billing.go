package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Billing is the billing.Store.
type Billing struct{ *Store }

// Tx implements billing.Store.
func (b Billing) Tx(ctx context.Context, fn func(billing.Store) error) error {
	return b.tx(ctx, func(s *Store) error { return fn(Billing{s}) })
}

var _ billing.Store = Billing{}

// ---- counters ----

// NextNumber implements billing.Queries.
func (s *Store) NextNumber(ctx context.Context, name string) (int64, error) {
	return s.NextNumbers(ctx, name, 1)
}

// NextNumbers implements billing.Queries: one conditional increment, which
// on PostgreSQL holds the counter's row lock until the transaction ends, so
// numbers are handed out in commit order and a rollback returns them. A
// counter not yet in the table starts at 0.
func (s *Store) NextNumbers(ctx context.Context, name string, n int64) (int64, error) {
	if n < 1 {
		return 0, errs.Invalid("n", "must be at least 1")
	}
	next := func() (int64, error) {
		var v int64
		err := s.w().QueryRowContext(ctx, `UPDATE counters SET value = value + CAST($2 AS BIGINT) WHERE name = $1 RETURNING value`,
			name, n).Scan(&v)
		return v, err
	}
	v, err := next()
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := s.w().ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT DO NOTHING`, name); err != nil {
			return 0, s.mapErr(err, "counter")
		}
		v, err = next()
	}
	if err != nil {
		return 0, s.mapErr(err, "counter")
	}
	return v - n + 1, nil
}

// RaiseNumber implements billing.Queries.
func (s *Store) RaiseNumber(ctx context.Context, name string, atLeast int64) error {
	if _, err := s.w().ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT DO NOTHING`, name); err != nil {
		return s.mapErr(err, "counter")
	}
	_, err := s.w().ExecContext(ctx, `UPDATE counters SET value = CAST($2 AS BIGINT) WHERE name = $1 AND value < CAST($2 AS BIGINT)`,
		name, atLeast)
	return s.mapErr(err, "counter")
}

// ---- billing accounts ----

const billingAccountCols = `id, org_id, org_path, user_id, currency, title, email, company_name, company_reg_code,
	company_vat_number, address_line1, city, county, country, post_index, send_invoice_email, vat_percentage,
	discount_percentage, allow_debt, max_debt, is_default, is_active, deleted_at, paying_by_invoice,
	is_recurring_payment_enabled, recurring_payment_amount, recurring_payment_threshold, restriction_level,
	suspend_reason, additional_data, referral_share_code, reseller, site, created_at, updated_at, managed_by`

func scanBillingAccount(sc interface{ Scan(...any) error }) (billing.Account, error) {
	var a billing.Account
	var deleted db.NullTime
	var created, updated db.Time
	var amount, threshold string
	err := sc.Scan(&a.ID, &a.OrgID, &a.OrgPath, &a.UserID, &a.Currency, &a.Title, &a.Email, &a.CompanyName,
		&a.CompanyRegCode, &a.CompanyVATNumber, &a.AddressLine1, &a.City, &a.County, &a.Country, &a.PostIndex,
		&a.SendInvoiceEmail, &a.VATPercentage, &a.DiscountPercentage, &a.AllowDebt, &a.MaxDebt, &a.IsDefault,
		&a.IsActive, &deleted, &a.PayingByInvoice, &a.RecurringEnabled, &amount, &threshold, &a.RestrictionLevel,
		&a.SuspendReason, &a.AdditionalData, &a.ReferralShareCode, &a.Reseller, &a.Site, &created, &updated,
		&a.ManagedBy)
	if err != nil {
		return billing.Account{}, err
	}
	a.DeletedAt = deleted.Ptr()
	a.CreatedAt, a.UpdatedAt = created.Time, updated.Time
	if a.RecurringAmount, err = money.ParseDecimal("recurring_payment_amount", amount); err != nil {
		return billing.Account{}, err
	}
	if a.RecurringThreshold, err = money.ParseDecimal("recurring_payment_threshold", threshold); err != nil {
		return billing.Account{}, err
	}
	return a, nil
}

// InsertBillingAccount implements billing.Queries.
func (s *Store) InsertBillingAccount(ctx context.Context, a billing.Account) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO billing_accounts (`+billingAccountCols+`) VALUES ($1, $2, $3, $4, $5,
		$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28,
		$29, $30, $31, $32, $33, $34, $35, $36)`,
		a.ID, a.OrgID, a.OrgPath, a.UserID, a.Currency, a.Title, a.Email, a.CompanyName, a.CompanyRegCode,
		a.CompanyVATNumber, a.AddressLine1, a.City, a.County, a.Country, a.PostIndex, a.SendInvoiceEmail,
		a.VATPercentage, a.DiscountPercentage, a.AllowDebt, a.MaxDebt, a.IsDefault, a.IsActive, db.TimePtr(a.DeletedAt),
		a.PayingByInvoice, a.RecurringEnabled, a.RecurringAmount.String(), a.RecurringThreshold.String(),
		a.RestrictionLevel, a.SuspendReason, a.AdditionalData, a.ReferralShareCode, a.Reseller, a.Site,
		a.CreatedAt, a.UpdatedAt, a.ManagedBy)
	return s.mapErr(err, "billing account")
}

// GetBillingAccount implements billing.Queries.
func (s *Store) GetBillingAccount(ctx context.Context, scope string, id int64) (billing.Account, error) {
	a, err := scanBillingAccount(s.r().QueryRowContext(ctx, `SELECT `+billingAccountCols+` FROM billing_accounts
		WHERE id = $1 AND `+scoped("org_path", "$2"), id, scope))
	return a, s.mapErr(err, "billing account")
}

// LockBillingAccount implements billing.Queries. The no-op update takes
// PostgreSQL's row lock with the same SQL on both databases.
func (s *Store) LockBillingAccount(ctx context.Context, id int64) (billing.Account, error) {
	a, err := scanBillingAccount(s.w().QueryRowContext(ctx, `UPDATE billing_accounts SET updated_at = updated_at
		WHERE id = $1 RETURNING `+billingAccountCols, id))
	return a, s.mapErr(err, "billing account")
}

// ListBillingAccounts implements billing.Queries.
func (s *Store) ListBillingAccounts(ctx context.Context, scope string, f billing.AccountFilter) ([]billing.Account, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+billingAccountCols+` FROM billing_accounts
		WHERE `+scoped("org_path", "$1")+` AND ($2 = '' OR org_id = $2) AND (CAST($3 AS BIGINT) = 0 OR id = CAST($3 AS BIGINT))
		AND ($4 OR deleted_at IS NULL) ORDER BY id`, scope, f.OrgID, f.ID, f.ShowShadow)
	if err != nil {
		return nil, s.mapErr(err, "billing account")
	}
	return collect(rows, scanBillingAccount)
}

// DefaultBillingAccount implements billing.Queries.
func (s *Store) DefaultBillingAccount(ctx context.Context, orgID string, userID int64) (billing.Account, error) {
	a, err := scanBillingAccount(s.r().QueryRowContext(ctx, `SELECT `+billingAccountCols+` FROM billing_accounts
		WHERE org_id = $1 AND user_id = CAST($2 AS BIGINT) AND is_default AND deleted_at IS NULL`, orgID, userID))
	return a, s.mapErr(err, "billing account")
}

// CountBillingAccounts implements billing.Queries.
func (s *Store) CountBillingAccounts(ctx context.Context, orgID string, userID int64) (int, error) {
	var n int
	err := s.r().QueryRowContext(ctx, `SELECT COUNT(*) FROM billing_accounts
		WHERE org_id = $1 AND deleted_at IS NULL
		AND (CAST($2 AS BIGINT) = 0 OR user_id = CAST($2 AS BIGINT) OR user_id = 0)`, orgID, userID).Scan(&n)
	return n, s.mapErr(err, "billing account")
}

// UpdateBillingAccount implements billing.Queries.
func (s *Store) UpdateBillingAccount(ctx context.Context, a billing.Account) error {
	res, err := s.w().ExecContext(ctx, `UPDATE billing_accounts SET title = $2, email = $3, company_name = $4,
		company_reg_code = $5, company_vat_number = $6, address_line1 = $7, city = $8, county = $9, country = $10,
		post_index = $11, send_invoice_email = $12, vat_percentage = $13, discount_percentage = $14, allow_debt = $15,
		max_debt = $16, is_active = $17, paying_by_invoice = $18, is_recurring_payment_enabled = $19,
		recurring_payment_amount = $20, recurring_payment_threshold = $21, restriction_level = $22,
		suspend_reason = $23, additional_data = $24, referral_share_code = $25, reseller = $26, site = $27,
		updated_at = $28 WHERE id = $1`,
		a.ID, a.Title, a.Email, a.CompanyName, a.CompanyRegCode, a.CompanyVATNumber, a.AddressLine1, a.City,
		a.County, a.Country, a.PostIndex, a.SendInvoiceEmail, a.VATPercentage, a.DiscountPercentage, a.AllowDebt,
		a.MaxDebt, a.IsActive, a.PayingByInvoice, a.RecurringEnabled, a.RecurringAmount.String(),
		a.RecurringThreshold.String(), a.RestrictionLevel, a.SuspendReason, a.AdditionalData, a.ReferralShareCode,
		a.Reseller, a.Site, a.UpdatedAt)
	return s.affected(res, err, "billing account")
}

// SetDefaultBillingAccount implements billing.Queries: clear the other
// defaults first (the user's and the org's userless ones, which the user
// sees beside its own), then set this one, so the partial unique index (one
// live default per org and user) holds after every statement.
func (s *Store) SetDefaultBillingAccount(ctx context.Context, id int64, at time.Time) error {
	if _, err := s.w().ExecContext(ctx, `UPDATE billing_accounts SET is_default = FALSE, updated_at = $2
		WHERE is_default AND id <> $1 AND EXISTS (SELECT 1 FROM billing_accounts t WHERE t.id = $1
			AND t.org_id = billing_accounts.org_id
			AND (t.user_id = billing_accounts.user_id OR t.user_id = 0 OR billing_accounts.user_id = 0))`,
		id, at); err != nil {
		return s.mapErr(err, "billing account")
	}
	res, err := s.w().ExecContext(ctx, `UPDATE billing_accounts SET is_default = TRUE, updated_at = $2
		WHERE id = $1 AND deleted_at IS NULL`, id, at)
	return s.affected(res, err, "billing account")
}

// SoftDeleteBillingAccount implements billing.Queries.
func (s *Store) SoftDeleteBillingAccount(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE billing_accounts SET deleted_at = $2, is_active = FALSE, updated_at = $2
		WHERE id = $1 AND deleted_at IS NULL AND NOT is_default`, id, at)
	return s.changed(res, err, "billing account")
}

// SetBillingAccountRestriction implements billing.Queries.
func (s *Store) SetBillingAccountRestriction(ctx context.Context, id int64, from, level, reason string, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE billing_accounts SET restriction_level = $3, suspend_reason = $4, updated_at = $5
		WHERE id = $1 AND restriction_level = $2 AND (restriction_level <> $3 OR suspend_reason <> $4)`,
		id, from, level, reason, at)
	return s.changed(res, err, "billing account")
}

// ListRestrictedAccounts implements billing.Queries.
func (s *Store) ListRestrictedAccounts(ctx context.Context, level string) ([]int64, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT id FROM billing_accounts WHERE restriction_level = $1 ORDER BY id`, level)
	if err != nil {
		return nil, s.mapErr(err, "billing account")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	})
}

// ---- invoices ----

const invoiceCols = `id, billing_account_id, kind, status, name, currency, period_start, period_end, created_at, due_at,
	discount_percentage, vat_percentage, subtotal, discount_amount, credit, vat_tax, total, paid_amount,
	pending_amount, paid_at, account_snapshot, ledger_transaction_id`

func scanInvoice(sc interface{ Scan(...any) error }) (billing.Invoice, error) {
	var v billing.Invoice
	var ps, pe, created, due db.Time
	var paid db.NullTime
	err := sc.Scan(&v.ID, &v.AccountID, &v.Kind, &v.Status, &v.Name, &v.Currency, &ps, &pe, &created, &due,
		&v.DiscountPercentage, &v.VATPercentage, &v.Subtotal, &v.Discount, &v.Credit, &v.VAT, &v.Total,
		&v.PaidAmount, &v.PendingAmount, &paid, &v.AccountSnapshot, &v.LedgerTransactionID)
	v.PeriodStart, v.PeriodEnd, v.CreatedAt, v.DueAt = ps.Time, pe.Time, created.Time, due.Time
	v.PaidAt = paid.Ptr()
	return v, err
}

// InsertInvoice implements billing.Queries. ON CONFLICT DO NOTHING (any
// unique index: the id, or one usage invoice per account and month) makes a
// racing invoice run wait for the first to commit and then insert nothing,
// without an error that would abort the transaction on PostgreSQL.
func (s *Store) InsertInvoice(ctx context.Context, v billing.Invoice) (bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO invoices (`+invoiceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
		$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) ON CONFLICT DO NOTHING`,
		v.ID, v.AccountID, v.Kind, v.Status, v.Name, v.Currency, v.PeriodStart, v.PeriodEnd, v.CreatedAt, v.DueAt,
		v.DiscountPercentage, v.VATPercentage, v.Subtotal, v.Discount, v.Credit, v.VAT, v.Total, v.PaidAmount,
		v.PendingAmount, db.TimePtr(v.PaidAt), v.AccountSnapshot, v.LedgerTransactionID)
	return s.changed(res, err, "invoice")
}

const invoiceRecordCols = `id, invoice_id, name, descr, location_slug, owner_uuid, qty, qty_unit, item_price, amount, created_at`

func scanInvoiceRecord(sc interface{ Scan(...any) error }) (billing.InvoiceRecord, error) {
	var r billing.InvoiceRecord
	var qty, price, amount string
	var at db.Time
	err := sc.Scan(&r.ID, &r.InvoiceID, &r.Name, &r.Descr, &r.LocationSlug, &r.OwnerUUID, &qty, &r.QtyUnit, &price, &amount, &at)
	if err != nil {
		return r, err
	}
	r.CreatedAt = at.Time
	if r.Qty, err = money.ParseDecimal("qty", qty); err != nil {
		return r, err
	}
	if r.ItemPrice, err = money.ParseDecimal("item_price", price); err != nil {
		return r, err
	}
	r.Amount, err = money.ParseDecimal("amount", amount)
	return r, err
}

// InsertInvoiceRecord implements billing.Queries.
func (s *Store) InsertInvoiceRecord(ctx context.Context, r billing.InvoiceRecord) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO invoice_records (`+invoiceRecordCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.ID, r.InvoiceID, r.Name, r.Descr, r.LocationSlug, r.OwnerUUID, r.Qty.String(), r.QtyUnit,
		r.ItemPrice.String(), r.Amount.String(), r.CreatedAt)
	return s.mapErr(err, "invoice record")
}

// GetInvoice implements billing.Queries.
func (s *Store) GetInvoice(ctx context.Context, scope string, id int64) (billing.Invoice, error) {
	v, err := scanInvoice(s.r().QueryRowContext(ctx, `SELECT `+invoiceCols+` FROM invoices WHERE id = $1
		AND billing_account_id IN (SELECT id FROM billing_accounts WHERE `+scoped("org_path", "$2")+`)`, id, scope))
	if err != nil {
		return billing.Invoice{}, s.mapErr(err, "invoice")
	}
	rows, err := s.r().QueryContext(ctx, `SELECT `+invoiceRecordCols+` FROM invoice_records WHERE invoice_id = $1 ORDER BY id`, id)
	if err != nil {
		return billing.Invoice{}, s.mapErr(err, "invoice record")
	}
	v.Records, err = collect(rows, scanInvoiceRecord)
	return v, err
}

// ListInvoices implements billing.Queries: two queries, the invoices and all
// their records.
func (s *Store) ListInvoices(ctx context.Context, accountID int64) ([]billing.Invoice, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+invoiceCols+` FROM invoices WHERE billing_account_id = $1 ORDER BY id DESC`, accountID)
	if err != nil {
		return nil, s.mapErr(err, "invoice")
	}
	out, err := collect(rows, scanInvoice)
	if err != nil || len(out) == 0 {
		return out, err
	}
	rows, err = s.r().QueryContext(ctx, `SELECT r.id, r.invoice_id, r.name, r.descr, r.location_slug, r.owner_uuid, r.qty,
		r.qty_unit, r.item_price, r.amount, r.created_at FROM invoice_records r JOIN invoices i ON i.id = r.invoice_id
		WHERE i.billing_account_id = $1 ORDER BY r.id`, accountID)
	if err != nil {
		return nil, s.mapErr(err, "invoice record")
	}
	recs, err := collect(rows, scanInvoiceRecord)
	if err != nil {
		return nil, err
	}
	idx := make(map[int64]int, len(out))
	for i, v := range out {
		idx[v.ID] = i
		out[i].Records = []billing.InvoiceRecord{}
	}
	for _, r := range recs {
		i := idx[r.InvoiceID]
		out[i].Records = append(out[i].Records, r)
	}
	return out, nil
}

// HasUsageInvoice implements billing.Queries.
func (s *Store) HasUsageInvoice(ctx context.Context, accountID int64, periodStart time.Time) (bool, error) {
	var n int
	err := s.r().QueryRowContext(ctx, `SELECT COUNT(*) FROM invoices WHERE billing_account_id = $1 AND kind = 'usage'
		AND period_start = $2`, accountID, periodStart).Scan(&n)
	return n > 0, s.mapErr(err, "invoice")
}

// InvoicedAccounts implements billing.Queries (one index scan per month, so
// an invoice run that has nothing left to do costs one query).
func (s *Store) InvoicedAccounts(ctx context.Context, periodStart time.Time) ([]int64, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT billing_account_id FROM invoices WHERE kind = 'usage' AND period_start = $1
		ORDER BY billing_account_id`, periodStart)
	if err != nil {
		return nil, s.mapErr(err, "invoice")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	})
}

// UnpaidInvoiceTotal implements billing.Queries.
func (s *Store) UnpaidInvoiceTotal(ctx context.Context, accountID int64) (int64, error) {
	var n int64
	err := s.r().QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(total - paid_amount), 0) AS BIGINT) FROM invoices
		WHERE billing_account_id = $1 AND kind = 'usage' AND status = 5`, accountID).Scan(&n)
	return n, s.mapErr(err, "invoice")
}

// ListOverdue implements billing.Queries.
func (s *Store) ListOverdue(ctx context.Context, at time.Time) ([]billing.Overdue, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT i.billing_account_id, MIN(i.id) FROM invoices i
		JOIN billing_accounts a ON a.id = i.billing_account_id
		WHERE i.status = 5 AND i.kind = 'usage' AND i.due_at <= $1 AND a.restriction_level = ''
		GROUP BY i.billing_account_id ORDER BY i.billing_account_id`, at)
	if err != nil {
		return nil, s.mapErr(err, "invoice")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (billing.Overdue, error) {
		var o billing.Overdue
		return o, sc.Scan(&o.AccountID, &o.InvoiceID)
	})
}

// OldestOverdueInvoice implements billing.Queries.
func (s *Store) OldestOverdueInvoice(ctx context.Context, accountID int64, at time.Time) (int64, bool, error) {
	var id int64
	err := s.r().QueryRowContext(ctx, `SELECT id FROM invoices WHERE billing_account_id = $1 AND status = 5
		AND kind = 'usage' AND due_at <= $2 ORDER BY id LIMIT 1`, accountID, at).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, s.mapErr(err, "invoice")
	}
	return id, true, nil
}

// ---- credit records and outbox ----

// InsertCreditRecord implements billing.Queries.
func (s *Store) InsertCreditRecord(ctx context.Context, c billing.CreditRecord) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO credit_records (id, billing_account_id, amount, description, created_at,
		ledger_transaction_id) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.AccountID, c.Amount, c.Description, c.CreatedAt, c.LedgerTransactionID)
	return s.mapErr(err, "credit record")
}

// ListCreditRecords implements billing.Queries.
func (s *Store) ListCreditRecords(ctx context.Context, accountID int64) ([]billing.CreditRecord, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT id, billing_account_id, amount, description, created_at, ledger_transaction_id
		FROM credit_records WHERE billing_account_id = $1 ORDER BY id DESC`, accountID)
	if err != nil {
		return nil, s.mapErr(err, "credit record")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (billing.CreditRecord, error) {
		var c billing.CreditRecord
		var at db.Time
		err := sc.Scan(&c.ID, &c.AccountID, &c.Amount, &c.Description, &at, &c.LedgerTransactionID)
		c.CreatedAt = at.Time
		return c, err
	})
}

// InsertOutboxEmail implements billing.Queries.
func (s *Store) InsertOutboxEmail(ctx context.Context, e billing.OutboxEmail) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO outbox_emails (id, to_address, subject, body, created_at, sent_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, e.ID, e.To, e.Subject, e.Body, e.CreatedAt, db.TimePtr(e.SentAt))
	return s.mapErr(err, "e-mail")
}

// ListOutboxEmails implements billing.Queries.
func (s *Store) ListOutboxEmails(ctx context.Context, limit int) ([]billing.OutboxEmail, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT id, to_address, subject, body, created_at, sent_at FROM outbox_emails
		WHERE sent_at IS NULL ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, s.mapErr(err, "e-mail")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (billing.OutboxEmail, error) {
		var e billing.OutboxEmail
		var at db.Time
		var sent db.NullTime
		err := sc.Scan(&e.ID, &e.To, &e.Subject, &e.Body, &at, &sent)
		e.CreatedAt, e.SentAt = at.Time, sent.Ptr()
		return e, err
	})
}
