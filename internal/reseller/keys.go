package reseller

import (
	"context"
	"crypto/subtle"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/tenancy"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// KeyPrefix starts every generated reseller key, so a leaked one is
// recognisable (and told apart from native "trellis" keys).
const KeyPrefix = "itg_"

// touchEvery limits last-used updates to one write per key per interval.
const touchEvery = time.Minute

func newKeySecret() string { return access.NewSecret(KeyPrefix) }

func keyPrefix(key string) string {
	if len(key) > 8 {
		return key[:8]
	}
	return key
}

func validRole(field, role string) error {
	if role != RoleUser && role != RoleFinance {
		return errs.Invalidf(field, "must be %s or %s", RoleUser, RoleFinance)
	}
	return nil
}

// CreateKey creates a reseller key of a partner (operators, or the
// partner's own admins). secret "" generates one; the secret is shown once.
func (s *Service) CreateKey(ctx context.Context, a actor.Actor, partnerID, role, name string, secret string) (CreatedKey, error) {
	if err := a.Require(actor.Admin); err != nil {
		return CreatedKey{}, err
	}
	if err := validRole("role", role); err != nil {
		return CreatedKey{}, err
	}
	name, err := validate.Name("name", name)
	if err != nil {
		return CreatedKey{}, err
	}
	if secret == "" {
		secret = newKeySecret()
	} else if len(secret) < 8 || len(secret) > 200 || strings.ContainsAny(secret, " \t\r\n") {
		return CreatedKey{}, errs.Invalid("secret", "must be 8 to 200 characters without spaces")
	}
	var k Key
	err = s.store.Tx(ctx, func(tx Store) error {
		p, err := s.partnerOf(ctx, tx, a, partnerID)
		if err != nil {
			return err
		}
		now := s.now()
		k = Key{ID: ids.New(), PartnerID: p.ID, PartnerPath: p.Path, Role: role, Name: name,
			Prefix: keyPrefix(secret), Hash: access.HashKey(secret), CreatedAt: now}
		if err := tx.InsertResellerKey(ctx, k); err != nil {
			if errs.Is(err, errs.KindConflict) {
				return errs.Invalid("secret", "is already in use")
			}
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "reseller_key.create", "reseller_key", k.ID, p.Path,
			fmt.Sprintf("name=%q role=%s", name, role)))
	})
	if err != nil {
		return CreatedKey{}, err
	}
	return CreatedKey{Key: k, Secret: secret}, nil
}

// ListKeys lists a partner's keys (never their secrets).
func (s *Service) ListKeys(ctx context.Context, a actor.Actor, partnerID string) ([]Key, error) {
	if err := a.Require(actor.Admin); err != nil {
		return nil, err
	}
	p, err := s.partnerOf(ctx, s.store, a, partnerID)
	if err != nil {
		return nil, err
	}
	return s.store.ListResellerKeys(ctx, p.ID)
}

// RevokeKey revokes a partner's key; revoking twice is not an error.
func (s *Service) RevokeKey(ctx context.Context, a actor.Actor, partnerID, keyID string) error {
	if err := a.Require(actor.Admin); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx Store) error {
		p, err := s.partnerOf(ctx, tx, a, partnerID)
		if err != nil {
			return err
		}
		now := s.now()
		changed, err := tx.RevokeResellerKey(ctx, p.ID, keyID, now)
		if err != nil || !changed {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "reseller_key.revoke", "reseller_key", keyID, p.Path, ""))
	})
}

// EnsureKey makes sure a key with this secret exists for the partner
// (--demo); a secret in use by another partner or revoked is refused.
func (s *Service) EnsureKey(ctx context.Context, partnerID, role, name, secret string) error {
	k, err := s.store.GetResellerKeyByHash(ctx, access.HashKey(secret))
	if err == nil {
		if k.PartnerID != partnerID || k.RevokedAt != nil || k.Role != role {
			return errs.Invalid("secret", "is in use by another partner or role, or revoked")
		}
		return nil
	}
	if !errs.Is(err, errs.KindNotFound) {
		return err
	}
	_, err = s.CreateKey(ctx, actor.System(""), partnerID, role, name, secret)
	return err
}

