package access

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// The idcloudhost identity: an idcloudhost user is the one customer of a
// customer org (idch_users.org_id is unique), so the org's path is the
// user's tenant scope and the org's billing accounts are the user's. The
// user authenticates with API tokens sent in the "apikey" header; a token
// may be restricted to one of the user's billing accounts.

// IDCHTokenLength is the length of a token secret: 32 characters of
// [A-Za-z0-9], as the vendor issues them.
const IDCHTokenLength = 32

// IDCHUser is an idcloudhost user with its profile.
type IDCHUser struct {
	ID           int64 // the user number
	OrgID        string
	OrgPath      string
	Email        string // lower case; the vendor's User.name
	CookieID     string // 32 hex characters
	ConsumerID   string // UUID of the API-gateway consumer: the same on every token of the user
	Profile      IDCHProfile
	LastActivity time.Time // updated at most once a minute by authenticated calls
	CreatedAt    time.Time
}

// IDCHProfile is the user's personal data.
type IDCHProfile struct {
	ID               int64 // the profile number
	FirstName        string
	LastName         string
	PhoneNumber      string
	PersonalIDNumber string
	Avatar           string // a Gravatar URL of the e-mail
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// IDCHToken is a stored API token (never its secret).
type IDCHToken struct {
	ID               int64
	UserID           int64
	OrgID            string
	OrgPath          string
	ConsumerID       string // the user's
	Hash             string // hex SHA-256 of the secret
	Prefix           string // the first IDCHTokenShown characters, to recognise it
	Description      string
	Restricted       bool
	BillingAccountID int64 // 0 = not bound
	KongID           string
	CreatedAt        time.Time
	UpdatedAt        *time.Time
}

// IdentityStore is the persistence the idcloudhost identity needs.
type IdentityStore interface {
	Tx(ctx context.Context, fn func(IdentityStore) error) error

	// NextNumber takes the next number of a counter inside the
	// transaction; RaiseNumber lifts a counter to at least atLeast (after
	// inserting an explicit number).
	NextNumber(ctx context.Context, name string) (int64, error)
	RaiseNumber(ctx context.Context, name string, atLeast int64) error

	GetOrg(ctx context.Context, scope, id string) (tenancy.Org, error)
	// BillingAccountLive reports whether billing account id belongs to the
	// org and is not deleted.
	BillingAccountLive(ctx context.Context, orgID string, id int64) (bool, error)

	InsertIDCHUser(ctx context.Context, u IDCHUser) error
	// GetIDCHUser returns a user whose org path is in scope.
	GetIDCHUser(ctx context.Context, scope string, id int64) (IDCHUser, error)
	GetIDCHUserByOrg(ctx context.Context, orgID string) (IDCHUser, error)
	// ListIDCHUsers lists users in scope with a number above after.
	ListIDCHUsers(ctx context.Context, scope string, after int64, limit int) ([]IDCHUser, error)
	// UpdateIDCHProfile writes the profile's names, numbers and updated_at.
	UpdateIDCHProfile(ctx context.Context, userID int64, p IDCHProfile) error
	// TouchIDCHUser moves last_activity forward to at (never back).
	TouchIDCHUser(ctx context.Context, id int64, at time.Time) error

	InsertIDCHToken(ctx context.Context, t IDCHToken) error
	GetIDCHToken(ctx context.Context, userID, id int64) (IDCHToken, error)
	// GetIDCHTokenByHash returns a token and its user.
	GetIDCHTokenByHash(ctx context.Context, hash string) (IDCHToken, IDCHUser, error)
	ListIDCHTokens(ctx context.Context, userID int64) ([]IDCHToken, error)
	// UpdateIDCHToken writes description, restricted, billing account and
	// updated_at.
	UpdateIDCHToken(ctx context.Context, t IDCHToken) error
	DeleteIDCHToken(ctx context.Context, userID, id int64) error

	AppendAudit(ctx context.Context, e audit.Entry) error
}
