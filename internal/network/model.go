package network

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Network is a private network (a VLAN with an IPv4 /24 and an IPv6 /64)
// of one user in one location.
type Network struct {
	UUID        string
	OrgID       string // the user's customer org (an idcloudhost user is its org's one customer)
	OrgPath     string
	UserID      int64
	Location    string
	Name        string
	VLANID      int64
	SubnetIndex int64  // the /24's index inside Config.PrivateRange (unique per user)
	Subnet      string // IPv4 CIDR, e.g. 10.0.3.0/24
	SubnetIPv6  string // IPv6 /64 CIDR
	IsDefault   bool
	State       string // StatePending, StateActive, StateError (provider)
	CreatedAt   time.Time
	UpdatedAt   time.Time

	// Read side: the attached VMs and the number of load balancers.
	VMUUIDs []string
	LBCount int
}

// ResourcesCount is what the network holds: VMs and load balancers. A
// network with any cannot be deleted.
func (n Network) ResourcesCount() int { return len(n.VMUUIDs) + n.LBCount }

// Provider states of networks and load balancers.
const (
	StatePending = "pending" // written, the provider step not yet done
	StateActive  = "active"  // the provider applied the latest version
	StateError   = "error"   // the last provider attempt failed; the job retries
)

// Kinds of what a floating IP is assigned to (assigned_to_resource_type).
const (
	AssignedVM           = "virtual_machine"
	AssignedService      = "service"
	AssignedLoadBalancer = "load_balancer"
)

// FloatingIP is a reserved public IPv4 address from a location's pool.
type FloatingIP struct {
	ID               int64 // counter "floating_ip"
	UUID             string
	Address          string
	Location         string
	OrgID            string
	OrgPath          string
	UserID           int64
	BillingAccountID int64
	Name             string
	Enabled          bool
	IsVirtual        bool
	// AssignedTo is the VM, service or load balancer uuid ("" when
	// unassigned); AssignedType its kind; AssignedPrivateIP the private
	// address traffic goes to ("" when none).
	AssignedTo        string
	AssignedType      string
	AssignedPrivateIP string
	UnassignedAt      *time.Time
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Assigned reports whether the address is assigned to something.
func (f FloatingIP) Assigned() bool { return f.AssignedTo != "" }

// Billed reports whether the address is billed as an unassigned floating
// IP (MeterFloatingIP): reserved and not assigned.
func (f FloatingIP) Billed() bool { return !f.Assigned() }

// VMInterface is a VM's attachment to a private network: its private
// address, MAC and IPv6 address. Network keeps these itself, so load
// balancer targets and floating IP assignments never read compute's tables.
type VMInterface struct {
	VMUUID      string
	NetworkUUID string
	OrgID       string
	UserID      int64
	Location    string
	PrivateIPv4 string
	MAC         string
	IPv6        string
	CreatedAt   time.Time
}

// LoadBalancer is a network load balancer: a private address in one of the
// user's networks, forwarding rules and VM targets.
type LoadBalancer struct {
	UUID             string
	OrgID            string
	OrgPath          string
	UserID           int64
	BillingAccountID int64
	Location         string
	NetworkUUID      string
	DisplayName      string
	PrivateAddress   string
	State            string // StatePending, StateActive, StateError
	// Version counts configuration changes; AppliedVersion is the last one
	// the provider applied (the apply step is a no-op when they are equal).
	Version        int64
	AppliedVersion int64
	CreatedAt      time.Time
	UpdatedAt      time.Time

	Rules   []Rule
	Targets []Target
}

// Rule is a load balancer's forwarding rule.
type Rule struct {
	UUID               string
	LBUUID             string
	Protocol           string // "TCP"
	SourcePort         int64
	TargetPort         int64
	ConnectionLimit    int64
	SessionPersistence string // "SOURCE_IP"
	CreatedAt          time.Time
}

// Target is a load balancer's backend VM.
type Target struct {
	LBUUID     string
	TargetUUID string
	TargetType string // "vm"
	IPAddress  string // the VM's private address (resolved from its interface)
	CreatedAt  time.Time
}

// Rule defaults (the seed's created rules all show these).
const (
	DefaultProtocol           = "TCP"
	DefaultConnectionLimit    = 10000
	DefaultSessionPersistence = "SOURCE_IP"
	TargetTypeVM              = "vm"
)

// PoolRange is one operator-configured CIDR of a location's public
// floating-IP pool.
type PoolRange struct {
	ID        string
	Location  string
	CIDR      string
	Excluded  []string // addresses of the CIDR never handed out (gateways …)
	Size      int      // addresses of the range in the pool
	Used      int      // of which reserved
	MinNum    int64    // the lowest and highest address of the range as numbers
	MaxNum    int64
	CreatedAt time.Time
}

// ---- inputs ----

// MaxNameLen bounds network, floating IP and load balancer names.
const MaxNameLen = 255

// checkName checks an optional name: at most MaxNameLen characters of
// UTF-8 text without control characters; it returns the trimmed name.
func checkName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", errs.Invalid(field, "must be valid UTF-8")
	}
	if utf8.RuneCountInString(s) > MaxNameLen {
		return "", errs.Invalidf(field, "must be at most %d characters", MaxNameLen)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", errs.Invalid(field, "must not contain control characters")
		}
	}
	return s, nil
}

// CreateFloatingIP reserves a public address (ID-53).
type CreateFloatingIP struct {
	Location         string
	BillingAccountID int64 // 0: required with a global token, the token's account with a restricted one
	Name             string
}

