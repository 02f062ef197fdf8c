package compute

import (
	"context"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// Block storage (ID-30 … ID-34): disks of their own, billed to an account.

// CreateDisk creates a block-storage disk (ID-30): empty, or a copy of an
// OS base image, a disk or a snapshot of the caller.
func (s *Service) CreateDisk(ctx context.Context, a actor.Actor, in CreateDiskInput) (Disk, error) {
	if err := in.Validate(); err != nil {
		return Disk{}, err
	}
	if in.SourceImageType == SourceOSBase {
		n, v, ok := OSImage(in.SourceImage)
		if !ok {
			return Disk{}, errs.Invalid("source_image", "must be <os_name>_<os_version>, e.g. ubuntu_20.04")
		}
		if _, err := s.catalog.Image(ctx, n, v); err != nil {
			return Disk{}, errs.Invalidf("source_image", "no published OS image %s", in.SourceImage)
		}
		if in.SizeGB == 0 {
			in.SizeGB = 20
			if rules, err := s.catalog.VMRules(ctx); err == nil {
				if p, ok := rules.Param(catalog.ParamDisks); ok && p.Min > 0 {
					in.SizeGB = p.Min
				}
			}
		}
	}
	var d Disk
	err := s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.billing.AdmitTx(ctx, tx, a, in.BillingAccountID, true)
		if err != nil {
			return err
		}
		var srcSize int64
		switch in.SourceImageType {
		case SourceDisk:
			src, err := s.ownedDisk(ctx, tx, a, in.Location, in.SourceImage, "source_image")
			if err != nil {
				return errs.Invalid("source_image", "no such disk in this location")
			}
			if src.Status != DiskActive {
				return errs.Invalidf("source_image", "the disk is %s, not active", src.Status)
			}
			srcSize = src.SizeGB
		case SourceSnapshot:
			r, err := tx.GetReplica(ctx, a.Scope(), in.SourceImage)
			if errs.Is(err, errs.KindNotFound) || (err == nil && (r.Status != ReplicaActive ||
				!visible(a, r.OrgPath, r.BillingAccountID, r.Location, in.Location))) {
				return errs.Invalid("source_image", "no such snapshot in this location")
			}
			if err != nil {
				return err
			}
			srcSize = r.SizeGB
		}
		if srcSize > 0 {
			if in.SizeGB == 0 {
				in.SizeGB = srcSize
			} else if in.SizeGB < srcSize {
				return errs.Invalidf("size_gb", "must be at least the source's size (%d GB)", srcSize)
			}
		}
		id, err := tx.NextNumber(ctx, CounterDisk)
		if err != nil {
			return err
		}
		d = Disk{UUID: orNew(in.NewUUID), ID: id, OrgID: acct.OrgID, OrgPath: acct.OrgPath, UserID: acct.UserID,
			BillingAccountID: acct.ID, Location: in.Location, SizeGB: in.SizeGB, Pool: DefaultDiskPool,
			SourceImageType: in.SourceImageType, SourceImage: in.SourceImage, Status: DiskCreating, CreatedAt: s.now()}
		return s.startDiskStep(ctx, tx, a, &d, DiskOpCreate, stepArgs{}, true)
	})
	if err != nil {
		return Disk{}, err
	}
	return s.afterDiskStep(ctx, d.UUID, d.OpSeq)
}

// SetDiskBillingAccount moves a disk and its snapshots to another billing
// account of the caller (ID-33). A VM's primary disk moves with its VM
// (resource_billing), not alone.
func (s *Service) SetDiskBillingAccount(ctx context.Context, a actor.Actor, location, uuid string, accountID int64) (Disk, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Disk{}, err
	}
	var d Disk
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if d, err = s.lockOwnedDisk(ctx, tx, a, location, uuid); err != nil {
			return err
		}
		if d.Primary {
			return errs.Invalid("disk_uuid", "is the boot disk of a VM; move the VM (resource_billing) instead")
		}
		acct, err := s.resolveLive(ctx, tx, a, accountID)
		if err != nil {
			return err
		}
		if acct.ID == d.BillingAccountID {
			return nil
		}
		vmName := ""
		if d.VMUUID != "" {
			if v, err := tx.GetVM(ctx, "/", d.VMUUID); err == nil {
				vmName = v.Name
			}
		}
		now := s.now()
		if err := s.moveDiskTx(ctx, tx, d, acct.ID, vmName, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, now, "disk.set_billing_account", "disk", d.UUID, d.OrgPath, detailf(`{"billing_account_id":%d}`, acct.ID))
	})
	if err != nil {
		return Disk{}, err
	}
	return s.diskByUUID(ctx, d.UUID)
}

// DeleteDisk deletes a disk with all its snapshots (ID-34); an attached
// additional disk is detached first; a VM's boot disk goes with its VM.
func (s *Service) DeleteDisk(ctx context.Context, a actor.Actor, location, uuid string) error {
	if err := a.Require(actor.Staff); err != nil {
		return err
	}
	var d Disk
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if d, err = s.lockOwnedDisk(ctx, tx, a, location, uuid); err != nil {
			return err
		}
		if d.Primary {
			return errs.Invalid("disk_uuid", "is the boot disk of a VM; delete the VM instead")
		}
		if d.Op != "" && d.Op != DiskOpCreate {
			return pending(d.Op)
		}
		return s.startDiskStep(ctx, tx, a, &d, DiskOpDelete, stepArgs{VMUUID: d.VMUUID}, false)
	})
	if err != nil {
		return err
	}
	_, err = s.afterDiskStep(ctx, d.UUID, d.OpSeq)
	return err
}
