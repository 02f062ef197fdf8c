package orders

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
)

// draft is a validated order before it is stored: what to insert and its
// monthly price.
type draft struct {
	kind     string
	name     string
	location string
	spec     any // marshalled into Order.Spec
	parentID int64
	monthly  money.Decimal
	secret   string // VOrg admin password, hashed before storing
}

var (
	mb1024 = money.DecimalFromInt(1024)
	thirty = money.DecimalFromInt(30)
)

// DailyPrice is a day of a monthly price in minor units of a currency
// with exponent places: monthly / 30, rounded half-up once.
func DailyPrice(monthly money.Decimal, places int32) int64 {
	d := monthly.DivRound(thirty, places)
	return d.Shift(places).IntPart()
}

func mustPrice(n Price) money.Decimal {
	d, err := price("price", n)
	if err != nil {
		// Catalogs are checked when stored; a bad price here is a bug.
		panic(fmt.Sprintf("orders: unchecked catalog price %q", n))
	}
	return d
}

func checkName(field, name string, max int) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errs.Invalid(field, "is required")
	case utf8.RuneCountInString(name) > max:
		return errs.Invalidf(field, "must be at most %d characters", max)
	case strings.ContainsAny(name, "\x00\r\n"):
		return errs.Invalid(field, "must be one line of text")
	}
	return nil
}

// objects checks that a required array is present and holds JSON objects.
func objects(field string, items []json.RawMessage) error {
	if items == nil {
		return errs.Invalid(field, "is required (an array, may be empty)")
	}
	for i, it := range items {
		if t := bytes.TrimSpace(it); len(t) == 0 || t[0] != '{' || !json.Valid(t) {
			return errs.Invalidf(field, "item %d must be a JSON object", i)
		}
	}
	return nil
}

// intField reads an optional integer member of an opaque object: ok false
// when absent or null, an error when present but not a whole number.
func intField(field string, obj json.RawMessage, name string) (int64, bool, error) {
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(obj))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return 0, false, errs.Invalid(field, "must be a JSON object")
	}
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return 0, false, errs.Invalidf(field+"."+name, "must be an integer")
	}
	return n, true, nil
}

func stringField(field string, obj json.RawMessage, name string) (string, bool, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return "", false, errs.Invalid(field, "must be a JSON object")
	}
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, errs.Invalidf(field+"."+name, "must be a string")
	}
	return s, true, nil
}

// ---- VMware (IT-28) ----

type vmwareSpec struct {
	Name             string  `json:"Name"`
	CPU              int64   `json:"CPU"`
	RAM              int64   `json:"RAM"`
	HDD              int64   `json:"HDD"`
	HDDType          string  `json:"HDDType"`
	NetworkId        *int64  `json:"NetworkId"`
	NetworkBandwidth int64   `json:"NetworkBandwidth"`
	ImageID          int64   `json:"ImageID"`
	ISPSoftID        *int64  `json:"ISPSoftID"`
	IsBackupActive   bool    `json:"IsBackupActive"`
	BackupPeriod     int64   `json:"BackupPeriod"`
	SshKeys          []int64 `json:"SshKeys"`
	IsNeedSysprep    bool    `json:"IsNeedSysprep"`
}

