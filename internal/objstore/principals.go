package objstore

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// Principal kinds.
const (
	// KindStorageAccount is an Impossible Cloud storage account.
	KindStorageAccount = "storage_account"
	// KindUser is an idcloudhost user.
	KindUser = "user"
)

// MaxKeys bounds the S3 keys of one principal.
const MaxKeys = 20

// Principal is an S3 identity: what the S3 server calls an account and what
// bucket ACLs name as the owner. A storage account's principal id is the
// account's id; an idcloudhost user's is the user's e-mail at the time it was
// created (the vendor's S3 user shows it as userId).
type Principal struct {
	ID               string
	Kind             string
	StorageAccountID string // KindStorageAccount
	UserID           int64  // KindUser
	OrgID            string // the owner's org: the storage account's partner, or the user's org
	OrgPath          string
	DisplayName      string
	Email            string
	CreatedAt        time.Time
}

// Key is an S3 access key of a principal. Secret is the plaintext (SigV4
// needs it); it is stored sealed with the server's secret key.
type Key struct {
	AccessKey   string
	Secret      string
	PrincipalID string
	CreatedAt   time.Time
}

// StoredKey is a key as stored (Secret sealed).
type StoredKey struct {
	AccessKey    string
	SealedSecret string
	PrincipalID  string
	Seq          int64 // creation order
	CreatedAt    time.Time
}

// Sealer seals S3 secrets (sealed.Box implements it).
type Sealer interface {
	Seal(aad, secret string) (string, error)
	Open(aad, stored string) (string, error)
}

