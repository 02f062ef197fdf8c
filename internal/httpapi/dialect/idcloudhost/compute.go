package idcloudhost

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/wire"
)

// Compute is what the dialect needs of the compute service (VMs, their
// storage and replicas, block disks), implemented by compute.Service.
type Compute interface {
	GetVM(ctx context.Context, a actor.Actor, location, uuid string) (compute.VM, error)
	ListVMs(ctx context.Context, a actor.Actor, location string) ([]compute.VM, error)
	CreateVM(ctx context.Context, a actor.Actor, in compute.CreateVMInput) (compute.VM, error)
	Modify(ctx context.Context, a actor.Actor, location string, in compute.ModifyVMInput) (compute.VM, error)
	SetPassword(ctx context.Context, a actor.Actor, location, uuid, username, password string) error
	Start(ctx context.Context, a actor.Actor, location, uuid string) (compute.VM, error)
	Stop(ctx context.Context, a actor.Actor, location, uuid string, force bool) (compute.VM, error)
	RescueStart(ctx context.Context, a actor.Actor, location, uuid string) (compute.VM, error)
	Reinstall(ctx context.Context, a actor.Actor, location, uuid string, osName, osVersion *string) (compute.VM, error)
	Rebuild(ctx context.Context, a actor.Actor, location, uuid, replicaUUID string) (compute.VM, error)
	Delete(ctx context.Context, a actor.Actor, location, uuid string) error
	Clone(ctx context.Context, a actor.Actor, location, uuid, name string) (compute.VM, error)
	ToggleBackup(ctx context.Context, a actor.Actor, location, uuid string) (compute.VM, error)
	ReservePublicIP(ctx context.Context, a actor.Actor, location, uuid string) (compute.VM, error)
	ReleasePublicIP(ctx context.Context, a actor.Actor, location, uuid string) (compute.VM, error)
	SetBillingAccount(ctx context.Context, a actor.Actor, location, uuid string, accountID int64) (compute.VM, error)
	BillingResources(ctx context.Context, a actor.Actor, location string, accountID int64) ([]compute.VM, error)

	ListReplicas(ctx context.Context, a actor.Actor, location, uuid, rType string) ([]compute.Replica, error)
	CreateSnapshot(ctx context.Context, a actor.Actor, location, uuid string) (compute.Disk, error)
	DeleteReplica(ctx context.Context, a actor.Actor, location, replicaUUID string) error

	AddDisk(ctx context.Context, a actor.Actor, location, vmUUID string, sizeGB int64) (compute.Disk, error)
	ResizeVMDisk(ctx context.Context, a actor.Actor, location, vmUUID, diskUUID string, sizeGB int64) (compute.Disk, error)
	DeleteVMDisk(ctx context.Context, a actor.Actor, location, vmUUID, diskUUID string) error
	Attach(ctx context.Context, a actor.Actor, location, vmUUID, diskUUID string) (compute.Disk, error)
	Detach(ctx context.Context, a actor.Actor, location, vmUUID, diskUUID string) error

	CreateDisk(ctx context.Context, a actor.Actor, in compute.CreateDiskInput) (compute.Disk, error)
	GetDisk(ctx context.Context, a actor.Actor, location, uuid string) (compute.Disk, error)
	ListDisks(ctx context.Context, a actor.Actor, location string) ([]compute.Disk, error)
	SetDiskBillingAccount(ctx context.Context, a actor.Actor, location, uuid string, accountID int64) (compute.Disk, error)
	DeleteDisk(ctx context.Context, a actor.Actor, location, uuid string) error
}

var _ Compute = (*compute.Service)(nil)

// ---- wire shapes ----

const (
	computeTime = "2006-01-02 15:04:05"
	storageTime = "2006-01-02 15:04:05.000000"
	isoTime     = "2006-01-02T15:04:05.000-0700"
)

func fmtTime(t time.Time, layout string) string { return t.UTC().Format(layout) }

