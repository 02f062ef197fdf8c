package sqlstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// BSS is the bss.Store. Its Tenancy and Objstore views share its
// transaction, so a BSS call's mapping, partner and storage-account writes
// commit together.
type BSS struct{ *Store }

// Tx implements bss.Store.
func (v BSS) Tx(ctx context.Context, fn func(bss.Store) error) error {
	return v.tx(ctx, func(s *Store) error { return fn(BSS{s}) })
}

// Tenancy implements bss.Store: the tenancy view on the same transaction.
func (v BSS) Tenancy() tenancy.Store { return Tenancy(v) }

// Objstore implements bss.Store: the objstore view on the same transaction.
func (v BSS) Objstore() objstore.Store { return Objstore(v) }

var _ bss.Store = BSS{}

// ---- installations ----

const bssInstallationCols = `app_id, distributor_id, distributor_path, contract_id, name, key_hash, created_at, revoked_at`

func scanBSSInstallation(sc interface{ Scan(...any) error }) (bss.Installation, error) {
	var in bss.Installation
	var created db.Time
	var revoked db.NullTime
	err := sc.Scan(&in.AppID, &in.DistributorID, &in.DistributorPath, &in.ContractID, &in.Name, &in.KeyHash, &created, &revoked)
	in.CreatedAt, in.RevokedAt = created.Time, revoked.Ptr()
	return in, err
}

