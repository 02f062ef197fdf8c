package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

const orgCols = `id, kind, COALESCE(parent_id, ''), path, name, details, time_zone, created_at, updated_at,
	COALESCE(contract_id, ''), allocated_capacity, allow_overdraft, accounts_allocated`

func scanOrg(sc interface{ Scan(...any) error }) (tenancy.Org, error) {
	var o tenancy.Org
	var kind string
	var created, updated db.Time
	err := sc.Scan(&o.ID, &kind, &o.ParentID, &o.Path, &o.Name, &o.Details, &o.TimeZone, &created, &updated,
		&o.ContractID, &o.AllocatedCapacity, &o.AllowOverdraft, &o.AccountsAllocated)
	o.Kind = actor.OrgKind(kind)
	o.CreatedAt, o.UpdatedAt = created.Time, updated.Time
	return o, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// InsertOrg implements tenancy.Store.
func (s *Store) InsertOrg(ctx context.Context, o tenancy.Org) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO orgs (id, kind, parent_id, path, name, details, time_zone,
		contract_id, allocated_capacity, allow_overdraft, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		o.ID, string(o.Kind), nullable(o.ParentID), o.Path, o.Name, o.Details, o.TimeZone,
		nullable(o.ContractID), o.AllocatedCapacity, o.AllowOverdraft, o.CreatedAt, o.UpdatedAt)
	return s.mapErr(err, "org")
}

// GetOrg implements tenancy.Store.
func (s *Store) GetOrg(ctx context.Context, scope, id string) (tenancy.Org, error) {
	o, err := scanOrg(s.r().QueryRowContext(ctx, `SELECT `+orgCols+` FROM orgs WHERE id = $1 AND `+scoped("path", "$2"), id, scope))
	return o, s.mapErr(err, "org")
}

// ListOrgs implements tenancy.Store.
func (s *Store) ListOrgs(ctx context.Context, scope string, f tenancy.OrgFilter) ([]tenancy.Org, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+orgCols+` FROM orgs
		WHERE `+scoped("path", "$1")+` AND ($2 = '' OR kind = $2) AND id > $3 ORDER BY id LIMIT $4`,
		scope, f.Kind, f.After, f.Limit)
	if err != nil {
		return nil, s.mapErr(err, "org")
	}
	return collect(rows, scanOrg)
}

// LockOrg implements tenancy.Store. The no-op update takes PostgreSQL's row
// lock with the same SQL on both databases.
func (s *Store) LockOrg(ctx context.Context, id string) error {
	_, err := s.w().ExecContext(ctx, `UPDATE orgs SET updated_at = updated_at WHERE id = $1`, id)
	return s.mapErr(err, "org")
}

// UpdateOrg implements tenancy.Store (name, details, time zone, overdraft).
func (s *Store) UpdateOrg(ctx context.Context, o tenancy.Org) error {
	res, err := s.w().ExecContext(ctx, `UPDATE orgs SET name = $2, details = $3, time_zone = $4,
		allow_overdraft = $5, updated_at = $6 WHERE id = $1`,
		o.ID, o.Name, o.Details, o.TimeZone, o.AllowOverdraft, o.UpdatedAt)
	return s.affected(res, err, "org")
}

