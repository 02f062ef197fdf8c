package native

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
)

// vmSummary is a VM as operators list them.
type vmSummary struct {
	UUID             string    `json:"uuid" format:"uuid"`
	ID               int64     `json:"id"`
	Name             string    `json:"name"`
	Status           string    `json:"status" example:"running"`
	Location         string    `json:"location" example:"cyc01"`
	OrgID            string    `json:"orgId" format:"uuid"`
	UserID           int64     `json:"userId"`
	BillingAccountID int64     `json:"billingAccountId"`
	VCPU             int64     `json:"vcpu"`
	RAMMB            int64     `json:"ramMb"`
	DiskGB           int64     `json:"diskGb" doc:"The primary disk's size."`
	OSName           string    `json:"osName"`
	OSVersion        string    `json:"osVersion"`
	PrivateIPv4      string    `json:"privateIpv4"`
	PublicIPv4       string    `json:"publicIpv4,omitempty"`
	CreatedAt        time.Time `json:"createdAt"`
}

func vmSummaryFrom(v compute.VM) vmSummary {
	out := vmSummary{UUID: v.UUID, ID: v.ID, Name: v.Name, Status: string(v.Status), Location: v.Location, OrgID: v.OrgID,
		UserID: v.UserID, BillingAccountID: v.BillingAccountID, VCPU: v.VCPU, RAMMB: v.RAMMB, OSName: v.OSName,
		OSVersion: v.OSVersion, PrivateIPv4: v.PrivateIPv4, PublicIPv4: v.PublicIPv4, CreatedAt: v.CreatedAt.UTC()}
	for _, d := range v.Storage {
		if d.Primary {
			out.DiskGB = d.SizeGB
		}
	}
	return out
}

type vmPage struct {
	Location string `query:"location" pattern:"^[a-z0-9]*$" maxLength:"63" doc:"Only this location's VMs; omit for all."`
	Cursor   string `query:"cursor" maxLength:"100" doc:"The nextCursor of the previous page; omit for the first page."`
	Limit    int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"The page size."`
}

// registerVMs adds the operators' paged VM list (the idcloudhost API lists
// one user's VMs of one location, unpaged).
func (s *server) registerVMs(api huma.API) {
	register(api, huma.Operation{OperationID: "listVMs", Method: http.MethodGet, Path: "/vms",
		Summary:     "List the virtual machines in the caller's subtree, by number, a page at a time",
		Description: "Every tenant's VMs below the caller's org, oldest first; deleted VMs are not listed."},
		func(ctx context.Context, in *vmPage) (*output[list[vmSummary]], error) {
			return call(ctx, s, func(a actor.Actor) ([]compute.VM, error) {
				after, err := numberCursor(in.Cursor)
				if err != nil {
					return nil, err
				}
				return s.d.Compute.ListVMsPage(ctx, a, in.Location, after, in.Limit)
			}, func(vms []compute.VM) list[vmSummary] {
				l := list[vmSummary]{Items: wire.Map(vms, vmSummaryFrom)}
				if len(vms) > 0 && len(vms) == in.Limit {
					l.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(vms[len(vms)-1].ID, 10)))
				}
				return l
			})
		})
}

// numberCursor decodes a cursor that holds the last number of a page.
func numberCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	n, perr := strconv.ParseInt(string(b), 10, 64)
	if err != nil || perr != nil || n < 0 {
		return 0, errs.Invalid("cursor", "is not a cursor returned by this API")
	}
	return n, nil
}
