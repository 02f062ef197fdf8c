// Package services sells managed database services (the idcloudhost
// "service packages", ID-100 to ID-108): a PostgreSQL or MariaDB server run
// by the provider on virtual machines of its own, reachable at one service
// address, with an SQL user and password and a source-address whitelist.
//
// # What exists
//
// The services and versions on offer are data (Config.Offerings, default
// DefaultOfferings): postgresql (12.0 to 16.0, port 5432, single- or
// multi-node) and mariadb (10.5 to 11.4, port 3306, single-node only: the
// seed says availability "depends on the service type", and its only
// multi-node sample is PostgreSQL). A service is sold only if it is offered
// and the price list has multipliers for it (pricing.DefaultServices has
// both); the package object's "prices" are those multipliers.
//
// # Resources
//
// A single-node package has one VM resource; a multi-node package has a
// "virtual_ip" resource and two VM resources (primary and standby), as in
// the seed's sample. Package VMs are rows of this package, never in the
// user's VM list. Every package gets one public address, reserved from the
// location's floating-IP pool through the network service
// (assigned_to_resource_type "service"); it is properties.service_ip, the
// virtual_ip resource's address on a multi-node package, and it is
// released when the package is deleted.
//
// # State machine
//
//	creating ──provider CreatePackage──▶ active ──DELETE──▶ deleting ──provider DeletePackage──▶ deleted
//	    │  ▲                                                    ▲
//	    ▼  │ (the job retries)                                  │
//	  error ─────────────────────DELETE─────────────────────────┘
//
// Every step runs as a River job enqueued in the request's transaction
// ("services.package_step"); when the provider has no delay the request
// runs the step itself right after its commit and answers with the result.
// A failed CreatePackage leaves the package in "error" (its VMs "error",
// nothing billed) and the job retries; a later success makes it active. A
// failed DeletePackage leaves it "deleting" (is_deleted true, billing
// already stopped) until a retry succeeds; its address is released only
// then. Clients see "active" and "deleted" as in the seed when the
// provider answers at once.
//
// # Billing
//
// From the moment the package becomes active, each VM is billed as a VM
// (pricing.MeterVM, running, with Config.Service set so the service's
// multipliers apply) and the virtual IP of a multi-node package as a
// floating IP (pricing.MeterFloatingIP with Config.Service; the default
// multiplier is 0). A single-node package's address is its VM's own and
// is not billed separately. Billing stops when the delete is requested and
// moves with the package to another billing account (ID-103).
//
// # Secrets
//
// The SQL password is 24 random characters (crypto/rand), generated at
// creation and shown only by the secrets endpoint (ID-104). It is stored
// sealed with AES-256-GCM when Config.SecretKey is set (bound to the
// package uuid), never written to the audit log or any log line.
//
// # Whitelist
//
// Entries are IPv4 or IPv6 addresses or CIDR prefixes (net/netip), kept in
// the order they were added in their canonical form. A prefix with host
// bits set is refused (the field names the masked prefix). Adding an entry
// already present and deleting one that is absent are no-ops; both answer
// the whole list. An empty whitelist allows every source address.
package services

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// Package statuses.
const (
	StatusCreating = "creating"
	StatusActive   = "active"
	StatusError    = "error"
	StatusDeleting = "deleting"
	StatusDeleted  = "deleted"
)

// Resource types and VM resource statuses.
const (
	ResourceVM        = "vm"
	ResourceVirtualIP = "virtual_ip"

	VMCreating = "creating"
	VMRunning  = "running"
	VMError    = "error"
	VMDeleted  = "deleted"
)

// Offering is one managed service on sale.
type Offering struct {
	Service  string   // "postgresql"
	Versions []string // "14.0", …
	Port     int      // the SQL port (properties.port)
	SQLUser  string   // the administrative SQL user (properties.sql_user)
	// MultiNode tells whether is_multi_node may be true.
	MultiNode bool
}

// DefaultOfferings are the two services of the seed, with the versions the
// samples show (postgresql 14.0, mariadb 10.5) and their maintained
// neighbours. The SQL user is the seed's "wadmin".
func DefaultOfferings() []Offering {
	return []Offering{
		{Service: "postgresql", Versions: []string{"12.0", "13.0", "14.0", "15.0", "16.0"}, Port: 5432,
			SQLUser: "wadmin", MultiNode: true},
		{Service: "mariadb", Versions: []string{"10.5", "10.6", "10.11", "11.4"}, Port: 3306, SQLUser: "wadmin"},
	}
}

