package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/payment"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Payment is the payment.Store.
type Payment struct{ *Store }

// Tx implements payment.Store.
func (p Payment) Tx(ctx context.Context, fn func(payment.Store) error) error {
	return p.tx(ctx, func(s *Store) error { return fn(Payment{s}) })
}

var _ payment.Store = Payment{}

// jsonText is a JSON column's value: "{}" for an empty document.
func jsonText(b json.RawMessage) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

// ---- customers ----

// InsertPaymentCustomer implements payment.Queries.
func (s *Store) InsertPaymentCustomer(ctx context.Context, c payment.Customer) (bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO payment_customers (id, billing_account_id, processor, customer_ref, created_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (billing_account_id, processor) DO NOTHING`,
		c.ID, c.AccountID, c.Processor, c.CustomerRef, c.CreatedAt)
	return s.changed(res, err, "payment customer")
}

// GetPaymentCustomer implements payment.Queries.
func (s *Store) GetPaymentCustomer(ctx context.Context, accountID int64, processor string) (payment.Customer, error) {
	var c payment.Customer
	var at db.Time
	err := s.r().QueryRowContext(ctx, `SELECT id, billing_account_id, processor, customer_ref, created_at
		FROM payment_customers WHERE billing_account_id = $1 AND processor = $2`, accountID, processor).
		Scan(&c.ID, &c.AccountID, &c.Processor, &c.CustomerRef, &at)
	c.CreatedAt = at.Time
	return c, s.mapErr(err, "payment customer")
}

// ---- payment objects ----

const paymentObjectCols = `o.id, o.billing_account_id, o.customer_id, o.kind, o.identifier, o.brand, o.last4,
	o.exp_month, o.exp_year, o.holder, o.additional_data, o.is_primary, o.is_verified, o.valid_thru,
	o.created_at, o.updated_at, o.verified_at, o.deleted_at`

func scanPaymentObject(sc interface{ Scan(...any) error }) (payment.PaymentObject, error) {
	var o payment.PaymentObject
	var kind, data string
	var validThru, created, updated db.Time
	var verified, deleted db.NullTime
	err := sc.Scan(&o.ID, &o.AccountID, &o.CustomerID, &kind, &o.Identifier, &o.Brand, &o.Last4, &o.ExpMonth,
		&o.ExpYear, &o.Holder, &data, &o.IsPrimary, &o.IsVerified, &validThru, &created, &updated, &verified, &deleted)
	o.Kind = payment.MethodKind(kind)
	o.AdditionalData = json.RawMessage(data)
	o.ValidThru, o.CreatedAt, o.UpdatedAt = validThru.Time, created.Time, updated.Time
	o.VerifiedAt, o.DeletedAt = verified.Ptr(), deleted.Ptr()
	return o, err
}

// InsertPaymentObject implements payment.Queries.
func (s *Store) InsertPaymentObject(ctx context.Context, o payment.PaymentObject) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO payment_objects (id, billing_account_id, customer_id, kind, identifier,
		brand, last4, exp_month, exp_year, holder, additional_data, is_primary, is_verified, valid_thru, created_at,
		updated_at, verified_at, deleted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
		$16, $17, $18)`,
		o.ID, o.AccountID, o.CustomerID, string(o.Kind), o.Identifier, o.Brand, o.Last4, o.ExpMonth, o.ExpYear,
		o.Holder, jsonText(o.AdditionalData), o.IsPrimary, o.IsVerified, o.ValidThru, o.CreatedAt, o.UpdatedAt,
		db.TimePtr(o.VerifiedAt), db.TimePtr(o.DeletedAt))
	return s.mapErr(err, "payment object")
}

// GetPaymentObject implements payment.Queries.
func (s *Store) GetPaymentObject(ctx context.Context, scope string, id int64) (payment.PaymentObject, error) {
	o, err := scanPaymentObject(s.r().QueryRowContext(ctx, `SELECT `+paymentObjectCols+` FROM payment_objects o
		JOIN billing_accounts b ON b.id = o.billing_account_id
		WHERE o.id = $1 AND `+scoped("b.org_path", "$2"), id, scope))
	return o, s.mapErr(err, "payment object")
}

// ListPaymentObjects implements payment.Queries.
func (s *Store) ListPaymentObjects(ctx context.Context, accountID int64) ([]payment.PaymentObject, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+paymentObjectCols+` FROM payment_objects o
		WHERE o.billing_account_id = $1 AND o.deleted_at IS NULL ORDER BY o.id`, accountID)
	if err != nil {
		return nil, s.mapErr(err, "payment object")
	}
	return collect(rows, scanPaymentObject)
}

