package native

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
)

// idchUser is an idcloudhost user: the one customer of a customer org
// (the idcloudhost dialect's User and Profile).
type idchUser struct {
	ID               int64     `json:"id" doc:"The user number (idcloudhost user id)." example:"8"`
	OrgID            string    `json:"orgId" format:"uuid" doc:"The user's customer org: its billing accounts are the user's."`
	Email            string    `json:"email" format:"email"`
	ProfileID        int64     `json:"profileId" example:"22"`
	FirstName        string    `json:"firstName"`
	LastName         string    `json:"lastName"`
	PhoneNumber      string    `json:"phoneNumber"`
	PersonalIDNumber string    `json:"personalIdNumber"`
	Avatar           string    `json:"avatar"`
	LastActivity     time.Time `json:"lastActivity" doc:"Updated at most once a minute by the user's API calls."`
	CreatedAt        time.Time `json:"createdAt"`
}

func idchUserFrom(u access.IDCHUser) idchUser {
	p := u.Profile
	return idchUser{ID: u.ID, OrgID: u.OrgID, Email: u.Email, ProfileID: p.ID, FirstName: p.FirstName, LastName: p.LastName,
		PhoneNumber: p.PhoneNumber, PersonalIDNumber: p.PersonalIDNumber, Avatar: p.Avatar,
		LastActivity: u.LastActivity.UTC(), CreatedAt: u.CreatedAt.UTC()}
}

type idchUserCreate struct {
	OrgID            string `json:"orgId" format:"uuid" doc:"A customer org in the caller's subtree without a user yet."`
	Email            string `json:"email" format:"email" maxLength:"255"`
	FirstName        string `json:"firstName,omitempty" maxLength:"255"`
	LastName         string `json:"lastName,omitempty" maxLength:"255"`
	PhoneNumber      string `json:"phoneNumber,omitempty" maxLength:"64"`
	PersonalIDNumber string `json:"personalIdNumber,omitempty" maxLength:"64"`
}

// idchToken is an idcloudhost API token, never its secret.
type idchToken struct {
	ID               int64      `json:"id" example:"7"`
	UserID           int64      `json:"userId" example:"8"`
	Description      string     `json:"description"`
	Restricted       bool       `json:"restricted" doc:"Restricted to one billing account: the token sees and bills to it only."`
	BillingAccountID int64      `json:"billingAccountId" doc:"0 = not bound."`
	Prefix           string     `json:"prefix" doc:"The first characters of the token, to recognise it."`
	KongID           string     `json:"kongId" format:"uuid"`
	ConsumerID       string     `json:"consumerId" format:"uuid"`
	CreatedAt        time.Time  `json:"createdAt"`
	UpdatedAt        *time.Time `json:"updatedAt,omitempty"`
}

func idchTokenFrom(t access.IDCHToken) idchToken {
	return idchToken{ID: t.ID, UserID: t.UserID, Description: t.Description, Restricted: t.Restricted,
		BillingAccountID: t.BillingAccountID, Prefix: t.Prefix, KongID: t.KongID, ConsumerID: t.ConsumerID,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: utcPtr(t.UpdatedAt)}
}

// createdIDCHToken is a new token with its secret, shown this once. It
// repeats idchToken's fields: huma does not document embedded structs.
type createdIDCHToken struct {
	ID               int64     `json:"id" example:"7"`
	UserID           int64     `json:"userId" example:"8"`
	Description      string    `json:"description"`
	Restricted       bool      `json:"restricted"`
	BillingAccountID int64     `json:"billingAccountId"`
	Prefix           string    `json:"prefix"`
	KongID           string    `json:"kongId" format:"uuid"`
	ConsumerID       string    `json:"consumerId" format:"uuid"`
	CreatedAt        time.Time `json:"createdAt"`
	Secret           string    `json:"secret" doc:"The token, to send as the apikey header of the idcloudhost API. It is not shown again."`
}

type idchTokenCreate struct {
	Description      string `json:"description,omitempty" maxLength:"255"`
	Restricted       bool   `json:"restricted,omitempty" doc:"Restrict the token to billingAccountId."`
	BillingAccountID int64  `json:"billingAccountId,omitempty" minimum:"0" doc:"One of the user's live billing accounts; required when restricted."`
}

type userNumberParam struct {
	ID int64 `path:"id" minimum:"1" doc:"The user number."`
}

type idchUserPage struct {
	Cursor string `query:"cursor" maxLength:"100" doc:"The nextCursor of the previous page; omit for the first page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"The page size."`
}

