package native

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

type partnerCreate struct {
	ID                string `json:"id,omitempty" format:"uuid" doc:"The new partner's id; generated if absent."`
	Name              string `json:"name" minLength:"1" maxLength:"255"`
	Details           string `json:"details,omitempty" maxLength:"1000"`
	AllocatedCapacity int64  `json:"allocatedCapacity,omitempty" minimum:"0" exclusiveMaximum:"9223372036854775808" doc:"Bytes taken from the contract's free capacity; 0 (the default) means pay-per-use."`
	AllowOverdraft    bool   `json:"allowOverdraft,omitempty"`
}

type partnerPatch struct {
	Name              *string `json:"name,omitempty" minLength:"1" maxLength:"255"`
	Details           *string `json:"details,omitempty" maxLength:"1000"`
	AllocatedCapacity *int64  `json:"allocatedCapacity,omitempty" minimum:"0" exclusiveMaximum:"9223372036854775808" doc:"Bytes; growing takes capacity from the contract, shrinking cannot go below the partner's strict storage accounts."`
	AllowOverdraft    *bool   `json:"allowOverdraft,omitempty"`
}

func (s *server) registerPartners(api huma.API) {
	tags := []string{"partners"}
	register(api, huma.Operation{OperationID: "listContractPartners", Method: http.MethodGet, Path: "/contracts/{id}/partners",
		Summary: "List the partners under a contract", Tags: tags}, s.listPartners)
	register(api, huma.Operation{OperationID: "createPartner", Method: http.MethodPost, Path: "/contracts/{id}/partners",
		Summary: "Create a partner under a contract", Tags: tags, DefaultStatus: http.StatusCreated}, s.createPartner)
	register(api, huma.Operation{OperationID: "updatePartner", Method: http.MethodPatch, Path: "/partners/{id}",
		Summary: "Rename or resize a partner", Tags: tags}, s.updatePartner)
	register(api, huma.Operation{OperationID: "deletePartner", Method: http.MethodDelete, Path: "/partners/{id}",
		Summary: "Delete a partner with no storage accounts or customers", Tags: tags}, s.deletePartner)
}

// partnerList is every partner of a contract (not paginated: the service
// returns them all).
type partnerList struct {
	Items []org `json:"items"`
}

func (s *server) listPartners(ctx context.Context, in *idParam) (*output[partnerList], error) {
	return call(ctx, s, func(a actor.Actor) ([]tenancy.Org, error) {
		return s.d.Tenancy.ListPartners(ctx, a, in.ID)
	}, func(ps []tenancy.Org) partnerList { return partnerList{Items: wire.Map(ps, orgFrom)} })
}

func (s *server) createPartner(ctx context.Context, in *struct {
	ID   string `path:"id" format:"uuid" doc:"The object's id."`
	Body partnerCreate
}) (*output[org], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (tenancy.Org, error) {
		return s.d.Tenancy.CreatePartner(ctx, a, tenancy.CreatePartnerInput{ID: b.ID, ContractID: in.ID, Name: b.Name,
			Details: b.Details, AllocatedCapacity: b.AllocatedCapacity, AllowOverdraft: b.AllowOverdraft})
	}, orgFrom)
}

func (s *server) updatePartner(ctx context.Context, in *struct {
	ID   string `path:"id" format:"uuid" doc:"The object's id."`
	Body partnerPatch
}) (*output[org], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (tenancy.Org, error) {
		return s.d.Tenancy.UpdatePartner(ctx, a, in.ID, tenancy.UpdatePartnerInput{Name: b.Name, Details: b.Details,
			AllocatedCapacity: b.AllocatedCapacity, AllowOverdraft: b.AllowOverdraft})
	}, orgFrom)
}

func (s *server) deletePartner(ctx context.Context, in *idParam) (*struct{}, error) {
	return exec(ctx, s, func(a actor.Actor) error { return s.d.Tenancy.DeletePartner(ctx, a, in.ID) })
}
