package orders

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sort"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
)

// Catalog kinds: one stored document each (table reseller_catalogs), in
// the shape the ITGLOBAL routes answer with (PascalCase, prices as JSON
// numbers in currency units). Every price is per unit per MONTH; an order
// pays a thirtieth of its monthly price per day (see DailyPrice).
const (
	Catalog1CConfigurations  = "1c_configurations"
	Catalog1CTariffs         = "1c_tariffs"
	CatalogManagedTariffs    = "managed_tariffs"
	CatalogObjectStorage     = "object_storage_tariffs"
	CatalogKubernetesTariffs = "kubernetes_tariffs"
	CatalogCDNTariffs        = "cdn_tariffs"
	CatalogVStack            = "vstack"
	CatalogIaaS              = "iaas"
	CatalogSSL               = "ssl"
	CatalogCloudDirector     = "cloud_director"
)

// CatalogKinds lists every catalog kind, sorted.
func CatalogKinds() []string {
	k := []string{Catalog1CConfigurations, Catalog1CTariffs, CatalogManagedTariffs, CatalogObjectStorage,
		CatalogKubernetesTariffs, CatalogCDNTariffs, CatalogVStack, CatalogIaaS, CatalogSSL, CatalogCloudDirector}
	sort.Strings(k)
	return k
}

//go:embed catalog.json
var defaultCatalog []byte

// DefaultCatalog returns the embedded default document of kind.
func DefaultCatalog(kind string) (json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(defaultCatalog, &all); err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "orders: embedded catalog")
	}
	body, ok := all[kind]
	if !ok {
		return nil, errs.Invalidf("kind", "unknown catalog %q (one of %v)", kind, CatalogKinds())
	}
	return compact(body)
}

func compact(b []byte) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, errs.Invalid("body", "not JSON: "+err.Error())
	}
	return buf.Bytes(), nil
}

// ---- typed documents ----

// Price is a catalog price: a JSON number (never a string) in currency
// units, kept as written so that it stays exact.
type Price string

// MarshalJSON writes the number as stored.
func (p Price) MarshalJSON() ([]byte, error) {
	if p == "" {
		return []byte("0"), nil
	}
	return []byte(p), nil
}

// UnmarshalJSON accepts a JSON number only; its value is checked by
// decodeCatalog.
func (p *Price) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] == '"' || string(b) == "null" || string(b) == "true" || string(b) == "false" ||
		b[0] == '{' || b[0] == '[' {
		return errs.Invalid("price", "must be a JSON number")
	}
	*p = Price(b)
	return nil
}

// Tariff is one line of a rate scale.
type Tariff struct {
	Id            string `json:"Id"`
	Name          string `json:"Name"`
	Unit          string `json:"Unit"`
	PricePerMonth Price  `json:"PricePerMonth"`
}

// Tariffs is the managed, object storage and CDN rate scale.
type Tariffs struct {
	Tariffs []Tariff `json:"Tariffs"`
}

// OneCConfiguration is a 1C configuration on offer (IT-23).
type OneCConfiguration struct {
	Id            int64  `json:"Id"`
	Name          string `json:"Name"`
	Code          string `json:"Code"`
	PricePerMonth Price  `json:"PricePerMonth"`
}

// OneCTariffs is the 1C rate scale (IT-24).
type OneCTariffs struct {
	UserPricePerMonth                 Price    `json:"UserPricePerMonth"`
	RdpUserPricePerMonth              Price    `json:"RdpUserPricePerMonth"`
	DefaultConfigurationPricePerMonth Price    `json:"DefaultConfigurationPricePerMonth"`
	Tariffs                           []Tariff `json:"Tariffs"`
}

// IdName is a location or template reference.
type IdName struct {
	Id   int64  `json:"Id"`
	Name string `json:"Name"`
}

// StringIdName is a reference with a string id.
type StringIdName struct {
	Id   string `json:"Id"`
	Name string `json:"Name"`
}

// KubernetesTariffs is the Kubernetes rate scale with its versions and
// locations (IT-43).
type KubernetesTariffs struct {
	Versions                      []string `json:"Versions"`
	Locations                     []IdName `json:"Locations"`
	ClusterPricePerMonth          Price    `json:"ClusterPricePerMonth"`
	HighAvailabilityPricePerMonth Price    `json:"HighAvailabilityPricePerMonth"`
	CpuCorePricePerMonth          Price    `json:"CpuCorePricePerMonth"`
	RamGbPricePerMonth            Price    `json:"RamGbPricePerMonth"`
	Tariffs                       []Tariff `json:"Tariffs"`
}