func fmtTimePtr(t *time.Time, layout string) *string {
	if t == nil {
		return nil
	}
	s := fmtTime(*t, layout)
	return &s
}

type replicaJSON struct {
	CreatedAt  string  `json:"created_at"`
	ID         int64   `json:"id"`
	MasterID   int64   `json:"master_id"`
	MasterUUID string  `json:"master_uuid"`
	Pool       string  `json:"pool"`
	Size       int64   `json:"size"`
	Type       string  `json:"type"`
	UpdatedAt  *string `json:"updated_at"`
	UUID       string  `json:"uuid"`
}

func replicaOut(r compute.Replica) replicaJSON {
	return replicaJSON{CreatedAt: fmtTime(r.CreatedAt, storageTime), ID: r.ID, MasterID: r.DiskID, MasterUUID: r.DiskUUID,
		Size: r.SizeGB, Type: r.Type, UpdatedAt: fmtTimePtr(r.UpdatedAt, storageTime), UUID: r.UUID}
}

type storageJSON struct {
	CreatedAt  string        `json:"created_at"`
	ID         int64         `json:"id"`
	Name       string        `json:"name"`
	Pool       string        `json:"pool"`
	Primary    bool          `json:"primary"`
	PublicIPv4 *string       `json:"public_ipv4"`
	Replica    []replicaJSON `json:"replica"`
	Shared     bool          `json:"shared"`
	Size       int64         `json:"size"`
	Type       string        `json:"type"`
	UpdatedAt  *string       `json:"updated_at"`
	UserID     int64         `json:"user_id"`
	UUID       string        `json:"uuid"`
}

func storageOut(d compute.Disk) storageJSON {
	return storageJSON{CreatedAt: fmtTime(d.CreatedAt, storageTime), ID: d.ID, Name: d.Name, Pool: d.Pool,
		Primary: d.Primary, Replica: wire.Map(d.Replicas, replicaOut), Size: d.SizeGB, Type: "block",
		UpdatedAt: fmtTimePtr(d.UpdatedAt, storageTime), UserID: d.UserID, UUID: d.UUID}
}

type vmJSON struct {
	Backup             bool          `json:"backup"`
	BillingAccount     int64         `json:"billing_account"`
	CreatedAt          string        `json:"created_at"`
	Description        string        `json:"description"`
	DesignatedPoolName string        `json:"designated_pool_name"`
	DesignatedPoolUUID string        `json:"designated_pool_uuid"`
	Hostname           string        `json:"hostname"`
	HypervisorID       *string       `json:"hypervisor_id"`
	ID                 int64         `json:"id"`
	LicenseType        string        `json:"license_type"`
	MAC                string        `json:"mac"`
	Memory             int64         `json:"memory"`
	Name               string        `json:"name"`
	OSName             string        `json:"os_name"`
	OSVersion          string        `json:"os_version"`
	PrivateIPv4        string        `json:"private_ipv4"`
	PublicIPv4         *string       `json:"public_ipv4"`
	PublicIPv6         string        `json:"public_ipv6"`
	Status             string        `json:"status"`
	Storage            []storageJSON `json:"storage"`
	Tags               []string      `json:"tags"`
	UpdatedAt          *string       `json:"updated_at"`
	UserID             int64         `json:"user_id"`
	Username           string        `json:"username"`
	UUID               string        `json:"uuid"`
	VCPU               int64         `json:"vcpu"`
}

func vmOut(v compute.VM) vmJSON {
	out := vmJSON{Backup: v.Backup, BillingAccount: v.BillingAccountID, CreatedAt: fmtTime(v.CreatedAt, computeTime),
		Description: v.Description, DesignatedPoolName: v.PoolName, DesignatedPoolUUID: v.PoolUUID, Hostname: v.Hostname,
		ID: v.ID, LicenseType: v.LicenseType, MAC: v.MAC, Memory: v.RAMMB, Name: v.Name, OSName: v.OSName,
		OSVersion: v.OSVersion, PrivateIPv4: v.PrivateIPv4, PublicIPv6: v.PublicIPv6, Status: v.Status,
		Storage: wire.Map(v.Storage, storageOut), UpdatedAt: fmtTimePtr(v.UpdatedAt, computeTime), UserID: v.UserID,
		Username: v.Username, UUID: v.UUID, VCPU: v.VCPU}
	if v.PublicIPv4 != "" {
		ip := v.PublicIPv4
		out.PublicIPv4 = &ip
	}
	return out
}

