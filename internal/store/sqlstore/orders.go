package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Orders is the orders.Store.
type Orders struct{ *Store }

// Tx implements orders.Store.
func (o Orders) Tx(ctx context.Context, fn func(orders.Store) error) error {
	return o.tx(ctx, func(s *Store) error { return fn(Orders{s}) })
}

var _ orders.Store = Orders{}

// ---- catalogs ----

// GetResellerCatalog implements orders.Queries.
func (s *Store) GetResellerCatalog(ctx context.Context, kind string) (json.RawMessage, time.Time, error) {
	var body string
	var at db.Time
	err := s.r().QueryRowContext(ctx, `SELECT body, updated_at FROM reseller_catalogs WHERE kind = $1`, kind).
		Scan(&body, &at)
	if err != nil {
		return nil, time.Time{}, s.mapErr(err, "catalog")
	}
	return json.RawMessage(body), at.Time, nil
}

// PutResellerCatalog implements orders.Queries.
func (s *Store) PutResellerCatalog(ctx context.Context, kind string, body json.RawMessage, at time.Time) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO reseller_catalogs (kind, body, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (kind) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, kind, string(body), at)
	return s.mapErr(err, "catalog")
}

// InsertResellerCatalogIfAbsent implements orders.Queries.
func (s *Store) InsertResellerCatalogIfAbsent(ctx context.Context, kind string, body json.RawMessage, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO reseller_catalogs (kind, body, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (kind) DO NOTHING`, kind, string(body), at)
	return s.changed(res, err, "catalog")
}

// ---- orders ----

const resellerOrderCols = `id, partner_id, partner_path, project_id, kind, name, location, spec, parent_id, state,
	currency, monthly_price, daily_price, next_charge_at, project_blocked, provider_ref, secret_hash, last_error,
	created_at, updated_at, deleted_at`

func scanResellerOrder(sc interface{ Scan(...any) error }) (orders.Order, error) {
	var o orders.Order
	var spec string
	var next, created, updated db.Time
	var deleted db.NullTime
	err := sc.Scan(&o.ID, &o.PartnerID, &o.PartnerPath, &o.ProjectID, &o.Kind, &o.Name, &o.Location, &spec,
		&o.ParentID, &o.State, &o.Currency, &o.MonthlyPrice, &o.DailyPrice, &next, &o.ProjectBlocked, &o.ProviderRef,
		&o.SecretHash, &o.LastError, &created, &updated, &deleted)
	o.Spec = json.RawMessage(spec)
	o.NextChargeAt, o.CreatedAt, o.UpdatedAt, o.DeletedAt = next.Time, created.Time, updated.Time, deleted.Ptr()
	return o, err
}

// InsertResellerOrder implements orders.Queries.
func (s *Store) InsertResellerOrder(ctx context.Context, o orders.Order) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO reseller_orders (`+resellerOrderCols+`) VALUES ($1, $2, $3, $4, $5,
		$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		o.ID, o.PartnerID, o.PartnerPath, o.ProjectID, o.Kind, o.Name, o.Location, string(o.Spec), o.ParentID, o.State,
		o.Currency, o.MonthlyPrice, o.DailyPrice, o.NextChargeAt, o.ProjectBlocked, o.ProviderRef, o.SecretHash,
		o.LastError, o.CreatedAt, o.UpdatedAt, db.TimePtr(o.DeletedAt))
	return s.mapErr(err, "order")
}

// GetResellerOrder implements orders.Queries.
func (s *Store) GetResellerOrder(ctx context.Context, scope string, id int64) (orders.Order, error) {
	o, err := scanResellerOrder(s.r().QueryRowContext(ctx, `SELECT `+resellerOrderCols+` FROM reseller_orders
		WHERE id = $1 AND `+scoped("partner_path", "$2"), id, scope))
	return o, s.mapErr(err, "order")
}

// LockResellerOrder implements orders.Queries. The no-op update takes
// PostgreSQL's row lock with the same SQL on both databases.
func (s *Store) LockResellerOrder(ctx context.Context, id int64) (orders.Order, error) {
	o, err := scanResellerOrder(s.w().QueryRowContext(ctx, `UPDATE reseller_orders SET updated_at = updated_at
		WHERE id = $1 RETURNING `+resellerOrderCols, id))
	return o, s.mapErr(err, "order")
}

// ListResellerOrders implements orders.Queries.
func (s *Store) ListResellerOrders(ctx context.Context, f orders.OrderFilter) ([]orders.Order, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+resellerOrderCols+` FROM reseller_orders
		WHERE `+scoped("partner_path", "$1")+` AND (CAST($2 AS BIGINT) = 0 OR project_id = CAST($2 AS BIGINT))
		AND ($3 = '' OR kind = $3) AND ($4 OR state <> 'Deleted') ORDER BY id`,
		f.Scope, f.ProjectID, f.Kind, f.WithDeleted)
	if err != nil {
		return nil, s.mapErr(err, "order")
	}
	return collect(rows, scanResellerOrder)
}

// UpdateResellerOrder implements orders.Queries.
func (s *Store) UpdateResellerOrder(ctx context.Context, o orders.Order) error {
	res, err := s.w().ExecContext(ctx, `UPDATE reseller_orders SET state = $2, provider_ref = $3, last_error = $4,
		project_blocked = $5, next_charge_at = $6, updated_at = $7, deleted_at = $8 WHERE id = $1`,
		o.ID, o.State, o.ProviderRef, o.LastError, o.ProjectBlocked, o.NextChargeAt, o.UpdatedAt, db.TimePtr(o.DeletedAt))
	return s.affected(res, err, "order")
}

// AdvanceResellerOrderCharge implements orders.Queries.
func (s *Store) AdvanceResellerOrderCharge(ctx context.Context, id int64, from, to, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE reseller_orders SET next_charge_at = $3, updated_at = $4
		WHERE id = $1 AND next_charge_at = $2`, id, from, to, at)
	return s.changed(res, err, "order")
}

