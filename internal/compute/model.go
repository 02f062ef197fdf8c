// Package compute provisions virtual machines, their storage (disks, which
// are also the idcloudhost block-storage disks) and storage replicas
// (snapshots and backups), through a Provider (the built-in one is
// compute/sim).
//
// # State machines
//
// A VM's status is one of:
//
//	creating ──create──▶ running ◀──start/stop──▶ stopped
//	                       │  ▲                       │
//	                       ▼  │ rescue_start,         ├─ reinstall, rebuild, resize (stopped only)
//	                     (running, rescue)            │
//	any ──delete──▶ deleting ──▶ deleted
//	any step that fails ──▶ error ──(the job retries the step)──▶ the step's result
//
// Every change of status goes through a step: the request's transaction
// writes the VM in its transitional status with the step pending (VM.Op,
// VM.OpSeq) and enqueues a StepArgs job in the same transaction; with a
// provider delay of zero the service then runs the step itself right after
// the commit (the same code the worker runs) and answers the result, so
// clients never poll. A step is idempotent: a job whose step is no longer
// pending (OpSeq moved on) does nothing. A failed provider call leaves the
// VM in status "error" with the step still pending and the cause in
// OpError; the job's error makes River retry it with backoff, and the first
// success completes it. A VM is billed only while running or stopped (never
// while creating, in error, deleting or deleted). Only delete may replace a
// pending step; any other operation on a VM with a pending step is a 409.
//
// Rescue (rescue_start) boots a running or stopped VM with the rescue image
// for the current launch only: the next stop clears the flag.
//
// Disks follow the same pattern with statuses creating → active, error,
// deleted and the steps create, resize, attach, detach, snapshot,
// delete_replica and delete. A disk in error keeps being billed if it was
// active before (the data exists); a disk that never became active is not
// billed. Replicas are created (status creating, not listed, not billed) by
// a snapshot step of their disk and become active when it succeeds.
package compute

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/validate"
)

// VM statuses.
const (
	StatusCreating = "creating"
	StatusRunning  = "running"
	StatusStopped  = "stopped"
	StatusError    = "error"
	StatusDeleting = "deleting"
	StatusDeleted  = "deleted"
)

// VM steps (VM.Op).
const (
	OpCreate    = "create"
	OpStart     = "start"
	OpStop      = "stop"
	OpRescue    = "rescue"
	OpReinstall = "reinstall"
	OpRebuild   = "rebuild"
	OpResize    = "resize"
	OpDelete    = "delete"
)

// Disk statuses. The block-storage API shows "Active" for DiskActive.
const (
	DiskCreating = "creating"
	DiskActive   = "active"
	DiskError    = "error"
	DiskDeleted  = "deleted"
)

// Disk steps (Disk.Op).
const (
	DiskOpCreate        = "create"
	DiskOpResize        = "resize"
	DiskOpAttach        = "attach"
	DiskOpDetach        = "detach"
	DiskOpSnapshot      = "snapshot"
	DiskOpDeleteReplica = "delete_replica"
	DiskOpDelete        = "delete"
)

// Replica types and statuses.
const (
	ReplicaSnapshot = "snapshot"
	ReplicaBackup   = "backup"

	ReplicaCreating = "creating"
	ReplicaActive   = "active"
	ReplicaDeleted  = "deleted"
)

// Source image types of a disk (block-storage create).
const (
	SourceEmpty    = "EMPTY"
	SourceOSBase   = "OS_BASE"
	SourceDisk     = "DISK"
	SourceSnapshot = "SNAPSHOT"
)

// Counter names of the integer ids (billing's counters table).
const (
	CounterVM      = "vm"
	CounterDisk    = "vm_storage"
	CounterReplica = "replica"
)

// Bounds.
const (
	MaxDiskGB       = 65536 // one disk
	MaxDisksPerVM   = 16    // vda … vdp
	MaxCloudInit    = 64 << 10
	MaxPublicKey    = 16 << 10
	MaxDescription  = 255
	BackupsKept     = 7              // backups kept per disk by the daily backup sweep
	BackupInterval  = 24 * time.Hour // how often a VM with backup on is backed up
	WindowsOS       = "windows"
	LicenseWindows  = "WINDOWS"
	DefaultDiskPool = "default"
)

