package idcloudhost

import (
	"context"
	"encoding/json"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/services"
)

// Services is what the dialect needs of the managed-services service
// (implemented by services.Service). location is the slug of the request
// (the default location without one, ID-amb-1).
type Services interface {
	Create(ctx context.Context, a actor.Actor, in services.CreateInput) (services.Package, error)
	List(ctx context.Context, a actor.Actor, location string) ([]services.Package, error)
	Get(ctx context.Context, a actor.Actor, location, uuid string) (services.Package, error)
	Update(ctx context.Context, a actor.Actor, location, uuid string, in services.UpdateInput) (services.Package, error)
	Delete(ctx context.Context, a actor.Actor, location, uuid string) (services.Package, error)
	Secrets(ctx context.Context, a actor.Actor, location, uuid string) (services.Secrets, error)
	Whitelist(ctx context.Context, a actor.Actor, location, uuid string) ([]string, error)
	AddWhitelist(ctx context.Context, a actor.Actor, location, uuid, entry string) ([]string, error)
	RemoveWhitelist(ctx context.Context, a actor.Actor, location, uuid, entry string) ([]string, error)
}

var _ Services = (*services.Service)(nil)

func (s *server) servicesOps() []op {
	const (
		pkg       = "/user-resource/service/package"
		one       = pkg + "/{service_package_uuid}"
		whitelist = pkg + "/{service_uuid}/whitelist_addresses"
	)
	return []op{
		{method: "POST", path: pkg, located: true, h: s.createServicePackage},
		{method: "GET", path: "/user-resource/service/packages", located: true, h: s.listServicePackages},
		{method: "GET", path: one, located: true, pathParams: []string{"service_package_uuid"}, h: s.getServicePackage},
		{method: "PATCH", path: one, located: true, pathParams: []string{"service_package_uuid"}, h: s.updateServicePackage},
		{method: "DELETE", path: one, located: true, pathParams: []string{"service_package_uuid"}, h: s.deleteServicePackage},
		{method: "GET", path: one + "/secrets", located: true, pathParams: []string{"service_package_uuid"}, h: s.getServiceSecrets},
		{method: "GET", path: whitelist, located: true, pathParams: []string{"service_uuid"}, h: s.getServiceWhitelist},
		{method: "POST", path: whitelist, located: true, pathParams: []string{"service_uuid"}, h: s.addServiceWhitelist},
		{method: "DELETE", path: whitelist, located: true, pathParams: []string{"service_uuid"}, h: s.deleteServiceWhitelist},
	}
}

// ---- wire types ----

// serviceTime is the services timestamp format ("2022-01-04 14:05:25", UTC).
func serviceTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

type servicePriceJSON struct {
	PriceMultiplier     json.Number `json:"priceMultiplier"`
	ResourceType        string      `json:"resourceType"`
	ServiceNameInUptime string      `json:"serviceNameInUptime,omitempty"`
}

type servicePropertiesJSON struct {
	ServiceIP string `json:"service_ip"`
	Location  string `json:"location"`
	SQLUser   string `json:"sql_user"`
	Port      int    `json:"port"`
}

type serviceStorageJSON struct {
	Primary bool     `json:"primary"`
	Size    int64    `json:"size"`
	UUID    string   `json:"uuid"`
	Replica []string `json:"replica"`
}

type serviceVMAllocationJSON struct {
	Memory  int64                `json:"memory"`
	VCPU    int64                `json:"vcpu"`
	Status  string               `json:"status"`
	Storage []serviceStorageJSON `json:"storage"`
}

type serviceIPAllocationJSON struct {
	Address string `json:"address"`
}

type serviceResourceJSON struct {
	// ResourceAllocation is a serviceVMAllocationJSON, a
	// serviceIPAllocationJSON, or {} once the package is deleted.
	ResourceAllocation any    `json:"resource_allocation"`
	ResourceID         string `json:"resource_id"`
	ResourceLocation   string `json:"resource_location"`
	ResourceType       string `json:"resource_type"`
}

