package sqlstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

const contractCols = `id, parent_org_id, org_id, org_path, reserved_capacity, allocated_capacity,
	cost_storage_gb_cents, cost_egress_gb_cents, currency, details, created_at, updated_at`

func scanContract(sc interface{ Scan(...any) error }) (tenancy.Contract, error) {
	var c tenancy.Contract
	var created, updated db.Time
	err := sc.Scan(&c.ID, &c.ParentOrgID, &c.OrgID, &c.OrgPath, &c.ReservedCapacity, &c.AllocatedCapacity,
		&c.CostStorageGBCents, &c.CostEgressGBCents, &c.Currency, &c.Details, &created, &updated)
	c.CreatedAt, c.UpdatedAt = created.Time, updated.Time
	return c, err
}

// InsertContract implements tenancy.Store.
func (s *Store) InsertContract(ctx context.Context, c tenancy.Contract) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO contracts (id, parent_org_id, org_id, org_path, reserved_capacity,
		allocated_capacity, cost_storage_gb_cents, cost_egress_gb_cents, currency, details, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.ParentOrgID, c.OrgID, c.OrgPath, c.ReservedCapacity, c.CostStorageGBCents, c.CostEgressGBCents,
		c.Currency, c.Details, c.CreatedAt, c.UpdatedAt)
	return s.mapErr(err, "contract")
}

// GetContract implements tenancy.Store.
func (s *Store) GetContract(ctx context.Context, scope, id string) (tenancy.Contract, error) {
	c, err := scanContract(s.r().QueryRowContext(ctx, `SELECT `+contractCols+` FROM contracts
		WHERE id = $1 AND `+scoped("org_path", "$2"), id, scope))
	return c, s.mapErr(err, "contract")
}

// ListContracts implements tenancy.Store.
func (s *Store) ListContracts(ctx context.Context, scope, after string, limit int) ([]tenancy.Contract, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+contractCols+` FROM contracts
		WHERE `+scoped("org_path", "$1")+` AND id > $2 ORDER BY id LIMIT $3`, scope, after, limit)
	if err != nil {
		return nil, s.mapErr(err, "contract")
	}
	return collect(rows, scanContract)
}

// UpdateContractTerms implements tenancy.Store (prices, currency, details).
func (s *Store) UpdateContractTerms(ctx context.Context, c tenancy.Contract) error {
	res, err := s.w().ExecContext(ctx, `UPDATE contracts SET cost_storage_gb_cents = $2, cost_egress_gb_cents = $3,
		currency = $4, details = $5, updated_at = $6 WHERE id = $1`,
		c.ID, c.CostStorageGBCents, c.CostEgressGBCents, c.Currency, c.Details, c.UpdatedAt)
	return s.affected(res, err, "contract")
}

// SetContractReserved implements tenancy.Store.
func (s *Store) SetContractReserved(ctx context.Context, id string, reserved int64, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE contracts SET reserved_capacity = $2, updated_at = $3
		WHERE id = $1 AND allocated_capacity <= $2`, id, reserved, at)
	return s.changed(res, err, "contract")
}

// AddContractAllocation implements tenancy.Store: the conditional update
// that keeps Σ partners ≤ reserved under concurrency. The bounds are written
// as differences so no sum can overflow int64.
func (s *Store) AddContractAllocation(ctx context.Context, id string, delta int64, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE contracts SET allocated_capacity = allocated_capacity + $2, updated_at = $3
		WHERE id = $1 AND CAST($2 AS BIGINT) >= -allocated_capacity
		AND CAST($2 AS BIGINT) <= reserved_capacity - allocated_capacity`, id, delta, at)
	return s.changed(res, err, "contract")
}

// CountContractPartners implements tenancy.Store.
func (s *Store) CountContractPartners(ctx context.Context, id string) (int, error) {
	return s.count(ctx, `SELECT COUNT(*) FROM orgs WHERE contract_id = $1`, id)
}

// DeleteContract implements tenancy.Store.
func (s *Store) DeleteContract(ctx context.Context, id string) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM contracts WHERE id = $1`, id)
	return s.affected(res, err, "contract")
}