// VM is a virtual machine.
type VM struct {
	UUID             string
	ID               int64
	OrgID            string
	OrgPath          string
	UserID           int64
	BillingAccountID int64
	Location         string
	Name             string
	Hostname         string
	Description      string
	OSName           string
	OSVersion        string
	Username         string
	PasswordHash     string // SHA-512-crypt ($6$…), what the provider sets (cloud-init and chpasswd -e take it); never the password
	VCPU             int64
	RAMMB            int64
	PoolUUID         string
	PoolName         string
	NetworkUUID      string
	MAC              string
	PrivateIPv4      string
	PublicIPv6       string
	Status           string
	Op               string // the pending step, "" for none
	OpArgs           string // the step's arguments (JSON)
	OpSeq            int64  // bumped by every new step; a job names the step it runs
	OpError          string // why the last attempt of the pending step failed
	Backup           bool
	Rescue           bool // booted with the rescue image (current launch only)
	LicenseType      string
	CloudInit        string
	PublicKey        string
	CreatedAt        time.Time
	UpdatedAt        *time.Time
	DeletedAt        *time.Time

	// Storage is filled by the service: the attached disks, primary first.
	Storage []Disk
	// PublicIPv4 is filled by the service from network ("" = none).
	PublicIPv4 string
}

// Billed reports whether the VM is billed in its status.
func (v VM) Billed() bool { return v.Status == StatusRunning || v.Status == StatusStopped }

// Primary returns the VM's primary disk (from Storage).
func (v VM) Primary() (Disk, bool) {
	for _, d := range v.Storage {
		if d.Primary {
			return d, true
		}
	}
	return Disk{}, false
}

// Disk is a block-storage disk, attached to a VM (a VM storage row, device
// Name vda, vdb …) or not.
type Disk struct {
	UUID             string
	ID               int64
	OrgID            string
	OrgPath          string
	UserID           int64
	BillingAccountID int64
	Location         string
	VMUUID           string // "" = not attached
	Name             string // device name while attached
	Primary          bool
	SizeGB           int64
	Pool             string
	SourceImageType  string
	SourceImage      string
	Status           string
	Op               string
	OpArgs           string
	OpSeq            int64
	OpError          string
	WasActive        bool // became active once (billed from then on until deleted)
	CreatedAt        time.Time
	UpdatedAt        *time.Time
	DeletedAt        *time.Time

	// Replicas is filled by the service: the active replicas, oldest first.
	Replicas []Replica
}

// DeviceID is the OS disk identifier of an attached disk (ID-35):
// virtio- and the first 20 characters of the disk uuid.
func (d Disk) DeviceID() string {
	u := d.UUID
	if len(u) > 20 {
		u = u[:20]
	}
	return "/dev/disk/by-id/virtio-" + u
}

// Replica is a snapshot or a backup of a disk.
type Replica struct {
	UUID             string // the disk uuid followed by YYYY-MM-DD-HH-MM-SS (ID-amb-25)
	ID               int64
	DiskUUID         string
	DiskID           int64
	OrgID            string
	OrgPath          string
	UserID           int64
	BillingAccountID int64
	Location         string
	Type             string
	SizeGB           int64
	Status           string
	BillingName      string // the name on usage lines (the VM's name, or the disk's)
	CreatedAt        time.Time
	UpdatedAt        *time.Time
	DeletedAt        *time.Time
}

// ReplicaUUID is the uuid of a replica of diskUUID taken at t.
func ReplicaUUID(diskUUID string, t time.Time) string {
	return diskUUID + t.UTC().Format("2006-01-02-15-04-05")
}

var replicaUUIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$`)

// ValidReplicaUUID reports whether s has the replica uuid form.
func ValidReplicaUUID(s string) bool { return replicaUUIDRE.MatchString(strings.ToLower(s)) }

// DeviceName returns the n-th device name: vda, vdb, … vdz.
func DeviceName(n int) string { return "vd" + string(rune('a'+n)) }

// Hostname derives a host name from a VM name: lower case, letters, digits
// and hyphens, at most 63 characters, "vm" when nothing is left.
func Hostname(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 63 {
			break
		}
	}
	h := strings.Trim(b.String(), "-")
	if len(h) > 63 {
		h = strings.Trim(h[:63], "-")
	}
	if h == "" {
		return "vm"
	}
	return h
}

// ---- inputs ----

// CreateVMInput is ID-12 (and, with SourceUUID+SourceReplica or DiskUUID,
// create-from-replica and boot-from-disk).
type CreateVMInput struct {
	Location         string
	BillingAccountID int64
	Name             string
	Description      string
	OSName           string
	OSVersion        string
	Username         string
	HasUsername      bool
	Password         string
	PublicKey        string
	DiskGB           int64 // the "disks" parameter: boot disk size
	VCPU             int64
	RAMMB            int64
	PoolUUID         string // "" = the location's default pool
	NetworkUUID      string // "" = the user's default network
	ReservePublicIP  bool
	Backup           bool
	CloudInit        string // JSON, runcmd and write_files only
	SourceUUID       string // with SourceReplica: copy of a replica of that VM
	SourceReplica    string
	DiskUUID         string // boot from this unattached disk

	// NewUUID and NewDiskUUID give the VM and its new primary disk these
	// uuids instead of new ones (the demo and tests load the seed's
	// objects); the API never sets them.
	NewUUID, NewDiskUUID string
}

// FromSource reports whether the VM is made from a replica or a disk (then
// os_* and disks are not required, ID-amb-9).
func (in *CreateVMInput) FromSource() bool { return in.SourceReplica != "" || in.DiskUUID != "" }

// Validate checks what does not need the catalog: uuids, the source
// combination, description, cloud_init and public_key. The VM parameter
// rules (name, os, vcpu, ram, disks, username, password) are the
// catalog's (catalog.VMRules.CheckCreate).
func (in *CreateVMInput) Validate() error {
	var err error
	for _, f := range []struct {
		name string
		v    *string
	}{{"designated_pool_uuid", &in.PoolUUID}, {"network_uuid", &in.NetworkUUID}, {"source_uuid", &in.SourceUUID}, {"disk_uuid", &in.DiskUUID}} {
		*f.v = strings.TrimSpace(*f.v)
		if *f.v == "" {
			continue
		}
		u, ok := ids.Normalize(*f.v)
		if !ok {
			return errs.Invalid(f.name, "must be a UUID")
		}
		*f.v = u
	}
	in.SourceReplica = strings.ToLower(strings.TrimSpace(in.SourceReplica))
	switch {
	case in.SourceReplica != "" && in.SourceUUID == "":
		return errs.Invalid("source_uuid", "is required with source_replica")
	case in.SourceUUID != "" && in.SourceReplica == "":
		return errs.Invalid("source_replica", "is required with source_uuid")
	case in.SourceReplica != "" && !ValidReplicaUUID(in.SourceReplica):
		return errs.Invalid("source_replica", "must be a replica uuid (the storage uuid followed by YYYY-MM-DD-HH-MM-SS)")
	case in.SourceReplica != "" && in.DiskUUID != "":
		return errs.Invalid("disk_uuid", "cannot be combined with source_replica")
	}
	if in.Description, err = validate.Text("description", strings.TrimSpace(in.Description), MaxDescription); err != nil {
		return err
	}
	if in.CloudInit, err = CheckCloudInit(in.CloudInit); err != nil {
		return err
	}
	if in.PublicKey, err = CheckPublicKey(in.PublicKey); err != nil {
		return err
	}
	return nil
}

// CheckCloudInit checks a cloud_init parameter: a JSON object with only
// runcmd (a list of commands, each a string or a list of strings) and
// write_files (a list of objects with a path and optional content,
// encoding, permissions, owner, append, defer). It returns the compact
// JSON ("" for none).
func CheckCloudInit(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > MaxCloudInit {
		return "", errs.Invalidf("cloud_init", "must be at most %d bytes", MaxCloudInit)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &doc); err != nil || doc == nil {
		return "", errs.Invalid("cloud_init", "must be a JSON object")
	}
	for k, raw := range doc {
		switch k {
		case "runcmd":
			var cmds []any
			if err := json.Unmarshal(raw, &cmds); err != nil {
				return "", errs.Invalid("cloud_init", "runcmd must be a list of commands")
			}
			for _, c := range cmds {
				switch c := c.(type) {
				case string:
				case []any:
					for _, w := range c {
						if _, ok := w.(string); !ok {
							return "", errs.Invalid("cloud_init", "a runcmd command must be a string or a list of strings")
						}
					}
				default:
					return "", errs.Invalid("cloud_init", "a runcmd command must be a string or a list of strings")
				}
			}
		case "write_files":
			var files []map[string]any
			if err := json.Unmarshal(raw, &files); err != nil {
				return "", errs.Invalid("cloud_init", "write_files must be a list of objects")
			}
			for i, f := range files {
				if p, ok := f["path"].(string); !ok || p == "" {
					return "", errs.Invalidf("cloud_init", "write_files[%d].path is required", i)
				}
				for fk, fv := range f {
					switch fk {
					case "path", "content", "encoding", "permissions", "owner":
						if _, ok := fv.(string); !ok {
							return "", errs.Invalidf("cloud_init", "write_files[%d].%s must be a string", i, fk)
						}
					case "append", "defer":
						if _, ok := fv.(bool); !ok {
							return "", errs.Invalidf("cloud_init", "write_files[%d].%s must be true or false", i, fk)
						}
					default:
						return "", errs.Invalidf("cloud_init", "write_files[%d].%s is not supported", i, fk)
					}
				}
				if e, ok := f["encoding"].(string); ok {
					switch e {
					case "b64", "base64", "gzip", "gz", "gz+base64", "gzip+base64", "gz+b64", "gzip+b64", "text/plain":
					default:
						return "", errs.Invalidf("cloud_init", "write_files[%d].encoding %q is not supported", i, e)
					}
				}
			}
		default:
			return "", errs.Invalidf("cloud_init", "%q is not supported (only runcmd and write_files are)", k)
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return "", errs.Invalid("cloud_init", "must be a JSON object")
	}
	return string(out), nil
}

var publicKeyRE = regexp.MustCompile(`^(ssh-rsa|ssh-ed25519|ssh-dss|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$`)

// CheckPublicKey checks an OpenSSH public key line ("" for none).
func CheckPublicKey(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > MaxPublicKey || !utf8.ValidString(s) || !publicKeyRE.MatchString(s) {
		return "", errs.Invalid("public_key", "must be an OpenSSH public key (ssh-ed25519 AAAA… comment)")
	}
	return s, nil
}

// CheckFreeName checks a rename or a clone name: free text of 1 to 255
// characters (ID-amb-10: the create regexp does not apply).
func CheckFreeName(s string) (string, error) { return validate.Name("name", s) }

// ModifyVMInput is ID-11: nil fields are unchanged.
type ModifyVMInput struct {
	UUID  string
	Name  *string
	VCPU  *int64
	RAMMB *int64
}

// CreateDiskInput is ID-30 (block storage) and ID-27 (add to a VM).
type CreateDiskInput struct {
	Location         string
	BillingAccountID int64
	SizeGB           int64 // 0 = from the source
	SourceImageType  string
	SourceImage      string
	// NewUUID gives the disk this uuid instead of a new one (demo, tests).
	NewUUID string
}

// Validate checks the input's shape.
func (in *CreateDiskInput) Validate() error {
	in.SourceImageType = strings.ToUpper(strings.TrimSpace(in.SourceImageType))
	in.SourceImage = strings.TrimSpace(in.SourceImage)
	if in.SourceImageType == "" {
		in.SourceImageType = SourceEmpty
	}
	switch in.SourceImageType {
	case SourceEmpty:
		if in.SourceImage != "" {
			return errs.Invalid("source_image", "must be empty when source_image_type is EMPTY")
		}
		if in.SizeGB == 0 {
			return errs.Invalid("size_gb", "is required for an empty disk")
		}
	case SourceOSBase:
		if in.SourceImage == "" {
			return errs.Invalid("source_image", "is required when source_image_type is OS_BASE (e.g. ubuntu_20.04)")
		}
	case SourceDisk:
		u, ok := ids.Normalize(in.SourceImage)
		if !ok {
			return errs.Invalid("source_image", "must be a disk UUID when source_image_type is DISK")
		}
		in.SourceImage = u
	case SourceSnapshot:
		in.SourceImage = strings.ToLower(in.SourceImage)
		if !ValidReplicaUUID(in.SourceImage) {
			return errs.Invalid("source_image", "must be a snapshot uuid when source_image_type is SNAPSHOT")
		}
	default:
		return errs.Invalid("source_image_type", "must be one of OS_BASE, DISK, SNAPSHOT or EMPTY")
	}
	return CheckSize("size_gb", in.SizeGB, true)
}

// CheckSize checks a disk size in GB (0 allowed when optional).
func CheckSize(field string, n int64, optional bool) error {
	if n == 0 && optional {
		return nil
	}
	if n < 1 || n > MaxDiskGB {
		return errs.Invalidf(field, "must be between 1 and %d", MaxDiskGB)
	}
	return nil
}

// OSImage splits an OS_BASE source image ("ubuntu_20.04") into os name and
// version.
func OSImage(s string) (osName, osVersion string, ok bool) {
	n, v, ok := strings.Cut(s, "_")
	if !ok || n == "" || v == "" {
		return "", "", false
	}
	return n, v, true
}

// VMFilter selects VMs.
type VMFilter struct {
	Scope            string
	Location         string // "" = any
	BillingAccountID int64  // 0 = any
	After            int64  // id cursor (VMs with a larger id), 0 = from the start
	Limit            int    // 0 = no limit
}

// DiskFilter selects disks.
type DiskFilter struct {
	Scope            string
	Location         string // "" = any
	BillingAccountID int64  // 0 = any
	VMUUIDs          []string
}

// stepArgs is what a VM or disk step carries in OpArgs.
type stepArgs struct {
	OSName    string `json:"os_name,omitempty"`
	OSVersion string `json:"os_version,omitempty"`
	Replica   string `json:"replica,omitempty"`
	SizeGB    int64  `json:"size_gb,omitempty"`
	VCPU      int64  `json:"vcpu,omitempty"`
	RAMMB     int64  `json:"ram_mb,omitempty"`
	VMUUID    string `json:"vm_uuid,omitempty"`
	Device    string `json:"device,omitempty"`
	Force     bool   `json:"force,omitempty"`
	Rescue    bool   `json:"rescue,omitempty"`
	// create
	SourceType  string `json:"source_type,omitempty"`
	SourceImage string `json:"source_image,omitempty"`
	// Then is the status a VM step leaves (create: running).
	Then string `json:"then,omitempty"`
}

func (a stepArgs) encode() string {
	b, _ := json.Marshal(a)
	return string(b)
}

func decodeArgs(s string) (stepArgs, error) {
	var a stepArgs
	if s == "" {
		return a, nil
	}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		return a, fmt.Errorf("step arguments %q: %w", s, err)
	}
	return a, nil
}

// StepArgs is the job of one pending step of a VM ("vm") or a disk
// ("disk"): it runs the step if it is still pending (Seq).
type StepArgs struct {
	Resource string `json:"resource"`
	UUID     string `json:"uuid"`
	Seq      int64  `json:"seq"`
}

// Kind implements jobs.Args.
func (StepArgs) Kind() string { return "compute.step" }

// Resources of StepArgs.
const (
	ResourceVM   = "vm"
	ResourceDisk = "disk"
)
