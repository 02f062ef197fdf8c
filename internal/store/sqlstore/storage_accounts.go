package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

const saCols = `id, partner_id, org_path, name, contact_email, password_hash, allocated_capacity, allow_overdraft,
	pending_deleted_at, suspended_at, created_at, updated_at`

func scanSA(sc interface{ Scan(...any) error }) (objstore.StorageAccount, error) {
	var a objstore.StorageAccount
	var pending, suspended db.NullTime
	var created, updated db.Time
	err := sc.Scan(&a.ID, &a.PartnerID, &a.OrgPath, &a.Name, &a.ContactEmail, &a.PasswordHash, &a.AllocatedCapacity,
		&a.AllowOverdraft, &pending, &suspended, &created, &updated)
	a.PendingDeletedAt, a.SuspendedAt = pending.Ptr(), suspended.Ptr()
	a.CreatedAt, a.UpdatedAt = created.Time, updated.Time
	return a, err
}

// InsertStorageAccount implements objstore.Store.
func (s *Store) InsertStorageAccount(ctx context.Context, a objstore.StorageAccount) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO storage_accounts (id, partner_id, org_path, name, contact_email,
		password_hash, allocated_capacity, allow_overdraft, pending_deleted_at, suspended_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		a.ID, a.PartnerID, a.OrgPath, a.Name, a.ContactEmail, a.PasswordHash, a.AllocatedCapacity, a.AllowOverdraft,
		db.TimePtr(a.PendingDeletedAt), db.TimePtr(a.SuspendedAt), a.CreatedAt, a.UpdatedAt)
	if s.db.Dialect().IsUniqueViolation(err) {
		return conflict("clientAccount.contactEmail", "is already used by another storage account")
	}
	return s.mapErr(err, "storage account")
}

// GetStorageAccount implements objstore.Store.
func (s *Store) GetStorageAccount(ctx context.Context, scope, partnerID, id string) (objstore.StorageAccount, error) {
	a, err := scanSA(s.r().QueryRowContext(ctx, `SELECT `+saCols+` FROM storage_accounts
		WHERE id = $1 AND partner_id = $2 AND `+scoped("org_path", "$3"), id, partnerID, scope))
	return a, s.mapErr(err, "storage account")
}

// GetStorageAccountAnywhere implements metering.Store: an account by id
// anywhere in the scope.
func (s *Store) GetStorageAccountAnywhere(ctx context.Context, scope, id string) (objstore.StorageAccount, error) {
	a, err := scanSA(s.r().QueryRowContext(ctx, `SELECT `+saCols+` FROM storage_accounts
		WHERE id = $1 AND `+scoped("org_path", "$2"), id, scope))
	return a, s.mapErr(err, "storage account")
}

// ListStorageAccounts implements objstore.Store.
func (s *Store) ListStorageAccounts(ctx context.Context, scope, partnerID string) ([]objstore.StorageAccount, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+saCols+` FROM storage_accounts
		WHERE partner_id = $1 AND `+scoped("org_path", "$2")+` ORDER BY created_at, id`, partnerID, scope)
	if err != nil {
		return nil, s.mapErr(err, "storage account")
	}
	return collect(rows, scanSA)
}

// SetStorageAccountPendingDeletion implements objstore.Store.
func (s *Store) SetStorageAccountPendingDeletion(ctx context.Context, id string, at *time.Time, now time.Time) error {
	res, err := s.w().ExecContext(ctx, `UPDATE storage_accounts SET pending_deleted_at = $2, updated_at = $3 WHERE id = $1`,
		id, db.TimePtr(at), now)
	return s.affected(res, err, "storage account")
}

// SetStorageAccountSuspended implements objstore.Store.
func (s *Store) SetStorageAccountSuspended(ctx context.Context, id string, at *time.Time, now time.Time) error {
	res, err := s.w().ExecContext(ctx, `UPDATE storage_accounts SET suspended_at = $2, updated_at = $3 WHERE id = $1`,
		id, db.TimePtr(at), now)
	return s.affected(res, err, "storage account")
}

// SetStorageAccountCapacity implements objstore.Store.
func (s *Store) SetStorageAccountCapacity(ctx context.Context, id string, capacity int64, now time.Time) error {
	res, err := s.w().ExecContext(ctx, `UPDATE storage_accounts SET allocated_capacity = $2, updated_at = $3 WHERE id = $1`,
		id, capacity, now)
	return s.affected(res, err, "storage account")
}

