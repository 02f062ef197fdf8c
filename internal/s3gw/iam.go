package s3gw

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"time"

	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/s3err"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/objstore"
)

// Keys is what the S3 server needs of the S3 principals and keys
// (*objstore.Service).
type Keys interface {
	// ResolveKey returns a key with its plaintext secret (NotFound: none).
	ResolveKey(ctx context.Context, accessKey string) (objstore.Key, error)
	// Principal returns a principal (NotFound: none).
	Principal(ctx context.Context, id string) (objstore.Principal, error)
}

var _ Keys = (*objstore.Service)(nil)

// iamTimeout bounds a key lookup (versitygw's IAM calls carry no context).
const iamTimeout = 10 * time.Second

// iam is versitygw's IAM service over Trellis's S3 keys. It implements
// auth.SigningKeyProvider, so versitygw asks it for the SigV4 signing key of
// an access key and takes the account it returns: Access is the key's
// PRINCIPAL, so bucket ACLs name the principal as owner and every key of a
// principal sees the same buckets. Accounts are managed by Trellis, never
// through versitygw's admin API.
type iam struct {
	keys  Keys
	log   *slog.Logger
	cache *ttlCache[keyEntry] // access key → resolved key; nil: no cache
}

type keyEntry struct {
	principal string
	secret    string
	found     bool
}

func newIAM(keys Keys, clk clock.Clock, ttl time.Duration, log *slog.Logger) *iam {
	return &iam{keys: keys, log: log, cache: newTTLCache[keyEntry](clk, ttl)}
}

var (
	_ auth.IAMService         = (*iam)(nil)
	_ auth.SigningKeyProvider = (*iam)(nil)
)

// lookup resolves an access key, from the cache while its entry is fresh
// (unknown keys are cached too, so a client retrying a bad key does not
// reach the database on every request).
func (i *iam) lookup(access string) (keyEntry, error) {
	if e, ok := i.cache.get(access); ok {
		return e, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), iamTimeout)
	defer cancel()
	k, err := i.keys.ResolveKey(ctx, access)
	var e keyEntry
	switch {
	case err == nil:
		e = keyEntry{principal: k.PrincipalID, secret: k.Secret, found: true}
	case errs.Is(err, errs.KindNotFound):
		e = keyEntry{}
	default:
		i.log.Error("s3: resolving an access key", "access_key", access, "err", err)
		return keyEntry{}, apiError("ServiceUnavailable", http.StatusServiceUnavailable, "Please try again.")
	}
	i.cache.put(access, e)
	return e, nil
}

// Invalidate forgets a cached key at once (a deleted key then fails on its
// next request rather than after the cache's lifetime).
func (i *iam) Invalidate(access string) { i.cache.forget(access) }

// DeriveSigningKey implements auth.SigningKeyProvider: the SigV4 signing key
// of access for the request's credential scope, and its principal's
// account. No sessions: a session token is refused.
func (i *iam) DeriveSigningKey(access, sessionToken, date, region, service string) ([]byte, auth.Account, error) {
	if sessionToken != "" {
		return nil, auth.Account{}, auth.ErrInvalidSessionToken
	}
	e, err := i.lookup(access)
	if err != nil {
		return nil, auth.Account{}, err
	}
	if !e.found {
		return nil, auth.Account{}, auth.ErrNoSuchUser
	}
	return deriveKey(e.secret, date, region, service), principalAccount(e.principal), nil
}

// deriveKey is SigV4's signing key: HMAC-SHA256 chained over the date,
// region, service and "aws4_request", keyed first by "AWS4"+secret
// (versitygw's own is internal to its module).
func deriveKey(secret, date, region, service string) []byte {
	mac := func(key []byte, data string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(data))
		return h.Sum(nil)
	}
	k := mac([]byte("AWS4"+secret), date)
	k = mac(k, region)
	k = mac(k, service)
	return mac(k, "aws4_request")
}

// principalAccount is a principal as a versitygw account: it may create
// buckets (userplus) and owns what it creates.
func principalAccount(id string) auth.Account {
	return auth.Account{Access: id, Role: auth.RoleUserPlus}
}

// GetUserAccount returns a principal (by id: what versitygw's accounts are
// named by here) as an account, without a secret.
func (i *iam) GetUserAccount(id string) (auth.Account, error) {
	ctx, cancel := context.WithTimeout(context.Background(), iamTimeout)
	defer cancel()
	if _, err := i.keys.Principal(ctx, id); err != nil {
		if errs.Is(err, errs.KindNotFound) {
			return auth.Account{}, auth.ErrNoSuchUser
		}
		i.log.Error("s3: reading a principal", "principal", id, "err", err)
		return auth.Account{}, s3err.GetAPIError(s3err.ErrInternalError)
	}
	return principalAccount(id), nil
}

// ResolveAccounts returns the ids that name no principal.
func (i *iam) ResolveAccounts(ids []string) ([]string, error) {
	missing := []string{}
	for _, id := range ids {
		if _, err := i.GetUserAccount(id); err == auth.ErrNoSuchUser {
			missing = append(missing, id)
		} else if err != nil {
			return nil, err
		}
	}
	return missing, nil
}

func notSupported() error { return s3err.GetAPIError(s3err.ErrAdminMethodNotSupported) }

// CreateAccount is refused: principals and keys are Trellis's.
func (i *iam) CreateAccount(auth.Account) error { return notSupported() }

// UpdateUserAccount is refused.
func (i *iam) UpdateUserAccount(string, auth.MutableProps) error { return notSupported() }

// DeleteUserAccount is refused.
func (i *iam) DeleteUserAccount(string) error { return notSupported() }

// ListUserAccounts is refused.
func (i *iam) ListUserAccounts() ([]auth.Account, error) { return nil, notSupported() }

// Shutdown has nothing to release.
func (i *iam) Shutdown() error { return nil }
