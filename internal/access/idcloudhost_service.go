package access

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// IDCHTokenShown is how many characters of a token stay readable in
// listings; the rest is masked (see MaskedIDCHToken).
const IDCHTokenShown = 4

// Counter names of the idcloudhost numbers (the counters table).
const (
	counterUser    = "user"
	counterProfile = "profile"
	counterToken   = "token"
)

// Identity is the idcloudhost user and token service.
type Identity struct {
	store IdentityStore
	clock clock.Clock
}

// NewIdentity returns the idcloudhost identity service.
func NewIdentity(s IdentityStore, c clock.Clock) *Identity { return &Identity{store: s, clock: c} }

func (s *Identity) now() time.Time { return clock.Micro(s.clock.Now()) }

// IDCHPrincipalID is the actor id of a token: audit rows, idempotency keys
// and rate limits are per token.
func IDCHPrincipalID(tokenID int64) string {
	return "idcloudhost-token-" + strconv.FormatInt(tokenID, 10)
}

// NewIDCHTokenSecret returns a fresh secret: 32 characters of [A-Za-z0-9]
// (190 random bits), drawn without modulo bias.
func NewIDCHTokenSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, IDCHTokenLength)
	var buf [64]byte
	for len(out) < IDCHTokenLength {
		if _, err := rand.Read(buf[:]); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		for _, b := range buf {
			// 248 = 4 × 62: values at or above it would favour the first letters.
			if b < 248 && len(out) < IDCHTokenLength {
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out)
}

// validIDCHSecret reports whether s has the token syntax.
func validIDCHSecret(s string) bool {
	if len(s) != IDCHTokenLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// MaskedIDCHToken is how a stored token is shown: its first characters and
// "*" for the rest, 32 characters in all. The secret is only ever shown in
// the response that creates it.
func MaskedIDCHToken(t IDCHToken) string {
	return t.Prefix + strings.Repeat("*", IDCHTokenLength-len(t.Prefix))
}

// Gravatar returns the avatar URL of an e-mail address: Gravatar's image of
// its MD5 (Gravatar's key, not a security use), falling back to Auth0's
// initials image as the vendor does.
func Gravatar(email string) string {
	sum := md5.Sum([]byte(strings.ToLower(strings.TrimSpace(email))))
	initials := "u"
	if e := strings.ToLower(email); len(e) >= 2 {
		initials = e[:2]
	}
	fallback := "https://cdn.auth0.com/avatars/" + initials + ".png"
	return "https://s.gravatar.com/avatar/" + hex.EncodeToString(sum[:]) + "?s=480&r=pg&d=" + url.QueryEscape(fallback)
}

// ---- authentication ----

// AuthenticateIDCH returns the actor of an idcloudhost token: the user's
// customer org, role admin inside it, and the token's billing account when
// the token is restricted. It implements the dialect's authenticator.
func (s *Identity) Authenticate(ctx context.Context, key, requestID string) (actor.Actor, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "missing apikey header")
	}
	if !validIDCHSecret(key) {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "invalid API token")
	}
	hash := HashKey(key)
	t, u, err := s.store.GetIDCHTokenByHash(ctx, hash)
	if errs.Is(err, errs.KindNotFound) {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "invalid API token")
	}
	if err != nil {
		return actor.Actor{}, err
	}
	if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash)) != 1 {
		return actor.Actor{}, errs.New(errs.KindUnauthenticated, "invalid API token")
	}
	// last_activity is written at most once a minute, so reads do not turn
	// into writes on every call.
	if now := s.now(); now.Sub(u.LastActivity) >= touchEvery {
		if err := s.store.TouchIDCHUser(ctx, u.ID, now); err != nil {
			return actor.Actor{}, err
		}
	}
	a := actor.Actor{Type: actor.TypeAPIKey, ID: IDCHPrincipalID(t.ID), OrgID: t.OrgID, OrgPath: t.OrgPath,
		OrgKind: actor.Customer, Role: actor.Admin, RequestID: requestID}
	if t.Restricted {
		a.BillingAccount = t.BillingAccountID
	}
	return a, nil
}

