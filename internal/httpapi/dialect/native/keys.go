package native

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
)

// apiKey is a stored key: never its secret or hash.
type apiKey struct {
	ID         string     `json:"id" format:"uuid"`
	OrgID      string     `json:"orgId" format:"uuid"`
	Name       string     `json:"name"`
	Role       string     `json:"role" enum:"admin,staff,viewer"`
	Prefix     string     `json:"prefix" doc:"The first characters of the key, to recognise it." example:"trl_AbCdEfGh"`
	CreatedBy  string     `json:"createdBy" doc:"The principal that created the key."`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty" doc:"Updated at most once a minute."`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
}

func keyFrom(k access.APIKey) apiKey {
	return apiKey{ID: k.ID, OrgID: k.OrgID, Name: k.Name, Role: string(k.Role), Prefix: k.Prefix,
		CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt.UTC(), LastUsedAt: utcPtr(k.LastUsedAt), RevokedAt: utcPtr(k.RevokedAt)}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// createdKey is a new key with its secret, shown this once. It repeats
// apiKey's fields: huma does not document embedded unexported structs.
type createdKey struct {
	ID         string     `json:"id" format:"uuid"`
	OrgID      string     `json:"orgId" format:"uuid"`
	Name       string     `json:"name"`
	Role       string     `json:"role" enum:"admin,staff,viewer"`
	Prefix     string     `json:"prefix" example:"trl_AbCdEfGh"`
	CreatedBy  string     `json:"createdBy"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
	Secret     string     `json:"secret" doc:"The key, to send as Authorization: Bearer <secret>. It is not shown again."`
}

type keyCreate struct {
	OrgID string `json:"orgId" format:"uuid" doc:"The org the key acts for: the caller's or one below it."`
	Name  string `json:"name" minLength:"1" maxLength:"255"`
	Role  string `json:"role" enum:"admin,staff,viewer" doc:"At most the caller's role."`
}

func (s *server) registerKeys(api huma.API) {
	register(api, huma.Operation{OperationID: "listKeys", Method: http.MethodGet, Path: "/keys",
		Summary: "List the API keys in the caller's subtree"}, s.listKeys)
	register(api, huma.Operation{OperationID: "createKey", Method: http.MethodPost, Path: "/keys",
		Summary: "Create an API key", DefaultStatus: http.StatusCreated}, s.createKey)
	register(api, huma.Operation{OperationID: "getKey", Method: http.MethodGet, Path: "/keys/{id}",
		Summary: "Get an API key (without its secret)"}, s.getKey)
	register(api, huma.Operation{OperationID: "revokeKey", Method: http.MethodDelete, Path: "/keys/{id}",
		Summary: "Revoke an API key", Description: "Returns the revoked key. Revoking twice is not an error."}, s.revokeKey)
}

func (s *server) listKeys(ctx context.Context, in *pageParams) (*output[list[apiKey]], error) {
	return paged(ctx, s, *in, func(a actor.Actor, after string, limit int) ([]access.APIKey, error) {
		return s.d.Access.ListKeys(ctx, a, after, limit)
	}, func(k access.APIKey) string { return k.ID }, keyFrom)
}

func (s *server) createKey(ctx context.Context, in *struct{ Body keyCreate }) (*output[createdKey], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (access.CreatedKey, error) {
		return s.d.Access.CreateKey(ctx, a, access.CreateKeyInput{OrgID: b.OrgID, Name: b.Name, Role: actor.Role(b.Role)})
	}, func(k access.CreatedKey) createdKey {
		v := keyFrom(k.APIKey)
		return createdKey{ID: v.ID, OrgID: v.OrgID, Name: v.Name, Role: v.Role, Prefix: v.Prefix, CreatedBy: v.CreatedBy,
			CreatedAt: v.CreatedAt, LastUsedAt: v.LastUsedAt, RevokedAt: v.RevokedAt, Secret: k.Secret}
	})
}

func (s *server) getKey(ctx context.Context, in *idParam) (*output[apiKey], error) {
	return call(ctx, s, func(a actor.Actor) (access.APIKey, error) {
		return s.d.Access.GetKey(ctx, a, in.ID)
	}, keyFrom)
}

func (s *server) revokeKey(ctx context.Context, in *idParam) (*output[apiKey], error) {
	return call(ctx, s, func(a actor.Actor) (access.APIKey, error) {
		return s.d.Access.RevokeKey(ctx, a, in.ID)
	}, keyFrom)
}
