package sqlstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

const keyCols = `k.id, k.org_id, o.path, o.kind, k.name, k.role, k.prefix, k.hash, k.created_by, k.created_at,
	k.revoked_at, k.last_used_at`

func scanKey(sc interface{ Scan(...any) error }) (access.APIKey, error) {
	var k access.APIKey
	var kind, role string
	var created db.Time
	var revoked, used db.NullTime
	err := sc.Scan(&k.ID, &k.OrgID, &k.OrgPath, &kind, &k.Name, &role, &k.Prefix, &k.Hash, &k.CreatedBy, &created,
		&revoked, &used)
	k.OrgKind, k.Role = actor.OrgKind(kind), actor.Role(role)
	k.CreatedAt, k.RevokedAt, k.LastUsedAt = created.Time, revoked.Ptr(), used.Ptr()
	return k, err
}

// InsertAPIKey implements access.Store.
func (s *Store) InsertAPIKey(ctx context.Context, k access.APIKey) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO api_keys (id, org_id, name, role, prefix, hash, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.OrgID, k.Name, string(k.Role), k.Prefix, k.Hash, k.CreatedBy, k.CreatedAt)
	return s.mapErr(err, "api key")
}

// GetAPIKeyByHash implements access.Store.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash string) (access.APIKey, error) {
	k, err := scanKey(s.r().QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys k JOIN orgs o ON o.id = k.org_id
		WHERE k.hash = $1`, hash))
	return k, s.mapErr(err, "api key")
}

// GetAPIKey implements access.Store.
func (s *Store) GetAPIKey(ctx context.Context, scope, id string) (access.APIKey, error) {
	k, err := scanKey(s.r().QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys k JOIN orgs o ON o.id = k.org_id
		WHERE k.id = $1 AND `+scoped("o.path", "$2"), id, scope))
	return k, s.mapErr(err, "api key")
}

// ListAPIKeys implements access.Store.
func (s *Store) ListAPIKeys(ctx context.Context, scope, after string, limit int) ([]access.APIKey, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+keyCols+` FROM api_keys k JOIN orgs o ON o.id = k.org_id
		WHERE `+scoped("o.path", "$1")+` AND k.id > $2 ORDER BY k.id LIMIT $3`, scope, after, limit)
	if err != nil {
		return nil, s.mapErr(err, "api key")
	}
	return collect(rows, scanKey)
}

// RevokeAPIKey implements access.Store.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.w().ExecContext(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, at)
	_, err = s.changed(res, err, "api key")
	return err
}

// TouchAPIKey implements access.Store.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.w().ExecContext(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, at)
	return s.mapErr(err, "api key")
}

const userCols = `u.id, u.org_id, o.path, u.email, u.name, u.role, u.password_hash, u.created_at`

func scanUser(sc interface{ Scan(...any) error }) (access.User, error) {
	var u access.User
	var role string
	var created db.Time
	err := sc.Scan(&u.ID, &u.OrgID, &u.OrgPath, &u.Email, &u.Name, &role, &u.PasswordHash, &created)
	u.Role, u.CreatedAt = actor.Role(role), created.Time
	return u, err
}

// InsertUser implements access.Store.
func (s *Store) InsertUser(ctx context.Context, u access.User) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO users (id, org_id, email, name, role, password_hash, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, u.ID, u.OrgID, u.Email, u.Name, string(u.Role), u.PasswordHash, u.CreatedAt)
	return s.mapErr(err, "user")
}

// ListUsers implements access.Store.
func (s *Store) ListUsers(ctx context.Context, orgID string) ([]access.User, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+userCols+` FROM users u JOIN orgs o ON o.id = u.org_id
		WHERE u.org_id = $1 ORDER BY u.created_at, u.id`, orgID)
	if err != nil {
		return nil, s.mapErr(err, "user")
	}
	return collect(rows, scanUser)
}

// GetUser implements access.Store.
func (s *Store) GetUser(ctx context.Context, orgID, id string) (access.User, error) {
	u, err := scanUser(s.r().QueryRowContext(ctx, `SELECT `+userCols+` FROM users u JOIN orgs o ON o.id = u.org_id
		WHERE u.org_id = $1 AND u.id = $2`, orgID, id))
	return u, s.mapErr(err, "member")
}

// DeleteUser implements access.Store.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id)
	return s.affected(res, err, "member")
}
