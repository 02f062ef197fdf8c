package compute

import (
	"context"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// VM storage (ID-27 … ID-29, ID-35, ID-36): disks added to a VM, resized, attached and detached.

// AddDisk creates an empty disk and attaches it to a VM (ID-27).
func (s *Service) AddDisk(ctx context.Context, a actor.Actor, location, vmUUID string, sizeGB int64) (Disk, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Disk{}, err
	}
	if err := CheckSize("size_gb", sizeGB, false); err != nil {
		return Disk{}, err
	}
	var d Disk
	err := s.store.Tx(ctx, func(tx Store) error {
		v, err := s.vmForStorage(ctx, tx, a, location, vmUUID)
		if err != nil {
			return err
		}
		if _, err := s.billing.AdmitTx(ctx, tx, a, v.BillingAccountID, false); err != nil {
			return err
		}
		disks, err := tx.ListDisks(ctx, DiskFilter{Scope: "/", VMUUIDs: []string{v.UUID}})
		if err != nil {
			return err
		}
		dev, err := freeDevice(disks)
		if err != nil {
			return err
		}
		id, err := tx.NextNumber(ctx, CounterDisk)
		if err != nil {
			return err
		}
		d = Disk{UUID: ids.New(), ID: id, OrgID: v.OrgID, OrgPath: v.OrgPath, UserID: v.UserID,
			BillingAccountID: v.BillingAccountID, Location: v.Location, VMUUID: v.UUID, Name: dev, SizeGB: sizeGB,
			Pool: DefaultDiskPool, SourceImageType: SourceEmpty, Status: DiskCreating, CreatedAt: s.now()}
		return s.startDiskStep(ctx, tx, a, &d, DiskOpCreate, stepArgs{VMUUID: v.UUID, Device: dev}, true)
	})
	if err != nil {
		return Disk{}, err
	}
	return s.afterDiskStep(ctx, d.UUID, d.OpSeq)
}

// attachedDisk locks a disk of the VM for a VM-storage operation.
func (s *Service) attachedDisk(ctx context.Context, tx Store, a actor.Actor, v VM, diskUUID, field string) (Disk, error) {
	d, err := s.lockOwnedDisk(ctx, tx, a, "", diskUUID)
	if errs.Is(err, errs.KindNotFound) || (err == nil && d.VMUUID != v.UUID) {
		return Disk{}, errs.Invalidf(field, "no such disk attached to VM %s", v.UUID)
	}
	if err != nil {
		return Disk{}, err
	}
	if d.Op != "" {
		return Disk{}, pending(d.Op)
	}
	return d, nil
}

// ResizeVMDisk grows a disk of a VM (ID-28): the new size cannot be
// smaller than the current one.
func (s *Service) ResizeVMDisk(ctx context.Context, a actor.Actor, location, vmUUID, diskUUID string, sizeGB int64) (Disk, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Disk{}, err
	}
	if err := CheckSize("size_gb", sizeGB, false); err != nil {
		return Disk{}, err
	}
	var d Disk
	grew := false
	err := s.store.Tx(ctx, func(tx Store) error {
		v, err := s.vmForStorage(ctx, tx, a, location, vmUUID)
		if err != nil {
			return err
		}
		if d, err = s.attachedDisk(ctx, tx, a, v, diskUUID, "disk_uuid"); err != nil {
			return err
		}
		if sizeGB < d.SizeGB {
			return errs.Invalidf("size_gb", "the new disk size cannot be smaller than the current size (%d GB)", d.SizeGB)
		}
		if sizeGB == d.SizeGB {
			return nil
		}
		if _, err := s.billing.AdmitTx(ctx, tx, a, d.BillingAccountID, false); err != nil {
			return err
		}
		grew = true
		return s.startDiskStep(ctx, tx, a, &d, DiskOpResize, stepArgs{SizeGB: sizeGB}, false)
	})
	if err != nil {
		return Disk{}, err
	}
	if !grew {
		return s.diskByUUID(ctx, d.UUID)
	}
	return s.afterDiskStep(ctx, d.UUID, d.OpSeq)
}

