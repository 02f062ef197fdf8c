package bss

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

	"github.com/google/uuid"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// DeniedMessage is the SDK's answer to a failed authorization (HTTP 401).
const DeniedMessage = "Authorization has been denied for this request."

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }

// HashKey is the stored form of an installation's API key.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// ParseAppID reads an Application Id leniently (case, braces, with or
// without dashes) and returns its canonical lower-case form.
func ParseAppID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	u, err := uuid.Parse(s)
	if err != nil || u == uuid.Nil {
		return "", false
	}
	return u.String(), true
}

// newAPIKey makes a key like the BSS's own: 32 random bytes, Base64.
func newAPIKey() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", errs.Wrap(errs.KindInternal, err, "random")
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// CreateInstallation registers a BSS installation for a distributor and one
// of its contracts. Operators above the distributor and the distributor's
// own admins may do it; the API key is returned once.
func (s *Service) CreateInstallation(ctx context.Context, a actor.Actor, in InstallationInput) (CreatedInstallation, error) {
	if err := a.RequireKind(actor.Provider, actor.Distributor); err != nil {
		return CreatedInstallation{}, err
	}
	if err := a.Require(actor.Admin); err != nil {
		return CreatedInstallation{}, err
	}
	return s.createInstallation(ctx, a, in)
}

func (s *Service) createInstallation(ctx context.Context, a actor.Actor, in InstallationInput) (CreatedInstallation, error) {
	var out CreatedInstallation
	if in.DistributorID == "" {
		return out, errs.Invalid("distributorId", "must not be empty")
	}
	if in.ContractID == "" {
		return out, errs.Invalid("contractId", "must not be empty")
	}
	appID := ""
	if in.AppID == "" {
		appID = uuid.NewString()
	} else {
		var ok bool
		if appID, ok = ParseAppID(in.AppID); !ok {
			return out, errs.Invalid("applicationId", "must be a GUID")
		}
	}
	key := in.APIKey
	if key == "" {
		var err error
		if key, err = newAPIKey(); err != nil {
			return out, err
		}
	} else if len(key) < 16 || len(key) > 512 {
		return out, errs.Invalid("apiKey", "must be 16 to 512 characters")
	}
	name := in.Name
	if strings.TrimSpace(name) == "" {
		name = "BSS installation " + appID
	}
	name, err := validate.Name("name", name)
	if err != nil {
		return out, err
	}
	err = s.store.Tx(ctx, func(tx Store) error {
		t := tx.Tenancy()
		dist, err := t.GetOrg(ctx, a.Scope(), in.DistributorID)
		// Unknown or out of the caller's subtree: 404, as every other
		// reference the caller cannot see; an org of another kind: 400.
		if errs.Is(err, errs.KindNotFound) {
			return &errs.Error{Kind: errs.KindNotFound, Field: "distributorId", Msg: "no such distributor"}
		}
		if err != nil {
			return err
		}
		if dist.Kind != actor.Distributor {
			return errs.Invalid("distributorId", "is not a distributor")
		}
		c, err := t.GetContract(ctx, a.Scope(), in.ContractID)
		if errs.Is(err, errs.KindNotFound) || (err == nil && c.OrgID != dist.ID) {
			return &errs.Error{Kind: errs.KindNotFound, Field: "contractId", Msg: "no such contract of the distributor"}
		}
		if err != nil {
			return err
		}
		now := s.now()
		out = CreatedInstallation{APIKey: key, Installation: Installation{AppID: appID, DistributorID: dist.ID,
			DistributorPath: dist.Path, ContractID: c.ID, Name: name, KeyHash: HashKey(key), CreatedAt: now}}
		if err := tx.InsertBSSInstallation(ctx, out.Installation); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return &errs.Error{Kind: errs.KindConflict, Field: "applicationId", Msg: "an installation with this application id exists"}
			}
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "bss_installation.create", "bss_installation", appID, dist.Path,
			fmt.Sprintf("name=%q contract=%s", name, c.ID)))
	})
	if err != nil {
		return CreatedInstallation{}, err
	}
	return out, nil
}

