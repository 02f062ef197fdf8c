package idcloudhost

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
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
		Primary: d.Primary, Replica: mapSlice(d.Replicas, replicaOut), Size: d.SizeGB, Type: "block",
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
		Storage: mapSlice(v.Storage, storageOut), UpdatedAt: fmtTimePtr(v.UpdatedAt, computeTime), UserID: v.UserID,
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

// vmAction serves an operation that takes only the VM's uuid.
func (s *server) vmAction(f func(Compute, context.Context, actor.Actor, string, string) (compute.VM, error)) func(context.Context, *call) (any, error) {
	return func(ctx context.Context, c *call) (any, error) {
		var req vmParam
		if err := c.decode(&req); err != nil {
			return nil, err
		}
		v, err := f(s.d.Compute, ctx, c.a, c.location.Slug, req.UUID)
		if err != nil {
			return nil, err
		}
		return vmOut(v), nil
	}
}

// ID-8.
func (s *server) deleteVM(ctx context.Context, c *call) (any, error) {
	var req vmParam
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := s.d.Compute.Delete(ctx, c.a, c.location.Slug, req.UUID); err != nil {
		return nil, err
	}
	return success, nil
}

// ID-9.
func (s *server) getVM(ctx context.Context, c *call) (any, error) {
	return s.vmAction(Compute.GetVM)(ctx, c)
}

// ID-10.
func (s *server) changeVMPassword(ctx context.Context, c *call) (any, error) {
	var req struct {
		vmParam
		Username string `wire:"username"`
		Password string `wire:"password"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := s.d.Compute.SetPassword(ctx, c.a, c.location.Slug, req.UUID, req.Username, req.Password); err != nil {
		return nil, err
	}
	return success, nil
}

// ID-11.
func (s *server) modifyVM(ctx context.Context, c *call) (any, error) {
	var req struct {
		vmParam
		Name  *string `wire:"name"`
		VCPU  *int64  `wire:"vcpu"`
		RAMMB *int64  `wire:"ram"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	v, err := s.d.Compute.Modify(ctx, c.a, c.location.Slug, compute.ModifyVMInput{
		UUID: req.UUID, Name: req.Name, VCPU: req.VCPU, RAMMB: req.RAMMB})
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// cloudInitParam is cloud_init: a JSON-encoded string, or an object in a
// JSON body, kept as JSON text; null is none.
type cloudInitParam string

// DecodeWire implements decode.Unmarshaler.
func (ci *cloudInitParam) DecodeWire(field string, v decode.Value) error {
	if s, ok := v.Str(); ok {
		*ci = cloudInitParam(s)
		return nil
	}
	switch v.Kind() {
	case "null":
		*ci = ""
	case "object":
		var obj any
		if err := loose.Into(field, v, &obj); err != nil {
			return errs.Invalid(field, "must be a JSON object")
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return errs.Invalid(field, "must be a JSON object")
		}
		*ci = cloudInitParam(b)
	default:
		return errs.Invalid(field, "must be a JSON object")
	}
	return nil
}

// createVMRequest is ID-12's parameters.
type createVMRequest struct {
	accountParam
	Name            string         `wire:"name"`
	Description     string         `wire:"description"`
	OSName          string         `wire:"os_name"`
	OSVersion       string         `wire:"os_version"`
	Password        string         `wire:"password"`
	PublicKey       string         `wire:"public_key"`
	PoolUUID        string         `wire:"designated_pool_uuid"`
	NetworkUUID     string         `wire:"network_uuid"`
	SourceUUID      string         `wire:"source_uuid"`
	SourceReplica   string         `wire:"source_replica"`
	DiskUUID        string         `wire:"disk_uuid"`
	Username        *string        `wire:"username"`
	DiskGB          gbSize         `wire:"disks"`
	VCPU            int64          `wire:"vcpu"`
	RAMMB           int64          `wire:"ram"`
	Backup          bool           `wire:"backup"`
	ReservePublicIP *bool          `wire:"reserve_public_ip"` // default true
	CloudInit       cloudInitParam `wire:"cloud_init"`
}

// ID-12.
func (s *server) createVM(ctx context.Context, c *call) (any, error) {
	var req createVMRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	in := compute.CreateVMInput{Location: c.location.Slug, BillingAccountID: req.BillingAccountID,
		Name: req.Name, Description: req.Description, OSName: req.OSName, OSVersion: req.OSVersion,
		Password: req.Password, PublicKey: req.PublicKey, PoolUUID: req.PoolUUID, NetworkUUID: req.NetworkUUID,
		SourceUUID: req.SourceUUID, SourceReplica: req.SourceReplica, DiskUUID: req.DiskUUID,
		DiskGB: int64(req.DiskGB), VCPU: req.VCPU, RAMMB: req.RAMMB, Backup: req.Backup,
		ReservePublicIP: req.ReservePublicIP == nil || *req.ReservePublicIP, CloudInit: string(req.CloudInit)}
	if req.Username != nil {
		in.Username, in.HasUsername = *req.Username, true
	}
	v, err := s.d.Compute.CreateVM(ctx, c.a, in)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// ID-14.
func (s *server) reinstallVM(ctx context.Context, c *call) (any, error) {
	var req struct {
		vmParam
		OSName    *string `wire:"os_name"`
		OSVersion *string `wire:"os_version"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	v, err := s.d.Compute.Reinstall(ctx, c.a, c.location.Slug, req.UUID, req.OSName, req.OSVersion)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// ID-16.
func (s *server) cloneVM(ctx context.Context, c *call) (any, error) {
	var req struct {
		vmParam
		Name string `wire:"name"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	v, err := s.d.Compute.Clone(ctx, c.a, c.location.Slug, req.UUID, req.Name)
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
	return mapSlice(vms, vmOut), nil
}

// ID-20.
func (s *server) rebuildVM(ctx context.Context, c *call) (any, error) {
	var req struct {
		vmParam
		ReplicaUUID string `wire:"replica_uuid,nonblank"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	v, err := s.d.Compute.Rebuild(ctx, c.a, c.location.Slug, req.UUID, req.ReplicaUUID)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}

// ID-21.
func (s *server) deleteReplica(ctx context.Context, c *call) (any, error) {
	var req struct {
		ReplicaUUID string `wire:"replica_uuid,nonblank"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := s.d.Compute.DeleteReplica(ctx, c.a, c.location.Slug, req.ReplicaUUID); err != nil {
		return nil, err
	}
	return success, nil
}

// ID-22.
func (s *server) listReplicas(ctx context.Context, c *call) (any, error) {
	var req struct {
		vmParam
		Type string `wire:"r_type"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	reps, err := s.d.Compute.ListReplicas(ctx, c.a, c.location.Slug, req.UUID, req.Type)
	if err != nil {
		return nil, err
	}
	return mapSlice(reps, replicaOut), nil
}

// ID-23.
func (s *server) createReplica(ctx context.Context, c *call) (any, error) {
	var req vmParam
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	d, err := s.d.Compute.CreateSnapshot(ctx, c.a, c.location.Slug, req.UUID)
	if err != nil {
		return nil, err
	}
	return storageOut(d), nil
}

// ID-25.
func (s *server) stopVM(ctx context.Context, c *call) (any, error) {
	var req struct {
		vmParam
		Force bool `wire:"force"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	v, err := s.d.Compute.Stop(ctx, c.a, c.location.Slug, req.UUID, req.Force)
	if err != nil {
		return nil, err
	}
	return vmOut(v), nil
}
