package itglobal

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
	"github.com/trellis-cloud/trellis/internal/orders"
)

// The catalogs the tariff routes answer with.
const (
	catalog1CConfigurations  = orders.Catalog1CConfigurations
	catalog1CTariffs         = orders.Catalog1CTariffs
	catalogManagedTariffs    = orders.CatalogManagedTariffs
	catalogObjectStorage     = orders.CatalogObjectStorage
	catalogKubernetesTariffs = orders.CatalogKubernetesTariffs
	catalogCDNTariffs        = orders.CatalogCDNTariffs
)

// catalog answers a stored catalog document as it is, in the envelope.
func (s *server) catalog(kind string) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, c *call) (any, error) {
		doc, err := s.d.Orders.GetCatalog(ctx, kind)
		if err != nil {
			return nil, err
		}
		return ok(doc)
	}
}

// IT-26.
func (s *server) listIaaSLocations(ctx context.Context, c *call) (any, error) {
	list, err := s.d.Orders.IaaSLocations(ctx)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []orders.IaaSLocation{}
	}
	return ok(list)
}

// IT-27: by technical name.
func (s *server) getIaaSLocation(ctx context.Context, c *call) (any, error) {
	l, err := s.d.Orders.IaaSLocation(ctx, c.r.PathValue("location_id"))
	if err != nil {
		return nil, err
	}
	return ok(l)
}

// IT-37: {"Locations": […]} without the envelope, as the seed shows.
func (s *server) vstackPrices(ctx context.Context, c *call) (any, error) {
	cat, err := s.d.Orders.VStackPrices(ctx)
	if err != nil {
		return nil, err
	}
	if cat.Locations == nil {
		cat.Locations = []orders.VStackLocation{}
	}
	return cat, nil
}

// IT-41.
func (s *server) listSSLProducts(ctx context.Context, c *call) (any, error) {
	list, err := s.d.Orders.SSLProducts(ctx)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []orders.SSLProduct{}
	}
	return ok(list)
}

// IT-42.
func (s *server) getSSLProduct(ctx context.Context, c *call) (any, error) {
	id, err := pathID(c.r, "product_id")
	if err != nil {
		return nil, err
	}
	p, err := s.d.Orders.SSLProduct(ctx, id)
	if err != nil {
		return nil, err
	}
	return ok(p)
}

// ---- orders ----

// orderDTO is an order as the API answers it: the request's fields as
// stored (the order's Spec, defaults applied, secrets left out) plus Id,
// ProjectId, State, DailyPrice, CreatedAt and the location.
func orderDTO(o orders.Order, location any) (map[string]any, error) {
	out := map[string]any{}
	if len(o.Spec) > 0 {
		dec := json.NewDecoder(bytes.NewReader(o.Spec))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			return nil, errs.Wrap(errs.KindInternal, err, "order spec")
		}
		if out == nil {
			out = map[string]any{}
		}
	}
	delete(out, "AdminPassword")
	out["Id"] = o.ID
	out["ProjectId"] = o.ProjectID
	out["State"] = o.State
	out["DailyPrice"] = amountOf(o.DailyPrice, o.Currency)
	out["CreatedAt"] = stamp(o.CreatedAt)
	if location != nil {
		out["LocationId"] = location
	}
	return out, nil
}

func orderResult(o orders.Order, err error, location func(orders.Order) any) (any, error) {
	if err != nil {
		return nil, err
	}
	var loc any
	if location != nil {
		loc = location(o)
	}
	dto, err := orderDTO(o, loc)
	if err != nil {
		return nil, err
	}
	return ok(dto)
}

// objects is a required array of JSON objects kept as sent (IT-amb-20),
// non-nil when sent.
type objects []decode.RawObject

func (o objects) raw() []json.RawMessage {
	out := make([]json.RawMessage, len(o))
	for i, x := range o {
		out[i] = json.RawMessage(x)
	}
	return out
}

// int32Ptr widens an optional int32.
func int32Ptr(p *int32) *int64 {
	if p == nil {
		return nil
	}
	n := int64(*p)
	return &n
}

// oneCRequest is IT-25's body.
type oneCRequest struct {
	IsRdpAccess    bool    `wire:"IsRdpAccess,required"`
	Configurations objects `wire:"Configurations,required"`
	Users          objects `wire:"Users,required"`
}

// IT-25.
func (s *server) create1C(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	var req oneCRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	o, err := s.d.Orders.Create1C(ctx, c.a, orders.OneCInput{ProjectID: id, IsRdpAccess: req.IsRdpAccess,
		Configurations: req.Configurations.raw(), Users: req.Users.raw()})
	return orderResult(o, err, nil)
}

// vmwareServerRequest is IT-28's body.
type vmwareServerRequest struct {
	Name             string  `wire:"Name,required"`
	CPU              int32   `wire:"CPU,required"`
	RAM              int32   `wire:"RAM,required"`
	HDD              int32   `wire:"HDD,required"`
	HDDType          string  `wire:"HDDType,required"`
	NetworkID        *int32  `wire:"NetworkId"`
	NetworkBandwidth *int32  `wire:"NetworkBandwidth"`
	ImageID          int32   `wire:"ImageID,required"`
	ISPSoftID        *int32  `wire:"ISPSoftID"`
	IsBackupActive   bool    `wire:"IsBackupActive,required"`
	BackupPeriod     int32   `wire:"BackupPeriod,required"`
	SshKeys          []int32 `wire:"SshKeys"`
	IsNeedSysprep    bool    `wire:"IsNeedSysprep"`
}