type diskSnapshotJSON struct {
	UUID      string `json:"uuid"`
	SizeGb    int64  `json:"sizeGb"`
	CreatedAt string `json:"created_at"`
	DiskUUID  string `json:"disk_uuid"`
}

type diskJSON struct {
	UUID             string             `json:"uuid"`
	Status           string             `json:"status"`
	Snapshots        []diskSnapshotJSON `json:"snapshots"`
	UserID           int64              `json:"user_id"`
	BillingAccountID int64              `json:"billing_account_id"`
	SizeGB           int64              `json:"size_gb"`
	SourceImageType  string             `json:"source_image_type"`
	SourceImage      string             `json:"source_image,omitempty"`
	CreatedAt        string             `json:"created_at"`
	UpdatedAt        string             `json:"updated_at"`
}

var diskStatus = map[string]string{compute.DiskCreating: "Creating", compute.DiskActive: "Active",
	compute.DiskError: "Error", compute.DiskDeleted: "Deleted"}

func diskOut(d compute.Disk) diskJSON {
	updated := d.CreatedAt
	if d.UpdatedAt != nil {
		updated = *d.UpdatedAt
	}
	out := diskJSON{UUID: d.UUID, Status: diskStatus[d.Status], Snapshots: []diskSnapshotJSON{}, UserID: d.UserID,
		BillingAccountID: d.BillingAccountID, SizeGB: d.SizeGB, SourceImageType: d.SourceImageType,
		SourceImage: d.SourceImage, CreatedAt: fmtTime(d.CreatedAt, isoTime), UpdatedAt: fmtTime(updated, isoTime)}
	for _, r := range d.Replicas {
		if r.Type == compute.ReplicaSnapshot {
			out.Snapshots = append(out.Snapshots, diskSnapshotJSON{UUID: r.UUID, SizeGb: r.SizeGB,
				CreatedAt: fmtTime(r.CreatedAt, isoTime), DiskUUID: d.UUID})
		}
	}
	return out
}

var success = successJSON{Success: true}

// ---- operations ID-8 … ID-36, ID-74, ID-75 ----