// ListInstallations lists the installations of the caller's subtree.
func (s *Service) ListInstallations(ctx context.Context, a actor.Actor) ([]Installation, error) {
	if err := a.RequireKind(actor.Provider, actor.Distributor); err != nil {
		return nil, err
	}
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	return s.store.ListBSSInstallations(ctx, a.Scope())
}

// RevokeInstallation stops an installation's calls from authenticating
// (its accounts and subscriptions stay). Revoking twice is not an error.
func (s *Service) RevokeInstallation(ctx context.Context, a actor.Actor, appID string) error {
	if err := a.RequireKind(actor.Provider, actor.Distributor); err != nil {
		return err
	}
	if err := a.Require(actor.Admin); err != nil {
		return err
	}
	id, ok := ParseAppID(appID)
	if !ok {
		return errs.NotFound("BSS installation")
	}
	return s.store.Tx(ctx, func(tx Store) error {
		in, err := tx.GetBSSInstallation(ctx, id)
		if err != nil {
			return err
		}
		if !a.Sees(in.DistributorPath) {
			return errs.NotFound("BSS installation")
		}
		now := s.now()
		changed, err := tx.RevokeBSSInstallation(ctx, id, now)
		if err != nil || !changed {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "bss_installation.revoke", "bss_installation", id, in.DistributorPath, ""))
	})
}

// EnsureInstallation registers an installation with the given id and key
// unless it exists (the demo); an existing one with another key is a
// conflict.
func (s *Service) EnsureInstallation(ctx context.Context, distributorID, contractID, appID, apiKey string) error {
	id, ok := ParseAppID(appID)
	if !ok {
		return errs.Invalid("applicationId", "must be a GUID")
	}
	in, err := s.store.GetBSSInstallation(ctx, id)
	if err == nil {
		if subtle.ConstantTimeCompare([]byte(in.KeyHash), []byte(HashKey(apiKey))) != 1 {
			return errs.New(errs.KindConflict, "the BSS installation exists with another API key")
		}
		return nil
	}
	if !errs.Is(err, errs.KindNotFound) {
		return err
	}
	_, err = s.createInstallation(ctx, actor.System(""), InstallationInput{DistributorID: distributorID,
		ContractID: contractID, Name: "Demo BSS", AppID: id, APIKey: apiKey})
	if errs.Is(err, errs.KindConflict) {
		return s.EnsureInstallation(ctx, distributorID, contractID, appID, apiKey)
	}
	return err
}

// Authenticate checks the X-CloudPlatform-ApplicationId and -APIKey headers
// as the SDK does: a known application id and its key, which arrives
// Base64-encoded (the SDK form) or raw. Every failure is KindUnauthenticated
// with DeniedMessage.
func (s *Service) Authenticate(ctx context.Context, appIDHeader, apiKeyHeader string) (Installation, error) {
	denied := errs.New(errs.KindUnauthenticated, DeniedMessage)
	key := strings.TrimSpace(apiKeyHeader)
	id, ok := ParseAppID(appIDHeader)
	if !ok || key == "" || len(key) > 1024 {
		return Installation{}, denied
	}
	in, err := s.store.GetBSSInstallation(ctx, id)
	if errs.Is(err, errs.KindNotFound) {
		return Installation{}, denied
	}
	if err != nil {
		return Installation{}, err
	}
	// Both forms are hashed and compared, in constant time, so neither
	// the timing nor the order reveals which one matched.
	match := subtle.ConstantTimeCompare([]byte(in.KeyHash), []byte(HashKey(key)))
	if dec, err := base64.StdEncoding.DecodeString(key); err == nil {
		match |= subtle.ConstantTimeCompare([]byte(in.KeyHash), []byte(HashKey(string(dec))))
	}
	if match != 1 || in.RevokedAt != nil {
		return Installation{}, denied
	}
	return in, nil
}
