package impossiblecloud

import (
	"strconv"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud/icapi"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// The vendor sends prices as strings of integer cents ("100").
func contractOut(c tenancy.Contract) icapi.ApiDistributorContractResponse {
	return icapi.ApiDistributorContractResponse{
		Id:                 c.ID,
		DistributorId:      c.OrgID,
		ReservedCapacity:   c.ReservedCapacity,
		AllocatedCapacity:  c.AllocatedCapacity,
		CostStorageGBCents: strconv.FormatInt(c.CostStorageGBCents, 10),
		CostEgressGBCents:  strconv.FormatInt(c.CostEgressGBCents, 10),
		Currency:           c.Currency,
		Details:            c.Details,
	}
}

func partnerOut(p tenancy.Org) icapi.ApiDistributorPartnerResponse {
	out := icapi.ApiDistributorPartnerResponse{
		Id:                    p.ID,
		DistributorContractId: p.ContractID,
		Name:                  p.Name,
		AllocatedCapacity:     p.AllocatedCapacity,
		AllowOverdraft:        p.AllowOverdraft,
	}
	if p.Details != "" {
		d := p.Details
		out.Details = &d
	}
	return out
}

func accountOut(sa objstore.StorageAccount) icapi.ApiStorageAccountResponse {
	return icapi.ApiStorageAccountResponse{
		ClientAccountId:   sa.ID,
		Name:              sa.Name,
		ContactEmail:      sa.ContactEmail,
		AllocatedCapacity: sa.AllocatedCapacity,
		AllowOverdraft:    sa.AllowOverdraft,
		PendingDeletedAt:  sa.PendingDeletedAt,
	}
}

func memberOut(u access.User) icapi.ApiDistributorPartnerMembersResponse {
	return icapi.ApiDistributorPartnerMembersResponse{Id: u.ID, Email: u.Email, Name: u.Name, Role: string(u.Role)}
}

func usageOut(u metering.AccountUsage) icapi.ApiClientUsage {
	days := make([]icapi.ApiDailyUsage, len(u.Days))
	for i, d := range u.Days {
		days[i] = icapi.ApiDailyUsage{Date: d.Day, Usage: d.UsageBytes, AllocatedCapacity: d.AllocatedCapacity}
	}
	return icapi.ApiClientUsage{
		ClientId:          u.Account.ID,
		Name:              u.Account.Name,
		AllocatedCapacity: u.Account.AllocatedCapacity,
		DailyUsage:        days,
	}
}