// DeleteOrg implements tenancy.Store.
func (s *Store) DeleteOrg(ctx context.Context, id string) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM orgs WHERE id = $1`, id)
	return s.affected(res, err, "org")
}

// CountOrgChildren implements tenancy.Store.
func (s *Store) CountOrgChildren(ctx context.Context, id string) (int, error) {
	return s.count(ctx, `SELECT COUNT(*) FROM orgs WHERE parent_id = $1`, id)
}

// DeleteOrgPrincipals implements tenancy.Store: an org's users and keys.
func (s *Store) DeleteOrgPrincipals(ctx context.Context, orgID string) error {
	if _, err := s.w().ExecContext(ctx, `DELETE FROM users WHERE org_id = $1`, orgID); err != nil {
		return s.mapErr(err, "user")
	}
	_, err := s.w().ExecContext(ctx, `DELETE FROM api_keys WHERE org_id = $1`, orgID)
	return s.mapErr(err, "api key")
}

// ListPartners implements tenancy.Store.
func (s *Store) ListPartners(ctx context.Context, scope, contractID string) ([]tenancy.Org, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+orgCols+` FROM orgs
		WHERE contract_id = $1 AND kind = 'partner' AND `+scoped("path", "$2")+` ORDER BY created_at, id`, contractID, scope)
	if err != nil {
		return nil, s.mapErr(err, "partner")
	}
	return collect(rows, scanOrg)
}

// SetPartnerAllocation implements tenancy.Store.
func (s *Store) SetPartnerAllocation(ctx context.Context, id string, capacity int64, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE orgs SET allocated_capacity = $2, updated_at = $3
		WHERE id = $1 AND (CAST($2 AS BIGINT) = 0 OR accounts_allocated <= CAST($2 AS BIGINT))`, id, capacity, at)
	return s.changed(res, err, "partner")
}

// AddPartnerAccountsAllocation implements objstore.Store. The bounds are
// written as differences so no sum can overflow int64 (PostgreSQL would fail
// the statement, SQLite would switch to floating point).
func (s *Store) AddPartnerAccountsAllocation(ctx context.Context, partnerID string, delta int64, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE orgs SET accounts_allocated = accounts_allocated + $2, updated_at = $3
		WHERE id = $1 AND CAST($2 AS BIGINT) >= -accounts_allocated
		AND CAST($2 AS BIGINT) <= CAST(9223372036854775807 AS BIGINT) - accounts_allocated
		AND (allocated_capacity = 0 OR CAST($2 AS BIGINT) <= allocated_capacity - accounts_allocated)`, partnerID, delta, at)
	return s.changed(res, err, "partner")
}

// CountPartnerStorageAccounts implements tenancy.Store.
func (s *Store) CountPartnerStorageAccounts(ctx context.Context, partnerID string) (int, error) {
	return s.count(ctx, `SELECT COUNT(*) FROM storage_accounts WHERE partner_id = $1`, partnerID)
}

// AppendAudit writes an audit entry (every domain store has it).
func (s *Store) AppendAudit(ctx context.Context, e audit.Entry) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO audit_log (id, at, request_id, principal_type, principal_id,
		org_id, org_path, action, object_type, object_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.ID, e.At, e.RequestID, e.PrincipalType, e.PrincipalID, e.OrgID, e.OrgPath, e.Action, e.ObjectType, e.ObjectID, e.Detail)
	return s.mapErr(err, "audit entry")
}

// ListAudit implements audit.Store.
func (s *Store) ListAudit(ctx context.Context, scope, after string, limit int) ([]audit.Entry, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT id, at, request_id, principal_type, principal_id, org_id, org_path,
		action, object_type, object_id, detail FROM audit_log
		WHERE `+scoped("org_path", "$1")+` AND id > $2 ORDER BY id LIMIT $3`, scope, after, limit)
	if err != nil {
		return nil, s.mapErr(err, "audit entry")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (audit.Entry, error) {
		var e audit.Entry
		var at db.Time
		err := sc.Scan(&e.ID, &at, &e.RequestID, &e.PrincipalType, &e.PrincipalID, &e.OrgID, &e.OrgPath,
			&e.Action, &e.ObjectType, &e.ObjectID, &e.Detail)
		e.At = at.Time
		return e, err
	})
}

// ---- helpers ----

func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, errs.Wrap(errs.KindInternal, err, "database error")
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "database error")
	}
	return out, nil
}

func (s *Store) count(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	err := s.r().QueryRowContext(ctx, q, args...).Scan(&n)
	return n, s.mapErr(err, "row")
}

// affected maps "no row changed" to not found.
func (s *Store) affected(res sql.Result, err error, what string) error {
	ok, err := s.changed(res, err, what)
	if err == nil && !ok {
		return errs.NotFound(what)
	}
	return err
}

// changed reports whether a conditional write changed a row.
func (s *Store) changed(res sql.Result, err error, what string) (bool, error) {
	if err != nil {
		return false, s.mapErr(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.mapErr(err, what)
	}
	return n > 0, nil
}