// DeleteVMDisk detaches and destroys a non-primary disk of a VM (ID-29).
func (s *Service) DeleteVMDisk(ctx context.Context, a actor.Actor, location, vmUUID, diskUUID string) error {
	return s.secondaryDiskOp(ctx, a, location, vmUUID, diskUUID, DiskOpDelete, "primary/boot disks cannot be deleted")
}

// Attach attaches an unattached disk to a VM of the same location
// (ID-35).
func (s *Service) Attach(ctx context.Context, a actor.Actor, location, vmUUID, diskUUID string) (Disk, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Disk{}, err
	}
	if strings.TrimSpace(diskUUID) == "" {
		return Disk{}, errs.Invalid("storage_uuid", "is required")
	}
	var d Disk
	err := s.store.Tx(ctx, func(tx Store) error {
		v, err := s.vmForStorage(ctx, tx, a, location, vmUUID)
		if err != nil {
			return err
		}
		d, err = s.lockOwnedDisk(ctx, tx, a, "", diskUUID)
		if errs.Is(err, errs.KindNotFound) {
			return errs.Invalid("storage_uuid", "no such disk")
		}
		if err != nil {
			return err
		}
		switch {
		case d.Op != "":
			return pending(d.Op)
		case d.VMUUID == v.UUID:
			return errs.Invalid("storage_uuid", "the disk is already attached to this VM")
		case d.VMUUID != "":
			return errs.Invalid("storage_uuid", "the disk is attached to another VM; detach it first")
		case d.Location != v.Location:
			return errs.Invalidf("storage_uuid", "the disk is in location %s, the VM in %s", d.Location, v.Location)
		case d.Status != DiskActive:
			return errs.Invalidf("storage_uuid", "the disk is %s, not active", d.Status)
		}
		disks, err := tx.ListDisks(ctx, DiskFilter{Scope: "/", VMUUIDs: []string{v.UUID}})
		if err != nil {
			return err
		}
		dev, err := freeDevice(disks)
		if err != nil {
			return err
		}
		d.VMUUID, d.Name = v.UUID, dev
		return s.startDiskStep(ctx, tx, a, &d, DiskOpAttach, stepArgs{VMUUID: v.UUID, Device: dev}, false)
	})
	if err != nil {
		return Disk{}, err
	}
	return s.afterDiskStep(ctx, d.UUID, d.OpSeq)
}

// Detach detaches a non-primary disk from a VM; the disk survives
// (ID-36).
func (s *Service) Detach(ctx context.Context, a actor.Actor, location, vmUUID, diskUUID string) error {
	return s.secondaryDiskOp(ctx, a, location, vmUUID, diskUUID, DiskOpDetach, "the primary disk cannot be detached")
}

// secondaryDiskOp starts op (delete or detach) on a disk attached to a VM
// other than its primary disk, which the VM cannot lose; refusal is the
// message for the primary disk.
func (s *Service) secondaryDiskOp(ctx context.Context, a actor.Actor, location, vmUUID, diskUUID, op, refusal string) error {
	if err := a.Require(actor.Staff); err != nil {
		return err
	}
	if strings.TrimSpace(diskUUID) == "" {
		return errs.Invalid("storage_uuid", "is required")
	}
	var d Disk
	err := s.store.Tx(ctx, func(tx Store) error {
		v, err := s.vmForStorage(ctx, tx, a, location, vmUUID)
		if err != nil {
			return err
		}
		if d, err = s.attachedDisk(ctx, tx, a, v, diskUUID, "storage_uuid"); err != nil {
			return err
		}
		if d.Primary {
			return errs.Invalid("storage_uuid", refusal)
		}
		return s.startDiskStep(ctx, tx, a, &d, op, stepArgs{VMUUID: v.UUID}, false)
	})
	if err != nil {
		return err
	}
	_, err = s.afterDiskStep(ctx, d.UUID, d.OpSeq)
	return err
}
