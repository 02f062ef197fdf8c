// Package access authenticates principals (API keys, users) and manages
// them: keys are shown once and stored as SHA-256; user passwords as
// argon2id.
package access

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// KeyPrefix starts every generated API key, so leaked keys are easy to find
// with secret scanners.
const KeyPrefix = "trl_"

// APIKey is a stored key (never the secret).
type APIKey struct {
	ID         string
	OrgID      string
	OrgPath    string
	OrgKind    actor.OrgKind
	Name       string
	Role       actor.Role
	Prefix     string // the first characters of the key, to recognise it
	Hash       string // hex SHA-256 of the whole key
	CreatedBy  string
	CreatedAt  time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// User is a person who can sign in (a Management Console member).
type User struct {
	ID           string
	OrgID        string
	OrgPath      string
	Email        string
	Name         string
	Role         actor.Role
	PasswordHash string
	CreatedAt    time.Time
}

// Store is the persistence access needs.
type Store interface {
	Tx(ctx context.Context, fn func(Store) error) error

	GetOrg(ctx context.Context, scope, id string) (tenancy.Org, error)

	InsertAPIKey(ctx context.Context, k APIKey) error
	// GetAPIKeyByHash returns a key with its org's path and kind.
	GetAPIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	GetAPIKey(ctx context.Context, scope, id string) (APIKey, error)
	ListAPIKeys(ctx context.Context, scope, after string, limit int) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	InsertUser(ctx context.Context, u User) error
	ListUsers(ctx context.Context, orgID string) ([]User, error)
	GetUser(ctx context.Context, orgID, id string) (User, error)
	DeleteUser(ctx context.Context, id string) error

	AppendAudit(ctx context.Context, e audit.Entry) error
}
