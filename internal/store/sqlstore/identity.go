package sqlstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// Identity is the access.IdentityStore (idcloudhost users and tokens).
type Identity struct{ *Store }

// Tx implements access.IdentityStore.
func (i Identity) Tx(ctx context.Context, fn func(access.IdentityStore) error) error {
	return i.tx(ctx, func(s *Store) error { return fn(Identity{s}) })
}

var _ access.IdentityStore = Identity{}

const idchUserCols = `u.id, u.org_id, o.path, u.email, u.cookie_id, u.consumer_id, u.profile_id, u.first_name, u.last_name,
	u.phone_number, u.personal_id_number, u.avatar, u.profile_created_at, u.profile_updated_at, u.last_activity, u.created_at`

func scanIDCHUser(sc interface{ Scan(...any) error }) (access.IDCHUser, error) {
	var u access.IDCHUser
	p := &u.Profile
	var pc, pu, last, created db.Time
	err := sc.Scan(&u.ID, &u.OrgID, &u.OrgPath, &u.Email, &u.CookieID, &u.ConsumerID, &p.ID, &p.FirstName, &p.LastName,
		&p.PhoneNumber, &p.PersonalIDNumber, &p.Avatar, &pc, &pu, &last, &created)
	p.CreatedAt, p.UpdatedAt, u.LastActivity, u.CreatedAt = pc.Time, pu.Time, last.Time, created.Time
	return u, err
}