// GetPrimaryPaymentObject implements payment.Queries.
func (s *Store) GetPrimaryPaymentObject(ctx context.Context, accountID int64) (payment.PaymentObject, error) {
	o, err := scanPaymentObject(s.r().QueryRowContext(ctx, `SELECT `+paymentObjectCols+` FROM payment_objects o
		WHERE o.billing_account_id = $1 AND o.is_primary`, accountID))
	return o, s.mapErr(err, "primary payment object")
}

// GetInvoicePaymentObject implements payment.Queries.
func (s *Store) GetInvoicePaymentObject(ctx context.Context, accountID int64) (payment.PaymentObject, error) {
	o, err := scanPaymentObject(s.r().QueryRowContext(ctx, `SELECT `+paymentObjectCols+` FROM payment_objects o
		WHERE o.billing_account_id = $1 AND o.kind = 'invoice' AND o.deleted_at IS NULL`, accountID))
	return o, s.mapErr(err, "invoice payment object")
}

// SetPrimaryPaymentObject implements payment.Queries. The old primary is
// unmarked first, so the partial unique index never sees two, and only if
// the new one qualifies, so a refused change leaves the old primary. The
// two statements rely on the caller's account lock to see the same target.
func (s *Store) SetPrimaryPaymentObject(ctx context.Context, accountID, id int64, at time.Time) (bool, error) {
	_, err := s.w().ExecContext(ctx, `UPDATE payment_objects SET is_primary = FALSE, updated_at = $3
		WHERE billing_account_id = $1 AND is_primary AND id <> $2
		AND EXISTS (SELECT 1 FROM payment_objects t WHERE t.id = $2 AND t.billing_account_id = $1
			AND t.is_verified AND t.deleted_at IS NULL)`, accountID, id, at)
	if err != nil {
		return false, s.mapErr(err, "payment object")
	}
	if _, err := s.w().ExecContext(ctx, `UPDATE payment_objects SET is_primary = TRUE, updated_at = $3
		WHERE id = $1 AND billing_account_id = $2 AND NOT is_primary AND is_verified AND deleted_at IS NULL`,
		id, accountID, at); err != nil {
		return false, s.mapErr(err, "payment object")
	}
	var primary bool
	err = s.w().QueryRowContext(ctx, `SELECT is_primary FROM payment_objects WHERE id = $1 AND billing_account_id = $2`,
		id, accountID).Scan(&primary)
	return primary, s.mapErr(err, "payment object")
}

// VerifyPaymentObject implements payment.Queries.
func (s *Store) VerifyPaymentObject(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE payment_objects SET is_verified = TRUE, verified_at = $2, updated_at = $2
		WHERE id = $1 AND NOT is_verified AND deleted_at IS NULL`, id, at)
	return s.changed(res, err, "payment object")
}

// DeletePaymentObject implements payment.Queries.
func (s *Store) DeletePaymentObject(ctx context.Context, id int64, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE payment_objects SET deleted_at = $2, is_primary = FALSE, updated_at = $2
		WHERE id = $1 AND deleted_at IS NULL`, id, at)
	return s.changed(res, err, "payment object")
}

// ---- charges ----

const chargeCols = `id, billing_account_id, purpose, source, payment_object_id, idempotency_key, request_hash, currency,
	requested, amount, status, identifier, customer_ref, method_ref, description, additional_data, error,
	ledger_transaction_id, created_at, updated_at, finished_at`

func scanCharge(sc interface{ Scan(...any) error }) (payment.Charge, error) {
	var c payment.Charge
	var purpose, source, status, data string
	var object sql.NullInt64
	var created, updated db.Time
	var finished db.NullTime
	err := sc.Scan(&c.ID, &c.AccountID, &purpose, &source, &object, &c.IdempotencyKey, &c.RequestHash, &c.Currency,
		&c.Requested, &c.Amount, &status, &c.Identifier, &c.CustomerRef, &c.MethodRef, &c.Description, &data, &c.Error,
		&c.LedgerTransactionID, &created, &updated, &finished)
	c.Purpose, c.Source, c.Status = payment.ChargePurpose(purpose), payment.ChargeSource(source), payment.ChargeStatus(status)
	c.PaymentObjectID = object.Int64
	c.AdditionalData = json.RawMessage(data)
	c.CreatedAt, c.UpdatedAt, c.FinishedAt = created.Time, updated.Time, finished.Ptr()
	return c, err
}

