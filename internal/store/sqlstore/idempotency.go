package sqlstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/httpapi/idempotency"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

var _ idempotency.Store = (*Store)(nil)

// BeginIdempotency implements idempotency.Store.
func (s *Store) BeginIdempotency(ctx context.Context, principalID, key, hash string, now time.Time) (idempotency.Record, bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO idempotency_keys (principal_id, key, request_hash, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (principal_id, key) DO NOTHING`, principalID, key, hash, now)
	inserted, err := s.changed(res, err, "idempotency key")
	if err != nil || inserted {
		return idempotency.Record{}, false, err
	}
	var rec idempotency.Record
	var body string
	var at db.Time
	err = s.w().QueryRowContext(ctx, `SELECT request_hash, status, content_type, body, created_at
		FROM idempotency_keys WHERE principal_id = $1 AND key = $2`, principalID, key).
		Scan(&rec.RequestHash, &rec.Status, &rec.ContentType, &body, &at)
	rec.Body, rec.CreatedAt = []byte(body), at.Time
	return rec, true, s.mapErr(err, "idempotency key")
}

// CompleteIdempotency implements idempotency.Store.
func (s *Store) CompleteIdempotency(ctx context.Context, principalID, key string, status int, contentType string, body []byte) error {
	_, err := s.w().ExecContext(ctx, `UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5
		WHERE principal_id = $1 AND key = $2`, principalID, key, status, contentType, string(body))
	return s.mapErr(err, "idempotency key")
}

// AbandonIdempotency implements idempotency.Store.
func (s *Store) AbandonIdempotency(ctx context.Context, principalID, key string) error {
	_, err := s.w().ExecContext(ctx, `DELETE FROM idempotency_keys WHERE principal_id = $1 AND key = $2 AND status = 0`,
		principalID, key)
	return s.mapErr(err, "idempotency key")
}

// PurgeIdempotency implements idempotency.Store.
func (s *Store) PurgeIdempotency(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w().ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, before)
	if err != nil {
		return 0, s.mapErr(err, "idempotency key")
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