// DueResellerOrders implements orders.Queries.
func (s *Store) DueResellerOrders(ctx context.Context, at time.Time, limit int) ([]int64, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT id FROM reseller_orders WHERE state = 'Active' AND next_charge_at <= $1
		ORDER BY id LIMIT $2`, at, limit)
	if err != nil {
		return nil, s.mapErr(err, "order")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	})
}

// SetResellerProjectOrdersBlocked implements orders.Queries.
func (s *Store) SetResellerProjectOrdersBlocked(ctx context.Context, projectID int64, blocked bool, at time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, func(s *Store) error {
		from, to := "Active", "Blocked"
		if !blocked {
			from, to = "Blocked", "Active"
		}
		res, err := s.w().ExecContext(ctx, `UPDATE reseller_orders SET state = $3, updated_at = $4,
			next_charge_at = CASE WHEN $5 AND next_charge_at < $4 THEN $4 ELSE next_charge_at END
			WHERE project_id = $1 AND state = $2`, projectID, from, to, at, !blocked)
		if err != nil {
			return s.mapErr(err, "order")
		}
		if n, err = res.RowsAffected(); err != nil {
			return s.mapErr(err, "order")
		}
		_, err = s.w().ExecContext(ctx, `UPDATE reseller_orders SET project_blocked = $2
			WHERE project_id = $1 AND state <> 'Deleted' AND project_blocked <> $2`, projectID, blocked)
		return s.mapErr(err, "order")
	})
	return int(n), err
}

// CountLiveResellerOrders implements orders.Queries.
func (s *Store) CountLiveResellerOrders(ctx context.Context, projectID int64) (int, error) {
	var n int
	err := s.r().QueryRowContext(ctx, `SELECT COUNT(*) FROM reseller_orders WHERE project_id = $1 AND state <> 'Deleted'`,
		projectID).Scan(&n)
	return n, s.mapErr(err, "order")
}
