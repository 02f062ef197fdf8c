package itglobal

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"github.com/trellis-cloud/trellis/internal/errs"
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

// IT-25.
func (s *server) create1C(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	in := orders.OneCInput{ProjectID: id}
	var e1, e2, e3 error
	in.IsRdpAccess, _, e1 = b.boolean("IsRdpAccess", true)
	in.Configurations, _, e2 = b.objects("Configurations", true)
	in.Users, _, e3 = b.objects("Users", true)
	if err := collect(e1, e2, e3); err != nil {
		return nil, err
	}
	o, err := s.d.Orders.Create1C(ctx, c.a, in)
	return orderResult(o, err, nil)
}

// IT-28: Name ≤ 50, HDDType, BackupPeriod always (IT-amb-11),
// NetworkBandwidth > 0 defaulting to 10 (IT-amb-12): the service checks
// the values against the location.
func (s *server) createVMwareServer(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	in := orders.VMwareServerInput{ProjectID: id, LocationID: c.r.PathValue("location_id")}
	var es [13]error
	in.Name, _, es[0] = b.str("Name", true)
	in.CPU, _, es[1] = b.int32Field("CPU", true)
	in.RAM, _, es[2] = b.int32Field("RAM", true)
	in.HDD, _, es[3] = b.int32Field("HDD", true)
	in.HDDType, _, es[4] = b.str("HDDType", true)
	in.NetworkID, es[5] = b.optInt32("NetworkId")
	in.NetworkBandwidth, es[6] = b.optInt32("NetworkBandwidth")
	in.ImageID, _, es[7] = b.int32Field("ImageID", true)
	in.ISPSoftID, es[8] = b.optInt32("ISPSoftID")
	in.IsBackupActive, _, es[9] = b.boolean("IsBackupActive", true)
	in.BackupPeriod, _, es[10] = b.int32Field("BackupPeriod", true)
	in.SshKeys, es[11] = b.int32s("SshKeys")
	in.IsNeedSysprep, _, es[12] = b.boolean("IsNeedSysprep", false)
	if err := collect(es[:]...); err != nil {
		return nil, err
	}
	o, err := s.d.Orders.CreateVMwareServer(ctx, c.a, in)
	return orderResult(o, err, func(o orders.Order) any { return o.Location })
}

// optInt32 reads an optional int32 as a pointer (nil when absent or null).
func (b body) optInt32(field string) (*int64, error) {
	n, ok, err := b.int32Field(field, false)
	if err != nil || !ok {
		return nil, err
	}
	return &n, nil
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
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	in := orders.VStackServerInput{ProjectID: id, LocationID: loc}
	var es [6]error
	in.Name, _, es[0] = b.str("Name", true)
	in.Cpu, _, es[1] = b.int32Field("Cpu", true)
	in.RamMb, _, es[2] = b.int32Field("RamMb", true)
	in.TemplateID, _, es[3] = b.str("TemplateId", true)
	in.Volumes, _, es[4] = b.objects("Volumes", true)
	in.BandwidthMbps, _, es[5] = b.int32Field("BandwidthMbps", true)
	if err := collect(es[:]...); err != nil {
		return nil, err
	}
	o, err := s.d.Orders.CreateVStackServer(ctx, c.a, in)
	return orderResult(o, err, intLocation)
}

// intLocation answers the decimal location of vStack orders as a number.
func intLocation(o orders.Order) any {
	if n, err := strconv.ParseInt(o.Location, 10, 64); err == nil {
		return n
	}
	return nil
}

// IT-44.
func (s *server) createKubernetes(ctx context.Context, c *call) (any, error) {
	id, err := positiveID(c.r, "id")
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	in := orders.KubernetesInput{ProjectID: id}
	var es [5]error
	in.Name, _, es[0] = b.str("Name", true)
	in.Version, _, es[1] = b.str("Version", true)
	in.LocationID, _, es[2] = b.int32Field("LocationId", true)
	in.IsHighAvailability, _, es[3] = b.boolean("IsHighAvailability", true)
	in.NodesGroups, _, es[4] = b.objects("NodesGroups", true)
	if err := collect(es[:]...); err != nil {
		return nil, err
	}
	o, err := s.d.Orders.CreateKubernetesCluster(ctx, c.a, in)
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

// IT-48: the password is hashed by the service and never answered.
func (s *server) createVOrg(ctx context.Context, c *call) (any, error) {
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	var in orders.VOrgInput
	var es [5]error
	in.ProjectID, _, es[0] = b.int32Field("ProjectId", true)
	in.Location, _, es[1] = b.str("Location", true)
	in.VcloudOrgName, _, es[2] = b.str("VcloudOrgName", true)
	in.AdminUsername, _, es[3] = b.str("AdminUsername", true)
	in.AdminPassword, _, es[4] = b.str("AdminPassword", true)
	if err := collect(es[:]...); err != nil {
		return nil, err
	}
	o, err := s.d.Orders.CreateVOrg(ctx, c.a, in)
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

// IT-50: Type defaults to Public, IsVeeamConnected to false.
func (s *server) createVDC(ctx context.Context, c *call) (any, error) {
	b, err := readBody(c.r)
	if err != nil {
		return nil, err
	}
	var in orders.VDCInput
	var es [4]error
	var veeam bool
	var hasVeeam bool
	in.OrgID, _, es[0] = b.int32Field("OrgId", true)
	in.VcloudVdcName, _, es[1] = b.str("VcloudVdcName", true)
	in.Type, _, es[2] = b.str("Type", false)
	veeam, hasVeeam, es[3] = b.boolean("IsVeeamConnected", false)
	if err := collect(es[:]...); err != nil {
		return nil, err
	}
	if hasVeeam {
		in.IsVeeamConnected = &veeam
	}
	o, err := s.d.Orders.CreateVDC(ctx, c.a, in)
	return orderResult(o, err, nil)
}