// ListDueStorageAccounts implements objstore.Store.
func (s *Store) ListDueStorageAccounts(ctx context.Context, now time.Time, limit int) ([]objstore.StorageAccount, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+saCols+` FROM storage_accounts
		WHERE pending_deleted_at IS NOT NULL AND pending_deleted_at <= $1 ORDER BY pending_deleted_at, id LIMIT $2`, now, limit)
	if err != nil {
		return nil, s.mapErr(err, "storage account")
	}
	return collect(rows, scanSA)
}

// DeleteDueStorageAccount implements objstore.Store.
func (s *Store) DeleteDueStorageAccount(ctx context.Context, id string, now time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `DELETE FROM storage_accounts
		WHERE id = $1 AND pending_deleted_at IS NOT NULL AND pending_deleted_at <= $2`, id, now)
	return s.changed(res, err, "storage account")
}

// ---- regions ----

// ListRegions implements objstore.Store.
func (s *Store) ListRegions(ctx context.Context) ([]objstore.Region, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT name, s3_url, iam_url, sts_url, created_at FROM regions ORDER BY name`)
	if err != nil {
		return nil, s.mapErr(err, "region")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (objstore.Region, error) {
		var r objstore.Region
		var at db.Time
		err := sc.Scan(&r.Name, &r.S3URL, &r.IAMURL, &r.STSURL, &at)
		r.CreatedAt = at.Time
		return r, err
	})
}

// UpsertRegion implements objstore.Store.
func (s *Store) UpsertRegion(ctx context.Context, r objstore.Region) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO regions (name, s3_url, iam_url, sts_url, created_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (name) DO UPDATE SET s3_url = excluded.s3_url, iam_url = excluded.iam_url, sts_url = excluded.sts_url`,
		r.Name, r.S3URL, r.IAMURL, r.STSURL, r.CreatedAt)
	return s.mapErr(err, "region")
}

// DeleteRegion implements objstore.Store.
func (s *Store) DeleteRegion(ctx context.Context, name string) (bool, error) {
	res, err := s.w().ExecContext(ctx, `DELETE FROM regions WHERE name = $1`, name)
	return s.changed(res, err, "region")
}

// ---- daily usage ----

// UpsertDailyUsage implements metering.Store.
func (s *Store) UpsertDailyUsage(ctx context.Context, u metering.DailyUsage) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO daily_usage (storage_account_id, day, usage_bytes, allocated_capacity, recorded_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (storage_account_id, day) DO UPDATE SET usage_bytes = excluded.usage_bytes,
		allocated_capacity = excluded.allocated_capacity, recorded_at = excluded.recorded_at`,
		u.StorageAccountID, u.Day, u.UsageBytes, u.AllocatedCapacity, u.RecordedAt)
	return s.mapErr(err, "daily usage")
}

// ListDailyUsage implements metering.Store.
func (s *Store) ListDailyUsage(ctx context.Context, accountIDs []string, from, to string) ([]metering.DailyUsage, error) {
	if len(accountIDs) == 0 {
		return []metering.DailyUsage{}, nil
	}
	args := []any{from, to}
	ph := make([]string, len(accountIDs))
	for i, id := range accountIDs {
		args = append(args, id)
		ph[i] = "$" + strconv.Itoa(i+3)
	}
	rows, err := s.r().QueryContext(ctx, db.Varying+`SELECT storage_account_id, day, usage_bytes, allocated_capacity, recorded_at
		FROM daily_usage WHERE day >= $1 AND day <= $2 AND storage_account_id IN (`+strings.Join(ph, ", ")+`)
		ORDER BY storage_account_id, day`, args...)
	if err != nil {
		return nil, s.mapErr(err, "daily usage")
	}
	return collect(rows, scanDailyUsage)
}

// scanDailyUsage reads a row of storage_account_id, day, usage_bytes,
// allocated_capacity, recorded_at.
func scanDailyUsage(sc interface{ Scan(...any) error }) (metering.DailyUsage, error) {
	var u metering.DailyUsage
	var at db.Time
	err := sc.Scan(&u.StorageAccountID, &u.Day, &u.UsageBytes, &u.AllocatedCapacity, &at)
	u.RecordedAt = at.Time
	return u, err
}