// Limits bound the size of a package's VMs. The defaults are the VM
// parameter rules of GET /api/parameters/vm (vcpu 1–16, ram up to 65536
// MB, disk 20–240 GB), with at least 1024 MB of RAM for a database server.
type Limits struct {
	MinCPU, MaxCPU     int64
	MinRAMMB, MaxRAMMB int64
	MinDiskGB, MaxDisk int64
}

// DefaultLimits are the limits when Config.Limits is zero.
func DefaultLimits() Limits {
	return Limits{MinCPU: 1, MaxCPU: 16, MinRAMMB: 1024, MaxRAMMB: 65536, MinDiskGB: 20, MaxDisk: 240}
}

// MultiNodeVMs is how many VMs a multi-node package runs.
const MultiNodeVMs = 2

// MaxParameters bounds package_parameters (bytes of JSON).
const MaxParameters = 4096

// MaxWhitelist bounds a package's whitelist.
const MaxWhitelist = 100

// Package is a managed service package.
type Package struct {
	UUID             string
	OrgID            string
	OrgPath          string // the org's path: tenant scope
	UserID           int64
	BillingAccountID int64
	Location         string // slug
	Service          string
	Version          string
	DisplayName      string
	VMCPU            int64
	VMRAMMB          int64
	VMDiskGB         int64
	IsMultiNode      bool
	Parameters       string // package_parameters: a JSON object
	Status           string
	SQLUser          string
	Port             int
	ServiceIP        string // the reserved address; "" until reserved
	SealedPass       string // the SQL password as stored (see seal)
	CreatedAt        time.Time
	UpdatedAt        time.Time
	DeletedAt        *time.Time // set when the delete was requested

	Resources []Resource // by position

	// Prices are the service's multipliers (filled on read).
	Prices []pricing.Multiplier
}

// IsDeleted reports whether the delete was requested.
func (p Package) IsDeleted() bool { return p.DeletedAt != nil }

// VMs returns the package's VM resources.
func (p Package) VMs() []Resource {
	var out []Resource
	for _, r := range p.Resources {
		if r.Type == ResourceVM {
			out = append(out, r)
		}
	}
	return out
}

