package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Buckets is the buckets.Store.
type Buckets struct{ *Store }

// Tx implements buckets.Store.
func (b Buckets) Tx(ctx context.Context, fn func(buckets.Store) error) error {
	return b.tx(ctx, func(s *Store) error { return fn(Buckets{s}) })
}

const bucketCols = `b.id, b.name, b.principal_id, b.org_path, b.billing_account_id, b.size_bytes, b.num_objects,
	b.parts_bytes, b.is_suspended, b.created_at, b.modified_at, b.deleted_at`

func scanBucket(sc interface{ Scan(...any) error }, extra ...any) (buckets.Bucket, error) {
	var b buckets.Bucket
	var acct sql.NullInt64
	var created, modified db.Time
	var deleted db.NullTime
	dest := append([]any{&b.ID, &b.Name, &b.PrincipalID, &b.OrgPath, &acct, &b.SizeBytes, &b.NumObjects,
		&b.PartsBytes, &b.IsSuspended, &created, &modified, &deleted}, extra...)
	err := sc.Scan(dest...)
	b.BillingAccountID, b.CreatedAt, b.ModifiedAt, b.DeletedAt = acct.Int64, created.Time, modified.Time, deleted.Ptr()
	return b, err
}

func scanBucketRow(sc interface{ Scan(...any) error }) (buckets.Bucket, error) { return scanBucket(sc) }

func nullAccount(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// InsertBucket implements buckets.Queries.
func (s *Store) InsertBucket(ctx context.Context, b buckets.Bucket) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO s3_buckets (id, name, principal_id, org_path, billing_account_id,
		size_bytes, num_objects, parts_bytes, is_suspended, created_at, modified_at)
		VALUES ($1, $2, $3, $4, $5, 0, 0, 0, $6, $7, $8)`,
		b.ID, b.Name, b.PrincipalID, b.OrgPath, nullAccount(b.BillingAccountID), b.IsSuspended, b.CreatedAt, b.ModifiedAt)
	if s.db.Dialect().IsUniqueViolation(err) {
		return conflict("name", "bucket names must be globally unique: "+b.Name+" is taken")
	}
	return s.mapErr(err, "bucket")
}

// GetLiveBucket implements buckets.Queries.
func (s *Store) GetLiveBucket(ctx context.Context, name string) (buckets.Bucket, error) {
	b, err := scanBucket(s.r().QueryRowContext(ctx, `SELECT `+bucketCols+` FROM s3_buckets b
		WHERE b.name = $1 AND b.deleted_at IS NULL`, name))
	return b, s.mapErr(err, "bucket")
}

// GetTarget implements buckets.Queries.
func (s *Store) GetTarget(ctx context.Context, name string) (buckets.Target, error) {
	var t buckets.Target
	var sa sql.NullString
	var pending, suspended db.NullTime
	var acctDeleted db.NullTime
	var active sql.NullBool
	var restriction, reason sql.NullString
	b, err := scanBucket(s.r().QueryRowContext(ctx, `SELECT `+bucketCols+`, p.kind, p.storage_account_id,
			sa.pending_deleted_at, sa.suspended_at, ba.deleted_at, ba.is_active, ba.restriction_level, ba.suspend_reason
		FROM s3_buckets b JOIN s3_principals p ON p.id = b.principal_id
		LEFT JOIN storage_accounts sa ON sa.id = p.storage_account_id
		LEFT JOIN billing_accounts ba ON ba.id = b.billing_account_id
		WHERE b.name = $1 AND b.deleted_at IS NULL`, name),
		&t.PrincipalKind, &sa, &pending, &suspended, &acctDeleted, &active, &restriction, &reason)
	if err != nil {
		return buckets.Target{}, s.mapErr(err, "bucket")
	}
	t.Bucket, t.StorageAccountID, t.AccountPending = b, sa.String, pending.Ptr() != nil
	t.AccountSuspended = suspended.Ptr() != nil
	switch {
	case b.BillingAccountID == 0:
	case acctDeleted.Ptr() != nil:
		t.BillingRestricted = fmt.Sprintf("billing account %d is deleted", b.BillingAccountID)
	case active.Valid && !active.Bool:
		t.BillingRestricted = fmt.Sprintf("billing account %d is not active", b.BillingAccountID)
	case restriction.String != "":
		t.BillingRestricted = fmt.Sprintf("billing account %d is restricted (%s)", b.BillingAccountID, restriction.String)
		if reason.String != "" {
			t.BillingRestricted += ": " + reason.String
		}
	}
	return t, nil
}

// ListPrincipalBuckets implements buckets.Queries (billingAccountID 0: all).
func (s *Store) ListPrincipalBuckets(ctx context.Context, principalID string, billingAccountID int64) ([]buckets.Bucket, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+bucketCols+` FROM s3_buckets b
		WHERE b.principal_id = $1 AND b.deleted_at IS NULL AND (CAST($2 AS BIGINT) = 0 OR b.billing_account_id = CAST($2 AS BIGINT))
		ORDER BY b.created_at, b.name`, principalID, billingAccountID)
	if err != nil {
		return nil, s.mapErr(err, "bucket")
	}
	return collect(rows, scanBucketRow)
}

// ListLiveBuckets implements buckets.Queries.
func (s *Store) ListLiveBuckets(ctx context.Context) ([]buckets.Bucket, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+bucketCols+` FROM s3_buckets b WHERE b.deleted_at IS NULL ORDER BY b.name`)
	if err != nil {
		return nil, s.mapErr(err, "bucket")
	}
	return collect(rows, scanBucketRow)
}

// DeleteBucketRow implements buckets.Queries.
func (s *Store) DeleteBucketRow(ctx context.Context, id string) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM s3_buckets WHERE id = $1`, id)
	return s.affected(res, err, "bucket")
}