func (s *server) computeOps() []op {
	vm := "/user-resource/vm"
	return []op{
		{method: http.MethodDelete, path: vm, located: true, h: s.deleteVM},
		{method: http.MethodGet, path: vm, located: true, h: s.getVM},
		{method: http.MethodPatch, path: vm + "/user", located: true, h: s.changeVMPassword},
		{method: http.MethodPatch, path: vm, located: true, h: s.modifyVM},
		{method: http.MethodPost, path: vm, located: true, h: s.createVM},
		{method: http.MethodPost, path: vm + "/reinstall", located: true, h: s.reinstallVM},
		{method: http.MethodPost, path: vm + "/backup", located: true, h: s.vmAction(Compute.ToggleBackup)},
		{method: http.MethodPost, path: vm + "/clone", located: true, h: s.cloneVM},
		{method: http.MethodDelete, path: vm + "/ip/public", located: true, h: s.vmAction(Compute.ReleasePublicIP)},
		{method: http.MethodPost, path: vm + "/ip/public", located: true, h: s.vmAction(Compute.ReservePublicIP)},
		{method: http.MethodGet, path: vm + "/list", located: true, h: s.listVMs},
		{method: http.MethodPost, path: vm + "/rebuild", located: true, h: s.rebuildVM},
		{method: http.MethodDelete, path: vm + "/replica", located: true, h: s.deleteReplica},
		{method: http.MethodGet, path: vm + "/replica", located: true, h: s.listReplicas},
		{method: http.MethodPost, path: vm + "/replica", located: true, h: s.createReplica},
		{method: http.MethodPost, path: vm + "/start", located: true, h: s.vmAction(Compute.Start)},
		{method: http.MethodPost, path: vm + "/stop", located: true, h: s.stopVM},
		{method: http.MethodPost, path: vm + "/rescue_start", located: true, h: s.vmAction(Compute.RescueStart)},
		{method: http.MethodPost, path: vm + "/storage", located: true, h: s.addVMDisk},
		{method: http.MethodPatch, path: vm + "/storage", located: true, h: s.modifyVMDisk},
		{method: http.MethodDelete, path: vm + "/storage", located: true, h: s.deleteVMDisk},
		{method: http.MethodPost, path: vm + "/storage/attach", located: true, h: s.attachDisk},
		{method: http.MethodPost, path: vm + "/storage/detach", located: true, h: s.detachDisk},
		{method: http.MethodPost, path: "/storage/disks", located: true, h: s.createDisk},
		{method: http.MethodGet, path: "/storage/disks/{disk_uuid}", located: true, pathParams: []string{"disk_uuid"}, h: s.getDisk},
		{method: http.MethodGet, path: "/storage/disks", located: true, h: s.listDisks},
		{method: http.MethodPatch, path: "/storage/disks/{disk_uuid}", located: true, pathParams: []string{"disk_uuid"}, h: s.updateDisk},
		{method: http.MethodDelete, path: "/storage/disks/{disk_uuid}", located: true, pathParams: []string{"disk_uuid"}, h: s.deleteDisk},
		{method: http.MethodGet, path: "/user-resource/billing_resources", located: true, h: s.listBillingResources},
		{method: http.MethodPost, path: "/user-resource/resource_billing", located: true, h: s.setResourceBilling},
	}
}

// str returns a string parameter ("" when absent).
func (p params) strOr(name string) (string, error) {
	v, _, err := p.str(name)
	return v, err
}

// required returns a string parameter that must be present and not blank.
func (p params) required(name string) (string, error) {
	v, ok, err := p.str(name)
	if err != nil {
		return "", err
	}
	if !ok || strings.TrimSpace(v) == "" {
		return "", errs.Invalid(name, "is required")
	}
	return strings.TrimSpace(v), nil
}

// vmUUID reads the VM's uuid parameter.
func vmUUID(p params) (string, error) { return p.required("uuid") }

// vmAction serves an operation that takes only the VM's uuid.
func (s *server) vmAction(f func(Compute, context.Context, actor.Actor, string, string) (compute.VM, error)) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, c *call) (any, error) {
		uuid, err := vmUUID(c.p)
		if err != nil {
			return nil, err
		}
		v, err := f(s.d.Compute, ctx, c.a, c.location.Slug, uuid)
		if err != nil {
			return nil, err
		}
		return vmOut(v), nil
	}
}

// ID-8.
func (s *server) deleteVM(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	if err := s.d.Compute.Delete(ctx, c.a, c.location.Slug, uuid); err != nil {
		return nil, err
	}
	return success, nil
}

