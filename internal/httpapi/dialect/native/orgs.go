package native

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// org is an org of the tree; partners also carry their allocation.
type org struct {
	ID        string    `json:"id" format:"uuid"`
	Kind      string    `json:"kind" enum:"provider,distributor,partner,customer"`
	ParentID  string    `json:"parentId,omitempty" format:"uuid" doc:"Absent on the provider org."`
	Name      string    `json:"name"`
	Details   string    `json:"details"`
	TimeZone  string    `json:"timeZone" example:"Europe/Berlin"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`

	ContractID        *string `json:"contractId,omitempty" format:"uuid" doc:"Partners only: the distributor contract the partner's capacity comes from."`
	AllocatedCapacity *int64  `json:"allocatedCapacity,omitempty" doc:"Partners only: bytes allocated from the contract; 0 means pay-per-use."`
	AllowOverdraft    *bool   `json:"allowOverdraft,omitempty" doc:"Partners only."`
	AccountsAllocated *int64  `json:"accountsAllocated,omitempty" doc:"Partners only: bytes allocated to the partner's strict storage accounts."`
}

func orgFrom(o tenancy.Org) org {
	out := org{ID: o.ID, Kind: string(o.Kind), ParentID: o.ParentID, Name: o.Name, Details: o.Details,
		TimeZone: o.TimeZone, CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC()}
	if o.Kind == actor.Partner {
		out.ContractID, out.AllocatedCapacity = &o.ContractID, &o.AllocatedCapacity
		out.AllowOverdraft, out.AccountsAllocated = &o.AllowOverdraft, &o.AccountsAllocated
	}
	return out
}

type orgCreate struct {
	ID       string `json:"id,omitempty" format:"uuid" doc:"The new org's id; generated if absent (set it to mirror another system's ids)."`
	ParentID string `json:"parentId" format:"uuid" doc:"The parent org; the new org's kind follows from it (provider → distributor, partner → customer). Partners are created under a contract."`
	Name     string `json:"name" minLength:"1" maxLength:"255"`
	Details  string `json:"details,omitempty" maxLength:"1000"`
	TimeZone string `json:"timeZone,omitempty" maxLength:"64" doc:"An IANA time zone; UTC if absent." example:"Europe/Berlin"`
}

type orgPatch struct {
	Name     *string `json:"name,omitempty" minLength:"1" maxLength:"255"`
	Details  *string `json:"details,omitempty" maxLength:"1000"`
	TimeZone *string `json:"timeZone,omitempty" minLength:"1" maxLength:"64" example:"Europe/Berlin"`
}

// listOrgsInput is pageParams plus a filter (huma does not see the fields
// of embedded unexported structs).
type listOrgsInput struct {
	Kind   string `query:"kind" enum:"provider,distributor,partner,customer" doc:"Only orgs of this kind."`
	Cursor string `query:"cursor" maxLength:"100" doc:"The nextCursor of the previous page; omit for the first page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"The page size."`
}

func (s *server) registerOrgs(api huma.API) {
	register(api, huma.Operation{OperationID: "listOrgs", Method: http.MethodGet, Path: "/orgs",
		Summary: "List the orgs in the caller's subtree"}, s.listOrgs)
	register(api, huma.Operation{OperationID: "createOrg", Method: http.MethodPost, Path: "/orgs",
		Summary: "Create a distributor or customer org", DefaultStatus: http.StatusCreated}, s.createOrg)
	register(api, huma.Operation{OperationID: "getOrg", Method: http.MethodGet, Path: "/orgs/{id}",
		Summary: "Get an org"}, s.getOrg)
	register(api, huma.Operation{OperationID: "updateOrg", Method: http.MethodPatch, Path: "/orgs/{id}",
		Summary: "Change an org's name, details or time zone"}, s.updateOrg)
	register(api, huma.Operation{OperationID: "deleteOrg", Method: http.MethodDelete, Path: "/orgs/{id}",
		Summary: "Delete an org with no children, contracts or storage accounts"}, s.deleteOrg)
}

func (s *server) listOrgs(ctx context.Context, in *listOrgsInput) (*output[list[org]], error) {
	return paged(ctx, s, pageParams{Cursor: in.Cursor, Limit: in.Limit}, func(a actor.Actor, after string, limit int) ([]tenancy.Org, error) {
		return s.d.Tenancy.ListOrgs(ctx, a, tenancy.OrgFilter{Kind: in.Kind, After: after, Limit: limit})
	}, func(o tenancy.Org) string { return o.ID }, orgFrom)
}

func (s *server) createOrg(ctx context.Context, in *struct{ Body orgCreate }) (*output[org], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (tenancy.Org, error) {
		return s.d.Tenancy.CreateOrg(ctx, a, tenancy.CreateOrgInput{ID: b.ID, ParentID: b.ParentID, Name: b.Name,
			Details: b.Details, TimeZone: b.TimeZone})
	}, orgFrom)
}

func (s *server) getOrg(ctx context.Context, in *idParam) (*output[org], error) {
	return call(ctx, s, func(a actor.Actor) (tenancy.Org, error) {
		return s.d.Tenancy.GetOrg(ctx, a, in.ID)
	}, orgFrom)
}

func (s *server) updateOrg(ctx context.Context, in *struct {
	ID   string `path:"id" format:"uuid" doc:"The object's id."`
	Body orgPatch
}) (*output[org], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (tenancy.Org, error) {
		return s.d.Tenancy.UpdateOrg(ctx, a, in.ID, tenancy.UpdateOrgInput{Name: b.Name, Details: b.Details, TimeZone: b.TimeZone})
	}, orgFrom)
}

func (s *server) deleteOrg(ctx context.Context, in *idParam) (*struct{}, error) {
	return exec(ctx, s, func(a actor.Actor) error { return s.d.Tenancy.DeleteOrg(ctx, a, in.ID) })
}