// MarkBucketDeleted implements buckets.Queries.
func (s *Store) MarkBucketDeleted(ctx context.Context, id string, at time.Time) error {
	res, err := s.w().ExecContext(ctx, `UPDATE s3_buckets SET deleted_at = $2, modified_at = $2
		WHERE id = $1 AND deleted_at IS NULL`, id, at)
	return s.affected(res, err, "bucket")
}

// SetBucketBillingAccount implements buckets.Queries.
func (s *Store) SetBucketBillingAccount(ctx context.Context, id string, accountID int64, at time.Time) error {
	res, err := s.w().ExecContext(ctx, `UPDATE s3_buckets SET billing_account_id = $2, modified_at = $3
		WHERE id = $1 AND deleted_at IS NULL`, id, accountID, at)
	return s.affected(res, err, "bucket")
}

// SetBucketSuspended implements buckets.Queries.
func (s *Store) SetBucketSuspended(ctx context.Context, id string, suspended bool, at time.Time) error {
	res, err := s.w().ExecContext(ctx, `UPDATE s3_buckets SET is_suspended = $2, modified_at = $3
		WHERE id = $1 AND deleted_at IS NULL`, id, suspended, at)
	return s.affected(res, err, "bucket")
}

// ReserveBytes implements buckets.Queries. The allocation is read in the
// same statement: a storage account is capped unless it allows overdraft or
// its partner is pay-per-use (allocation 0); an idcloudhost user is not.
// On PostgreSQL a concurrent reservation on the same row makes this one
// re-evaluate its condition on the new row, so the sum holds under races.
func (s *Store) ReserveBytes(ctx context.Context, principalID string, n int64) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE s3_principals SET reserved_bytes = reserved_bytes + $2
		WHERE id = $1 AND (storage_account_id IS NULL OR EXISTS (
			SELECT 1 FROM storage_accounts sa JOIN orgs o ON o.id = sa.partner_id
			WHERE sa.id = s3_principals.storage_account_id
			  AND (sa.allow_overdraft OR o.allocated_capacity = 0
			       OR s3_principals.used_bytes + s3_principals.reserved_bytes + $2 <= sa.allocated_capacity)))`,
		principalID, n)
	return s.changed(res, err, "S3 user")
}

// AddPrincipalBytes implements buckets.Queries.
func (s *Store) AddPrincipalBytes(ctx context.Context, principalID string, used, reserved int64) error {
	if used == 0 && reserved == 0 {
		return nil
	}
	res, err := s.w().ExecContext(ctx, `UPDATE s3_principals SET
		used_bytes = CASE WHEN used_bytes + $2 < 0 THEN 0 ELSE used_bytes + $2 END,
		reserved_bytes = CASE WHEN reserved_bytes + $3 < 0 THEN 0 ELSE reserved_bytes + $3 END
		WHERE id = $1`, principalID, used, reserved)
	return s.affected(res, err, "S3 user")
}

// Quota implements buckets.Queries.
func (s *Store) Quota(ctx context.Context, principalID string) (used, reserved, limit int64, err error) {
	var alloc sql.NullInt64
	var capped sql.NullBool
	err = s.r().QueryRowContext(ctx, `SELECT p.used_bytes, p.reserved_bytes, sa.allocated_capacity,
			NOT (sa.allow_overdraft OR o.allocated_capacity = 0)
		FROM s3_principals p LEFT JOIN storage_accounts sa ON sa.id = p.storage_account_id
		LEFT JOIN orgs o ON o.id = sa.partner_id WHERE p.id = $1`, principalID).Scan(&used, &reserved, &alloc, &capped)
	limit = -1
	if capped.Valid && capped.Bool {
		limit = alloc.Int64
	}
	return used, reserved, limit, s.mapErr(err, "S3 user")
}

const reservationCols = `id, node, principal_id, bucket_id, op, object_key, upload_id, part_number, bytes, old_size, old_etag,
	parts_bytes, created_at`

// InsertReservation implements buckets.Queries (the bucket name is not
// stored: recovery reads it from the bucket).
func (s *Store) InsertReservation(ctx context.Context, r buckets.Reservation) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO s3_reservations (`+reservationCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		r.ID, r.Node, r.PrincipalID, r.BucketID, r.Op, r.Key, r.UploadID, r.Part, r.Bytes, r.OldSize, r.OldETag,
		r.PartsBytes, r.CreatedAt)
	return s.mapErr(err, "reservation")
}

