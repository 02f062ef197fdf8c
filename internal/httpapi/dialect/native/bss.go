package native

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
)

// BSS installations: an Infiterra (interworks.cloud) BSS that sells a
// distributor's contract registers Trellis as its service manager with an
// Application Id and an API key; the BSS then calls
// /impossiblecloud/v1/integration/infiterra/… with them.

type bssInstallation struct {
	AppID         string     `json:"applicationId" format:"uuid" doc:"The BSS's Application Id (header X-CloudPlatform-ApplicationId)."`
	DistributorID string     `json:"distributorId" format:"uuid"`
	ContractID    string     `json:"contractId" format:"uuid" doc:"The contract whose capacity the BSS's subscriptions use."`
	Name          string     `json:"name"`
	CreatedAt     time.Time  `json:"createdAt"`
	RevokedAt     *time.Time `json:"revokedAt,omitempty"`
	APIKey        string     `json:"apiKey,omitempty" doc:"Only in the creation response: the API key the BSS sends (Base64-encoded, as the interworks SDK does, or raw) in X-CloudPlatform-APIKey."`
}

func bssInstallationFrom(i bss.Installation) bssInstallation {
	return bssInstallation{AppID: i.AppID, DistributorID: i.DistributorID, ContractID: i.ContractID, Name: i.Name,
		CreatedAt: i.CreatedAt.UTC(), RevokedAt: utcPtr(i.RevokedAt)}
}

type bssInstallationCreate struct {
	Body struct {
		DistributorID string `json:"distributorId" format:"uuid" doc:"The distributor the BSS sells for."`
		ContractID    string `json:"contractId" format:"uuid" doc:"One of the distributor's contracts."`
		Name          string `json:"name,omitempty" maxLength:"255"`
		AppID         string `json:"applicationId,omitempty" doc:"The Application Id the BSS generated on registration; omitted: a new one."`
		APIKey        string `json:"apiKey,omitempty" maxLength:"200" doc:"The API key the BSS generated; omitted: a new one."`
	}
}

type bssAppParam struct {
	AppID string `path:"app_id" doc:"The Application Id."`
}

func (s *server) registerBSS(api huma.API) {
	tags := []string{"bss"}
	register(api, huma.Operation{OperationID: "listBSSInstallations", Method: http.MethodGet, Path: "/bss-installations",
		Tags: tags, Summary: "List the BSS installations in the caller's subtree"}, s.listBSSInstallations)
	register(api, huma.Operation{OperationID: "createBSSInstallation", Method: http.MethodPost, Path: "/bss-installations",
		Tags: tags, Summary: "Register an Infiterra BSS installation for a distributor's contract", DefaultStatus: http.StatusCreated,
		Description: "Operators above the distributor or the distributor's admins. The API key is shown once."},
		s.createBSSInstallation)
	register(api, huma.Operation{OperationID: "revokeBSSInstallation", Method: http.MethodDelete, Path: "/bss-installations/{app_id}",
		Tags: tags, Summary: "Revoke a BSS installation: its calls are refused (401) from now on"}, s.revokeBSSInstallation)
}

func (s *server) listBSSInstallations(ctx context.Context, _ *struct{}) (*output[list[bssInstallation]], error) {
	return call(ctx, s, func(a actor.Actor) ([]bss.Installation, error) {
		return s.d.BSS.ListInstallations(ctx, a)
	}, func(is []bss.Installation) list[bssInstallation] {
		return list[bssInstallation]{Items: wire.Map(is, bssInstallationFrom)}
	})
}

func (s *server) createBSSInstallation(ctx context.Context, in *bssInstallationCreate) (*output[bssInstallation], error) {
	return call(ctx, s, func(a actor.Actor) (bss.CreatedInstallation, error) {
		return s.d.BSS.CreateInstallation(ctx, a, bss.InstallationInput{DistributorID: in.Body.DistributorID,
			ContractID: in.Body.ContractID, Name: in.Body.Name, AppID: in.Body.AppID, APIKey: in.Body.APIKey})
	}, func(c bss.CreatedInstallation) bssInstallation {
		out := bssInstallationFrom(c.Installation)
		out.APIKey = c.APIKey
		return out
	})
}

func (s *server) revokeBSSInstallation(ctx context.Context, in *bssAppParam) (*struct{}, error) {
	a, err := caller(ctx)
	if err != nil {
		return nil, s.fail(ctx, err)
	}
	if err := s.d.BSS.RevokeInstallation(ctx, a, in.AppID); err != nil {
		return nil, s.fail(ctx, err)
	}
	return nil, nil
}