// PrincipalStore is the persistence of principals and keys.
type PrincipalStore interface {
	// InsertPrincipal inserts a principal; a principal with the same id, or
	// for the same storage account or user, already there is a Conflict.
	InsertPrincipal(ctx context.Context, p Principal) error
	GetPrincipal(ctx context.Context, id string) (Principal, error)
	GetPrincipalByStorageAccount(ctx context.Context, storageAccountID string) (Principal, error)
	GetPrincipalByUser(ctx context.Context, userID int64) (Principal, error)
	InsertKey(ctx context.Context, k StoredKey) error
	GetKey(ctx context.Context, accessKey string) (StoredKey, error)
	// ListKeys returns a principal's keys oldest first.
	ListKeys(ctx context.Context, principalID string) ([]StoredKey, error)
	// DeleteKey deletes one of a principal's keys; not found if it has no such key.
	DeleteKey(ctx context.Context, principalID, accessKey string) error
	CountKeys(ctx context.Context, principalID string) (int, error)
	// GetStorageAccountAnywhere returns a storage account by id anywhere in
	// the scope (the native API names accounts by id alone).
	GetStorageAccountAnywhere(ctx context.Context, scope, id string) (StorageAccount, error)
}

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
const secretAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func randomString(alphabet string, n int) (string, error) {
	// Rejection sampling keeps the characters uniform.
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	limit := byte(256 - 256%len(alphabet))
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

// newKey returns a fresh AWS-shaped key pair: a 20-character access key id
// starting with "TR" and a 40-character secret.
func newKey() (access, secret string, err error) {
	a, err := randomString(keyAlphabet, 18)
	if err != nil {
		return "", "", err
	}
	secret, err = randomString(secretAlphabet, 40)
	return "TR" + a, secret, err
}

// addKeyTx creates a key for p inside a transaction.
func (s *Service) addKeyTx(ctx context.Context, tx Store, p Principal, now time.Time) (Key, error) {
	n, err := tx.CountKeys(ctx, p.ID)
	if err != nil {
		return Key{}, err
	}
	if n >= MaxKeys {
		return Key{}, errs.Newf(errs.KindPrecondition, "a principal has at most %d S3 keys; delete one first", MaxKeys)
	}
	access, secret, err := newKey()
	if err != nil {
		return Key{}, err
	}
	stored, err := s.sealer.Seal(access, secret)
	if err != nil {
		return Key{}, err
	}
	if err := tx.InsertKey(ctx, StoredKey{AccessKey: access, SealedSecret: stored, PrincipalID: p.ID, CreatedAt: now}); err != nil {
		return Key{}, err
	}
	return Key{AccessKey: access, Secret: secret, PrincipalID: p.ID, CreatedAt: now}, nil
}

func (s *Service) open(k StoredKey) (Key, error) {
	secret, err := s.sealer.Open(k.AccessKey, k.SealedSecret)
	if err != nil {
		return Key{}, err
	}
	return Key{AccessKey: k.AccessKey, Secret: secret, PrincipalID: k.PrincipalID, CreatedAt: k.CreatedAt}, nil
}

func (s *Service) openAll(ks []StoredKey) ([]Key, error) {
	out := make([]Key, len(ks))
	for i, k := range ks {
		var err error
		if out[i], err = s.open(k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ResolveKey returns the key with its plaintext secret (the S3 server's
// signature check); NotFound for an unknown key.
func (s *Service) ResolveKey(ctx context.Context, accessKey string) (Key, error) {
	k, err := s.store.GetKey(ctx, accessKey)
	if err != nil {
		return Key{}, err
	}
	return s.open(k)
}

// Principal returns a principal by id (the S3 server).
func (s *Service) Principal(ctx context.Context, id string) (Principal, error) {
	return s.store.GetPrincipal(ctx, id)
}

// principalOfAccountTx returns (creating it with its first key) the
// principal of a storage account.
func (s *Service) principalOfAccountTx(ctx context.Context, tx Store, a actor.Actor, sa StorageAccount, now time.Time) (Principal, bool, error) {
	p, err := tx.GetPrincipalByStorageAccount(ctx, sa.ID)
	if err == nil || !errs.Is(err, errs.KindNotFound) {
		return p, false, err
	}
	p = Principal{ID: sa.ID, Kind: KindStorageAccount, StorageAccountID: sa.ID, OrgID: sa.PartnerID, OrgPath: sa.OrgPath,
		DisplayName: sa.Name, Email: sa.ContactEmail, CreatedAt: now}
	if err := tx.InsertPrincipal(ctx, p); err != nil {
		return Principal{}, false, err
	}
	if _, err := s.addKeyTx(ctx, tx, p, now); err != nil {
		return Principal{}, false, err
	}
	return p, true, tx.AppendAudit(ctx, audit.New(a, now, "s3.principal.create", "storage_account", sa.ID, sa.OrgPath, ""))
}

// AccountKeys returns the S3 keys of a storage account (partnerID "": the
// actor's own partner), creating its principal and first key if the account
// predates them. Secrets are shown to admins only, who may create keys
// anyway; staff and viewers get the keys without them (Secret "").
func (s *Service) AccountKeys(ctx context.Context, a actor.Actor, partnerID, accountID string) (Principal, []Key, error) {
	var p Principal
	var ks []StoredKey
	err := s.store.Tx(ctx, func(tx Store) error {
		sa, err := s.accountFor(ctx, tx, a, partnerID, accountID, actor.Viewer)
		if err != nil {
			return err
		}
		if p, _, err = s.principalOfAccountTx(ctx, tx, a, sa, s.now()); err != nil {
			return err
		}
		ks, err = tx.ListKeys(ctx, p.ID)
		return err
	})
	if err != nil {
		return Principal{}, nil, err
	}
	if a.Require(actor.Admin) != nil {
		keys := make([]Key, len(ks))
		for i, k := range ks {
			keys[i] = Key{AccessKey: k.AccessKey, PrincipalID: k.PrincipalID, CreatedAt: k.CreatedAt}
		}
		return p, keys, nil
	}
	keys, err := s.openAll(ks)
	return p, keys, err
}

// CreateAccountKey adds an S3 key to a storage account.
func (s *Service) CreateAccountKey(ctx context.Context, a actor.Actor, partnerID, accountID string) (Key, error) {
	var k Key
	err := s.store.Tx(ctx, func(tx Store) error {
		sa, err := s.accountFor(ctx, tx, a, partnerID, accountID, actor.Admin)
		if err != nil {
			return err
		}
		now := s.now()
		p, created, err := s.principalOfAccountTx(ctx, tx, a, sa, now)
		if err != nil {
			return err
		}
		if created {
			ks, err := tx.ListKeys(ctx, p.ID)
			if err != nil {
				return err
			}
			k, err = s.open(ks[0])
			return err
		}
		if k, err = s.addKeyTx(ctx, tx, p, now); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "s3.key.create", "storage_account", sa.ID, sa.OrgPath, k.AccessKey))
	})
	return k, err
}

func (s *Service) keyRevoked(accessKey string) { s.plane.KeyRevoked(accessKey) }

// DeleteAccountKey deletes an S3 key of a storage account.
func (s *Service) DeleteAccountKey(ctx context.Context, a actor.Actor, partnerID, accountID, accessKey string) error {
	defer s.keyRevoked(accessKey)
	return s.store.Tx(ctx, func(tx Store) error {
		sa, err := s.accountFor(ctx, tx, a, partnerID, accountID, actor.Admin)
		if err != nil {
			return err
		}
		p, err := tx.GetPrincipalByStorageAccount(ctx, sa.ID)
		if err != nil {
			if errs.Is(err, errs.KindNotFound) {
				return errs.NotFound("S3 key")
			}
			return err
		}
		if err := tx.DeleteKey(ctx, p.ID, accessKey); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "s3.key.delete", "storage_account", sa.ID, sa.OrgPath, accessKey))
	})
}

// LocateAccount returns the partnerID argument under which the actor reaches
// a storage account known only by its id (the native API's routes): "" for
// a partner's own key, the account's partner for the provider and
// distributors. Outside the actor's subtree the account is NotFound.
func (s *Service) LocateAccount(ctx context.Context, a actor.Actor, accountID string) (string, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return "", err
	}
	if a.OrgKind == actor.Partner {
		return "", nil
	}
	sa, err := s.store.GetStorageAccountAnywhere(ctx, a.Scope(), accountID)
	if err != nil {
		return "", err
	}
	return sa.PartnerID, nil
}