// IT-28: Name ≤ 50, HDDType, BackupPeriod always (IT-amb-11),
// NetworkBandwidth > 0 defaulting to 10 (IT-amb-12): the service checks
// the values against the location.
func (s *server) createVMwareServer(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	var req vmwareServerRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	in := orders.VMwareServerInput{ProjectID: id, LocationID: c.r.PathValue("location_id"), Name: req.Name,
		CPU: int64(req.CPU), RAM: int64(req.RAM), HDD: int64(req.HDD), HDDType: req.HDDType,
		NetworkID: int32Ptr(req.NetworkID), NetworkBandwidth: int32Ptr(req.NetworkBandwidth), ImageID: int64(req.ImageID),
		ISPSoftID: int32Ptr(req.ISPSoftID), IsBackupActive: req.IsBackupActive, BackupPeriod: int64(req.BackupPeriod),
		IsNeedSysprep: req.IsNeedSysprep}
	if req.SshKeys != nil {
		in.SshKeys = make([]int64, len(req.SshKeys))
		for i, k := range req.SshKeys {
			in.SshKeys[i] = int64(k)
		}
	}
	o, err := s.d.Orders.CreateVMwareServer(ctx, c.a, in)
	return orderResult(o, err, func(o orders.Order) any { return o.Location })
}

// vstackServerRequest is IT-38's body.
type vstackServerRequest struct {
	Name          string  `wire:"Name,required"`
	Cpu           int32   `wire:"Cpu,required"`
	RamMb         int32   `wire:"RamMb,required"`
	TemplateID    string  `wire:"TemplateId,required"`
	Volumes       objects `wire:"Volumes,required"`
	BandwidthMbps int32   `wire:"BandwidthMbps,required"`
}

// IT-38: location_id is an integer here (IT-amb-13); BandwidthMbps > 0
// and a multiple of 10 (checked by the service).
func (s *server) createVStackServer(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	loc, err := pathID(c.r, "location_id")
	if err != nil {
		return nil, err
	}
	var req vstackServerRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	o, err := s.d.Orders.CreateVStackServer(ctx, c.a, orders.VStackServerInput{ProjectID: id, LocationID: loc,
		Name: req.Name, Cpu: int64(req.Cpu), RamMb: int64(req.RamMb), TemplateID: req.TemplateID,
		Volumes: req.Volumes.raw(), BandwidthMbps: int64(req.BandwidthMbps)})
	return orderResult(o, err, intLocation)
}

// intLocation answers the decimal location of vStack orders as a number.
func intLocation(o orders.Order) any {
	if n, err := strconv.ParseInt(o.Location, 10, 64); err == nil {
		return n
	}
	return nil
}

// kubernetesRequest is IT-44's body.
type kubernetesRequest struct {
	Name               string  `wire:"Name,required"`
	Version            string  `wire:"Version,required"`
	LocationID         int32   `wire:"LocationId,required"`
	IsHighAvailability bool    `wire:"IsHighAvailability,required"`
	NodesGroups        objects `wire:"NodesGroups,required"`
}

// IT-44.
func (s *server) createKubernetes(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	var req kubernetesRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	o, err := s.d.Orders.CreateKubernetesCluster(ctx, c.a, orders.KubernetesInput{ProjectID: id, Name: req.Name,
		Version: req.Version, LocationID: int64(req.LocationID), IsHighAvailability: req.IsHighAvailability,
		NodesGroups: req.NodesGroups.raw()})
	return orderResult(o, err, nil)
}

// IT-47.
func (s *server) getVOrg(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	o, err := s.d.Orders.GetVOrg(ctx, c.a, id)
	return orderResult(o, err, nil)
}

// vorgRequest is IT-48's body.
type vorgRequest struct {
	ProjectID     int32  `wire:"ProjectId,required"`
	Location      string `wire:"Location,required"`
	VcloudOrgName string `wire:"VcloudOrgName,required"`
	AdminUsername string `wire:"AdminUsername,required"`
	AdminPassword string `wire:"AdminPassword,required"`
}

// IT-48: the location is one of four (the service's rule); the password
// is hashed by the service and never answered.
func (s *server) createVOrg(ctx context.Context, c *call) (any, error) {
	var req vorgRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	o, err := s.d.Orders.CreateVOrg(ctx, c.a, orders.VOrgInput{ProjectID: int64(req.ProjectID), Location: req.Location,
		VcloudOrgName: req.VcloudOrgName, AdminUsername: req.AdminUsername, AdminPassword: req.AdminPassword})
	return orderResult(o, err, nil)
}

// IT-49.
func (s *server) getVDC(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	o, err := s.d.Orders.GetVDC(ctx, c.a, id)
	return orderResult(o, err, nil)
}

// vdcRequest is IT-50's body.
type vdcRequest struct {
	OrgID            int32  `wire:"OrgId,required"`
	VcloudVdcName    string `wire:"VcloudVdcName,required"`
	Type             string `wire:"Type"`
	IsVeeamConnected *bool  `wire:"IsVeeamConnected"`
}

// IT-50: Type Public or Private, defaulting to Public, IsVeeamConnected to
// false (the service's rules and defaults).
func (s *server) createVDC(ctx context.Context, c *call) (any, error) {
	var req vdcRequest
	if err := decoder.Body(c.r, &req); err != nil {
		return nil, err
	}
	o, err := s.d.Orders.CreateVDC(ctx, c.a, orders.VDCInput{OrgID: int64(req.OrgID), VcloudVdcName: req.VcloudVdcName,
		Type: req.Type, IsVeeamConnected: req.IsVeeamConnected})
	return orderResult(o, err, nil)
}