func (in VMwareServerInput) draft(cat IaaSCatalog) (draft, error) {
	i := slices.IndexFunc(cat.Locations, func(l IaaSLocation) bool { return l.Id == in.LocationID })
	if i < 0 {
		return draft{}, errs.Invalidf("location_id", "unknown IaaS location %q", in.LocationID)
	}
	loc := cat.Locations[i]
	bw := int64(10)
	if in.NetworkBandwidth != nil {
		bw = *in.NetworkBandwidth
	}
	switch {
	case checkName("Name", in.Name, MaxVMwareName) != nil:
		return draft{}, checkName("Name", in.Name, MaxVMwareName)
	case in.CPU < loc.MinCpu || in.CPU > loc.MaxCpu:
		return draft{}, errs.Invalidf("CPU", "must be between %d and %d cores in %s", loc.MinCpu, loc.MaxCpu, loc.Id)
	case in.RAM < loc.MinRamMb || in.RAM > loc.MaxRamMb:
		return draft{}, errs.Invalidf("RAM", "must be between %d and %d MB in %s", loc.MinRamMb, loc.MaxRamMb, loc.Id)
	case in.HDD < loc.MinHddGb || in.HDD > loc.MaxHddGb:
		return draft{}, errs.Invalidf("HDD", "must be between %d and %d GB in %s", loc.MinHddGb, loc.MaxHddGb, loc.Id)
	case in.HDDType != "SSD" && in.HDDType != "SAS":
		return draft{}, errs.Invalid("HDDType", `must be "SSD" or "SAS"`)
	case !slices.Contains(loc.HddTypes, in.HDDType):
		return draft{}, errs.Invalidf("HDDType", "%s is not available in %s", in.HDDType, loc.Id)
	case bw <= 0:
		return draft{}, errs.Invalid("NetworkBandwidth", "must be a positive number of Mbit/s")
	case !slices.ContainsFunc(loc.Images, func(im IaaSImage) bool { return im.Id == in.ImageID }):
		return draft{}, errs.Invalidf("ImageID", "image %d does not exist in %s", in.ImageID, loc.Id)
	case !slices.Contains(BackupPeriods, in.BackupPeriod):
		return draft{}, errs.Invalid("BackupPeriod", "must be one of 7, 14, 21, 28")
	case in.NetworkID != nil && *in.NetworkID <= 0:
		return draft{}, errs.Invalid("NetworkId", "must be a positive id")
	}
	if in.ISPSoftID != nil && !slices.ContainsFunc(loc.IspSoft, func(x IdName) bool { return x.Id == *in.ISPSoftID }) {
		return draft{}, errs.Invalidf("ISPSoftID", "ISP software %d does not exist in %s", *in.ISPSoftID, loc.Id)
	}
	for _, k := range in.SshKeys {
		if k <= 0 {
			return draft{}, errs.Invalid("SshKeys", "ids must be positive")
		}
	}
	p := loc.Prices
	m := mustPrice(p.CpuCorePerMonth).Mul(money.DecimalFromInt(in.CPU)).
		Add(mustPrice(p.RamGbPerMonth).Mul(money.DecimalFromInt(in.RAM)).Div(mb1024)).
		Add(mustPrice(p.HddGbPerMonth[in.HDDType]).Mul(money.DecimalFromInt(in.HDD))).
		Add(mustPrice(p.BandwidthMbpsPerMonth).Mul(money.DecimalFromInt(bw)))
	if in.IsBackupActive {
		// Backup storage: the disk once per week of depth.
		m = m.Add(mustPrice(p.BackupGbPerMonth).Mul(money.DecimalFromInt(in.HDD * (in.BackupPeriod / 7))))
	}
	spec := vmwareSpec{Name: in.Name, CPU: in.CPU, RAM: in.RAM, HDD: in.HDD, HDDType: in.HDDType, NetworkId: in.NetworkID,
		NetworkBandwidth: bw, ImageID: in.ImageID, ISPSoftID: in.ISPSoftID, IsBackupActive: in.IsBackupActive,
		BackupPeriod: in.BackupPeriod, SshKeys: in.SshKeys, IsNeedSysprep: in.IsNeedSysprep}
	if spec.SshKeys == nil {
		spec.SshKeys = []int64{}
	}
	return draft{kind: KindVMwareServer, name: in.Name, location: loc.Id, spec: spec, monthly: m}, nil
}

// ---- vStack (IT-38) ----