// ID-9.
func (s *server) getVM(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	v, err := s.d.Compute.GetVM(ctx, c.a, c.location.Slug, uuid)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// ID-10.
func (s *server) changeVMPassword(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	username, err := c.p.strOr("username")
	if err != nil {
		return nil, err
	}
	pw, err := c.p.strOr("password")
	if err != nil {
		return nil, err
	}
	if err := s.d.Compute.SetPassword(ctx, c.a, c.location.Slug, uuid, username, pw); err != nil {
		return nil, err
	}
	return success, nil
}

// ID-11.
func (s *server) modifyVM(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	in := compute.ModifyVMInput{UUID: uuid}
	if in.Name, err = c.p.optStr("name"); err != nil {
		return nil, err
	}
	if in.VCPU, err = c.p.optWhole("vcpu"); err != nil {
		return nil, err
	}
	if in.RAMMB, err = c.p.optWhole("ram"); err != nil {
		return nil, err
	}
	v, err := s.d.Compute.Modify(ctx, c.a, c.location.Slug, in)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// sizeParam reads a size that may come as a whole number or its text
// (disks, block-storage size_gb); "" is 0 (absent).
func sizeParam(p params, name string) (int64, error) {
	if s, ok, err := p.str(name); err == nil && ok && strings.TrimSpace(s) == "" {
		return 0, nil
	}
	n, _, err := p.whole(name)
	if err != nil {
		return 0, errs.Invalid(name, "must be a whole number of GB")
	}
	return n, nil
}

// cloudInit reads cloud_init: a JSON-encoded string, or an object in a
// JSON body.
func cloudInit(p params) (string, error) {
	v, ok := p.vals["cloud_init"]
	if !ok || v == nil {
		return "", nil
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case map[string]any:
		b, err := json.Marshal(v)
		if err != nil {
			return "", errs.Invalid("cloud_init", "must be a JSON object")
		}
		return string(b), nil
	}
	return "", errs.Invalid("cloud_init", "must be a JSON object")
}

// ID-12.
func (s *server) createVM(ctx context.Context, c *call) (any, error) {
	in := compute.CreateVMInput{Location: c.location.Slug, ReservePublicIP: true}
	var err error
	if in.BillingAccountID, err = accountID(c.p); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"name", &in.Name}, {"description", &in.Description}, {"os_name", &in.OSName}, {"os_version", &in.OSVersion},
		{"password", &in.Password}, {"public_key", &in.PublicKey}, {"designated_pool_uuid", &in.PoolUUID},
		{"network_uuid", &in.NetworkUUID}, {"source_uuid", &in.SourceUUID}, {"source_replica", &in.SourceReplica},
		{"disk_uuid", &in.DiskUUID}} {
		if *f.v, err = c.p.strOr(f.name); err != nil {
			return nil, err
		}
	}
	if in.Username, in.HasUsername, err = c.p.str("username"); err != nil {
		return nil, err
	}
	if in.DiskGB, err = sizeParam(c.p, "disks"); err != nil {
		return nil, err
	}
	if in.VCPU, _, err = c.p.whole("vcpu"); err != nil {
		return nil, err
	}
	if in.RAMMB, _, err = c.p.whole("ram"); err != nil {
		return nil, err
	}
	if in.Backup, _, err = c.p.boolean("backup"); err != nil {
		return nil, err
	}
	if b, ok, err := c.p.boolean("reserve_public_ip"); err != nil {
		return nil, err
	} else if ok {
		in.ReservePublicIP = b
	}
	if in.CloudInit, err = cloudInit(c.p); err != nil {
		return nil, err
	}
	v, err := s.d.Compute.CreateVM(ctx, c.a, in)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// ID-14.
func (s *server) reinstallVM(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	osName, err := c.p.optStr("os_name")
	if err != nil {
		return nil, err
	}
	osVersion, err := c.p.optStr("os_version")
	if err != nil {
		return nil, err
	}
	v, err := s.d.Compute.Reinstall(ctx, c.a, c.location.Slug, uuid, osName, osVersion)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// ID-16.
func (s *server) cloneVM(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	name, err := c.p.strOr("name")
	if err != nil {
		return nil, err
	}
	v, err := s.d.Compute.Clone(ctx, c.a, c.location.Slug, uuid, name)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// ID-19.
func (s *server) listVMs(ctx context.Context, c *call) (any, error) {
	vms, err := s.d.Compute.ListVMs(ctx, c.a, c.location.Slug)
	if err != nil {
		return nil, err
	}
	return wire.Map(vms, vmOut), nil
}

// ID-20.
func (s *server) rebuildVM(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	rep, err := c.p.required("replica_uuid")
	if err != nil {
		return nil, err
	}
	v, err := s.d.Compute.Rebuild(ctx, c.a, c.location.Slug, uuid, rep)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// ID-21.
func (s *server) deleteReplica(ctx context.Context, c *call) (any, error) {
	rep, err := c.p.required("replica_uuid")
	if err != nil {
		return nil, err
	}
	if err := s.d.Compute.DeleteReplica(ctx, c.a, c.location.Slug, rep); err != nil {
		return nil, err
	}
	return success, nil
}

// ID-22.
func (s *server) listReplicas(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	rType, err := c.p.strOr("r_type")
	if err != nil {
		return nil, err
	}
	reps, err := s.d.Compute.ListReplicas(ctx, c.a, c.location.Slug, uuid, rType)
	if err != nil {
		return nil, err
	}
	return wire.Map(reps, replicaOut), nil
}

// ID-23.
func (s *server) createReplica(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	d, err := s.d.Compute.CreateSnapshot(ctx, c.a, c.location.Slug, uuid)
	if err != nil {
		return nil, err
	}
	return storageOut(d), nil
}

// ID-25.
func (s *server) stopVM(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	force, _, err := c.p.boolean("force")
	if err != nil {
		return nil, err
	}
	v, err := s.d.Compute.Stop(ctx, c.a, c.location.Slug, uuid, force)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// ID-27.
func (s *server) addVMDisk(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	size, err := c.p.requiredWhole("size_gb")
	if err != nil {
		return nil, err
	}
	d, err := s.d.Compute.AddDisk(ctx, c.a, c.location.Slug, uuid, size)
	if err != nil {
		return nil, err
	}
	return storageOut(d), nil
}

// ID-28.
func (s *server) modifyVMDisk(ctx context.Context, c *call) (any, error) {
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	disk, err := c.p.required("disk_uuid")
	if err != nil {
		return nil, err
	}
	size, err := c.p.requiredWhole("size_gb")
	if err != nil {
		return nil, err
	}
	d, err := s.d.Compute.ResizeVMDisk(ctx, c.a, c.location.Slug, uuid, disk, size)
	if err != nil {
		return nil, err
	}
	return storageOut(d), nil
}

// storageOp reads uuid and storage_uuid.
func storageOp(p params) (vm, disk string, err error) {
	if vm, err = vmUUID(p); err != nil {
		return "", "", err
	}
	disk, err = p.required("storage_uuid")
	return vm, disk, err
}

// ID-29.
func (s *server) deleteVMDisk(ctx context.Context, c *call) (any, error) {
	vm, disk, err := storageOp(c.p)
	if err != nil {
		return nil, err
	}
	if err := s.d.Compute.DeleteVMDisk(ctx, c.a, c.location.Slug, vm, disk); err != nil {
		return nil, err
	}
	return success, nil
}

// ID-35.
func (s *server) attachDisk(ctx context.Context, c *call) (any, error) {
	vm, disk, err := storageOp(c.p)
	if err != nil {
		return nil, err
	}
	d, err := s.d.Compute.Attach(ctx, c.a, c.location.Slug, vm, disk)
	if err != nil {
		return nil, err
	}
	return storageOut(d), nil
}

// ID-36.
func (s *server) detachDisk(ctx context.Context, c *call) (any, error) {
	vm, disk, err := storageOp(c.p)
	if err != nil {
		return nil, err
	}
	if err := s.d.Compute.Detach(ctx, c.a, c.location.Slug, vm, disk); err != nil {
		return nil, err
	}
	return success, nil
}

// ID-30.
func (s *server) createDisk(ctx context.Context, c *call) (any, error) {
	in := compute.CreateDiskInput{Location: c.location.Slug}
	var err error
	if in.BillingAccountID, err = accountID(c.p); err != nil {
		return nil, err
	}
	if in.SizeGB, err = sizeParam(c.p, "size_gb"); err != nil {
		return nil, err
	}
	if in.SourceImageType, err = c.p.strOr("source_image_type"); err != nil {
		return nil, err
	}
	if in.SourceImage, err = c.p.strOr("source_image"); err != nil {
		return nil, err
	}
	d, err := s.d.Compute.CreateDisk(ctx, c.a, in)
	if err != nil {
		return nil, err
	}
	return diskOut(d), nil
}

// ID-31.
func (s *server) getDisk(ctx context.Context, c *call) (any, error) {
	uuid, _ := c.p.strOr("disk_uuid")
	d, err := s.d.Compute.GetDisk(ctx, c.a, c.location.Slug, uuid)
	if err != nil {
		return nil, err
	}
	return diskOut(d), nil
}

// ID-32.
func (s *server) listDisks(ctx context.Context, c *call) (any, error) {
	ds, err := s.d.Compute.ListDisks(ctx, c.a, c.location.Slug)
	if err != nil {
		return nil, err
	}
	return wire.Map(ds, diskOut), nil
}

// ID-33.
func (s *server) updateDisk(ctx context.Context, c *call) (any, error) {
	uuid, _ := c.p.strOr("disk_uuid")
	id, err := c.p.requiredWhole("billing_account_id")
	if err != nil {
		return nil, err
	}
	d, err := s.d.Compute.SetDiskBillingAccount(ctx, c.a, c.location.Slug, uuid, id)
	if err != nil {
		return nil, err
	}
	return diskOut(d), nil
}

// ID-34.
func (s *server) deleteDisk(ctx context.Context, c *call) (any, error) {
	uuid, _ := c.p.strOr("disk_uuid")
	if err := s.d.Compute.DeleteDisk(ctx, c.a, c.location.Slug, uuid); err != nil {
		return nil, err
	}
	return noContent{}, nil
}

// resourceType reads resource_type: "vm", the default, is the only type
// documented.
func resourceType(p params) error {
	t, ok, err := p.str("resource_type")
	if err != nil {
		return err
	}
	if ok && t != "vm" {
		return errs.Invalid("resource_type", `must be "vm"`)
	}
	return nil
}

// ID-74: the VMs billed to an account in the location.
func (s *server) listBillingResources(ctx context.Context, c *call) (any, error) {
	id, _, err := c.p.whole("id")
	if err != nil {
		return nil, err
	}
	if id == 0 {
		// Clients that name the account as every other route does
		// (billing_account_id) get that account, not the default one.
		if id, _, err = c.p.whole("billing_account_id"); err != nil {
			return nil, err
		}
	}
	if err := resourceType(c.p); err != nil {
		return nil, err
	}
	if s.d.Compute == nil {
		// No compute service wired (tests of the other families): the
		// account check only, and no resources.
		if _, err := s.d.Billing.ResolveAccount(ctx, c.a, id); err != nil {
			return nil, renameField(err, "billing_account_id", "id")
		}
		return []vmJSON{}, nil
	}
	vms, err := s.d.Compute.BillingResources(ctx, c.a, c.location.Slug, id)
	if err != nil {
		return nil, renameField(err, "billing_account_id", "id")
	}
	return wire.Map(vms, vmOut), nil
}

// ID-75: moves a VM (with its disks and their replicas) to another of the
// user's accounts.
func (s *server) setResourceBilling(ctx context.Context, c *call) (any, error) {
	id, err := accountID(c.p)
	if err != nil {
		return nil, err
	}
	if err := resourceType(c.p); err != nil {
		return nil, err
	}
	uuid, err := vmUUID(c.p)
	if err != nil {
		return nil, err
	}
	if s.d.Compute == nil {
		if _, err := s.d.Billing.ResolveAccount(ctx, c.a, id); err != nil {
			return nil, err
		}
		return nil, errs.New(errs.KindNotFound, "No such virtual machine exists. "+uuid)
	}
	v, err := s.d.Compute.SetBillingAccount(ctx, c.a, c.location.Slug, uuid, id)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// renameField gives an error's field this operation's parameter name.
func renameField(err error, from, to string) error {
	var e *errs.Error
	if errs.FieldOf(err) != from || !asErr(err, &e) {
		return err
	}
	c := *e
	c.Field = to
	return &c
}