// VStackConfiguration is a suggested vStack server size.
type VStackConfiguration struct {
	Name          string `json:"Name"`
	Cpu           int64  `json:"Cpu"`
	RamMb         int64  `json:"RamMb"`
	VolumeGb      int64  `json:"VolumeGb"`
	BandwidthMbps int64  `json:"BandwidthMbps"`
}

// VStackPrices are a vStack location's unit prices per month.
type VStackPrices struct {
	CpuCorePerMonth         Price            `json:"CpuCorePerMonth"`
	RamGbPerMonth           Price            `json:"RamGbPerMonth"`
	VolumeGbPerMonth        map[string]Price `json:"VolumeGbPerMonth"` // by volume type
	Bandwidth10MbpsPerMonth Price            `json:"Bandwidth10MbpsPerMonth"`
}

// VStackLocation is a vStack location (int id, IT-amb-13).
type VStackLocation struct {
	Id             int64                 `json:"Id"`
	Name           string                `json:"Name"`
	MaxCpu         int64                 `json:"MaxCpu"`
	MaxRamMb       int64                 `json:"MaxRamMb"`
	MaxVolumeGb    int64                 `json:"MaxVolumeGb"`
	Templates      []StringIdName        `json:"Templates"`
	Configurations []VStackConfiguration `json:"Configurations"`
	Prices         VStackPrices          `json:"Prices"`
}

// VStackCatalog is the vStack prices document (IT-37: {"Locations": […]}).
type VStackCatalog struct {
	Locations []VStackLocation `json:"Locations"`
}

// IaaSImage is a VMware server template.
type IaaSImage struct {
	Id   int64  `json:"Id"`
	Name string `json:"Name"`
	Os   string `json:"Os"`
}

// IaaSPrices are a VMware location's unit prices per month.
type IaaSPrices struct {
	CpuCorePerMonth       Price            `json:"CpuCorePerMonth"`
	RamGbPerMonth         Price            `json:"RamGbPerMonth"`
	HddGbPerMonth         map[string]Price `json:"HddGbPerMonth"` // by HDDType
	BandwidthMbpsPerMonth Price            `json:"BandwidthMbpsPerMonth"`
	BackupGbPerMonth      Price            `json:"BackupGbPerMonth"` // per GB of HDD and 7 days of depth
}

// IaaSLocation is a VMware location (string technical name, IT-26/27).
type IaaSLocation struct {
	Id       string      `json:"Id"`
	Name     string      `json:"Name"`
	MinCpu   int64       `json:"MinCpu"`
	MaxCpu   int64       `json:"MaxCpu"`
	MinRamMb int64       `json:"MinRamMb"`
	MaxRamMb int64       `json:"MaxRamMb"`
	MinHddGb int64       `json:"MinHddGb"`
	MaxHddGb int64       `json:"MaxHddGb"`
	HddTypes []string    `json:"HddTypes"`
	Images   []IaaSImage `json:"Images"`
	IspSoft  []IdName    `json:"IspSoft"`
	Prices   IaaSPrices  `json:"Prices"`
}

// IaaSCatalog lists the VMware locations.
type IaaSCatalog struct {
	Locations []IaaSLocation `json:"Locations"`
}

// SSLProduct is an SSL certificate on sale (IT-41/42).
type SSLProduct struct {
	Id           int64  `json:"Id"`
	Name         string `json:"Name"`
	Brand        string `json:"Brand"`
	Validation   string `json:"Validation"`
	Wildcard     bool   `json:"Wildcard"`
	PricePerYear Price  `json:"PricePerYear"`
}

// SSLCatalog lists the SSL products.
type SSLCatalog struct {
	Products []SSLProduct `json:"Products"`
}

// CloudDirectorCatalog holds the VOrg locations and VDC prices.
type CloudDirectorCatalog struct {
	VOrgLocations      []StringIdName   `json:"VOrgLocations"`
	VOrgPricePerMonth  Price            `json:"VOrgPricePerMonth"`
	VdcPricePerMonth   map[string]Price `json:"VdcPricePerMonth"` // Public, Private
	VeeamPricePerMonth Price            `json:"VeeamPricePerMonth"`
}

