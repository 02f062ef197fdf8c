package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/password"
	"github.com/trellis-cloud/trellis/internal/tenancy"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// touchEvery limits last-used updates to one write per key per interval,
// so authentication does not turn every read into a database write.
const touchEvery = time.Minute

// Service authenticates and manages principals.
type Service struct {
	store Store
	clock clock.Clock
}

// NewService returns an access service.
func NewService(s Store, c clock.Clock) *Service { return &Service{store: s, clock: c} }

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// HashKey returns the stored form of a key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewKeySecret returns a fresh key: the prefix and 256 random bits.
func NewKeySecret() string { return NewSecret(KeyPrefix) }

// NewSecret returns prefix followed by 256 random bits (URL-safe base64):
// the form of every API key Trellis issues, whatever its kind.
func NewSecret(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// keyPrefix is what is kept in clear to recognise a key in listings.
func keyPrefix(key string) string {
	if len(key) > 12 {
		return key[:12]
	}
	return key
}

// Authenticate returns the actor for an API key.
func (s *Service) Authenticate(ctx context.Context, key, requestID string) (actor.Actor, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "missing API key")
	}
	if len(key) > 512 {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "invalid API key")
	}
	hash := HashKey(key)
	k, err := s.store.GetAPIKeyByHash(ctx, hash)
	if errs.Is(err, errs.KindNotFound) {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "invalid API key")
	}
	if err != nil {
		return actor.Actor{}, err
	}
	// The lookup was by hash; compare again in constant time so no timing
	// difference depends on how much of the hash matched an index entry.
	if subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1 {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "invalid API key")
	}
	if k.RevokedAt != nil {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "the API key has been revoked")
	}
	now := s.now()
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= touchEvery {
		if err := s.store.TouchAPIKey(ctx, k.ID, now); err != nil {
			return actor.Actor{}, err
		}
	}
	return actor.Actor{Type: actor.TypeAPIKey, ID: k.ID, OrgID: k.OrgID, OrgPath: k.OrgPath,
		OrgKind: k.OrgKind, Role: k.Role, RequestID: requestID}, nil
}

// CreateKeyInput creates an API key.
type CreateKeyInput struct {
	OrgID string
	Name  string
	Role  actor.Role
	// Secret, when set, is used as the key instead of a generated one (the
	// bootstrap --admin-key and automation).
	Secret string
}

// CreatedKey is a new key with its secret, which is never shown again.
type CreatedKey struct {
	APIKey
	Secret string
}

// CreateKey creates an API key for an org in the actor's subtree, with a
// role no higher than the actor's.
func (s *Service) CreateKey(ctx context.Context, a actor.Actor, in CreateKeyInput) (CreatedKey, error) {
	if err := a.Require(actor.Admin); err != nil {
		return CreatedKey{}, err
	}
	name, err := validate.Name("name", in.Name)
	if err != nil {
		return CreatedKey{}, err
	}
	if !in.Role.Valid() {
		return CreatedKey{}, errs.Invalid("role", "must be admin, staff or viewer")
	}
	secret := in.Secret
	if secret == "" {
		secret = NewKeySecret()
	} else if len(secret) < 20 || len(secret) > 200 || strings.ContainsAny(secret, " \t\r\n") {
		return CreatedKey{}, errs.Invalid("secret", "must be 20 to 200 characters without spaces")
	}
	var k APIKey
	err = s.store.Tx(ctx, func(tx Store) error {
		o, err := tx.GetOrg(ctx, a.Scope(), in.OrgID)
		if err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return &errs.Error{Kind: errs.KindNotFound, Field: "orgId", Msg: "no such org"}
			}
			return err
		}
		now := s.now()
		k = APIKey{ID: ids.New(), OrgID: o.ID, OrgPath: o.Path, OrgKind: o.Kind, Name: name, Role: in.Role,
			Prefix: keyPrefix(secret), Hash: HashKey(secret), CreatedBy: a.ID, CreatedAt: now}
		if err := tx.InsertAPIKey(ctx, k); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return errs.Invalid("secret", "is already in use")
			}
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "api_key.create", "api_key", k.ID, o.Path,
			fmt.Sprintf("name=%q role=%s", name, in.Role)))
	})
	if err != nil {
		return CreatedKey{}, err
	}
	return CreatedKey{APIKey: k, Secret: secret}, nil
}

// EnsureKey makes sure a key with this secret exists for the org, creating
// it if needed (bootstrap with a given admin key, sandbox keys). It reports
// whether it created one.
func (s *Service) EnsureKey(ctx context.Context, orgID, name string, role actor.Role, secret string) (bool, error) {
	k, err := s.store.GetAPIKeyByHash(ctx, HashKey(secret))
	if err == nil {
		if k.OrgID != orgID || k.RevokedAt != nil {
			return false, errs.Invalid("secret", "is in use by another org or revoked")
		}
		return false, nil
	}
	if !errs.Is(err, errs.KindNotFound) {
		return false, err
	}
	_, err = s.CreateKey(ctx, actor.System(""), CreateKeyInput{OrgID: orgID, Name: name, Role: role, Secret: secret})
	return err == nil, err
}

