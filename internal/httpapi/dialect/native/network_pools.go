package native

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
	"github.com/trellis-cloud/trellis/internal/network"
)

// NetworkPools is what the native API needs of the network service: the
// operators' public floating-IP pools per location (implemented by
// network.Service).
type NetworkPools interface {
	AddPoolRange(ctx context.Context, a actor.Actor, in network.AddPoolRange) (network.PoolRange, error)
	ListPoolRanges(ctx context.Context, a actor.Actor, location string) ([]network.PoolRange, error)
	RemovePoolRange(ctx context.Context, a actor.Actor, id string) error
}

var _ NetworkPools = (*network.Service)(nil)

// ipPoolRange is one CIDR of a location's public floating-IP pool.
type ipPoolRange struct {
	ID        string    `json:"id" format:"uuid"`
	Location  string    `json:"location" example:"cyc01"`
	CIDR      string    `json:"cidr" example:"203.0.113.0/24"`
	Exclude   []string  `json:"exclude" doc:"Addresses of the CIDR never handed out (gateways, routers)."`
	Size      int       `json:"size" doc:"Addresses of the range in the pool: the CIDR without its network and broadcast addresses (a /31 or /32 keeps all) and the exclusions."`
	Used      int       `json:"used" doc:"Of which reserved (floating IPs, VM, load balancer and service addresses)."`
	CreatedAt time.Time `json:"createdAt"`
}

func ipPoolRangeFrom(r network.PoolRange) ipPoolRange {
	ex := r.Excluded
	if ex == nil {
		ex = []string{}
	}
	return ipPoolRange{ID: r.ID, Location: r.Location, CIDR: r.CIDR, Exclude: ex, Size: r.Size, Used: r.Used, CreatedAt: r.CreatedAt.UTC()}
}

type addIPPoolRangeInput struct {
	Slug string `path:"slug" pattern:"^[a-z0-9]+$" maxLength:"63" example:"cyc01"`
	Body struct {
		CIDR    string   `json:"cidr" minLength:"9" maxLength:"18" example:"203.0.113.0/24" doc:"An IPv4 network, at most a /16."`
		Exclude []string `json:"exclude,omitempty" maxItems:"1024" doc:"Addresses of the CIDR never to hand out."`
	}
}

// registerNetworkPools adds the floating-IP pool operations (provider
// admins change them; any operator key reads them).
func (s *server) registerNetworkPools(api huma.API, pools NetworkPools) {
	register(api, huma.Operation{OperationID: "listIPPoolRanges", Method: http.MethodGet, Path: "/locations/{slug}/ip-pools",
		Summary: "List a location's public floating-IP ranges (provider admins)"},
		func(ctx context.Context, in *locationSlugParam) (*output[list[ipPoolRange]], error) {
			return call(ctx, s, func(a actor.Actor) ([]network.PoolRange, error) {
				return pools.ListPoolRanges(ctx, a, in.Slug)
			}, func(rs []network.PoolRange) list[ipPoolRange] {
				return list[ipPoolRange]{Items: wire.Map(rs, ipPoolRangeFrom)}
			})
		})
	register(api, huma.Operation{OperationID: "addIPPoolRange", Method: http.MethodPost, Path: "/locations/{slug}/ip-pools",
		Summary:     "Add a CIDR to a location's public floating-IP pool (provider admins)",
		Description: "Every usable address of the CIDR becomes a free pool address. Ranges never overlap (409), in any location."},
		func(ctx context.Context, in *addIPPoolRangeInput) (*output[ipPoolRange], error) {
			return call(ctx, s, func(a actor.Actor) (network.PoolRange, error) {
				return pools.AddPoolRange(ctx, a, network.AddPoolRange{Location: in.Slug, CIDR: in.Body.CIDR, Exclude: in.Body.Exclude})
			}, ipPoolRangeFrom)
		})
	register(api, huma.Operation{OperationID: "removeIPPoolRange", Method: http.MethodDelete, Path: "/ip-pools/{id}",
		Summary:     "Remove a public floating-IP range (provider admins)",
		Description: "Refused (409) while any of its addresses is reserved."},
		func(ctx context.Context, in *idParam) (*struct{}, error) {
			return exec(ctx, s, func(a actor.Actor) error { return pools.RemovePoolRange(ctx, a, in.ID) })
		})
}