// VDC types.
const (
	VDCPublic  = "Public"
	VDCPrivate = "Private"
)

// VOrg locations the seed's enum allows (IT-48).
var vorgLocations = []string{"ds1", "am2", "kz", "by"}

// ---- decoding and validation ----

// decodeCatalog unmarshals body strictly into the typed document of kind
// and checks it (every price a non-negative decimal, ids unique).
func decodeCatalog(kind string, body []byte) (any, error) {
	var v any
	switch kind {
	case Catalog1CConfigurations:
		v = &[]OneCConfiguration{}
	case Catalog1CTariffs:
		v = &OneCTariffs{}
	case CatalogManagedTariffs, CatalogObjectStorage, CatalogCDNTariffs:
		v = &Tariffs{}
	case CatalogKubernetesTariffs:
		v = &KubernetesTariffs{}
	case CatalogVStack:
		v = &VStackCatalog{}
	case CatalogIaaS:
		v = &IaaSCatalog{}
	case CatalogSSL:
		v = &SSLCatalog{}
	case CatalogCloudDirector:
		v = &CloudDirectorCatalog{}
	default:
		return nil, errs.Invalidf("kind", "unknown catalog %q (one of %v)", kind, CatalogKinds())
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return nil, errs.Invalidf("body", "not a %s catalog: %v", kind, err)
	}
	if dec.More() {
		return nil, errs.Invalid("body", "trailing data after the catalog")
	}
	if err := checkCatalog(v); err != nil {
		return nil, err
	}
	return v, nil
}

// price parses a catalog price: a non-negative decimal. Absent (empty) is
// zero.
func price(field string, n Price) (money.Decimal, error) {
	if n == "" {
		return money.DecimalFromInt(0), nil
	}
	d, err := money.ParseJSONNumber(field, json.Number(n))
	if err != nil {
		return d, err
	}
	if d.Sign() < 0 {
		return d, errs.Invalid(field, "a price cannot be negative")
	}
	return d, nil
}

func checkPrices(field string, ns ...Price) error {
	for _, n := range ns {
		if _, err := price(field, n); err != nil {
			return err
		}
	}
	return nil
}

func checkPriceMap(field string, m map[string]Price) error {
	for k, n := range m {
		if _, err := price(field+"."+k, n); err != nil {
			return err
		}
	}
	return nil
}

func checkTariffs(ts []Tariff) error {
	seen := map[string]bool{}
	for i, t := range ts {
		f := fmt.Sprintf("Tariffs[%d]", i)
		if t.Id == "" || seen[t.Id] {
			return errs.Invalid(f+".Id", "must be present and unique")
		}
		seen[t.Id] = true
		if err := checkPrices(f+".PricePerMonth", t.PricePerMonth); err != nil {
			return err
		}
	}
	return nil
}

func unique[T comparable](field string, ids []T) error {
	seen := map[T]bool{}
	for _, id := range ids {
		if seen[id] {
			return errs.Invalidf(field, "duplicate id %v", id)
		}
		seen[id] = true
	}
	return nil
}

// checkCatalog checks a decoded catalog document by its kind.
func checkCatalog(v any) error {
	switch c := v.(type) {
	case *[]OneCConfiguration:
		return checkOneCConfigurations(*c)
	case *OneCTariffs:
		return c.check()
	case *Tariffs:
		return checkTariffs(c.Tariffs)
	case *KubernetesTariffs:
		return c.check()
	case *VStackCatalog:
		return c.check()
	case *IaaSCatalog:
		return c.check()
	case *SSLCatalog:
		return c.check()
	case *CloudDirectorCatalog:
		return c.check()
	}
	return nil
}

// checkOneCConfigurations: unique ids, valid prices.
func checkOneCConfigurations(cs []OneCConfiguration) error {
	var ids []int64
	for i, x := range cs {
		ids = append(ids, x.Id)
		if err := checkPrices(fmt.Sprintf("[%d].PricePerMonth", i), x.PricePerMonth); err != nil {
			return err
		}
	}
	return unique("Id", ids)
}

func (c *OneCTariffs) check() error {
	if err := checkPrices("UserPricePerMonth", c.UserPricePerMonth, c.RdpUserPricePerMonth,
		c.DefaultConfigurationPricePerMonth); err != nil {
		return err
	}
	return checkTariffs(c.Tariffs)
}