// InsertCharge implements payment.Queries. ON CONFLICT DO NOTHING makes a
// racing request with the same key wait for the first to commit and then
// insert nothing, without an error that would abort the transaction on
// PostgreSQL.
func (s *Store) InsertCharge(ctx context.Context, c payment.Charge) (bool, error) {
	var object any
	if c.PaymentObjectID != 0 {
		object = c.PaymentObjectID
	}
	var inserted bool
	err := s.tx(ctx, func(s *Store) error {
		res, err := s.w().ExecContext(ctx, `INSERT INTO charges (`+chargeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
			$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) ON CONFLICT (idempotency_key) DO NOTHING`,
			c.ID, c.AccountID, string(c.Purpose), string(c.Source), object, c.IdempotencyKey, c.RequestHash, c.Currency,
			c.Requested, c.Amount, string(c.Status), c.Identifier, c.CustomerRef, c.MethodRef, c.Description,
			jsonText(c.AdditionalData), c.Error, c.LedgerTransactionID, c.CreatedAt, c.UpdatedAt, db.TimePtr(c.FinishedAt))
		if inserted, err = s.changed(res, err, "charge"); err != nil || !inserted {
			return err
		}
		for _, a := range c.Allocations {
			if _, err := s.w().ExecContext(ctx, `INSERT INTO charge_allocations (charge_id, invoice_id, position, amount)
				VALUES ($1, $2, $3, $4)`, c.ID, a.InvoiceID, a.Position, a.Amount); err != nil {
				return s.mapErr(err, "charge allocation")
			}
		}
		return nil
	})
	return inserted, err
}

// GetCharge implements payment.Queries.
func (s *Store) GetCharge(ctx context.Context, id int64) (payment.Charge, error) {
	return s.charge(ctx, `SELECT `+chargeCols+` FROM charges WHERE id = $1`, id)
}

// GetChargeByKey implements payment.Queries.
func (s *Store) GetChargeByKey(ctx context.Context, key string) (payment.Charge, error) {
	return s.charge(ctx, `SELECT `+chargeCols+` FROM charges WHERE idempotency_key = $1`, key)
}

func (s *Store) charge(ctx context.Context, q string, arg any) (payment.Charge, error) {
	c, err := scanCharge(s.r().QueryRowContext(ctx, q, arg))
	if err != nil {
		return payment.Charge{}, s.mapErr(err, "charge")
	}
	cs := []payment.Charge{c}
	err = s.allocations(ctx, cs, `charge_id = $1`, c.ID)
	return cs[0], err
}

// allocations fills in the allocations of cs, read by one query whose
// condition (on charge_allocations) selects at least theirs.
func (s *Store) allocations(ctx context.Context, cs []payment.Charge, where string, args ...any) error {
	if len(cs) == 0 {
		return nil
	}
	rows, err := s.r().QueryContext(ctx, `SELECT charge_id, invoice_id, position, amount FROM charge_allocations
		WHERE `+where+` ORDER BY charge_id, position`, args...)
	if err != nil {
		return s.mapErr(err, "charge allocation")
	}
	all, err := collect(rows, func(sc interface{ Scan(...any) error }) (payment.Allocation, error) {
		var a payment.Allocation
		err := sc.Scan(&a.ChargeID, &a.InvoiceID, &a.Position, &a.Amount)
		return a, err
	})
	if err != nil {
		return err
	}
	idx := make(map[int64]int, len(cs))
	for i := range cs {
		idx[cs[i].ID] = i
	}
	for _, a := range all {
		if i, ok := idx[a.ChargeID]; ok {
			cs[i].Allocations = append(cs[i].Allocations, a)
		}
	}
	return nil
}

// FinishCharge implements payment.Queries.
func (s *Store) FinishCharge(ctx context.Context, id int64, status payment.ChargeStatus, identifier string, data json.RawMessage,
	errMsg, ledgerTransactionID string, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE charges SET status = $2, identifier = $3, additional_data = $4, error = $5,
		ledger_transaction_id = $6, updated_at = $7, finished_at = $7 WHERE id = $1 AND status = 'pending'`,
		id, string(status), identifier, jsonText(data), errMsg, ledgerTransactionID, at)
	return s.changed(res, err, "charge")
}

// ListPendingCharges implements payment.Queries.
func (s *Store) ListPendingCharges(ctx context.Context, before time.Time, limit int) ([]payment.Charge, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+chargeCols+` FROM charges
		WHERE status = 'pending' AND created_at <= $1 ORDER BY created_at, id LIMIT $2`, before, limit)
	if err != nil {
		return nil, s.mapErr(err, "charge")
	}
	cs, err := collect(rows, scanCharge)
	if err != nil {
		return nil, err
	}
	err = s.allocations(ctx, cs, `charge_id IN (SELECT id FROM charges WHERE status = 'pending' AND created_at <= $1)`, before)
	return cs, err
}

