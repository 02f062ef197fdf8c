package native

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// contract is a distributor's reservation and prices.
type contract struct {
	ID                 string    `json:"id" format:"uuid"`
	ParentOrgID        string    `json:"parentOrgId" format:"uuid" doc:"The org that granted the contract (the provider)."`
	OrgID              string    `json:"orgId" format:"uuid" doc:"The distributor."`
	ReservedCapacity   int64     `json:"reservedCapacity" doc:"Bytes reserved for the distributor."`
	AllocatedCapacity  int64     `json:"allocatedCapacity" doc:"Bytes of the reservation allocated to partners."`
	CostStorageGBCents int64     `json:"costStorageGBCents" doc:"Price per GB-month of storage beyond the reservation, in cents."`
	CostEgressGBCents  int64     `json:"costEgressGBCents" doc:"Price per GB of egress, in cents."`
	Currency           string    `json:"currency" example:"EUR"`
	Details            string    `json:"details" doc:"The contract's name."`
	CreatedAt          time.Time `json:"createdAt"`
	UpdatedAt          time.Time `json:"updatedAt"`
}

func contractFrom(c tenancy.Contract) contract {
	return contract{ID: c.ID, ParentOrgID: c.ParentOrgID, OrgID: c.OrgID, ReservedCapacity: c.ReservedCapacity,
		AllocatedCapacity: c.AllocatedCapacity, CostStorageGBCents: c.CostStorageGBCents,
		CostEgressGBCents: c.CostEgressGBCents, Currency: c.Currency, Details: c.Details,
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

// Capacities and prices are int64 on the wire. exclusiveMaximum 2^63 makes
// huma reject numbers beyond int64 as a schema violation of the field,
// rather than failing later to decode them into the Go struct.
type contractCreate struct {
	ID                 string `json:"id,omitempty" format:"uuid" doc:"The new contract's id; generated if absent."`
	OrgID              string `json:"orgId" format:"uuid" doc:"The distributor."`
	ReservedCapacity   int64  `json:"reservedCapacity" minimum:"0" exclusiveMaximum:"9223372036854775808" doc:"Bytes."`
	CostStorageGBCents int64  `json:"costStorageGBCents,omitempty" minimum:"0" exclusiveMaximum:"9223372036854775808"`
	CostEgressGBCents  int64  `json:"costEgressGBCents,omitempty" minimum:"0" exclusiveMaximum:"9223372036854775808"`
	Currency           string `json:"currency" pattern:"^[A-Z]{3}$" example:"EUR"`
	Details            string `json:"details" minLength:"1" maxLength:"255" doc:"The contract's name."`
}

type contractPatch struct {
	ReservedCapacity   *int64  `json:"reservedCapacity,omitempty" minimum:"0" exclusiveMaximum:"9223372036854775808" doc:"Bytes; not below what is allocated to partners."`
	CostStorageGBCents *int64  `json:"costStorageGBCents,omitempty" minimum:"0" exclusiveMaximum:"9223372036854775808"`
	CostEgressGBCents  *int64  `json:"costEgressGBCents,omitempty" minimum:"0" exclusiveMaximum:"9223372036854775808"`
	Currency           *string `json:"currency,omitempty" pattern:"^[A-Z]{3}$" example:"EUR"`
	Details            *string `json:"details,omitempty" minLength:"1" maxLength:"255"`
}

func (s *server) registerContracts(api huma.API) {
	register(api, huma.Operation{OperationID: "listContracts", Method: http.MethodGet, Path: "/contracts",
		Summary: "List the contracts the caller can see"}, s.listContracts)
	register(api, huma.Operation{OperationID: "createContract", Method: http.MethodPost, Path: "/contracts",
		Summary: "Give a distributor a contract", DefaultStatus: http.StatusCreated}, s.createContract)
	register(api, huma.Operation{OperationID: "getContract", Method: http.MethodGet, Path: "/contracts/{id}",
		Summary: "Get a contract"}, s.getContract)
	register(api, huma.Operation{OperationID: "updateContract", Method: http.MethodPatch, Path: "/contracts/{id}",
		Summary: "Change a contract's terms"}, s.updateContract)
	register(api, huma.Operation{OperationID: "deleteContract", Method: http.MethodDelete, Path: "/contracts/{id}",
		Summary: "Delete a contract with no partners"}, s.deleteContract)
}

func (s *server) listContracts(ctx context.Context, in *pageParams) (*output[list[contract]], error) {
	return paged(ctx, s, *in, func(a actor.Actor, after string, limit int) ([]tenancy.Contract, error) {
		return s.d.Tenancy.ListContracts(ctx, a, after, limit)
	}, func(c tenancy.Contract) string { return c.ID }, contractFrom)
}

func (s *server) createContract(ctx context.Context, in *struct{ Body contractCreate }) (*output[contract], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (tenancy.Contract, error) {
		return s.d.Tenancy.CreateContract(ctx, a, tenancy.CreateContractInput{ID: b.ID, OrgID: b.OrgID,
			ReservedCapacity: b.ReservedCapacity, CostStorageGBCents: b.CostStorageGBCents,
			CostEgressGBCents: b.CostEgressGBCents, Currency: b.Currency, Details: b.Details})
	}, contractFrom)
}

func (s *server) getContract(ctx context.Context, in *idParam) (*output[contract], error) {
	return call(ctx, s, func(a actor.Actor) (tenancy.Contract, error) {
		return s.d.Tenancy.GetContract(ctx, a, in.ID)
	}, contractFrom)
}

func (s *server) updateContract(ctx context.Context, in *struct {
	ID   string `path:"id" format:"uuid" doc:"The object's id."`
	Body contractPatch
}) (*output[contract], error) {
	b := in.Body
	return call(ctx, s, func(a actor.Actor) (tenancy.Contract, error) {
		return s.d.Tenancy.UpdateContract(ctx, a, in.ID, tenancy.UpdateContractInput{ReservedCapacity: b.ReservedCapacity,
			CostStorageGBCents: b.CostStorageGBCents, CostEgressGBCents: b.CostEgressGBCents,
			Currency: b.Currency, Details: b.Details})
	}, contractFrom)
}

func (s *server) deleteContract(ctx context.Context, in *idParam) (*struct{}, error) {
	return exec(ctx, s, func(a actor.Actor) error { return s.d.Tenancy.DeleteContract(ctx, a, in.ID) })
}
