package idcloudhost

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

// Pricing is what the dialect needs of the price policy (implemented by
// pricing.Service).
type Pricing interface {
	// Current returns the price list in effect at an instant.
	Current(ctx context.Context, at time.Time) (pricing.Version, error)
}

var _ Pricing = (*pricing.Service)(nil)

type policyItemJSON struct {
	MegsRAM                 int64       `json:"megsRam,omitempty"`
	NumCPUs                 int64       `json:"numCpus,omitempty"`
	PolicyID                int64       `json:"policyId"`
	Price                   json.Number `json:"price"`
	ResourceType            string      `json:"resourceType"`
	ServiceNameInUptime     string      `json:"serviceNameInUptime,omitempty"`
	ServiceNameUserFriendly string      `json:"serviceNameUserFriendly"`
}

type policyJSON struct {
	Policy []policyItemJSON `json:"policy"`
}

type usageConfigJSON struct {
	CPUs     int64   `json:"cpus"`
	DiskSize *int64  `json:"disk_size_GB"`
	OSName   *string `json:"os_name"`
	RAMMB    int64   `json:"ram_MB"`
	VMName   string  `json:"vm_name"`
}

type usageItemJSON struct {
	BillingAccountID int64             `json:"billing_account_id"`
	Configurations   []usageConfigJSON `json:"configurations"`
	Cost             json.Number       `json:"cost"`
	Description      string            `json:"description"`
	Hours            json.Number       `json:"hours"`
	OwnerUUID        string            `json:"owner_uuid"`
	Price            json.Number       `json:"price"`
	PriceUnit        string            `json:"price_unit"`
	UptimeTypes      []string          `json:"uptime_types"`
	UserID           int64             `json:"user_id"`
}

func usageItemOut(l billing.UsageLine) usageItemJSON {
	out := usageItemJSON{BillingAccountID: l.BillingAccountID, Configurations: make([]usageConfigJSON, 0, len(l.Configurations)),
		Cost: money.FormatIDCHFloat(l.Amount), Description: l.Description, Hours: money.FormatIDCHFloat(l.Quantity),
		OwnerUUID: l.OwnerUUID, Price: money.FormatIDCHFloat(l.UnitPrice), PriceUnit: "h", UptimeTypes: l.UptimeTypes,
		UserID: l.UserID}
	for _, c := range l.Configurations {
		out.Configurations = append(out.Configurations, usageConfigJSON{CPUs: c.CPUs, DiskSize: c.DiskGB, OSName: c.OSName,
			RAMMB: c.RAMMB, VMName: c.VMName})
	}
	if out.UptimeTypes == nil {
		out.UptimeTypes = []string{}
	}
	return out
}

// ---- operations ID-98, ID-99 (ID-74 and ID-75 are in compute.go) ----

func (s *server) chargingOps() []op {
	return []op{
		{method: http.MethodGet, path: "/pricing/policy", h: s.getPricingPolicy},
		{method: http.MethodGet, path: "/charging/usage", h: s.getUsage},
	}
}

// ID-98: the price list in effect now.
func (s *server) getPricingPolicy(ctx context.Context, _ *call) (any, error) {
	v, err := s.d.Pricing.Current(ctx, s.d.Clock.Now())
	if err != nil {
		return nil, err
	}
	return policyJSON{Policy: mapSlice(v.Items, func(it pricing.Item) policyItemJSON {
		return policyItemJSON{MegsRAM: it.MegsRAM, NumCPUs: it.NumCPUs, PolicyID: it.PolicyID,
			Price: money.FormatIDCHFloat(it.Price), ResourceType: string(it.ResourceType),
			ServiceNameInUptime: it.ServiceNameInUptime, ServiceNameUserFriendly: it.ServiceNameUserFriendly}
	})}, nil
}

// ID-99: the account's usage of the current month so far, per resource
// configuration.
func (s *server) getUsage(ctx context.Context, c *call) (any, error) {
	id, err := c.accountID()
	if err != nil {
		return nil, err
	}
	lines, err := s.d.Billing.CurrentUsage(ctx, c.a, id)
	if err != nil {
		return nil, err
	}
	return mapSlice(lines, usageItemOut), nil
}
