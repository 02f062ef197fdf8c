package sqlstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/idem"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

var _ idem.Store = (*Store)(nil)

// BeginIdempotency implements idem.Store: insert the key, or take
// over an in-progress one of the same request whose lease has run out. The
// takeover is one conditional UPDATE, so of two retries exactly one wins.
func (s *Store) BeginIdempotency(ctx context.Context, c idem.Claim) (idem.Record, bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO idempotency_keys (scope_id, key, principal_id, grant_text,
		request_hash, owner, created_at, locked_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (scope_id, key) DO NOTHING`,
		c.Scope, c.Key, c.PrincipalID, c.Grant, c.RequestHash, c.Owner, c.Now, c.LockedUntil)
	inserted, err := s.changed(res, err, "idempotency key")
	if err != nil || inserted {
		return idem.Record{}, false, err
	}
	res, err = s.w().ExecContext(ctx, `UPDATE idempotency_keys
		SET principal_id = $3, grant_text = $4, owner = $6, created_at = $7, locked_until = $8
		WHERE scope_id = $1 AND key = $2 AND status = 0 AND request_hash = $5 AND locked_until <= $7`,
		c.Scope, c.Key, c.PrincipalID, c.Grant, c.RequestHash, c.Owner, c.Now, c.LockedUntil)
	taken, err := s.changed(res, err, "idempotency key")
	if err != nil || taken {
		return idem.Record{}, false, err
	}
	var rec idem.Record
	var body string
	var at, until db.Time
	err = s.w().QueryRowContext(ctx, `SELECT principal_id, grant_text, request_hash, status, content_type, body,
		created_at, locked_until
		FROM idempotency_keys WHERE scope_id = $1 AND key = $2`, c.Scope, c.Key).
		Scan(&rec.PrincipalID, &rec.Grant, &rec.RequestHash, &rec.Status, &rec.ContentType, &body, &at, &until)
	rec.Body, rec.CreatedAt, rec.LockedUntil = []byte(body), at.Time, until.Time
	return rec, true, s.mapErr(err, "idempotency key")
}

// RenewIdempotency implements idem.Store.
func (s *Store) RenewIdempotency(ctx context.Context, scope, key, owner string, until time.Time) error {
	_, err := s.w().ExecContext(ctx, `UPDATE idempotency_keys SET locked_until = $4
		WHERE scope_id = $1 AND key = $2 AND owner = $3 AND status = 0`, scope, key, owner, until)
	return s.mapErr(err, "idempotency key")
}

// CompleteIdempotency implements idem.Store: only the owner of the
// key stores its response (a taken-over owner's late answer is dropped).
func (s *Store) CompleteIdempotency(ctx context.Context, scope, key, owner string, status int, contentType string, body []byte) error {
	_, err := s.w().ExecContext(ctx, `UPDATE idempotency_keys SET status = $4, content_type = $5, body = $6
		WHERE scope_id = $1 AND key = $2 AND owner = $3 AND status = 0`, scope, key, owner, status, contentType, string(body))
	return s.mapErr(err, "idempotency key")
}

// AbandonIdempotency implements idem.Store.
func (s *Store) AbandonIdempotency(ctx context.Context, scope, key, owner string) error {
	_, err := s.w().ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope_id = $1 AND key = $2 AND owner = $3 AND status = 0`,
		scope, key, owner)
	return s.mapErr(err, "idempotency key")
}

// PurgeIdempotency implements idem.Store.
func (s *Store) PurgeIdempotency(ctx context.Context, before time.Time) (int, error) {
	res, err := s.w().ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, before)
	if err != nil {
		return 0, s.mapErr(err, "idempotency key")
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
