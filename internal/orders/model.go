// Package orders is the reseller channel's service orders (the ITGLOBAL
// Partner API v2): the catalogs (tariffs, locations, prices) and the six
// kinds of order — VMware server, vStack server, Kubernetes cluster, 1C
// configuration, Cloud Director VOrg and VDC. An order is admitted on its
// project (internal/reseller: refused when the project is blocked), pays
// its first day in the same transaction, and is built by a provider step
// job (orders/sim in this build): Creating → Active (or Error, retried).
// ChargeDue then charges every Active order one day at a time; when the
// money runs out the project blocks, its orders go Blocked and are not
// charged until a payment unblocks it.
package orders

import (
	"encoding/json"
	"time"
)

// Order kinds.
const (
	KindVMwareServer = "vmware_server"
	KindVStackServer = "vstack_server"
	KindKubernetes   = "k8s_cluster"
	Kind1C           = "1c"
	KindVOrg         = "vorg"
	KindVDC          = "vdc"
)

// Order states.
const (
	StateCreating = "Creating"
	StateActive   = "Active"
	StateBlocked  = "Blocked" // the project is blocked: suspended, not charged
	StateError    = "Error"   // the provider failed; the step job retries
	StateDeleted  = "Deleted"
)

// Order is one ordered service.
type Order struct {
	ID          int64 // counter "reseller_order"; a VOrg's or VDC's id too
	PartnerID   string
	PartnerPath string
	ProjectID   int64
	Kind        string
	Name        string // server/cluster/VOrg/VDC name; "1C" for 1C orders
	Location    string // IaaS technical name, vStack/K8s location id in decimal, VOrg location; "" for 1C
	// Spec is the order as requested, normalised (defaults applied) and
	// without secrets: a JSON object with the request's PascalCase fields.
	Spec json.RawMessage
	// ParentID is the VOrg of a VDC (0 otherwise).
	ParentID int64
	State    string
	Currency string
	// MonthlyPrice is the exact decimal price per month ("1234.5");
	// DailyPrice is what a day costs in minor units: MonthlyPrice / 30
	// rounded half-up to the currency's minor unit once.
	MonthlyPrice string
	DailyPrice   int64
	// NextChargeAt is when the next day starts (and is charged).
	NextChargeAt time.Time
	// ProjectBlocked mirrors the project's blocked flag for this order, so
	// that an order finishing provisioning while its project is blocked
	// becomes Blocked rather than Active.
	ProjectBlocked bool
	ProviderRef    string // the provider's id once built
	SecretHash     string // argon2id of the VOrg admin password; never shown
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DeletedAt      *time.Time
}

// Live reports whether the order counts as an active service of its
// project (blocks account deletion).
func (o Order) Live() bool { return o.State != StateDeleted }

// ---- inputs ----

// VMwareServerInput is IT-28 (the field names are the seed's).
type VMwareServerInput struct {
	ProjectID        int64
	LocationID       string // technical name
	Name             string
	CPU              int64
	RAM              int64 // MB
	HDD              int64 // GB
	HDDType          string
	NetworkID        *int64
	NetworkBandwidth *int64 // Mbit/s, default 10
	ImageID          int64
	ISPSoftID        *int64
	IsBackupActive   bool
	BackupPeriod     int64 // 7, 14, 21 or 28, required even when backup is off (IT-amb-11)
	SshKeys          []int64
	IsNeedSysprep    bool
}

// VStackServerInput is IT-38.
type VStackServerInput struct {
	ProjectID  int64
	LocationID int64
	Name       string
	Cpu        int64
	RamMb      int64
	TemplateID string
	// Volumes must be present (nil is "missing"); each item an object,
	// stored as sent; Size (GB, > 0) and Type (a priced type) are checked
	// when present.
	Volumes       []json.RawMessage
	BandwidthMbps int64 // > 0 and a multiple of 10
}

// KubernetesInput is IT-44.
type KubernetesInput struct {
	ProjectID          int64
	Name               string
	Version            string
	LocationID         int64
	IsHighAvailability bool
	// NodesGroups must be present (nil is "missing"); objects stored as
	// sent; a group with Count, Cpu and RamMb is priced per node.
	NodesGroups []json.RawMessage
}

// OneCInput is IT-25.
type OneCInput struct {
	ProjectID   int64
	IsRdpAccess bool
	// Configurations and Users must be present (nil is "missing"), may be
	// empty; objects stored as sent. A configuration with a known "Id" is
	// priced at its catalog price, any other at the default.
	Configurations []json.RawMessage
	Users          []json.RawMessage
}

// VOrgInput is IT-48.
type VOrgInput struct {
	ProjectID     int64
	Location      string // ds1, am2, kz, by
	VcloudOrgName string
	AdminUsername string
	AdminPassword string // hashed, never stored or shown in clear
}

// VDCInput is IT-50.
type VDCInput struct {
	OrgID            int64 // the partner's VOrg
	VcloudVdcName    string
	Type             string // Public (default) or Private
	IsVeeamConnected *bool  // default false
}

// Limits of the documented fields.
const (
	MaxVMwareName = 50
	MaxName       = 255
)

// BackupPeriods are the allowed VMware backup depths in days.
var BackupPeriods = []int64{7, 14, 21, 28}