// InsertIDCHUser implements access.IdentityStore.
func (s *Store) InsertIDCHUser(ctx context.Context, u access.IDCHUser) error {
	p := u.Profile
	_, err := s.w().ExecContext(ctx, `INSERT INTO idch_users (id, org_id, email, cookie_id, consumer_id, profile_id,
		first_name, last_name, phone_number, personal_id_number, avatar, profile_created_at, profile_updated_at,
		last_activity, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		u.ID, u.OrgID, u.Email, u.CookieID, u.ConsumerID, p.ID, p.FirstName, p.LastName, p.PhoneNumber,
		p.PersonalIDNumber, p.Avatar, p.CreatedAt, p.UpdatedAt, u.LastActivity, u.CreatedAt)
	return s.mapErr(err, "user")
}

// GetIDCHUser implements access.IdentityStore.
func (s *Store) GetIDCHUser(ctx context.Context, scope string, id int64) (access.IDCHUser, error) {
	u, err := scanIDCHUser(s.r().QueryRowContext(ctx, `SELECT `+idchUserCols+` FROM idch_users u
		JOIN orgs o ON o.id = u.org_id WHERE u.id = $1 AND `+scoped("o.path", "$2"), id, scope))
	return u, s.mapErr(err, "user")
}

// GetIDCHUserByOrg implements access.IdentityStore.
func (s *Store) GetIDCHUserByOrg(ctx context.Context, orgID string) (access.IDCHUser, error) {
	u, err := scanIDCHUser(s.r().QueryRowContext(ctx, `SELECT `+idchUserCols+` FROM idch_users u
		JOIN orgs o ON o.id = u.org_id WHERE u.org_id = $1`, orgID))
	return u, s.mapErr(err, "user")
}

// ListIDCHUsers implements access.IdentityStore.
func (s *Store) ListIDCHUsers(ctx context.Context, scope string, after int64, limit int) ([]access.IDCHUser, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+idchUserCols+` FROM idch_users u JOIN orgs o ON o.id = u.org_id
		WHERE `+scoped("o.path", "$1")+` AND u.id > $2 ORDER BY u.id LIMIT $3`, scope, after, limit)
	if err != nil {
		return nil, s.mapErr(err, "user")
	}
	return collect(rows, scanIDCHUser)
}

// UpdateIDCHProfile implements access.IdentityStore.
func (s *Store) UpdateIDCHProfile(ctx context.Context, userID int64, p access.IDCHProfile) error {
	res, err := s.w().ExecContext(ctx, `UPDATE idch_users SET first_name = $2, last_name = $3, phone_number = $4,
		personal_id_number = $5, profile_updated_at = $6 WHERE id = $1`,
		userID, p.FirstName, p.LastName, p.PhoneNumber, p.PersonalIDNumber, p.UpdatedAt)
	return s.affected(res, err, "user")
}

// TouchIDCHUser implements access.IdentityStore.
func (s *Store) TouchIDCHUser(ctx context.Context, id int64, at time.Time) error {
	_, err := s.w().ExecContext(ctx, `UPDATE idch_users SET last_activity = $2 WHERE id = $1 AND last_activity < $2`, id, at)
	return s.mapErr(err, "user")
}

// BillingAccountLive implements access.IdentityStore.
func (s *Store) BillingAccountLive(ctx context.Context, orgID string, id int64) (bool, error) {
	var n int
	err := s.r().QueryRowContext(ctx, `SELECT count(*) FROM billing_accounts
		WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL`, id, orgID).Scan(&n)
	return n > 0, s.mapErr(err, "billing account")
}

const idchTokenCols = `t.id, t.user_id, u.org_id, o.path, u.consumer_id, t.hash, t.prefix, t.description, t.restricted,
	t.billing_account_id, t.kong_id, t.created_at, t.updated_at`

func scanIDCHToken(sc interface{ Scan(...any) error }) (access.IDCHToken, error) {
	var t access.IDCHToken
	var created db.Time
	var updated db.NullTime
	err := sc.Scan(&t.ID, &t.UserID, &t.OrgID, &t.OrgPath, &t.ConsumerID, &t.Hash, &t.Prefix, &t.Description,
		&t.Restricted, &t.BillingAccountID, &t.KongID, &created, &updated)
	t.CreatedAt, t.UpdatedAt = created.Time, updated.Ptr()
	return t, err
}

// InsertIDCHToken implements access.IdentityStore.
func (s *Store) InsertIDCHToken(ctx context.Context, t access.IDCHToken) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO idch_tokens (id, user_id, hash, prefix, description, restricted,
		billing_account_id, kong_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		t.ID, t.UserID, t.Hash, t.Prefix, t.Description, t.Restricted, t.BillingAccountID, t.KongID, t.CreatedAt,
		db.TimePtr(t.UpdatedAt))
	return s.mapErr(err, "token")
}

// GetIDCHToken implements access.IdentityStore.
func (s *Store) GetIDCHToken(ctx context.Context, userID, id int64) (access.IDCHToken, error) {
	t, err := scanIDCHToken(s.r().QueryRowContext(ctx, `SELECT `+idchTokenCols+` FROM idch_tokens t
		JOIN idch_users u ON u.id = t.user_id JOIN orgs o ON o.id = u.org_id WHERE t.user_id = $1 AND t.id = $2`, userID, id))
	return t, s.mapErr(err, "token")
}

// GetIDCHTokenByHash implements access.IdentityStore: one indexed read per
// authenticated request, returning the token and its user.
func (s *Store) GetIDCHTokenByHash(ctx context.Context, hash string) (access.IDCHToken, access.IDCHUser, error) {
	var t access.IDCHToken
	var u access.IDCHUser
	row := s.r().QueryRowContext(ctx, `SELECT `+idchTokenCols+`, `+idchUserCols+` FROM idch_tokens t
		JOIN idch_users u ON u.id = t.user_id JOIN orgs o ON o.id = u.org_id WHERE t.hash = $1`, hash)
	var created, pc, pu, last, ucreated db.Time
	var updated db.NullTime
	p := &u.Profile
	err := row.Scan(&t.ID, &t.UserID, &t.OrgID, &t.OrgPath, &t.ConsumerID, &t.Hash, &t.Prefix, &t.Description,
		&t.Restricted, &t.BillingAccountID, &t.KongID, &created, &updated,
		&u.ID, &u.OrgID, &u.OrgPath, &u.Email, &u.CookieID, &u.ConsumerID, &p.ID, &p.FirstName, &p.LastName,
		&p.PhoneNumber, &p.PersonalIDNumber, &p.Avatar, &pc, &pu, &last, &ucreated)
	t.CreatedAt, t.UpdatedAt = created.Time, updated.Ptr()
	p.CreatedAt, p.UpdatedAt, u.LastActivity, u.CreatedAt = pc.Time, pu.Time, last.Time, ucreated.Time
	if err != nil {
		return access.IDCHToken{}, access.IDCHUser{}, s.mapErr(err, "token")
	}
	return t, u, nil
}

// ListIDCHTokens implements access.IdentityStore.
func (s *Store) ListIDCHTokens(ctx context.Context, userID int64) ([]access.IDCHToken, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+idchTokenCols+` FROM idch_tokens t
		JOIN idch_users u ON u.id = t.user_id JOIN orgs o ON o.id = u.org_id WHERE t.user_id = $1 ORDER BY t.id`, userID)
	if err != nil {
		return nil, s.mapErr(err, "token")
	}
	return collect(rows, scanIDCHToken)
}

// UpdateIDCHToken implements access.IdentityStore.
func (s *Store) UpdateIDCHToken(ctx context.Context, t access.IDCHToken) error {
	res, err := s.w().ExecContext(ctx, `UPDATE idch_tokens SET description = $3, restricted = $4, billing_account_id = $5,
		updated_at = $6 WHERE user_id = $1 AND id = $2`,
		t.UserID, t.ID, t.Description, t.Restricted, t.BillingAccountID, db.TimePtr(t.UpdatedAt))
	return s.affected(res, err, "token")
}

// DeleteIDCHToken implements access.IdentityStore.
func (s *Store) DeleteIDCHToken(ctx context.Context, userID, id int64) error {
	res, err := s.w().ExecContext(ctx, `DELETE FROM idch_tokens WHERE user_id = $1 AND id = $2`, userID, id)
	return s.affected(res, err, "token")
}