// ---- users ----

// CreateIDCHUserInput creates an idcloudhost user for a customer org.
type CreateIDCHUserInput struct {
	OrgID            string
	Email            string
	FirstName        string
	LastName         string
	PhoneNumber      string
	PersonalIDNumber string
}

// Validate checks the input.
func (in *CreateIDCHUserInput) Validate() error {
	var err error
	if in.Email, err = validate.Email("email", in.Email); err != nil {
		return err
	}
	p := ProfileInput{FirstName: &in.FirstName, LastName: &in.LastName, PhoneNumber: &in.PhoneNumber,
		PersonalIDNumber: &in.PersonalIDNumber}
	return p.Validate()
}

// ProfileInput changes a profile; nil fields stay as they are.
type ProfileInput struct {
	FirstName        *string
	LastName         *string
	PhoneNumber      *string
	PersonalIDNumber *string
}

// Validate trims and checks the fields (wire names of the profile).
func (in *ProfileInput) Validate() error {
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"first_name", in.FirstName, 255}, {"last_name", in.LastName, 255}, {"phone_number", in.PhoneNumber, 64},
		{"personal_id_number", in.PersonalIDNumber, 64}} {
		if f.v == nil {
			continue
		}
		v, err := validate.Text(f.name, strings.TrimSpace(*f.v), f.max)
		if err != nil {
			return err
		}
		if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return errs.Invalid(f.name, "must not contain control characters")
		}
		*f.v = v
	}
	return nil
}

// CreateUser creates the idcloudhost user of a customer org in the actor's
// subtree (operators: admins of an org above it).
func (s *Identity) CreateUser(ctx context.Context, a actor.Actor, in CreateIDCHUserInput) (IDCHUser, error) {
	if err := a.Require(actor.Admin); err != nil {
		return IDCHUser{}, err
	}
	if a.OrgKind == actor.Customer {
		return IDCHUser{}, errs.New(errs.KindForbidden, "users are created by the provider's operators")
	}
	if err := in.Validate(); err != nil {
		return IDCHUser{}, err
	}
	var u IDCHUser
	err := s.store.Tx(ctx, func(tx IdentityStore) error {
		o, err := tx.GetOrg(ctx, a.Scope(), in.OrgID)
		if errs.Is(err, errs.KindNotFound) {
			return &errs.Error{Kind: errs.KindNotFound, Field: "orgId", Msg: "no such org"}
		}
		if err != nil {
			return err
		}
		if o.Kind != actor.Customer {
			return errs.Invalid("orgId", "must be a customer org")
		}
		id, err := tx.NextNumber(ctx, counterUser)
		if err != nil {
			return err
		}
		pid, err := tx.NextNumber(ctx, counterProfile)
		if err != nil {
			return err
		}
		now := s.now()
		u = IDCHUser{ID: id, OrgID: o.ID, OrgPath: o.Path, Email: in.Email, CookieID: newCookieID(),
			ConsumerID: ids.New(), LastActivity: now, CreatedAt: now,
			Profile: IDCHProfile{ID: pid, FirstName: in.FirstName, LastName: in.LastName, PhoneNumber: in.PhoneNumber,
				PersonalIDNumber: in.PersonalIDNumber, Avatar: Gravatar(in.Email), CreatedAt: now, UpdatedAt: now}}
		if err := tx.InsertIDCHUser(ctx, u); err != nil {
			return userConflict(err)
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "idcloudhost_user.create", "idcloudhost_user",
			strconv.FormatInt(id, 10), o.Path, fmt.Sprintf("email=%q", u.Email)))
	})
	return u, err
}

// userConflict names the field of a unique violation on a user: the org
// already has its user, or the e-mail is taken.
func userConflict(err error) error {
	if errs.Is(err, errs.KindConflict) {
		return &errs.Error{Kind: errs.KindConflict, Field: "email", Msg: "is in use, or the org already has a user", Err: err}
	}
	return err
}