// accountFor returns a storage account the actor may use with role min;
// partnerID "" means the actor's own partner org.
func (s *Service) accountFor(ctx context.Context, tx Store, a actor.Actor, partnerID, accountID string, min actor.Role) (StorageAccount, error) {
	p, err := s.partnerOf(ctx, tx, a, partnerID, min, false)
	if err != nil {
		return StorageAccount{}, err
	}
	return tx.GetStorageAccount(ctx, a.Scope(), p.ID, accountID)
}

// UserRef is the idcloudhost user an S3 user belongs to, as the dialect
// knows it from the authenticated key.
type UserRef struct {
	ID      int64
	OrgID   string
	OrgPath string
	Email   string
	Name    string
}

// UserPrincipal returns an idcloudhost user's S3 principal and keys,
// creating both on first use ("User and keys will be generated, if they do
// not exist already").
func (s *Service) UserPrincipal(ctx context.Context, a actor.Actor, u UserRef) (Principal, []Key, error) {
	var p Principal
	var ks []StoredKey
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if p, err = s.userPrincipalTx(ctx, tx, a, u); err != nil {
			return err
		}
		ks, err = tx.ListKeys(ctx, p.ID)
		return err
	})
	if err != nil {
		return Principal{}, nil, err
	}
	if a.BillingAccount != 0 {
		// A restricted token may use the principal (its buckets) but never
		// see a key: a key reaches every bucket of the user.
		return p, nil, nil
	}
	keys, err := s.openAll(ks)
	return p, keys, err
}

// UserCredentials returns an idcloudhost user's S3 principal with its keys
// and secrets, creating both on first use; a token restricted to one
// billing account may not read them (actor.RequireWholeUser).
func (s *Service) UserCredentials(ctx context.Context, a actor.Actor, u UserRef) (Principal, []Key, error) {
	if err := a.RequireWholeUser("read the user's S3 keys"); err != nil {
		return Principal{}, nil, err
	}
	return s.UserPrincipal(ctx, a, u)
}

func (s *Service) userPrincipalTx(ctx context.Context, tx Store, a actor.Actor, u UserRef) (Principal, error) {
	if u.ID <= 0 || u.Email == "" {
		return Principal{}, errs.New(errs.KindInternal, "objstore: user principal without user")
	}
	p, err := tx.GetPrincipalByUser(ctx, u.ID)
	if err == nil || !errs.Is(err, errs.KindNotFound) {
		return p, err
	}
	now := s.now()
	p = Principal{ID: u.Email, Kind: KindUser, UserID: u.ID, OrgID: u.OrgID, OrgPath: u.OrgPath,
		DisplayName: u.Email, Email: u.Email, CreatedAt: now}
	if err := tx.InsertPrincipal(ctx, p); err != nil {
		return Principal{}, err
	}
	if _, err := s.addKeyTx(ctx, tx, p, now); err != nil {
		return Principal{}, err
	}
	return p, tx.AppendAudit(ctx, audit.New(a, now, "s3.principal.create", "user", fmt.Sprint(u.ID), u.OrgPath, p.ID))
}

// UserKeys lists an idcloudhost user's S3 keys (oldest first), creating the
// S3 user on first use.
func (s *Service) UserKeys(ctx context.Context, a actor.Actor, u UserRef) ([]Key, error) {
	_, ks, err := s.UserCredentials(ctx, a, u)
	return ks, err
}

// CreateUserKey adds a key and returns all of the user's keys, the new one
// last.
func (s *Service) CreateUserKey(ctx context.Context, a actor.Actor, u UserRef) ([]Key, error) {
	return s.changeUserKeys(ctx, a, u, "s3.key.create", func(tx Store, p Principal, now time.Time) (string, error) {
		k, err := s.addKeyTx(ctx, tx, p, now)
		return k.AccessKey, err
	})
}

// DeleteUserKey deletes one of the user's keys and returns the rest.
func (s *Service) DeleteUserKey(ctx context.Context, a actor.Actor, u UserRef, accessKey string) ([]Key, error) {
	if accessKey == "" {
		return nil, errs.Invalid("access_key", "is required")
	}
	defer s.keyRevoked(accessKey)
	return s.changeUserKeys(ctx, a, u, "s3.key.delete", func(tx Store, p Principal, _ time.Time) (string, error) {
		return accessKey, tx.DeleteKey(ctx, p.ID, accessKey)
	})
}

// changeUserKeys applies change to the user's keys in one transaction
// (creating the S3 user first if needed), audits it as action and returns
// the keys after it, oldest first.
func (s *Service) changeUserKeys(ctx context.Context, a actor.Actor, u UserRef, action string,
	change func(tx Store, p Principal, now time.Time) (accessKey string, err error)) ([]Key, error) {
	if err := a.RequireWholeUser("create or delete the user's S3 keys"); err != nil {
		return nil, err
	}
	var ks []StoredKey
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := s.userPrincipalTx(ctx, tx, a, u)
		if err != nil {
			return err
		}
		now := s.now()
		access, err := change(tx, p, now)
		if err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, audit.New(a, now, action, "user", fmt.Sprint(u.ID), u.OrgPath, access)); err != nil {
			return err
		}
		ks, err = tx.ListKeys(ctx, p.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.openAll(ks)
}