type vstackSpec struct {
	Name          string            `json:"Name"`
	Cpu           int64             `json:"Cpu"`
	RamMb         int64             `json:"RamMb"`
	TemplateId    string            `json:"TemplateId"`
	Volumes       []json.RawMessage `json:"Volumes"`
	BandwidthMbps int64             `json:"BandwidthMbps"`
}

func (in VStackServerInput) draft(cat VStackCatalog) (draft, error) {
	i := slices.IndexFunc(cat.Locations, func(l VStackLocation) bool { return l.Id == in.LocationID })
	if i < 0 {
		return draft{}, errs.Invalidf("location_id", "unknown vStack location %d", in.LocationID)
	}
	loc := cat.Locations[i]
	if err := checkName("Name", in.Name, MaxName); err != nil {
		return draft{}, err
	}
	switch {
	case in.Cpu <= 0 || in.Cpu > loc.MaxCpu:
		return draft{}, errs.Invalidf("Cpu", "must be between 1 and %d cores", loc.MaxCpu)
	case in.RamMb <= 0 || in.RamMb > loc.MaxRamMb:
		return draft{}, errs.Invalidf("RamMb", "must be between 1 and %d MB", loc.MaxRamMb)
	case !slices.ContainsFunc(loc.Templates, func(t StringIdName) bool { return t.Id == in.TemplateID }):
		return draft{}, errs.Invalidf("TemplateId", "template %q does not exist in location %d", in.TemplateID, loc.Id)
	case in.BandwidthMbps <= 0:
		return draft{}, errs.Invalid("BandwidthMbps", "must be a positive number of Mbps")
	case in.BandwidthMbps%10 != 0:
		return draft{}, errs.Invalid("BandwidthMbps", "must be a multiple of 10 Mbps")
	}
	if err := objects("Volumes", in.Volumes); err != nil {
		return draft{}, err
	}
	p := loc.Prices
	m := mustPrice(p.CpuCorePerMonth).Mul(money.DecimalFromInt(in.Cpu)).
		Add(mustPrice(p.RamGbPerMonth).Mul(money.DecimalFromInt(in.RamMb)).Div(mb1024)).
		Add(mustPrice(p.Bandwidth10MbpsPerMonth).Mul(money.DecimalFromInt(in.BandwidthMbps / 10)))
	var total int64
	for i, v := range in.Volumes {
		f := fmt.Sprintf("Volumes[%d]", i)
		size, hasSize, err := intField(f, v, "Size")
		if err != nil {
			return draft{}, err
		}
		typ, hasType, err := stringField(f, v, "Type")
		if err != nil {
			return draft{}, err
		}
		if hasType {
			if _, ok := p.VolumeGbPerMonth[typ]; !ok {
				return draft{}, errs.Invalidf(f+".Type", "volume type %q is not offered in location %d", typ, loc.Id)
			}
		} else {
			typ = firstKey(p.VolumeGbPerMonth)
		}
		if !hasSize {
			continue
		}
		if size <= 0 {
			return draft{}, errs.Invalid(f+".Size", "must be a positive number of GB")
		}
		if total += size; total > loc.MaxVolumeGb {
			return draft{}, errs.Invalidf(f+".Size", "volumes may hold at most %d GB in total", loc.MaxVolumeGb)
		}
		m = m.Add(mustPrice(p.VolumeGbPerMonth[typ]).Mul(money.DecimalFromInt(size)))
	}
	spec := vstackSpec{Name: in.Name, Cpu: in.Cpu, RamMb: in.RamMb, TemplateId: in.TemplateID, Volumes: in.Volumes,
		BandwidthMbps: in.BandwidthMbps}
	return draft{kind: KindVStackServer, name: in.Name, location: strconv.FormatInt(loc.Id, 10), spec: spec, monthly: m}, nil
}

// firstKey is the smallest key: the default volume type ("HDD" < "SSD").
func firstKey(m map[string]Price) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// ---- Kubernetes (IT-44) ----