// DeleteReservation implements buckets.Queries.
func (s *Store) DeleteReservation(ctx context.Context, id string) (bool, error) {
	res, err := s.w().ExecContext(ctx, `DELETE FROM s3_reservations WHERE id = $1`, id)
	return s.changed(res, err, "reservation")
}

// ListReservations implements buckets.Queries.
func (s *Store) ListReservations(ctx context.Context) ([]buckets.Reservation, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT r.id, r.node, r.principal_id, r.bucket_id, r.op, r.object_key,
			r.upload_id, r.part_number, r.bytes, r.old_size, r.old_etag, r.parts_bytes, r.created_at, b.name
		FROM s3_reservations r JOIN s3_buckets b ON b.id = r.bucket_id
		ORDER BY r.created_at, r.id`)
	if err != nil {
		return nil, s.mapErr(err, "reservation")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (buckets.Reservation, error) {
		var r buckets.Reservation
		var created db.Time
		err := sc.Scan(&r.ID, &r.Node, &r.PrincipalID, &r.BucketID, &r.Op, &r.Key, &r.UploadID, &r.Part, &r.Bytes,
			&r.OldSize, &r.OldETag, &r.PartsBytes, &created, &r.Bucket)
		r.CreatedAt = created.Time
		return r, err
	})
}

// ApplyBucketChange implements buckets.Queries.
func (s *Store) ApplyBucketChange(ctx context.Context, bucketID string, c buckets.Change, at time.Time) (int64, error) {
	var size, parts int64
	err := s.w().QueryRowContext(ctx, `UPDATE s3_buckets SET
		size_bytes = CASE WHEN size_bytes + $2 < 0 THEN 0 ELSE size_bytes + $2 END,
		num_objects = CASE WHEN num_objects + $3 < 0 THEN 0 ELSE num_objects + $3 END,
		parts_bytes = CASE WHEN parts_bytes + $4 < 0 THEN 0 ELSE parts_bytes + $4 END,
		modified_at = $5
		WHERE id = $1 RETURNING size_bytes, parts_bytes`, bucketID, c.ObjectBytes, c.Objects, c.PartBytes, at).Scan(&size, &parts)
	return size + parts, s.mapErr(err, "bucket")
}

// TouchBucketHour implements buckets.Queries.
func (s *Store) TouchBucketHour(ctx context.Context, bucketID string, hour time.Time, prev, now int64) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO s3_bucket_hours (bucket_id, hour, peak_bytes, end_bytes)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (bucket_id, hour) DO UPDATE SET
			peak_bytes = CASE WHEN s3_bucket_hours.peak_bytes > excluded.end_bytes THEN s3_bucket_hours.peak_bytes ELSE excluded.end_bytes END,
			end_bytes = excluded.end_bytes`, bucketID, hour, max(prev, now), now)
	return s.mapErr(err, "bucket hour")
}