// check: at least one version and one location, unique locations.
func (c *KubernetesTariffs) check() error {
	if len(c.Versions) == 0 || len(c.Locations) == 0 {
		return errs.Invalid("Versions", "Kubernetes needs at least one version and one location")
	}
	var ids []int64
	for _, l := range c.Locations {
		ids = append(ids, l.Id)
	}
	if err := unique("Locations", ids); err != nil {
		return err
	}
	if err := checkPrices("ClusterPricePerMonth", c.ClusterPricePerMonth, c.HighAvailabilityPricePerMonth,
		c.CpuCorePricePerMonth, c.RamGbPricePerMonth); err != nil {
		return err
	}
	return checkTariffs(c.Tariffs)
}

func (c *VStackCatalog) check() error {
	var ids []int64
	for i, l := range c.Locations {
		ids = append(ids, l.Id)
		if err := l.check(fmt.Sprintf("Locations[%d]", i)); err != nil {
			return err
		}
	}
	return unique("Locations", ids)
}

// check: templates, volume prices and positive limits; f names the
// location in errors.
func (l VStackLocation) check(f string) error {
	if len(l.Templates) == 0 || len(l.Prices.VolumeGbPerMonth) == 0 || l.MaxCpu <= 0 || l.MaxRamMb <= 0 {
		return errs.Invalid(f, "a vStack location needs templates, volume prices and positive limits")
	}
	if err := checkPrices(f+".Prices", l.Prices.CpuCorePerMonth, l.Prices.RamGbPerMonth,
		l.Prices.Bandwidth10MbpsPerMonth); err != nil {
		return err
	}
	return checkPriceMap(f+".Prices.VolumeGbPerMonth", l.Prices.VolumeGbPerMonth)
}

func (c *IaaSCatalog) check() error {
	var ids []string
	for i, l := range c.Locations {
		ids = append(ids, l.Id)
		if err := l.check(fmt.Sprintf("Locations[%d]", i)); err != nil {
			return err
		}
	}
	return unique("Locations", ids)
}

// check: an id, images, consistent limits and a price for every HDD type
// offered; f names the location in errors.
func (l IaaSLocation) check(f string) error {
	if l.Id == "" || len(l.Images) == 0 || l.MinCpu <= 0 || l.MaxCpu < l.MinCpu || l.MinRamMb <= 0 ||
		l.MaxRamMb < l.MinRamMb || l.MinHddGb <= 0 || l.MaxHddGb < l.MinHddGb {
		return errs.Invalid(f, "an IaaS location needs an id, images and consistent limits")
	}
	for _, t := range l.HddTypes {
		if t != "SSD" && t != "SAS" {
			return errs.Invalidf(f+".HddTypes", "unknown HDD type %q", t)
		}
		if _, ok := l.Prices.HddGbPerMonth[t]; !ok {
			return errs.Invalidf(f+".Prices.HddGbPerMonth", "no price for %s", t)
		}
	}
	if err := checkPrices(f+".Prices", l.Prices.CpuCorePerMonth, l.Prices.RamGbPerMonth,
		l.Prices.BandwidthMbpsPerMonth, l.Prices.BackupGbPerMonth); err != nil {
		return err
	}
	return checkPriceMap(f+".Prices.HddGbPerMonth", l.Prices.HddGbPerMonth)
}

func (c *SSLCatalog) check() error {
	var ids []int64
	for i, p := range c.Products {
		ids = append(ids, p.Id)
		if err := checkPrices(fmt.Sprintf("Products[%d].PricePerYear", i), p.PricePerYear); err != nil {
			return err
		}
	}
	return unique("Products", ids)
}

// check: VOrg locations among the four the API knows, a VDC price for
// both types.
func (c *CloudDirectorCatalog) check() error {
	for _, l := range c.VOrgLocations {
		if !slices.Contains(vorgLocations, l.Id) {
			return errs.Invalidf("VOrgLocations", "location %q is not one of %v", l.Id, vorgLocations)
		}
	}
	for _, t := range []string{VDCPublic, VDCPrivate} {
		if _, ok := c.VdcPricePerMonth[t]; !ok {
			return errs.Invalidf("VdcPricePerMonth", "no price for %s", t)
		}
	}
	if err := checkPrices("VOrgPricePerMonth", c.VOrgPricePerMonth, c.VeeamPricePerMonth); err != nil {
		return err
	}
	return checkPriceMap("VdcPricePerMonth", c.VdcPricePerMonth)
}