// ListAccountCharges implements payment.Queries.
func (s *Store) ListAccountCharges(ctx context.Context, accountID int64) ([]payment.Charge, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+chargeCols+` FROM charges WHERE billing_account_id = $1
		ORDER BY id DESC`, accountID)
	if err != nil {
		return nil, s.mapErr(err, "charge")
	}
	cs, err := collect(rows, scanCharge)
	if err != nil {
		return nil, err
	}
	err = s.allocations(ctx, cs, `charge_id IN (SELECT id FROM charges WHERE billing_account_id = $1)`, accountID)
	return cs, err
}

// ListInvoiceTransactions implements payment.Queries.
func (s *Store) ListInvoiceTransactions(ctx context.Context, invoiceID int64) ([]payment.InvoiceTransaction, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT c.id, c.identifier, a.amount, c.currency, c.created_at,
		c.payment_object_id, c.additional_data FROM charge_allocations a JOIN charges c ON c.id = a.charge_id
		WHERE a.invoice_id = $1 AND c.status = 'succeeded' ORDER BY c.id`, invoiceID)
	if err != nil {
		return nil, s.mapErr(err, "charge")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (payment.InvoiceTransaction, error) {
		var t payment.InvoiceTransaction
		var object sql.NullInt64
		var at db.Time
		var data string
		err := sc.Scan(&t.ID, &t.Identifier, &t.Amount, &t.Currency, &at, &object, &data)
		t.Created, t.PaymentObjectID, t.AdditionalData = at.Time, object.Int64, json.RawMessage(data)
		return t, err
	})
}

// ---- invoices, as payments see them ----

const openInvoiceCols = `i.id, i.billing_account_id, i.kind, i.status, i.currency, i.total, i.paid_amount,
	i.pending_amount, i.created_at`

func scanOpenInvoice(sc interface{ Scan(...any) error }) (payment.OpenInvoice, error) {
	var o payment.OpenInvoice
	var at db.Time
	err := sc.Scan(&o.ID, &o.AccountID, &o.Kind, &o.Status, &o.Currency, &o.Total, &o.PaidAmount, &o.PendingAmount, &at)
	o.CreatedAt = at.Time
	return o, err
}

// ListOpenInvoices implements payment.Queries. Oldest first is creation
// order; invoice numbers are handed out in that order too.
func (s *Store) ListOpenInvoices(ctx context.Context, accountID int64, usageOnly bool) ([]payment.OpenInvoice, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+openInvoiceCols+` FROM invoices i
		WHERE i.billing_account_id = $1 AND i.status = $2 AND ($3 = FALSE OR i.kind = $4)
		ORDER BY i.created_at, i.id`, accountID, billing.StatusUnpaid, usageOnly, billing.KindUsage)
	if err != nil {
		return nil, s.mapErr(err, "invoice")
	}
	return collect(rows, scanOpenInvoice)
}

// GetOpenInvoice implements payment.Queries.
func (s *Store) GetOpenInvoice(ctx context.Context, scope string, id int64) (payment.OpenInvoice, error) {
	o, err := scanOpenInvoice(s.r().QueryRowContext(ctx, `SELECT `+openInvoiceCols+` FROM invoices i
		JOIN billing_accounts b ON b.id = i.billing_account_id
		WHERE i.id = $1 AND `+scoped("b.org_path", "$2"), id, scope))
	return o, s.mapErr(err, "invoice")
}

// ReserveInvoiceAmount implements payment.Queries.
func (s *Store) ReserveInvoiceAmount(ctx context.Context, invoiceID, amount int64, at time.Time) (bool, error) {
	if amount <= 0 {
		return false, errs.Newf(errs.KindInternal, "sqlstore: reserve %d on invoice %d", amount, invoiceID)
	}
	res, err := s.w().ExecContext(ctx, `UPDATE invoices SET pending_amount = pending_amount + CAST($2 AS BIGINT)
		WHERE id = $1 AND status = $3 AND paid_amount + pending_amount + CAST($2 AS BIGINT) <= total`,
		invoiceID, amount, billing.StatusUnpaid)
	return s.changed(res, err, "invoice")
}

// ReleaseInvoiceAmount implements payment.Queries.
func (s *Store) ReleaseInvoiceAmount(ctx context.Context, invoiceID, amount int64, at time.Time) (bool, error) {
	if amount <= 0 {
		return false, errs.Newf(errs.KindInternal, "sqlstore: release %d on invoice %d", amount, invoiceID)
	}
	res, err := s.w().ExecContext(ctx, `UPDATE invoices SET pending_amount = pending_amount - CAST($2 AS BIGINT)
		WHERE id = $1 AND pending_amount >= CAST($2 AS BIGINT)`, invoiceID, amount)
	return s.changed(res, err, "invoice")
}

// SettleInvoiceAmount implements payment.Queries: the amounts move in one
// conditional update, then a second marks the invoice paid if it now is.
func (s *Store) SettleInvoiceAmount(ctx context.Context, invoiceID, amount int64, fromPending bool, at time.Time) (bool, error) {
	if amount <= 0 {
		return false, errs.Newf(errs.KindInternal, "sqlstore: settle %d on invoice %d", amount, invoiceID)
	}
	var ok bool
	err := s.tx(ctx, func(s *Store) error {
		q := `UPDATE invoices SET paid_amount = paid_amount + CAST($2 AS BIGINT)
			WHERE id = $1 AND status = $3 AND paid_amount + pending_amount + CAST($2 AS BIGINT) <= total`
		if fromPending {
			q = `UPDATE invoices SET paid_amount = paid_amount + CAST($2 AS BIGINT),
				pending_amount = pending_amount - CAST($2 AS BIGINT)
				WHERE id = $1 AND status = $3 AND pending_amount >= CAST($2 AS BIGINT)`
		}
		res, err := s.w().ExecContext(ctx, q, invoiceID, amount, billing.StatusUnpaid)
		if ok, err = s.changed(res, err, "invoice"); err != nil || !ok {
			return err
		}
		_, err = s.w().ExecContext(ctx, `UPDATE invoices SET status = $2, paid_at = $3
			WHERE id = $1 AND status = $4 AND paid_amount = total`, invoiceID, billing.StatusPaid, at, billing.StatusUnpaid)
		return s.mapErr(err, "invoice")
	})
	return ok, err
}

// ---- jobs ----

// ListRecurringAccounts implements payment.Queries.
func (s *Store) ListRecurringAccounts(ctx context.Context) ([]payment.RecurringAccount, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT id, recurring_payment_amount, recurring_payment_threshold, currency
		FROM billing_accounts WHERE is_recurring_payment_enabled AND deleted_at IS NULL ORDER BY id`)
	if err != nil {
		return nil, s.mapErr(err, "billing account")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (payment.RecurringAccount, error) {
		var r payment.RecurringAccount
		var amount, threshold string
		if err := sc.Scan(&r.AccountID, &amount, &threshold, &r.Currency); err != nil {
			return r, err
		}
		var err error
		if r.Amount, err = money.ParseDecimal("recurring_payment_amount", amount); err != nil {
			return r, err
		}
		r.Threshold, err = money.ParseDecimal("recurring_payment_threshold", threshold)
		return r, err
	})
}

// ListAutoPayInvoices implements payment.Queries.
func (s *Store) ListAutoPayInvoices(ctx context.Context, keyPrefix string, at time.Time, limit int) ([]int64, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT i.id FROM invoices i
		JOIN payment_objects o ON o.billing_account_id = i.billing_account_id AND o.is_primary AND o.kind = 'card'
		WHERE i.status = $1 AND i.kind = $2 AND i.created_at <= $3
		AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.idempotency_key = CAST($4 AS TEXT) || CAST(i.id AS TEXT))
		ORDER BY i.created_at, i.id LIMIT $5`, billing.StatusUnpaid, billing.KindUsage, at, keyPrefix, limit)
	if err != nil {
		return nil, s.mapErr(err, "invoice")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (int64, error) {
		var id int64
		err := sc.Scan(&id)
		return id, err
	})
}