// Authenticate returns the actor of a reseller key: the partner's org with
// the Staff role and the key's reseller role. A missing, unknown or revoked
// key is KindUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, key, requestID string) (actor.Actor, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "missing API key")
	}
	if len(key) > 512 {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "invalid API key")
	}
	hash := access.HashKey(key)
	k, err := s.store.GetResellerKeyByHash(ctx, hash)
	if errs.Is(err, errs.KindNotFound) {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "invalid API key")
	}
	if err != nil {
		return actor.Actor{}, err
	}
	if subtle.ConstantTimeCompare([]byte(k.Hash), []byte(hash)) != 1 {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "invalid API key")
	}
	if k.RevokedAt != nil {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "the API key has been revoked")
	}
	org, err := s.store.GetOrg(ctx, "/", k.PartnerID)
	if errs.Is(err, errs.KindNotFound) {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "invalid API key")
	}
	if err != nil {
		return actor.Actor{}, err
	}
	now := s.now()
	if k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= touchEvery {
		if err := s.store.TouchResellerKey(ctx, k.ID, now); err != nil {
			return actor.Actor{}, err
		}
	}
	return actor.Actor{Type: actor.TypeAPIKey, ID: k.ID, OrgID: org.ID, OrgPath: org.Path, OrgKind: org.Kind,
		Role: actor.Staff, RequestID: requestID, ResellerRole: k.Role}, nil
}

// ---- settings ----

// knownFeatures are the features an operator may turn on.
var knownFeatures = []string{FeatureSimpleOneSupport}

// settingsOf returns a partner's settings with defaults filled in.
func settingsOf(ctx context.Context, q Queries, partnerID, timeZone string) (Settings, error) {
	st, err := q.GetResellerSettings(ctx, partnerID)
	if errs.Is(err, errs.KindNotFound) {
		st, err = Settings{PartnerID: partnerID, Currency: money.RUB.Code(), Features: []string{}}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	st.TimeZone = timeZone
	if st.TimeZone == "" {
		st.TimeZone = "UTC"
	}
	if st.Features == nil {
		st.Features = []string{}
	}
	return st, nil
}

// Settings returns a partner's reseller settings.
func (s *Service) Settings(ctx context.Context, a actor.Actor, partnerID string) (Settings, error) {
	if err := reader(a); err != nil {
		return Settings{}, err
	}
	p, err := s.partnerOf(ctx, s.store, a, partnerID)
	if err != nil {
		return Settings{}, err
	}
	st, err := settingsOf(ctx, s.store, p.ID, p.TimeZone)
	st.EffectiveMonthlyLimit = s.monthlyLimit(st)
	return st, err
}

// SettingsInput changes settings; nil fields are unchanged.
type SettingsInput struct {
	Features *[]string
	Currency *string
	TimeZone *string
	// MonthlyLimit sets the partner's monthly limit (minor units, or
	// Unlimited); DefaultMonthlyLimit drops it, back to the provider-wide
	// default. Provider admins only: the limit bounds money the partner
	// creates.
	MonthlyLimit        *int64
	DefaultMonthlyLimit bool
}

// UpdateSettings changes a partner's settings (operators: Admin of an
// org above the partner; a partner cannot turn its own features on).
func (s *Service) UpdateSettings(ctx context.Context, a actor.Actor, partnerID string, in SettingsInput) (Settings, error) {
	if err := a.Require(actor.Admin); err != nil {
		return Settings{}, err
	}
	if err := a.RequireKind(actor.Provider, actor.Distributor); err != nil {
		return Settings{}, err
	}
	if in.MonthlyLimit != nil || in.DefaultMonthlyLimit {
		if !billing.MayMint(a) {
			return Settings{}, &errs.Error{Kind: errs.KindForbidden, Field: "monthlyLimit",
				Msg: "bounds money the partner creates: only a provider admin may set it"}
		}
		if in.MonthlyLimit != nil && *in.MonthlyLimit < Unlimited {
			return Settings{}, errs.Invalid("monthlyLimit", "must not be negative")
		}
	}
	var features []string
	if in.Features != nil {
		features = []string{}
		for i, f := range *in.Features {
			if !slices.Contains(knownFeatures, f) {
				return Settings{}, errs.Invalidf(fmt.Sprintf("features[%d]", i), "unknown feature %q (known: %s)", f,
					strings.Join(knownFeatures, ", "))
			}
			if !slices.Contains(features, f) {
				features = append(features, f)
			}
		}
		slices.Sort(features)
	}
	if in.Currency != nil {
		switch *in.Currency {
		case "RUB", "KZT", "BYN":
		default:
			return Settings{}, errs.Invalid("currency", "must be RUB, KZT or BYN")
		}
	}
	if in.TimeZone != nil {
		if *in.TimeZone == "" || *in.TimeZone == "Local" {
			return Settings{}, errs.Invalid("timeZone", "must be an IANA time zone such as Asia/Almaty")
		}
		if _, err := time.LoadLocation(*in.TimeZone); err != nil {
			return Settings{}, errs.Invalid("timeZone", "must be an IANA time zone such as Asia/Almaty")
		}
	}
	var out Settings
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := s.partnerOf(ctx, tx, a, partnerID)
		if err != nil {
			return err
		}
		if err := tx.LockOrg(ctx, p.ID); err != nil {
			return err
		}
		now := s.now()
		if in.TimeZone != nil && *in.TimeZone != p.TimeZone {
			p.TimeZone, p.UpdatedAt = *in.TimeZone, now
			if err := tx.UpdateOrg(ctx, p); err != nil {
				return err
			}
		}
		st, err := settingsOf(ctx, tx, p.ID, p.TimeZone)
		if err != nil {
			return err
		}
		if features != nil {
			st.Features = features
		}
		if in.Currency != nil {
			st.Currency = *in.Currency
		}
		if in.DefaultMonthlyLimit {
			st.MonthlyLimit = nil
		}
		if in.MonthlyLimit != nil {
			v := *in.MonthlyLimit
			st.MonthlyLimit = &v
		}
		st.EffectiveMonthlyLimit = s.monthlyLimit(st)
		st.UpdatedAt = now
		if err := tx.UpsertResellerSettings(ctx, st); err != nil {
			return err
		}
		out = st
		return tx.AppendAudit(ctx, audit.New(a, now, "reseller_settings.update", "org", p.ID, p.Path,
			fmt.Sprintf("features=%v currency=%s time_zone=%s monthly_limit=%s default=%t", st.Features, st.Currency,
				st.TimeZone, FormatMonthlyLimit(st.EffectiveMonthlyLimit), st.MonthlyLimit == nil)))
	})
	return out, err
}