// InsertBSSInstallation implements bss.Queries.
func (s *Store) InsertBSSInstallation(ctx context.Context, in bss.Installation) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO bss_installations (`+bssInstallationCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, in.AppID, in.DistributorID, in.DistributorPath, in.ContractID,
		in.Name, in.KeyHash, in.CreatedAt, db.TimePtr(in.RevokedAt))
	return s.mapErr(err, "BSS installation")
}

// GetBSSInstallation implements bss.Queries.
func (s *Store) GetBSSInstallation(ctx context.Context, appID string) (bss.Installation, error) {
	in, err := scanBSSInstallation(s.r().QueryRowContext(ctx, `SELECT `+bssInstallationCols+`
		FROM bss_installations WHERE app_id = $1`, appID))
	return in, s.mapErr(err, "BSS installation")
}

// ListBSSInstallations implements bss.Queries.
func (s *Store) ListBSSInstallations(ctx context.Context, scope string) ([]bss.Installation, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+bssInstallationCols+` FROM bss_installations
		WHERE `+scoped("distributor_path", "$1")+` ORDER BY created_at, app_id`, scope)
	if err != nil {
		return nil, s.mapErr(err, "BSS installation")
	}
	return collect(rows, scanBSSInstallation)
}

// RevokeBSSInstallation implements bss.Queries.
func (s *Store) RevokeBSSInstallation(ctx context.Context, appID string, at time.Time) (bool, error) {
	res, err := s.w().ExecContext(ctx, `UPDATE bss_installations SET revoked_at = $2
		WHERE app_id = $1 AND revoked_at IS NULL`, appID, at)
	return s.changed(res, err, "BSS installation")
}

// ---- accounts ----

const bssAccountCols = `app_id, bss_id, external_id, kind, partner_id, partner_path, reseller_id, name, email,
	created_at, updated_at, deleted_at`

func scanBSSAccount(sc interface{ Scan(...any) error }) (bss.Account, error) {
	var a bss.Account
	var created, updated db.Time
	var deleted db.NullTime
	err := sc.Scan(&a.AppID, &a.BSSID, &a.ExternalID, &a.Kind, &a.PartnerID, &a.PartnerPath, &a.ResellerID, &a.Name,
		&a.Email, &created, &updated, &deleted)
	a.CreatedAt, a.UpdatedAt, a.DeletedAt = created.Time, updated.Time, deleted.Ptr()
	return a, err
}

// InsertBSSAccount implements bss.Queries. ON CONFLICT DO NOTHING makes a
// concurrent insert of the same key wait for the first transaction and
// then report false (PostgreSQL), instead of failing.
func (s *Store) InsertBSSAccount(ctx context.Context, a bss.Account) (bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO bss_accounts (`+bssAccountCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (app_id, bss_id) DO NOTHING`,
		a.AppID, a.BSSID, a.ExternalID, a.Kind, a.PartnerID, a.PartnerPath, a.ResellerID, a.Name, a.Email,
		a.CreatedAt, a.UpdatedAt, db.TimePtr(a.DeletedAt))
	return s.changed(res, err, "BSS account")
}

// GetBSSAccount implements bss.Queries.
func (s *Store) GetBSSAccount(ctx context.Context, appID, bssID string) (bss.Account, error) {
	a, err := scanBSSAccount(s.r().QueryRowContext(ctx, `SELECT `+bssAccountCols+` FROM bss_accounts
		WHERE app_id = $1 AND bss_id = $2`, appID, bssID))
	return a, s.mapErr(err, "BSS account")
}

// GetBSSAccountByExternalID implements bss.Queries.
func (s *Store) GetBSSAccountByExternalID(ctx context.Context, appID, externalID string) (bss.Account, error) {
	a, err := scanBSSAccount(s.r().QueryRowContext(ctx, `SELECT `+bssAccountCols+` FROM bss_accounts
		WHERE app_id = $1 AND external_id = $2`, appID, externalID))
	return a, s.mapErr(err, "BSS account")
}

// FindBSSAccountByEmail implements bss.Queries.
func (s *Store) FindBSSAccountByEmail(ctx context.Context, appID, email string) (bss.Account, error) {
	a, err := scanBSSAccount(s.r().QueryRowContext(ctx, `SELECT `+bssAccountCols+` FROM bss_accounts
		WHERE app_id = $1 AND email = $2 AND email <> '' AND deleted_at IS NULL ORDER BY created_at, external_id LIMIT 1`,
		appID, email))
	return a, s.mapErr(err, "BSS account")
}

// UpdateBSSAccount implements bss.Queries.
func (s *Store) UpdateBSSAccount(ctx context.Context, a bss.Account) error {
	res, err := s.w().ExecContext(ctx, `UPDATE bss_accounts SET name = $3, email = $4, deleted_at = $5, updated_at = $6
		WHERE app_id = $1 AND external_id = $2`, a.AppID, a.ExternalID, a.Name, a.Email, db.TimePtr(a.DeletedAt), a.UpdatedAt)
	return s.affected(res, err, "BSS account")
}

// LockBSSAccount implements bss.Queries (the no-op update takes
// PostgreSQL's row lock; SQLite's writers are serialised).
func (s *Store) LockBSSAccount(ctx context.Context, appID, externalID string) error {
	res, err := s.w().ExecContext(ctx, `UPDATE bss_accounts SET updated_at = updated_at
		WHERE app_id = $1 AND external_id = $2`, appID, externalID)
	return s.affected(res, err, "BSS account")
}

// ---- subscriptions ----

const bssSubscriptionCols = `app_id, external_id, dedupe_key, bss_subscription_id, account_id, partner_id, partner_path,
	storage_account_id, product, name, quantity, state, created_at, updated_at`

func scanBSSSubscription(sc interface{ Scan(...any) error }) (bss.Subscription, error) {
	var v bss.Subscription
	var created, updated db.Time
	err := sc.Scan(&v.AppID, &v.ExternalID, &v.DedupeKey, &v.BSSSubscriptionID, &v.AccountID, &v.PartnerID,
		&v.PartnerPath, &v.StorageAccountID, &v.Product, &v.Name, &v.Quantity, &v.State, &created, &updated)
	v.CreatedAt, v.UpdatedAt = created.Time, updated.Time
	return v, err
}

// InsertBSSSubscription implements bss.Queries (see InsertBSSAccount).
func (s *Store) InsertBSSSubscription(ctx context.Context, v bss.Subscription) (bool, error) {
	res, err := s.w().ExecContext(ctx, `INSERT INTO bss_subscriptions (`+bssSubscriptionCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (app_id, dedupe_key) DO NOTHING`,
		v.AppID, v.ExternalID, v.DedupeKey, v.BSSSubscriptionID, v.AccountID, v.PartnerID, v.PartnerPath,
		v.StorageAccountID, v.Product, v.Name, v.Quantity, v.State, v.CreatedAt, v.UpdatedAt)
	return s.changed(res, err, "BSS subscription")
}

// GetBSSSubscription implements bss.Queries.
func (s *Store) GetBSSSubscription(ctx context.Context, appID, externalID string) (bss.Subscription, error) {
	v, err := scanBSSSubscription(s.r().QueryRowContext(ctx, `SELECT `+bssSubscriptionCols+` FROM bss_subscriptions
		WHERE app_id = $1 AND external_id = $2`, appID, externalID))
	return v, s.mapErr(err, "BSS subscription")
}