// Validate checks the input.
func (in *CreateFloatingIP) Validate() error {
	var err error
	in.Name, err = checkName("name", in.Name)
	return err
}

// UpdateFloatingIP changes a floating IP (ID-56); nil fields stay.
type UpdateFloatingIP struct {
	BillingAccountID *int64
	Name             *string
}

// Validate checks the input.
func (in *UpdateFloatingIP) Validate() error {
	if in.Name != nil {
		n, err := checkName("name", *in.Name)
		if err != nil {
			return err
		}
		in.Name = &n
	}
	if in.BillingAccountID != nil && *in.BillingAccountID <= 0 {
		return errs.Invalid("billing_account_id", "must be a billing account id")
	}
	return nil
}

// FloatingIPFilter selects floating IPs (ID-54).
type FloatingIPFilter struct {
	BillingAccountID int64  // 0 = any
	VMUUID           string // "" = any
}

// RuleInput is a forwarding rule to add.
type RuleInput struct {
	SourcePort int64
	TargetPort int64
}

// Validate checks the ports.
func (r RuleInput) Validate() error {
	if r.SourcePort < 1 || r.SourcePort > 65535 {
		return errs.Invalid("source_port", "must be a port number between 1 and 65535")
	}
	if r.TargetPort < 1 || r.TargetPort > 65535 {
		return errs.Invalid("target_port", "must be a port number between 1 and 65535")
	}
	return nil
}

// TargetInput is a target to add.
type TargetInput struct {
	TargetUUID string
	TargetType string // "vm" ("" = vm)
}

// Validate checks the target.
func (t *TargetInput) Validate() error {
	if t.TargetType == "" {
		t.TargetType = TargetTypeVM
	}
	if t.TargetType != TargetTypeVM {
		return errs.Invalid("target_type", `must be "vm"`)
	}
	if !validUUID(t.TargetUUID) {
		return errs.Invalid("target_uuid", "must be a UUID")
	}
	return nil
}

// CreateLB creates a load balancer (ID-62).
type CreateLB struct {
	Location         string
	DisplayName      string
	BillingAccountID int64  // as CreateFloatingIP
	NetworkUUID      string // "" = the user's default network in the location
	ReservePublicIP  bool
	Rules            []RuleInput
	Targets          []TargetInput
}

// MaxRules and MaxTargets bound a load balancer's configuration.
const (
	MaxRules   = 100
	MaxTargets = 100
)

// Validate checks the input.
func (in *CreateLB) Validate() error {
	var err error
	if in.DisplayName, err = checkName("display_name", in.DisplayName); err != nil {
		return err
	}
	if in.NetworkUUID != "" && !validUUID(in.NetworkUUID) {
		return errs.Invalid("network_uuid", "must be a UUID")
	}
	if len(in.Rules) > MaxRules {
		return errs.Invalidf("rules", "must have at most %d rules", MaxRules)
	}
	if len(in.Targets) > MaxTargets {
		return errs.Invalidf("targets", "must have at most %d targets", MaxTargets)
	}
	ports := map[int64]bool{}
	for _, r := range in.Rules {
		if err := r.Validate(); err != nil {
			return &errs.Error{Kind: errs.KindInvalid, Field: "rules", Msg: err.(*errs.Error).Public()}
		}
		if ports[r.SourcePort] {
			return errs.Invalidf("rules", "source_port %d appears twice", r.SourcePort)
		}
		ports[r.SourcePort] = true
	}
	seen := map[string]bool{}
	for i := range in.Targets {
		if err := in.Targets[i].Validate(); err != nil {
			return &errs.Error{Kind: errs.KindInvalid, Field: "targets", Msg: err.(*errs.Error).Public()}
		}
		in.Targets[i].TargetUUID = strings.ToLower(in.Targets[i].TargetUUID)
		if seen[in.Targets[i].TargetUUID] {
			return errs.Invalidf("targets", "target %s appears twice", in.Targets[i].TargetUUID)
		}
		seen[in.Targets[i].TargetUUID] = true
	}
	return nil
}

// ---- contract inputs (compute and services) ----

// AttachVM attaches a VM to a private network (compute's VM create).
type AttachVM struct {
	OrgID       string
	UserID      int64
	Location    string
	NetworkUUID string // "" = the user's default network in the location (created if none)
	VMUUID      string
}

// VMAddress is what a VM gets from AttachVMTx.
type VMAddress struct {
	NetworkUUID string
	PrivateIPv4 string
	MAC         string
	PublicIPv6  string
}

// ReserveForVM reserves a public address from the location's pool and
// assigns it to a VM (VM create with reserve_public_ip, deprecated VM-level
// reserve).
type ReserveForVM struct {
	OrgID            string
	UserID           int64
	BillingAccountID int64
	Location         string
	VMUUID           string
}

// ReserveForService reserves a managed service's virtual IP.
type ReserveForService struct {
	OrgID            string
	UserID           int64
	BillingAccountID int64
	Location         string
	ServiceUUID      string
	// PrivateIP is the service's private address shown as
	// assigned_to_private_ip ("" = none).
	PrivateIP string
}

// ---- pools (operators) ----

// AddPoolRange adds a CIDR to a location's floating-IP pool.
type AddPoolRange struct {
	Location string
	CIDR     string
	// Exclude lists addresses of the CIDR that are never handed out (a
	// gateway, a router).
	Exclude []string
}

// MinPoolPrefix bounds a range's size: at most a /16 (65,536 addresses).
const MinPoolPrefix = 16

func validUUID(s string) bool {
	_, ok := normUUID(s)
	return ok
}