func newCookieID() string { return strings.ReplaceAll(ids.New(), "-", "") }

// GetUser returns a user in the actor's subtree by number.
func (s *Identity) GetUser(ctx context.Context, a actor.Actor, id int64) (IDCHUser, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return IDCHUser{}, err
	}
	return s.store.GetIDCHUser(ctx, a.Scope(), id)
}

// ListUsers lists users in the actor's subtree, by number.
func (s *Identity) ListUsers(ctx context.Context, a actor.Actor, after int64, limit int) ([]IDCHUser, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		return nil, errs.Invalid("limit", "must be between 1 and 1000")
	}
	return s.store.ListIDCHUsers(ctx, a.Scope(), after, limit)
}

// Me returns the user the actor's token belongs to.
func (s *Identity) Me(ctx context.Context, a actor.Actor) (IDCHUser, error) {
	return me(ctx, s.store, a)
}

func me(ctx context.Context, st IdentityStore, a actor.Actor) (IDCHUser, error) {
	if a.OrgKind != actor.Customer || a.OrgID == "" {
		return IDCHUser{}, errs.New(errs.KindForbidden, "this operation is for idcloudhost users")
	}
	u, err := st.GetIDCHUserByOrg(ctx, a.OrgID)
	if errs.Is(err, errs.KindNotFound) {
		return IDCHUser{}, errs.New(errs.KindForbidden, "this operation is for idcloudhost users")
	}
	return u, err
}

// UpdateProfile changes the caller's own profile.
func (s *Identity) UpdateProfile(ctx context.Context, a actor.Actor, in ProfileInput) (IDCHUser, error) {
	if err := a.RequireWholeUser("change the user's profile"); err != nil {
		return IDCHUser{}, err
	}
	if err := in.Validate(); err != nil {
		return IDCHUser{}, err
	}
	var u IDCHUser
	err := s.store.Tx(ctx, func(tx IdentityStore) error {
		var err error
		if u, err = me(ctx, tx, a); err != nil {
			return err
		}
		p := &u.Profile
		for _, f := range []struct{ in, out *string }{{in.FirstName, &p.FirstName}, {in.LastName, &p.LastName},
			{in.PhoneNumber, &p.PhoneNumber}, {in.PersonalIDNumber, &p.PersonalIDNumber}} {
			if f.in != nil {
				*f.out = *f.in
			}
		}
		now := s.now()
		p.UpdatedAt = now
		if err := tx.UpdateIDCHProfile(ctx, u.ID, *p); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "idcloudhost_user.update_profile", "idcloudhost_user",
			strconv.FormatInt(u.ID, 10), u.OrgPath, ""))
	})
	return u, err
}

// ---- tokens ----

// CreateIDCHTokenInput creates a token.
type CreateIDCHTokenInput struct {
	Description      string
	Restricted       bool
	BillingAccountID int64 // required when Restricted; may be set (0 = none) on an unrestricted token
}

// Validate checks the input.
func (in *CreateIDCHTokenInput) Validate() error {
	var err error
	if in.Description, err = validate.Text("description", strings.TrimSpace(in.Description), 255); err != nil {
		return err
	}
	if in.BillingAccountID < 0 {
		return errs.Invalid("billing_account_id", "must not be negative")
	}
	if in.Restricted && in.BillingAccountID == 0 {
		return errs.Invalid("billing_account_id", "is required for a restricted token")
	}
	return nil
}

// CreatedIDCHToken is a new token with its secret, shown this once.
type CreatedIDCHToken struct {
	IDCHToken
	Secret string
}

// tokenManager checks a token may manage tokens: a restricted token is
// limited to one billing account and must not mint broader tokens.
func tokenManager(a actor.Actor) error {
	if a.BillingAccount != 0 {
		return errs.New(errs.KindForbidden, "a token restricted to a billing account cannot manage tokens")
	}
	return nil
}