// GetBSSSubscriptionByKey implements bss.Queries.
func (s *Store) GetBSSSubscriptionByKey(ctx context.Context, appID, dedupeKey string) (bss.Subscription, error) {
	v, err := scanBSSSubscription(s.r().QueryRowContext(ctx, `SELECT `+bssSubscriptionCols+` FROM bss_subscriptions
		WHERE app_id = $1 AND dedupe_key = $2`, appID, dedupeKey))
	return v, s.mapErr(err, "BSS subscription")
}

// LockBSSSubscription implements bss.Queries (see LockBSSAccount).
func (s *Store) LockBSSSubscription(ctx context.Context, appID, externalID string) error {
	res, err := s.w().ExecContext(ctx, `UPDATE bss_subscriptions SET updated_at = updated_at
		WHERE app_id = $1 AND external_id = $2`, appID, externalID)
	return s.affected(res, err, "BSS subscription")
}

// UpdateBSSSubscription implements bss.Queries.
func (s *Store) UpdateBSSSubscription(ctx context.Context, v bss.Subscription) error {
	res, err := s.w().ExecContext(ctx, `UPDATE bss_subscriptions SET storage_account_id = $3, quantity = $4, state = $5,
		name = $6, updated_at = $7 WHERE app_id = $1 AND external_id = $2`,
		v.AppID, v.ExternalID, v.StorageAccountID, v.Quantity, v.State, v.Name, v.UpdatedAt)
	return s.affected(res, err, "BSS subscription")
}

// CountLiveBSSSubscriptions implements bss.Queries.
func (s *Store) CountLiveBSSSubscriptions(ctx context.Context, appID, accountID, partnerID string) (int, error) {
	return s.count(ctx, `SELECT COUNT(*) FROM bss_subscriptions WHERE app_id = $1 AND state <> 'Cancelled'
		AND (account_id = $2 OR ($3 <> '' AND partner_id = $3))`, appID, accountID, partnerID)
}

// ---- add-ons ----

const bssAddonCols = `app_id, external_id, subscription_id, product, quantity, state, created_at, updated_at`

func scanBSSAddon(sc interface{ Scan(...any) error }) (bss.SubscriptionAddon, error) {
	var a bss.SubscriptionAddon
	var created, updated db.Time
	err := sc.Scan(&a.AppID, &a.ExternalID, &a.SubscriptionID, &a.Product, &a.Quantity, &a.State, &created, &updated)
	a.CreatedAt, a.UpdatedAt = created.Time, updated.Time
	return a, err
}

// InsertBSSAddon implements bss.Queries.
func (s *Store) InsertBSSAddon(ctx context.Context, a bss.SubscriptionAddon) error {
	_, err := s.w().ExecContext(ctx, `INSERT INTO bss_addons (`+bssAddonCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		a.AppID, a.ExternalID, a.SubscriptionID, a.Product, a.Quantity, a.State, a.CreatedAt, a.UpdatedAt)
	return s.mapErr(err, "BSS add-on")
}

// GetBSSAddon implements bss.Queries.
func (s *Store) GetBSSAddon(ctx context.Context, appID, externalID string) (bss.SubscriptionAddon, error) {
	a, err := scanBSSAddon(s.r().QueryRowContext(ctx, `SELECT `+bssAddonCols+` FROM bss_addons
		WHERE app_id = $1 AND external_id = $2`, appID, externalID))
	return a, s.mapErr(err, "BSS add-on")
}

// ListBSSAddons implements bss.Queries.
func (s *Store) ListBSSAddons(ctx context.Context, appID, subscriptionID string) ([]bss.SubscriptionAddon, error) {
	rows, err := s.r().QueryContext(ctx, `SELECT `+bssAddonCols+` FROM bss_addons
		WHERE app_id = $1 AND subscription_id = $2 ORDER BY created_at, external_id`, appID, subscriptionID)
	if err != nil {
		return nil, s.mapErr(err, "BSS add-on")
	}
	return collect(rows, scanBSSAddon)
}

// UpdateBSSAddon implements bss.Queries.
func (s *Store) UpdateBSSAddon(ctx context.Context, a bss.SubscriptionAddon) error {
	res, err := s.w().ExecContext(ctx, `UPDATE bss_addons SET quantity = $3, state = $4, updated_at = $5
		WHERE app_id = $1 AND external_id = $2`, a.AppID, a.ExternalID, a.Quantity, a.State, a.UpdatedAt)
	return s.affected(res, err, "BSS add-on")
}
