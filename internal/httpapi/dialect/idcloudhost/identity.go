package idcloudhost

import (
	"context"
	"net/http"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/catalog"
)

// Identity is what the dialect needs of the idcloudhost identity
// (implemented by access.Identity).
type Identity interface {
	Authenticate(ctx context.Context, key, requestID string) (actor.Actor, error)
	Me(ctx context.Context, a actor.Actor) (access.IDCHUser, error)
	UpdateProfile(ctx context.Context, a actor.Actor, in access.ProfileInput) (access.IDCHUser, error)
	CreateToken(ctx context.Context, a actor.Actor, in access.CreateIDCHTokenInput) (access.CreatedIDCHToken, error)
	ListTokens(ctx context.Context, a actor.Actor) ([]access.IDCHToken, error)
	UpdateToken(ctx context.Context, a actor.Actor, in access.UpdateIDCHTokenInput) (access.IDCHToken, error)
	DeleteToken(ctx context.Context, a actor.Actor, id int64) error
}

// Locations is what the dialect needs of the catalog (implemented by
// catalog.Service).
type Locations interface {
	Locations(ctx context.Context) ([]catalog.Location, error)
	Location(ctx context.Context, slug string) (catalog.Location, error)
	DefaultLocation(ctx context.Context) (catalog.Location, error)
}

var (
	_ Identity  = (*access.Identity)(nil)
	_ Locations = (*catalog.Service)(nil)
)

// ---- wire types ----

// dateTime is the "YYYY-MM-DD HH:MM:SS" UTC timestamp of the user, token
// and compute objects.
func dateTime(t time.Time) string { return t.UTC().Format(time.DateTime) }

func dateTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := dateTime(*t)
	return &s
}

type profileJSON struct {
	Avatar           string `json:"avatar"`
	CreatedAt        string `json:"created_at"`
	Email            string `json:"email"`
	FirstName        string `json:"first_name"`
	ID               int64  `json:"id"`
	LastName         string `json:"last_name"`
	PersonalIDNumber string `json:"personal_id_number"`
	PhoneNumber      string `json:"phone_number"`
	UpdatedAt        string `json:"updated_at"`
	UserID           int64  `json:"user_id"`
}

func profileOut(u access.IDCHUser) profileJSON {
	p := u.Profile
	return profileJSON{Avatar: p.Avatar, CreatedAt: dateTime(p.CreatedAt), Email: u.Email, FirstName: p.FirstName,
		ID: p.ID, LastName: p.LastName, PersonalIDNumber: p.PersonalIDNumber, PhoneNumber: p.PhoneNumber,
		UpdatedAt: dateTime(p.UpdatedAt), UserID: u.ID}
}

type userJSON struct {
	CookieID     string         `json:"cookie_id"`
	ID           int64          `json:"id"`
	LastActivity string         `json:"last_activity"`
	Name         string         `json:"name"`
	Profile      any            `json:"profile"` // null in every sample
	ProfileData  profileJSON    `json:"profile_data"`
	State        map[string]any `json:"state"`
}

func userOut(u access.IDCHUser) userJSON {
	return userJSON{CookieID: u.CookieID, ID: u.ID, LastActivity: dateTime(u.LastActivity), Name: u.Email,
		ProfileData: profileOut(u), State: map[string]any{}}
}

type tokenJSON struct {
	BillingAccountID int64   `json:"billing_account_id"`
	ConsumerID       string  `json:"consumer_id"`
	CreatedAt        string  `json:"created_at"`
	Description      string  `json:"description"`
	ID               int64   `json:"id"`
	KongID           string  `json:"kong_id"`
	Restricted       bool    `json:"restricted"`
	Token            string  `json:"token"`
	UpdatedAt        *string `json:"updated_at"`
	UserID           int64   `json:"user_id"`
}

// tokenOut shapes a token; secret is the clear secret of a token just
// created, "" for the masked form every other response shows.
func tokenOut(t access.IDCHToken, secret string) tokenJSON {
	shown := secret
	if shown == "" {
		shown = access.MaskedIDCHToken(t)
	}
	return tokenJSON{BillingAccountID: t.BillingAccountID, ConsumerID: t.ConsumerID, CreatedAt: dateTime(t.CreatedAt),
		Description: t.Description, ID: t.ID, KongID: t.KongID, Restricted: t.Restricted, Token: shown,
		UpdatedAt: dateTimePtr(t.UpdatedAt), UserID: t.UserID}
}

type locationJSON struct {
	DisplayName string `json:"display_name"`
	IsDefault   bool   `json:"is_default"`
	IsPreferred bool   `json:"is_preferred"`
	Description string `json:"description"`
	OrderNr     int64  `json:"order_nr"`
	Slug        string `json:"slug"`
	CountryCode string `json:"country_code"`
}

