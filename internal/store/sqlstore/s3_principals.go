package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

const principalCols = `id, kind, storage_account_id, user_id, org_id, org_path, display_name, email, created_at`

func scanPrincipal(sc interface{ Scan(...any) error }) (objstore.Principal, error) {
	var p objstore.Principal
	var sa sql.NullString
	var user sql.NullInt64
	var created db.Time
	err := sc.Scan(&p.ID, &p.Kind, &sa, &user, &p.OrgID, &p.OrgPath, &p.DisplayName, &p.Email, &created)
	p.StorageAccountID, p.UserID, p.CreatedAt = sa.String, user.Int64, created.Time
	return p, err
}

// InsertPrincipal implements objstore.PrincipalStore.
func (s *Store) InsertPrincipal(ctx context.Context, p objstore.Principal) error {
	var sa, user any
	if p.StorageAccountID != "" {
		sa = p.StorageAccountID
	}
	if p.UserID != 0 {
		user = p.UserID
	}
	_, err := s.w().ExecContext(ctx, `INSERT INTO s3_principals (`+principalCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		p.ID, p.Kind, sa, user, p.OrgID, p.OrgPath, p.DisplayName, p.Email, p.CreatedAt)
	if s.db.Dialect().IsUniqueViolation(err) {
		return conflict("userId", "an S3 user with this id already exists")
	}
	return s.mapErr(err, "S3 user")
}

// GetPrincipal implements objstore.PrincipalStore.
func (s *Store) GetPrincipal(ctx context.Context, id string) (objstore.Principal, error) {
	p, err := scanPrincipal(s.r().QueryRowContext(ctx, `SELECT `+principalCols+` FROM s3_principals WHERE id = $1`, id))
	return p, s.mapErr(err, "S3 user")
}

// GetPrincipalByStorageAccount implements objstore.PrincipalStore.
func (s *Store) GetPrincipalByStorageAccount(ctx context.Context, storageAccountID string) (objstore.Principal, error) {
	p, err := scanPrincipal(s.r().QueryRowContext(ctx, `SELECT `+principalCols+` FROM s3_principals
		WHERE storage_account_id = $1`, storageAccountID))
	return p, s.mapErr(err, "S3 user")
}

// GetPrincipalByUser implements objstore.PrincipalStore.
func (s *Store) GetPrincipalByUser(ctx context.Context, userID int64) (objstore.Principal, error) {
	p, err := scanPrincipal(s.r().QueryRowContext(ctx, `SELECT `+principalCols+` FROM s3_principals
		WHERE user_id = $1`, userID))
	return p, s.mapErr(err, "S3 user")
}

func scanS3Key(sc interface{ Scan(...any) error }) (objstore.StoredKey, error) {
	var k objstore.StoredKey
	var created db.Time
	err := sc.Scan(&k.AccessKey, &k.SealedSecret, &k.PrincipalID, &k.Seq, &created)
	k.CreatedAt = created.Time
	return k, err
}

const s3KeyCols = `access_key, sealed_secret, principal_id, seq, created_at`

// InsertKey implements objstore.PrincipalStore: the key's seq is one more
// than the principal's last (two creations racing: one gets a conflict).
func (s *Store) InsertKey(ctx context.Context, k objstore.StoredKey) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO s3_keys (`+s3KeyCols+`)
		SELECT $1, $2, $3, COALESCE(MAX(seq), 0) + 1, $4 FROM s3_keys WHERE principal_id = $3`,
		k.AccessKey, k.SealedSecret, k.PrincipalID, k.CreatedAt)
	if s.db.Dialect().IsUniqueViolation(err) {
		return conflict("access_key", "another key was created at the same time; try again")
	}
	return s.mapErr(err, "S3 key")
}

// GetKey implements objstore.PrincipalStore.
func (s *Store) GetKey(ctx context.Context, accessKey string) (objstore.StoredKey, error) {
	k, err := scanS3Key(s.r().QueryRowContext(ctx, `SELECT `+s3KeyCols+` FROM s3_keys WHERE access_key = $1`, accessKey))
	return k, s.mapErr(err, "S3 key")
}

// ListKeys implements objstore.PrincipalStore.
func (s *Store) ListKeys(ctx context.Context, principalID string) ([]objstore.StoredKey, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+s3KeyCols+` FROM s3_keys WHERE principal_id = $1 ORDER BY seq`, principalID)
	if err != nil {
		return nil, s.mapErr(err, "S3 key")
	}
	return collect(rows, scanS3Key)
}

// DeleteKey implements objstore.PrincipalStore.
func (s *Store) DeleteKey(ctx context.Context, principalID, accessKey string) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM s3_keys WHERE principal_id = $1 AND access_key = $2`, principalID, accessKey)
	return s.affected(res, err, "S3 key")
}

// CountKeys implements objstore.PrincipalStore.
func (s *Store) CountKeys(ctx context.Context, principalID string) (int, error) {
	var n int
	err := s.r().QueryRowContext(ctx, `SELECT COUNT(*) FROM s3_keys WHERE principal_id = $1`, principalID).Scan(&n)
	return n, s.mapErr(err, "S3 key")
}

// StoredBytes implements objstore.Store: the no-op update locks the
// principal's row (writers reserving bytes update it too), so the bytes
// cannot grow before the caller's transaction ends.
func (s *Store) StoredBytes(ctx context.Context, storageAccountID string) (int64, error) {
	var used, reserved int64
	err := s.w().QueryRowContext(ctx, `UPDATE s3_principals SET used_bytes = used_bytes
		WHERE storage_account_id = $1 RETURNING used_bytes, reserved_bytes`, storageAccountID).Scan(&used, &reserved)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return used + reserved, s.mapErr(err, "S3 user")
}