type servicePackageJSON struct {
	BillingAccountID int64                 `json:"billing_account_id"`
	CreatedAt        string                `json:"created_at"`
	DeletedAt        *string               `json:"deleted_at"`
	DisplayName      string                `json:"display_name"`
	IsDeleted        bool                  `json:"is_deleted"`
	IsMultiNode      bool                  `json:"is_multi_node"`
	Prices           []servicePriceJSON    `json:"prices"`
	Properties       servicePropertiesJSON `json:"properties"`
	Resources        []serviceResourceJSON `json:"resources"`
	Service          string                `json:"service"`
	Status           string                `json:"status"`
	UpdatedAt        string                `json:"updated_at"`
	UserID           int64                 `json:"user_id"`
	UUID             string                `json:"uuid"`
	Version          string                `json:"version"`
}

// servicePackageOut shapes a package as the seed's samples do. Resources
// of a deleted package have an empty allocation (ID-105); deleted_at is
// null until the delete (the seed shows it in the delete sample only,
// ID-amb-33: the superset).
func servicePackageOut(p services.Package) servicePackageJSON {
	out := servicePackageJSON{BillingAccountID: p.BillingAccountID, CreatedAt: serviceTime(p.CreatedAt),
		DisplayName: p.DisplayName, IsDeleted: p.IsDeleted(), IsMultiNode: p.IsMultiNode,
		Prices: []servicePriceJSON{}, Properties: servicePropertiesJSON{ServiceIP: p.ServiceIP, Location: p.Location,
			SQLUser: p.SQLUser, Port: p.Port},
		Resources: []serviceResourceJSON{}, Service: p.Service, Status: p.Status, UpdatedAt: serviceTime(p.UpdatedAt),
		UserID: p.UserID, UUID: p.UUID, Version: p.Version}
	if p.DeletedAt != nil {
		d := serviceTime(*p.DeletedAt)
		out.DeletedAt = &d
	}
	for _, m := range p.Prices {
		out.Prices = append(out.Prices, servicePriceJSON{PriceMultiplier: money.FormatIDCHFloat(m.PriceMultiplier),
			ResourceType: string(m.ResourceType), ServiceNameInUptime: m.ServiceNameInUptime})
	}
	for _, r := range p.Resources {
		rj := serviceResourceJSON{ResourceAllocation: struct{}{}, ResourceID: r.ID, ResourceLocation: r.Location,
			ResourceType: r.Type}
		if !p.IsDeleted() {
			switch r.Type {
			case services.ResourceVM:
				rj.ResourceAllocation = serviceVMAllocationJSON{Memory: r.MemoryMB, VCPU: r.VCPU, Status: r.Status,
					Storage: []serviceStorageJSON{{Primary: true, Size: r.DiskGB, UUID: r.DiskUUID, Replica: []string{}}}}
			case services.ResourceVirtualIP:
				rj.ResourceAllocation = serviceIPAllocationJSON{Address: r.Address}
			}
		}
		out.Resources = append(out.Resources, rj)
	}
	return out
}

// ---- handlers ----

// createPackageRequest is ID-100's parameters. package_parameters is a
// JSON object, or a string holding one (the seed sends a string,
// ID-amb-27), kept as JSON; the service decodes either.
type createPackageRequest struct {
	accountParam
	Service     string  `wire:"service"`
	Version     string  `wire:"version"`
	DisplayName string  `wire:"display_name"`
	VMCPU       int64   `wire:"vm_cpu,required"`
	VMRAMMB     int64   `wire:"vm_ram,required"`
	VMDiskGB    int64   `wire:"vm_disk_gb,required"`
	Parameters  jsonDoc `wire:"package_parameters"`
	IsMultiNode bool    `wire:"is_multi_node"`
}

// jsonDoc is a parameter kept as JSON: a JSON value re-encoded (numbers
// exact), a text as a JSON string.
type jsonDoc json.RawMessage