// CreateToken creates a token for the caller's own user.
func (s *Identity) CreateToken(ctx context.Context, a actor.Actor, in CreateIDCHTokenInput) (CreatedIDCHToken, error) {
	if err := tokenManager(a); err != nil {
		return CreatedIDCHToken{}, err
	}
	if err := in.Validate(); err != nil {
		return CreatedIDCHToken{}, err
	}
	var out CreatedIDCHToken
	err := s.store.Tx(ctx, func(tx IdentityStore) error {
		u, err := me(ctx, tx, a)
		if err != nil {
			return err
		}
		out, err = s.createToken(ctx, tx, a, u, in, "")
		return err
	})
	return out, err
}

// CreateTokenFor creates a token for a user in the actor's subtree (the
// operator hands a new user its first token).
func (s *Identity) CreateTokenFor(ctx context.Context, a actor.Actor, userID int64, in CreateIDCHTokenInput) (CreatedIDCHToken, error) {
	if err := a.Require(actor.Admin); err != nil {
		return CreatedIDCHToken{}, err
	}
	if err := in.Validate(); err != nil {
		return CreatedIDCHToken{}, err
	}
	var out CreatedIDCHToken
	err := s.store.Tx(ctx, func(tx IdentityStore) error {
		u, err := tx.GetIDCHUser(ctx, a.Scope(), userID)
		if err != nil {
			return err
		}
		out, err = s.createToken(ctx, tx, a, u, in, "")
		return err
	})
	return out, err
}

// createToken inserts a token for u. secret is generated when empty.
func (s *Identity) createToken(ctx context.Context, tx IdentityStore, a actor.Actor, u IDCHUser, in CreateIDCHTokenInput, secret string) (CreatedIDCHToken, error) {
	if err := s.checkAccount(ctx, tx, u, in.BillingAccountID); err != nil {
		return CreatedIDCHToken{}, err
	}
	if secret == "" {
		secret = NewIDCHTokenSecret()
	}
	id, err := tx.NextNumber(ctx, counterToken)
	if err != nil {
		return CreatedIDCHToken{}, err
	}
	now := s.now()
	t := IDCHToken{ID: id, UserID: u.ID, OrgID: u.OrgID, OrgPath: u.OrgPath, ConsumerID: u.ConsumerID,
		Hash: HashKey(secret), Prefix: secret[:IDCHTokenShown], Description: in.Description, Restricted: in.Restricted,
		BillingAccountID: in.BillingAccountID, KongID: ids.New(), CreatedAt: now}
	if err := tx.InsertIDCHToken(ctx, t); err != nil {
		return CreatedIDCHToken{}, err
	}
	err = tx.AppendAudit(ctx, audit.New(a, now, "idcloudhost_token.create", "idcloudhost_token",
		strconv.FormatInt(id, 10), u.OrgPath, fmt.Sprintf("user=%d restricted=%v billing_account=%d", u.ID, t.Restricted, t.BillingAccountID)))
	return CreatedIDCHToken{IDCHToken: t, Secret: secret}, err
}

// checkAccount refuses a billing account that is not the user's own live
// account (another tenant's account looks the same as a missing one).
func (s *Identity) checkAccount(ctx context.Context, tx IdentityStore, u IDCHUser, id int64) error {
	if id == 0 {
		return nil
	}
	ok, err := tx.BillingAccountLive(ctx, u.OrgID, id)
	if err != nil {
		return err
	}
	if !ok {
		return &errs.Error{Kind: errs.KindNotFound, Field: "billing_account_id", Msg: "no such billing account"}
	}
	return nil
}

// ListTokens lists the caller's user's tokens, by number.
func (s *Identity) ListTokens(ctx context.Context, a actor.Actor) ([]IDCHToken, error) {
	u, err := me(ctx, s.store, a)
	if err != nil {
		return nil, err
	}
	return s.store.ListIDCHTokens(ctx, u.ID)
}