// BucketBytesInHour implements buckets.Store.
func (s *Store) BucketBytesInHour(ctx context.Context, h time.Time) ([]buckets.HourBytes, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+bucketCols+`, p.user_id, COALESCE(
			(SELECT peak_bytes FROM s3_bucket_hours x WHERE x.bucket_id = b.id AND x.hour = $1),
			(SELECT end_bytes FROM s3_bucket_hours x WHERE x.bucket_id = b.id AND x.hour < $1 ORDER BY x.hour DESC LIMIT 1),
			0) AS stored
		FROM s3_buckets b JOIN s3_principals p ON p.id = b.principal_id
		WHERE b.billing_account_id IS NOT NULL AND b.created_at < $2 AND (b.deleted_at IS NULL OR b.deleted_at > $1)
		ORDER BY b.id`, h, h.Add(time.Hour))
	if err != nil {
		return nil, s.mapErr(err, "bucket hour")
	}
	all, err := collect(rows, func(sc interface{ Scan(...any) error }) (buckets.HourBytes, error) {
		var hb buckets.HourBytes
		var user sql.NullInt64
		b, err := scanBucket(sc, &user, &hb.StoredBytes)
		hb.Bucket, hb.UserID = b, user.Int64
		return hb, err
	})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, hb := range all {
		if hb.StoredBytes > 0 {
			out = append(out, hb)
		}
	}
	return out, nil
}

// FirstBucketHour implements buckets.Store.
func (s *Store) FirstBucketHour(ctx context.Context) (time.Time, bool, error) {
	var t db.NullTime
	err := s.r().QueryRowContext(ctx, `SELECT MIN(hour) FROM s3_bucket_hours`).Scan(&t)
	if err != nil {
		return time.Time{}, false, s.mapErr(err, "bucket hour")
	}
	if p := t.Ptr(); p != nil {
		return *p, true, nil
	}
	return time.Time{}, false, nil
}

// StorageAccountBytesAt implements buckets.Store.
func (s *Store) StorageAccountBytesAt(ctx context.Context, end time.Time) ([]buckets.AccountBytes, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT sa.id, sa.allocated_capacity, COALESCE((
			SELECT SUM((SELECT x.end_bytes FROM s3_bucket_hours x WHERE x.bucket_id = b.id AND x.hour < $1
				ORDER BY x.hour DESC LIMIT 1))
			FROM s3_principals p JOIN s3_buckets b ON b.principal_id = p.id
			WHERE p.storage_account_id = sa.id AND b.created_at < $1), 0)
		FROM storage_accounts sa WHERE sa.created_at < $1 ORDER BY sa.id`, end)
	if err != nil {
		return nil, s.mapErr(err, "daily usage")
	}
	return collect(rows, func(sc interface{ Scan(...any) error }) (buckets.AccountBytes, error) {
		var a buckets.AccountBytes
		err := sc.Scan(&a.StorageAccountID, &a.AllocatedCapacity, &a.Bytes)
		return a, err
	})
}

var _ buckets.Store = Buckets{}

// CountAccountBuckets implements buckets.Queries.
func (s *Store) CountAccountBuckets(ctx context.Context, billingAccountID int64) (int, error) {
	var n int
	err := s.r().QueryRowContext(ctx, `SELECT COUNT(*) FROM s3_buckets WHERE billing_account_id = $1 AND deleted_at IS NULL`,
		billingAccountID).Scan(&n)
	return n, s.mapErr(err, "bucket")
}