// Resource is one VM or virtual IP of a package.
type Resource struct {
	ID          string // resource_id (a uuid)
	PackageUUID string
	Type        string // ResourceVM or ResourceVirtualIP
	Position    int    // 0, 1, 2 …: the order of resources[]
	Location    string
	VCPU        int64  // vm
	MemoryMB    int64  // vm
	DiskUUID    string // vm: its primary disk
	DiskGB      int64  // vm
	Address     string // virtual_ip
	Status      string // vm: creating, running, error, deleted; virtual_ip: active, deleted
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Secrets is what ID-104 returns.
type Secrets struct {
	SQLPass string
}

// CreateInput is a new package (ID-100).
type CreateInput struct {
	// UUID is the package's uuid; "" makes one (the demo and tests name
	// theirs).
	UUID             string
	BillingAccountID int64  // 0: the restricted token's account (required otherwise)
	Location         string // slug (the URL's, or the default location)
	Service          string
	Version          string
	DisplayName      string
	VMCPU            int64
	VMRAMMB          int64
	VMDiskGB         int64
	// Parameters is package_parameters: a JSON object, or a string
	// holding one (the seed sends "{\"location\":\"dc1\"}", ID-amb-27);
	// empty means {}. Stored and handed to the provider as they are.
	Parameters  json.RawMessage
	IsMultiNode bool
}

// Validate checks the input against the offerings and limits and
// normalises it. Field names are the wire names.
func (in *CreateInput) Validate(offers []Offering, lim Limits) (Offering, error) {
	if in.UUID != "" && !ids.Valid(in.UUID) {
		return Offering{}, errs.Invalid("uuid", "must be a UUID")
	}
	if in.Location == "" {
		return Offering{}, errs.Invalid("location", "is required")
	}
	in.Service = strings.ToLower(strings.TrimSpace(in.Service))
	if in.Service == "" {
		return Offering{}, errs.Invalid("service", "is required")
	}
	i := slices.IndexFunc(offers, func(o Offering) bool { return o.Service == in.Service })
	if i < 0 {
		names := make([]string, len(offers))
		for i, o := range offers {
			names[i] = o.Service
		}
		return Offering{}, errs.Invalidf("service", "must be one of %s", strings.Join(names, ", "))
	}
	off := offers[i]
	in.Version = strings.TrimSpace(in.Version)
	if in.Version == "" {
		return off, errs.Invalid("version", "is required")
	}
	if !slices.Contains(off.Versions, in.Version) {
		return off, errs.Invalidf("version", "%s is offered in versions %s", off.Service, strings.Join(off.Versions, ", "))
	}
	var err error
	if in.DisplayName, err = validate.Name("display_name", in.DisplayName); err != nil {
		return off, err
	}
	for _, c := range []struct {
		field    string
		v        int64
		min, max int64
		unit     string
	}{
		{"vm_cpu", in.VMCPU, lim.MinCPU, lim.MaxCPU, ""},
		{"vm_ram", in.VMRAMMB, lim.MinRAMMB, lim.MaxRAMMB, " MB"},
		{"vm_disk_gb", in.VMDiskGB, lim.MinDiskGB, lim.MaxDisk, " GB"},
	} {
		if c.v < c.min || c.v > c.max {
			return off, errs.Invalidf(c.field, "must be between %d and %d%s", c.min, c.max, c.unit)
		}
	}
	if in.IsMultiNode && !off.MultiNode {
		return off, errs.Invalidf("is_multi_node", "%s is offered as a single node only", off.Service)
	}
	params, err := NormalizeParameters(in.Parameters)
	if err != nil {
		return off, err
	}
	in.Parameters = params
	return off, nil
}

// NormalizeParameters turns package_parameters into a compact JSON object:
// an object as it is, a string holding an object decoded (ID-amb-27), null
// or nothing as {}.
func NormalizeParameters(raw json.RawMessage) (json.RawMessage, error) {
	bad := errs.Invalid("package_parameters", "must be a JSON object or a string holding one")
	if len(strings.TrimSpace(string(raw))) == 0 || strings.TrimSpace(string(raw)) == "null" {
		return json.RawMessage("{}"), nil
	}
	if len(raw) > MaxParameters*2 {
		return nil, errs.Invalidf("package_parameters", "must be at most %d bytes", MaxParameters)
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if strings.TrimSpace(s) == "" {
			return json.RawMessage("{}"), nil
		}
		raw = json.RawMessage(s)
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, bad
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, bad
	}
	if len(out) > MaxParameters {
		return nil, errs.Invalidf("package_parameters", "must be at most %d bytes", MaxParameters)
	}
	return out, nil
}

// UpdateInput changes a package's metadata (ID-103). Nil fields stay.
type UpdateInput struct {
	BillingAccountID *int64
	DisplayName      *string
}

// Validate checks and normalises the input.
func (in *UpdateInput) Validate() error {
	if in.DisplayName != nil {
		n, err := validate.Name("display_name", *in.DisplayName)
		if err != nil {
			return err
		}
		in.DisplayName = &n
	}
	if in.BillingAccountID != nil && *in.BillingAccountID < 0 {
		return errs.Invalid("billing_account_id", "must be a whole number")
	}
	return nil
}

// WhitelistEntry checks one whitelist entry (ID-amb-29): an IP address or
// a CIDR prefix without host bits, and returns its canonical form.
func WhitelistEntry(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errs.Invalid("ip_address", "is required")
	}
	if !utf8.ValidString(s) || len(s) > 64 {
		return "", errs.Invalid("ip_address", "must be an IP address or a CIDR prefix")
	}
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil || p.Addr().Zone() != "" {
			return "", errs.Invalid("ip_address", "must be an IP address or a CIDR prefix (e.g. 10.0.0.0/24)")
		}
		if m := p.Masked(); m != p {
			return "", errs.Invalidf("ip_address", "has host bits set; the prefix is %s", m)
		}
		return p.String(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", errs.Invalid("ip_address", "must be an IP address or a CIDR prefix (e.g. 10.0.0.0/24)")
	}
	return a.String(), nil
}

// vmName is the name of a package VM's usage lines ("postgresql 14.0,
// 2 CPUs, 4 GB RAM, 40 GB disk").
func vmName(p Package) string { return fmt.Sprintf("%s %s", p.Service, p.Version) }