// ListTokensOf lists a user's tokens for an operator.
func (s *Identity) ListTokensOf(ctx context.Context, a actor.Actor, userID int64) ([]IDCHToken, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	u, err := s.store.GetIDCHUser(ctx, a.Scope(), userID)
	if err != nil {
		return nil, err
	}
	return s.store.ListIDCHTokens(ctx, u.ID)
}

// UpdateIDCHTokenInput changes a token; nil fields stay as they are.
type UpdateIDCHTokenInput struct {
	ID               int64
	Description      *string
	Restricted       *bool
	BillingAccountID *int64
}

// UpdateToken changes one of the caller's user's tokens. The result must
// be consistent: a restricted token needs a billing account.
func (s *Identity) UpdateToken(ctx context.Context, a actor.Actor, in UpdateIDCHTokenInput) (IDCHToken, error) {
	if err := tokenManager(a); err != nil {
		return IDCHToken{}, err
	}
	if in.Description != nil {
		d, err := validate.Text("description", strings.TrimSpace(*in.Description), 255)
		if err != nil {
			return IDCHToken{}, err
		}
		in.Description = &d
	}
	if in.BillingAccountID != nil && *in.BillingAccountID < 0 {
		return IDCHToken{}, errs.Invalid("billing_account_id", "must not be negative")
	}
	var t IDCHToken
	err := s.store.Tx(ctx, func(tx IdentityStore) error {
		u, err := me(ctx, tx, a)
		if err != nil {
			return err
		}
		if t, err = tx.GetIDCHToken(ctx, u.ID, in.ID); err != nil {
			return tokenNotFound(err)
		}
		if in.Description != nil {
			t.Description = *in.Description
		}
		if in.Restricted != nil {
			t.Restricted = *in.Restricted
		}
		if in.BillingAccountID != nil && *in.BillingAccountID != t.BillingAccountID {
			if err := s.checkAccount(ctx, tx, u, *in.BillingAccountID); err != nil {
				return err
			}
			t.BillingAccountID = *in.BillingAccountID
		}
		if t.Restricted && t.BillingAccountID == 0 {
			return errs.Invalid("billing_account_id", "is required for a restricted token")
		}
		now := s.now()
		t.UpdatedAt = &now
		if err := tx.UpdateIDCHToken(ctx, t); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, now, "idcloudhost_token.update", "idcloudhost_token",
			strconv.FormatInt(t.ID, 10), u.OrgPath, fmt.Sprintf("restricted=%v billing_account=%d", t.Restricted, t.BillingAccountID)))
	})
	return t, err
}

// DeleteToken deletes one of the caller's user's tokens (the caller's own
// token too: the next call with it is unauthenticated).
func (s *Identity) DeleteToken(ctx context.Context, a actor.Actor, id int64) error {
	if err := tokenManager(a); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx IdentityStore) error {
		u, err := me(ctx, tx, a)
		if err != nil {
			return err
		}
		if err := tx.DeleteIDCHToken(ctx, u.ID, id); err != nil {
			return tokenNotFound(err)
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "idcloudhost_token.delete", "idcloudhost_token",
			strconv.FormatInt(id, 10), u.OrgPath, ""))
	})
}

// DeleteTokenFor deletes a user's token for an operator (a leaked token is
// revoked at once, without the user's help).
func (s *Identity) DeleteTokenFor(ctx context.Context, a actor.Actor, userID, id int64) error {
	if err := a.Require(actor.Admin); err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx IdentityStore) error {
		u, err := tx.GetIDCHUser(ctx, a.Scope(), userID)
		if err != nil {
			return err
		}
		if err := tx.DeleteIDCHToken(ctx, u.ID, id); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, audit.New(a, s.now(), "idcloudhost_token.delete", "idcloudhost_token",
			strconv.FormatInt(id, 10), u.OrgPath, fmt.Sprintf("user=%d", u.ID)))
	})
}

func tokenNotFound(err error) error {
	if errs.Is(err, errs.KindNotFound) {
		return &errs.Error{Kind: errs.KindNotFound, Field: "token_id", Msg: "no such token"}
	}
	return err
}