type k8sSpec struct {
	Name               string            `json:"Name"`
	Version            string            `json:"Version"`
	LocationId         int64             `json:"LocationId"`
	IsHighAvailability bool              `json:"IsHighAvailability"`
	NodesGroups        []json.RawMessage `json:"NodesGroups"`
}

func (in KubernetesInput) draft(cat KubernetesTariffs) (draft, error) {
	if err := checkName("Name", in.Name, MaxName); err != nil {
		return draft{}, err
	}
	if !slices.Contains(cat.Versions, in.Version) {
		return draft{}, errs.Invalidf("Version", "unknown Kubernetes version %q (one of %s)", in.Version,
			strings.Join(cat.Versions, ", "))
	}
	if !slices.ContainsFunc(cat.Locations, func(l IdName) bool { return l.Id == in.LocationID }) {
		return draft{}, errs.Invalidf("LocationId", "unknown Kubernetes location %d", in.LocationID)
	}
	if err := objects("NodesGroups", in.NodesGroups); err != nil {
		return draft{}, err
	}
	m := mustPrice(cat.ClusterPricePerMonth)
	if in.IsHighAvailability {
		m = mustPrice(cat.HighAvailabilityPricePerMonth)
	}
	for i, g := range in.NodesGroups {
		f := fmt.Sprintf("NodesGroups[%d]", i)
		var vals [3]int64
		all := true
		for j, name := range []string{"Count", "Cpu", "RamMb"} {
			v, ok, err := intField(f, g, name)
			if err != nil {
				return draft{}, err
			}
			if ok && v <= 0 {
				return draft{}, errs.Invalid(f+"."+name, "must be a positive integer")
			}
			vals[j], all = v, all && ok
		}
		if !all {
			continue // opaque group: the cluster's base price covers it
		}
		node := mustPrice(cat.CpuCorePricePerMonth).Mul(money.DecimalFromInt(vals[1])).
			Add(mustPrice(cat.RamGbPricePerMonth).Mul(money.DecimalFromInt(vals[2])).Div(mb1024))
		m = m.Add(node.Mul(money.DecimalFromInt(vals[0])))
	}
	spec := k8sSpec{Name: in.Name, Version: in.Version, LocationId: in.LocationID,
		IsHighAvailability: in.IsHighAvailability, NodesGroups: in.NodesGroups}
	return draft{kind: KindKubernetes, name: in.Name, location: strconv.FormatInt(in.LocationID, 10), spec: spec, monthly: m}, nil
}

// ---- 1C (IT-25) ----

type oneCSpec struct {
	IsRdpAccess    bool              `json:"IsRdpAccess"`
	Configurations []json.RawMessage `json:"Configurations"`
	Users          []json.RawMessage `json:"Users"`
}

func (in OneCInput) draft(configs []OneCConfiguration, t OneCTariffs) (draft, error) {
	if err := objects("Configurations", in.Configurations); err != nil {
		return draft{}, err
	}
	if err := objects("Users", in.Users); err != nil {
		return draft{}, err
	}
	m := money.DecimalFromInt(0)
	for i, c := range in.Configurations {
		id, ok, err := intField(fmt.Sprintf("Configurations[%d]", i), c, "Id")
		if err != nil {
			return draft{}, err
		}
		p := mustPrice(t.DefaultConfigurationPricePerMonth)
		if ok {
			j := slices.IndexFunc(configs, func(x OneCConfiguration) bool { return x.Id == id })
			if j < 0 {
				return draft{}, errs.Invalidf(fmt.Sprintf("Configurations[%d].Id", i), "unknown 1C configuration %d", id)
			}
			p = mustPrice(configs[j].PricePerMonth)
		}
		m = m.Add(p)
	}
	user := mustPrice(t.UserPricePerMonth)
	if in.IsRdpAccess {
		user = user.Add(mustPrice(t.RdpUserPricePerMonth))
	}
	m = m.Add(user.Mul(money.DecimalFromInt(int64(len(in.Users)))))
	spec := oneCSpec{IsRdpAccess: in.IsRdpAccess, Configurations: in.Configurations, Users: in.Users}
	return draft{kind: Kind1C, name: "1C", spec: spec, monthly: m}, nil
}