// DecodeWire implements decode.Unmarshaler.
func (d *jsonDoc) DecodeWire(field string, v decode.Value) error {
	var x any
	if err := loose.Into(field, v, &x); err != nil {
		return err
	}
	b, err := json.Marshal(x)
	if err != nil {
		return errs.Invalid(field, "must be JSON")
	}
	*d = b
	return nil
}

// createServicePackage is ID-100.
func (s *server) createServicePackage(ctx context.Context, c *call) (any, error) {
	var req createPackageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	p, err := s.d.Services.Create(ctx, c.a, services.CreateInput{Location: c.location.Slug,
		BillingAccountID: req.BillingAccountID, Service: req.Service, Version: req.Version,
		DisplayName: req.DisplayName, VMCPU: req.VMCPU, VMRAMMB: req.VMRAMMB, VMDiskGB: req.VMDiskGB,
		Parameters: json.RawMessage(req.Parameters), IsMultiNode: req.IsMultiNode})
	if err != nil {
		return nil, err
	}
	return servicePackageOut(p), nil
}

// listServicePackages is ID-101.
func (s *server) listServicePackages(ctx context.Context, c *call) (any, error) {
	list, err := s.d.Services.List(ctx, c.a, c.location.Slug)
	if err != nil {
		return nil, err
	}
	out := make([]servicePackageJSON, len(list))
	for i, p := range list {
		out[i] = servicePackageOut(p)
	}
	return out, nil
}

// getServicePackage is ID-102.
func (s *server) getServicePackage(ctx context.Context, c *call) (any, error) {
	p, err := s.d.Services.Get(ctx, c.a, c.location.Slug, c.path("service_package_uuid"))
	if err != nil {
		return nil, err
	}
	return servicePackageOut(p), nil
}

// updateServicePackage is ID-103. A body "uuid" (the seed's curl sends
// one) is ignored: the path names the package (ID-amb-28).
func (s *server) updateServicePackage(ctx context.Context, c *call) (any, error) {
	var req struct {
		BillingAccountID *int64  `wire:"billing_account_id"`
		DisplayName      *string `wire:"display_name"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	p, err := s.d.Services.Update(ctx, c.a, c.location.Slug, c.path("service_package_uuid"),
		services.UpdateInput{BillingAccountID: req.BillingAccountID, DisplayName: req.DisplayName})
	if err != nil {
		return nil, err
	}
	return servicePackageOut(p), nil
}

// deleteServicePackage is ID-105.
func (s *server) deleteServicePackage(ctx context.Context, c *call) (any, error) {
	p, err := s.d.Services.Delete(ctx, c.a, c.location.Slug, c.path("service_package_uuid"))
	if err != nil {
		return nil, err
	}
	return servicePackageOut(p), nil
}

type serviceSecretsJSON struct {
	SQLPass string `json:"sql_pass"`
}

// getServiceSecrets is ID-104.
func (s *server) getServiceSecrets(ctx context.Context, c *call) (any, error) {
	sec, err := s.d.Services.Secrets(ctx, c.a, c.location.Slug, c.path("service_package_uuid"))
	if err != nil {
		return nil, err
	}
	return serviceSecretsJSON{SQLPass: sec.SQLPass}, nil
}

// getServiceWhitelist is ID-106.
func (s *server) getServiceWhitelist(ctx context.Context, c *call) (any, error) {
	return s.d.Services.Whitelist(ctx, c.a, c.location.Slug, c.path("service_uuid"))
}

// whitelistParam is a whitelist entry.
type whitelistParam struct {
	IPAddress string `wire:"ip_address"`
}

// addServiceWhitelist is ID-107.
func (s *server) addServiceWhitelist(ctx context.Context, c *call) (any, error) {
	var req whitelistParam
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return s.d.Services.AddWhitelist(ctx, c.a, c.location.Slug, c.path("service_uuid"), req.IPAddress)
}

// deleteServiceWhitelist is ID-108.
func (s *server) deleteServiceWhitelist(ctx context.Context, c *call) (any, error) {
	var req whitelistParam
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	return s.d.Services.RemoveWhitelist(ctx, c.a, c.location.Slug, c.path("service_uuid"), req.IPAddress)
}