// ListKeys lists keys in the actor's subtree.
func (s *Service) ListKeys(ctx context.Context, a actor.Actor, after string, limit int) ([]APIKey, error) {
	if err := a.Require(actor.Admin); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		return nil, errs.Invalid("limit", "must be between 1 and 1000")
	}
	return s.store.ListAPIKeys(ctx, a.Scope(), after, limit)
}

// GetKey returns one key in the actor's subtree.
func (s *Service) GetKey(ctx context.Context, a actor.Actor, id string) (APIKey, error) {
	if err := a.Require(actor.Admin); err != nil {
		return APIKey{}, err
	}
	return s.store.GetAPIKey(ctx, a.Scope(), id)
}

// RevokeKey revokes a key; revoking twice is not an error.
func (s *Service) RevokeKey(ctx context.Context, a actor.Actor, id string) (APIKey, error) {
	if err := a.Require(actor.Admin); err != nil {
		return APIKey{}, err
	}
	var k APIKey
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if k, err = tx.GetAPIKey(ctx, a.Scope(), id); err != nil {
			return err
		}
		if k.RevokedAt != nil {
			return nil
		}
		now := s.now()
		if err := tx.RevokeAPIKey(ctx, k.ID, now); err != nil {
			return err
		}
		k.RevokedAt = &now
		return tx.AppendAudit(ctx, audit.New(a, now, "api_key.revoke", "api_key", k.ID, k.OrgPath, k.Name))
	})
	return k, err
}

// ---- members ----

// CreateMemberInput creates a user of a partner's Management Console.
type CreateMemberInput struct {
	Email    string
	Name     string
	Password string
	Role     string
}

// Validate checks the input.
func (in *CreateMemberInput) Validate() error {
	var err error
	if in.Email, err = validate.Email("email", in.Email); err != nil {
		return err
	}
	// The name is optional in the vendor API; when given it follows the
	// name rule (no control characters, at most 255 characters).
	if in.Name = strings.TrimSpace(in.Name); in.Name != "" {
		if in.Name, err = validate.Name("name", in.Name); err != nil {
			return err
		}
	}
	if err := validate.Password("password", in.Password); err != nil {
		return err
	}
	if !actor.Role(in.Role).Valid() {
		return errs.Invalid("role", "must be one of admin, staff, viewer")
	}
	return nil
}

// memberPartner resolves a partner a distributor manages members of.
func memberPartner(ctx context.Context, st Store, a actor.Actor, partnerID string, min actor.Role) (tenancy.Org, error) {
	if err := a.RequireKind(actor.Provider, actor.Distributor); err != nil {
		return tenancy.Org{}, err
	}
	if err := a.Require(min); err != nil {
		return tenancy.Org{}, err
	}
	return tenancy.ScopedPartner(ctx, st, a, partnerID)
}

// CreateMember creates a user for a partner.
func (s *Service) CreateMember(ctx context.Context, a actor.Actor, partnerID string, in CreateMemberInput) (User, error) {
	// Authorise before validating and hashing: a caller without the right
	// gets 403 whatever the body, and never costs an argon2 hash.
	if err := a.RequireKind(actor.Provider, actor.Distributor); err != nil {
		return User{}, err
	}
	if err := a.Require(actor.Admin); err != nil {
		return User{}, err
	}
	if err := in.Validate(); err != nil {
		return User{}, err
	}
	hash, err := password.Hash(in.Password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.store.Tx(ctx, func(tx Store) error {
		p, err := memberPartner(ctx, tx, a, partnerID, actor.Admin)
		if err != nil {
			return err
		}
		now := s.now()
		u = User{ID: ids.New(), OrgID: p.ID, OrgPath: p.Path, Email: in.Email, Name: in.Name,
			Role: actor.Role(in.Role), PasswordHash: hash, CreatedAt: now}
		if err := tx.InsertUser(ctx, u); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return &errs.Error{Kind: errs.KindConflict, Field: "email", Msg: "is already in use"}
			}
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "member.create", "user", u.ID, p.Path,
			fmt.Sprintf("email=%q role=%s", u.Email, u.Role)))
	})
	return u, err
}

// ListMembers lists a partner's users.
func (s *Service) ListMembers(ctx context.Context, a actor.Actor, partnerID string) ([]User, error) {
	p, err := memberPartner(ctx, s.store, a, partnerID, actor.Viewer)
	if err != nil {
		return nil, err
	}
	return s.store.ListUsers(ctx, p.ID)
}

// DeleteMember removes a partner's user.
func (s *Service) DeleteMember(ctx context.Context, a actor.Actor, partnerID, userID string) error {
	return s.store.Tx(ctx, func(tx Store) error {
		p, err := memberPartner(ctx, tx, a, partnerID, actor.Admin)
		if err != nil {
			return err
		}
		u, err := tx.GetUser(ctx, p.ID, userID)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "member.delete", "user", u.ID, p.Path, u.Email))
	})
}