// RequireFeature refuses (KindForbidden) when the actor's partner does not
// have feature f. Operators acting above partners pass.
func (s *Service) RequireFeature(ctx context.Context, a actor.Actor, f string) error {
	if a.OrgKind != actor.Partner {
		return nil
	}
	return requireFeature(ctx, s.store, a.OrgID, f)
}

func requireFeature(ctx context.Context, q Queries, partnerID, f string) error {
	st, err := settingsOf(ctx, q, partnerID, "")
	if err != nil {
		return err
	}
	if !st.Has(f) {
		return errs.Newf(errs.KindForbidden, "the partner does not have the %s feature", f)
	}
	return nil
}

// PartnerLocation returns the time zone of the actor's partner (UTC for
// operators and partners without one).
func (s *Service) PartnerLocation(ctx context.Context, a actor.Actor) (*time.Location, error) {
	return PartnerLocation(ctx, s.store, a)
}

// OrgReader reads an org in scope.
type OrgReader interface {
	GetOrg(ctx context.Context, scope, id string) (tenancy.Org, error)
}

// PartnerLocation returns the time zone of a's partner org read through
// q (UTC for operators and partners without one): the zone the Partner
// API's dates are in.
func PartnerLocation(ctx context.Context, q OrgReader, a actor.Actor) (*time.Location, error) {
	if a.OrgKind != actor.Partner {
		return time.UTC, nil
	}
	org, err := q.GetOrg(ctx, a.Scope(), a.OrgID)
	if err != nil {
		return nil, err
	}
	if org.TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(org.TimeZone)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "the partner's time zone is unknown")
	}
	return loc, nil
}