func locationOut(l catalog.Location) locationJSON {
	return locationJSON{DisplayName: l.DisplayName, IsDefault: l.IsDefault, IsPreferred: l.IsPreferred,
		Description: l.Description, OrderNr: l.OrderNr, Slug: l.Slug, CountryCode: l.CountryCode}
}

type successJSON struct {
	Success bool `json:"success"`
}

// ---- operations ID-1 to ID-7 ----

func (s *server) identityOps() []op {
	return []op{
		{method: http.MethodGet, path: "/user-resource/user", h: s.getUser},
		{method: http.MethodPatch, path: "/user-resource/user/profile", h: s.updateUserProfile},
		{method: http.MethodDelete, path: "/user-resource/token", h: s.deleteToken},
		{method: http.MethodPatch, path: "/user-resource/token", h: s.updateToken},
		{method: http.MethodPost, path: "/user-resource/token", h: s.createToken},
		{method: http.MethodGet, path: "/user-resource/token/list", h: s.listTokens},
		{method: http.MethodGet, path: "/config/locations", h: s.listLocations},
	}
}

// ID-1.
func (s *server) getUser(ctx context.Context, c *call) (any, error) {
	u, err := s.d.Identity.Me(ctx, c.a)
	if err != nil {
		return nil, err
	}
	return userOut(u), nil
}

// ID-2: every parameter is optional; an absent one keeps its value.
func (s *server) updateUserProfile(ctx context.Context, c *call) (any, error) {
	var req struct {
		FirstName        *string `wire:"first_name"`
		LastName         *string `wire:"last_name"`
		PhoneNumber      *string `wire:"phone_number"`
		PersonalIDNumber *string `wire:"personal_id_number"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	u, err := s.d.Identity.UpdateProfile(ctx, c.a, access.ProfileInput{FirstName: req.FirstName,
		LastName: req.LastName, PhoneNumber: req.PhoneNumber, PersonalIDNumber: req.PersonalIDNumber})
	if err != nil {
		return nil, err
	}
	return profileOut(u), nil
}

// ID-3.
func (s *server) deleteToken(ctx context.Context, c *call) (any, error) {
	var req struct {
		TokenID int64 `wire:"token_id,required"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := s.d.Identity.DeleteToken(ctx, c.a, req.TokenID); err != nil {
		return nil, err
	}
	return successJSON{Success: true}, nil
}

// ID-4: absent parameters keep their values; restricted is a boolean
// (ID-amb-6).
func (s *server) updateToken(ctx context.Context, c *call) (any, error) {
	var req struct {
		TokenID          int64   `wire:"token_id,required"`
		Description      *string `wire:"description"`
		Restricted       *bool   `wire:"restricted"`
		BillingAccountID *int64  `wire:"billing_account_id"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	t, err := s.d.Identity.UpdateToken(ctx, c.a, access.UpdateIDCHTokenInput{ID: req.TokenID,
		Description: req.Description, Restricted: req.Restricted, BillingAccountID: req.BillingAccountID})
	if err != nil {
		return nil, err
	}
	return tokenOut(t, ""), nil
}

// ID-5: answers with all of the user's tokens (ID-amb-7); the new one
// carries its secret, shown this once.
func (s *server) createToken(ctx context.Context, c *call) (any, error) {
	var req struct {
		Description string `wire:"description"`
		Restricted  bool   `wire:"restricted"`
		accountParam
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	created, err := s.d.Identity.CreateToken(ctx, c.a, access.CreateIDCHTokenInput{Description: req.Description,
		Restricted: req.Restricted, BillingAccountID: req.BillingAccountID})
	if err != nil {
		return nil, err
	}
	all, err := s.d.Identity.ListTokens(ctx, c.a)
	if err != nil {
		return nil, err
	}
	out := make([]tokenJSON, 0, len(all))
	for _, t := range all {
		secret := ""
		if t.ID == created.ID {
			secret = created.Secret
		}
		out = append(out, tokenOut(t, secret))
	}
	return out, nil
}

// ID-6.
func (s *server) listTokens(ctx context.Context, c *call) (any, error) {
	all, err := s.d.Identity.ListTokens(ctx, c.a)
	if err != nil {
		return nil, err
	}
	return mapSlice(all, func(t access.IDCHToken) tokenJSON { return tokenOut(t, "") }), nil
}

// ID-7.
func (s *server) listLocations(ctx context.Context, _ *call) (any, error) {
	ls, err := s.d.Locations.Locations(ctx)
	if err != nil {
		return nil, err
	}
	return mapSlice(ls, locationOut), nil
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
