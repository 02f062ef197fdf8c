package idcloudhost

import (
	"context"

	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/httpapi/decode"
)

// ---- a VM's storage (ID-27..29, ID-35, ID-36) ----

// ID-27.
func (s *server) addVMDisk(ctx context.Context, c *call) (any, error) {
	var req struct {
		vmParam
		SizeGB int64 `wire:"size_gb,required"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	d, err := s.d.Compute.AddDisk(ctx, c.a, c.location.Slug, req.UUID, req.SizeGB)
	if err != nil {
		return nil, err
	}
	return storageOut(d), nil
}

// ID-28.
func (s *server) modifyVMDisk(ctx context.Context, c *call) (any, error) {
	var req struct {
		vmParam
		DiskUUID string `wire:"disk_uuid,nonblank"`
		SizeGB   int64  `wire:"size_gb,required"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	d, err := s.d.Compute.ResizeVMDisk(ctx, c.a, c.location.Slug, req.UUID, req.DiskUUID, req.SizeGB)
	if err != nil {
		return nil, err
	}
	return storageOut(d), nil
}

// storageRequest names a VM and one of its disks.
type storageRequest struct {
	vmParam
	StorageUUID string `wire:"storage_uuid,nonblank"`
}

// ID-29.
func (s *server) deleteVMDisk(ctx context.Context, c *call) (any, error) {
	var req storageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := s.d.Compute.DeleteVMDisk(ctx, c.a, c.location.Slug, req.UUID, req.StorageUUID); err != nil {
		return nil, err
	}
	return success, nil
}

// ID-35.
func (s *server) attachDisk(ctx context.Context, c *call) (any, error) {
	var req storageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	d, err := s.d.Compute.Attach(ctx, c.a, c.location.Slug, req.UUID, req.StorageUUID)
	if err != nil {
		return nil, err
	}
	return storageOut(d), nil
}

// ID-36.
func (s *server) detachDisk(ctx context.Context, c *call) (any, error) {
	var req storageRequest
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if err := s.d.Compute.Detach(ctx, c.a, c.location.Slug, req.UUID, req.StorageUUID); err != nil {
		return nil, err
	}
	return success, nil
}

// ---- block disks (ID-30..34) ----

// ID-30.
func (s *server) createDisk(ctx context.Context, c *call) (any, error) {
	var req struct {
		accountParam
		SizeGB          gbSize `wire:"size_gb"`
		SourceImageType string `wire:"source_image_type"`
		SourceImage     string `wire:"source_image"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	d, err := s.d.Compute.CreateDisk(ctx, c.a, compute.CreateDiskInput{Location: c.location.Slug,
		BillingAccountID: req.BillingAccountID, SizeGB: int64(req.SizeGB),
		SourceImageType: req.SourceImageType, SourceImage: req.SourceImage})
	if err != nil {
		return nil, err
	}
	return diskOut(d), nil
}

// ID-31.
func (s *server) getDisk(ctx context.Context, c *call) (any, error) {
	d, err := s.d.Compute.GetDisk(ctx, c.a, c.location.Slug, c.path("disk_uuid"))
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
	return mapSlice(ds, diskOut), nil
}

// ID-33.
func (s *server) updateDisk(ctx context.Context, c *call) (any, error) {
	var req struct {
		BillingAccountID int64 `wire:"billing_account_id,required"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	d, err := s.d.Compute.SetDiskBillingAccount(ctx, c.a, c.location.Slug, c.path("disk_uuid"), req.BillingAccountID)
	if err != nil {
		return nil, err
	}
	return diskOut(d), nil
}

// ID-34.
func (s *server) deleteDisk(ctx context.Context, c *call) (any, error) {
	if err := s.d.Compute.DeleteDisk(ctx, c.a, c.location.Slug, c.path("disk_uuid")); err != nil {
		return nil, err
	}
	return noContent{}, nil
}

// ---- the resources of a billing account (ID-74, ID-75) ----

// resourceType is resource_type: "vm", the default, is the only type
// documented.
type resourceType string

// DecodeWire implements decode.Unmarshaler.
func (t *resourceType) DecodeWire(field string, v decode.Value) error {
	var s string
	if err := loose.Into(field, v, &s); err != nil {
		return err
	}
	if s != "vm" {
		return errs.Invalid(field, `must be "vm"`)
	}
	*t = resourceType(s)
	return nil
}

// ID-74: the VMs billed to an account in the location; the account is id,
// or billing_account_id for clients that name it as every other route
// does (not the default account then).
func (s *server) listBillingResources(ctx context.Context, c *call) (any, error) {
	var req struct {
		ID int64 `wire:"id"`
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	id := req.ID
	if id == 0 {
		var acc accountParam
		if err := c.decode(&acc); err != nil {
			return nil, err
		}
		id = acc.BillingAccountID
	}
	var rt struct {
		Type resourceType `wire:"resource_type"`
	}
	if err := c.decode(&rt); err != nil {
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
	return mapSlice(vms, vmOut), nil
}

// ID-75: moves a VM (with its disks and their replicas) to another of the
// user's accounts.
func (s *server) setResourceBilling(ctx context.Context, c *call) (any, error) {
	var req struct {
		accountParam
		Type resourceType `wire:"resource_type"`
		vmParam
	}
	if err := c.decode(&req); err != nil {
		return nil, err
	}
	if s.d.Compute == nil {
		if _, err := s.d.Billing.ResolveAccount(ctx, c.a, req.BillingAccountID); err != nil {
			return nil, err
		}
		return nil, errs.New(errs.KindNotFound, "No such virtual machine exists. "+req.UUID)
	}
	v, err := s.d.Compute.SetBillingAccount(ctx, c.a, c.location.Slug, req.UUID, req.BillingAccountID)
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