func (s *server) registerUsers(api huma.API) {
	register(api, huma.Operation{OperationID: "createIdcloudhostUser", Method: http.MethodPost, Path: "/users",
		Summary: "Create the idcloudhost user of a customer org", DefaultStatus: http.StatusCreated,
		Description: "One user per customer org: the org's path is the user's tenant scope and its billing accounts " +
			"are the user's. The user then needs a token (POST /users/{id}/tokens)."}, s.createIDCHUser)
	register(api, huma.Operation{OperationID: "listIdcloudhostUsers", Method: http.MethodGet, Path: "/users",
		Summary: "List the idcloudhost users in the caller's subtree, by number"}, s.listIDCHUsers)
	register(api, huma.Operation{OperationID: "getIdcloudhostUser", Method: http.MethodGet, Path: "/users/{id}",
		Summary: "Get an idcloudhost user"}, s.getIDCHUser)
	register(api, huma.Operation{OperationID: "createIdcloudhostToken", Method: http.MethodPost, Path: "/users/{id}/tokens",
		Summary: "Create an idcloudhost API token for a user", DefaultStatus: http.StatusCreated}, s.createIDCHToken)
	register(api, huma.Operation{OperationID: "listIdcloudhostTokens", Method: http.MethodGet, Path: "/users/{id}/tokens",
		Summary: "List a user's idcloudhost API tokens (without secrets)"}, s.listIDCHTokens)
	register(api, huma.Operation{OperationID: "deleteIdcloudhostToken", Method: http.MethodDelete, Path: "/users/{id}/tokens/{tokenId}",
		Summary: "Delete a user's idcloudhost API token", Description: "The token stops working at once."}, s.deleteIDCHToken)
}

type userTokenParam struct {
	ID      int64 `path:"id" minimum:"1" doc:"The user number."`
	TokenID int64 `path:"tokenId" minimum:"1" doc:"The token number."`
}

func (s *server) deleteIDCHToken(ctx context.Context, in *userTokenParam) (*struct{}, error) {
	return exec(ctx, s, func(a actor.Actor) error { return s.d.Identity.DeleteTokenFor(ctx, a, in.ID, in.TokenID) })
}

// idchFieldNames maps the identity service's field names (the idcloudhost
// wire names) to this API's.
var idchFieldNames = map[string]string{
	"first_name": "firstName", "last_name": "lastName", "phone_number": "phoneNumber",
	"personal_id_number": "personalIdNumber", "billing_account_id": "billingAccountId",
}

func renameIDCHField(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		return err
	}
	if n, ok := idchFieldNames[e.Field]; ok {
		renamed := *e
		renamed.Field = n
		return &renamed
	}
	return err
}

func (s *server) createIDCHUser(ctx context.Context, in *struct{ Body idchUserCreate }) (*output[idchUser], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (access.IDCHUser, error) {
		u, err := s.d.Identity.CreateUser(ctx, a, access.CreateIDCHUserInput{OrgID: b.OrgID, Email: b.Email,
			FirstName: b.FirstName, LastName: b.LastName, PhoneNumber: b.PhoneNumber, PersonalIDNumber: b.PersonalIDNumber})
		return u, renameIDCHField(err)
	}, idchUserFrom)
}

// The cursor of the user list is the last number of the page, opaque to
// clients.
func userCursor(p idchUserPage) (int64, error) {
	if p.Cursor == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
	n, perr := strconv.ParseInt(string(b), 10, 64)
	if err != nil || perr != nil || n < 0 {
		return 0, errs.Invalid("cursor", "is not a cursor returned by this API")
	}
	return n, nil
}

func (s *server) listIDCHUsers(ctx context.Context, in *idchUserPage) (*output[list[idchUser]], error) {
	return call(ctx, s, func(a actor.Actor) ([]access.IDCHUser, error) {
		after, err := userCursor(*in)
		if err != nil {
			return nil, err
		}
		return s.d.Identity.ListUsers(ctx, a, after, in.Limit)
	}, func(us []access.IDCHUser) list[idchUser] {
		l := list[idchUser]{Items: wire.Map(us, idchUserFrom)}
		if len(us) > 0 && len(us) == in.Limit {
			l.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(us[len(us)-1].ID, 10)))
		}
		return l
	})
}

func (s *server) getIDCHUser(ctx context.Context, in *userNumberParam) (*output[idchUser], error) {
	return call(ctx, s, func(a actor.Actor) (access.IDCHUser, error) {
		return s.d.Identity.GetUser(ctx, a, in.ID)
	}, idchUserFrom)
}

// createIDCHTokenInput repeats userNumberParam: huma does not see the
// fields of embedded unexported structs.
type createIDCHTokenInput struct {
	ID   int64 `path:"id" minimum:"1" doc:"The user number."`
	Body idchTokenCreate
}

func (s *server) createIDCHToken(ctx context.Context, in *createIDCHTokenInput) (*output[createdIDCHToken], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (access.CreatedIDCHToken, error) {
		t, err := s.d.Identity.CreateTokenFor(ctx, a, in.ID, access.CreateIDCHTokenInput{Description: b.Description,
			Restricted: b.Restricted, BillingAccountID: b.BillingAccountID})
		return t, renameIDCHField(err)
	}, func(t access.CreatedIDCHToken) createdIDCHToken {
		v := idchTokenFrom(t.IDCHToken)
		return createdIDCHToken{ID: v.ID, UserID: v.UserID, Description: v.Description, Restricted: v.Restricted,
			BillingAccountID: v.BillingAccountID, Prefix: v.Prefix, KongID: v.KongID, ConsumerID: v.ConsumerID,
			CreatedAt: v.CreatedAt, Secret: t.Secret}
	})
}

func (s *server) listIDCHTokens(ctx context.Context, in *userNumberParam) (*output[list[idchToken]], error) {
	return call(ctx, s, func(a actor.Actor) ([]access.IDCHToken, error) {
		return s.d.Identity.ListTokensOf(ctx, a, in.ID)
	}, func(ts []access.IDCHToken) list[idchToken] {
		return list[idchToken]{Items: wire.Map(ts, idchTokenFrom)}
	})
}