// ---- Cloud Director (IT-48, IT-50) ----

type vorgSpec struct {
	ProjectId     int64  `json:"ProjectId"`
	Location      string `json:"Location"`
	VcloudOrgName string `json:"VcloudOrgName"`
	AdminUsername string `json:"AdminUsername"`
}

// check holds what needs no catalog: the location is one of the four the
// API knows, the project an id.
func (in VOrgInput) check() error {
	if !slices.Contains(vorgLocations, in.Location) {
		return errs.Invalid("Location", `must be one of "ds1", "am2", "kz", "by"`)
	}
	if in.ProjectID <= 0 {
		return errs.Invalid("ProjectId", "must be a positive project id")
	}
	return nil
}

func (in VOrgInput) draft(cat CloudDirectorCatalog) (draft, error) {
	if err := in.check(); err != nil {
		return draft{}, err
	}
	if !slices.ContainsFunc(cat.VOrgLocations, func(l StringIdName) bool { return l.Id == in.Location }) {
		return draft{}, errs.Invalidf("Location", "location %q is not available", in.Location)
	}
	if err := checkName("VcloudOrgName", in.VcloudOrgName, MaxName); err != nil {
		return draft{}, err
	}
	if err := checkName("AdminUsername", in.AdminUsername, MaxName); err != nil {
		return draft{}, err
	}
	if in.AdminPassword == "" {
		return draft{}, errs.Invalid("AdminPassword", "is required")
	}
	if len(in.AdminPassword) > 1024 {
		return draft{}, errs.Invalid("AdminPassword", "is too long")
	}
	spec := vorgSpec{ProjectId: in.ProjectID, Location: in.Location, VcloudOrgName: in.VcloudOrgName,
		AdminUsername: in.AdminUsername}
	return draft{kind: KindVOrg, name: in.VcloudOrgName, location: in.Location, spec: spec,
		monthly: mustPrice(cat.VOrgPricePerMonth), secret: in.AdminPassword}, nil
}

type vdcSpec struct {
	OrgId            int64  `json:"OrgId"`
	VcloudVdcName    string `json:"VcloudVdcName"`
	Type             string `json:"Type"`
	IsVeeamConnected bool   `json:"IsVeeamConnected"`
}

// check holds what is checked before the VOrg is looked up: the type,
// when given, is Public or Private.
func (in VDCInput) check() error {
	if in.Type != "" && in.Type != VDCPublic && in.Type != VDCPrivate {
		return errs.Invalid("Type", `must be one of "Public", "Private"`)
	}
	return nil
}

// draft checks the VDC's own fields; the VOrg is checked by the service.
func (in VDCInput) draft(cat CloudDirectorCatalog, vorg Order) (draft, error) {
	if err := in.check(); err != nil {
		return draft{}, err
	}
	if err := checkName("VcloudVdcName", in.VcloudVdcName, MaxName); err != nil {
		return draft{}, err
	}
	typ := in.Type
	if typ == "" {
		typ = VDCPublic
	}
	veeam := in.IsVeeamConnected != nil && *in.IsVeeamConnected
	m := mustPrice(cat.VdcPricePerMonth[typ])
	if veeam {
		m = m.Add(mustPrice(cat.VeeamPricePerMonth))
	}
	spec := vdcSpec{OrgId: in.OrgID, VcloudVdcName: in.VcloudVdcName, Type: typ, IsVeeamConnected: veeam}
	return draft{kind: KindVDC, name: in.VcloudVdcName, location: vorg.Location, spec: spec, parentID: vorg.ID,
		monthly: m}, nil
}
