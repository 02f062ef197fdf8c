package compute

import (
	"context"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// ---- reading ----

// GetDisk returns a disk of the caller in the location with its
// snapshots (ID-31).
func (s *Service) GetDisk(ctx context.Context, a actor.Actor, location, uuid string) (Disk, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return Disk{}, err
	}
	d, err := s.ownedDisk(ctx, s.store, a, location, uuid, "disk_uuid")
	if err != nil {
		return Disk{}, err
	}
	ds, err := s.withReplicas(ctx, s.store, []Disk{d})
	if err != nil {
		return Disk{}, err
	}
	return ds[0], nil
}

// ListDisks returns the caller's disks in a location, attached or not
// (ID-32), with their snapshots.
func (s *Service) ListDisks(ctx context.Context, a actor.Actor, location string) ([]Disk, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	ds, err := s.store.ListDisks(ctx, DiskFilter{Scope: a.Scope(), Location: location, BillingAccountID: a.BillingAccount})
	if err != nil {
		return nil, err
	}
	if ds == nil {
		ds = []Disk{}
	}
	return s.withReplicas(ctx, s.store, ds)
}

// ownedDisk reads a live disk the actor may see; field names the
// parameter in the not-found error's wording.
func (s *Service) ownedDisk(ctx context.Context, q Queries, a actor.Actor, location, uuid, _ string) (Disk, error) {
	u, ok := ids.Normalize(strings.TrimSpace(uuid))
	if !ok {
		return Disk{}, diskNotFound(uuid)
	}
	d, err := q.GetDisk(ctx, a.Scope(), u)
	if errs.Is(err, errs.KindNotFound) || (err == nil && !visible(a, d.OrgPath, d.BillingAccountID, d.Location, location)) {
		return Disk{}, diskNotFound(uuid)
	}
	return d, err
}

func (s *Service) lockOwnedDisk(ctx context.Context, tx Queries, a actor.Actor, location, uuid string) (Disk, error) {
	u, ok := ids.Normalize(strings.TrimSpace(uuid))
	if !ok {
		return Disk{}, diskNotFound(uuid)
	}
	d, err := tx.LockDisk(ctx, u)
	if errs.Is(err, errs.KindNotFound) || (err == nil && (d.DeletedAt != nil || !visible(a, d.OrgPath, d.BillingAccountID, d.Location, location))) {
		return Disk{}, diskNotFound(uuid)
	}
	return d, err
}

// diskByUUID reads a disk after a step (zero Disk when it is deleted).
func (s *Service) diskByUUID(ctx context.Context, uuid string) (Disk, error) {
	d, err := s.store.GetDisk(ctx, "/", uuid)
	if errs.Is(err, errs.KindNotFound) {
		return Disk{}, nil
	}
	if err != nil {
		return Disk{}, err
	}
	ds, err := s.withReplicas(ctx, s.store, []Disk{d})
	if err != nil {
		return Disk{}, err
	}
	return ds[0], nil
}

func (s *Service) afterDiskStep(ctx context.Context, uuid string, seq int64) (Disk, error) {
	if s.inline() {
		if err := s.runDiskStep(ctx, uuid, seq); err != nil {
			s.log.WarnContext(ctx, "compute disk step failed; the job retries it", "disk", uuid, "err", err)
		}
	}
	return s.diskByUUID(ctx, uuid)
}

// startDiskStep writes d with a new pending step, audits and enqueues it.
func (s *Service) startDiskStep(ctx context.Context, tx Store, a actor.Actor, d *Disk, op string, args stepArgs, insert bool) error {
	now := s.now()
	beginDiskStep(d, op, args, now)
	if insert {
		d.UpdatedAt = nil
		if err := tx.InsertDisk(ctx, *d); err != nil {
			return err
		}
	} else if err := tx.UpdateDisk(ctx, *d); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, a, now, "disk."+op, "disk", d.UUID, d.OrgPath, args.encode()); err != nil {
		return err
	}
	return s.enqueue(ctx, tx, StepArgs{Resource: ResourceDisk, UUID: d.UUID, Seq: d.OpSeq})
}

// vmForStorage locks the VM of a VM-storage operation: it must be running
// or stopped with no pending step.
func (s *Service) vmForStorage(ctx context.Context, tx Store, a actor.Actor, location, uuid string) (VM, error) {
	v, err := s.lockOwnedVM(ctx, tx, a, location, uuid)
	if err != nil {
		return VM{}, err
	}
	if v.Op != "" {
		return VM{}, pending(v.Op)
	}
	if !v.Billed() {
		return VM{}, errs.Invalidf("uuid", "the VM is %s; it must be running or stopped", v.Status)
	}
	return v, nil
}

// freeDevice returns the first unused device name of a VM after vda.
func freeDevice(disks []Disk) (string, error) {
	used := map[string]bool{}
	for _, d := range disks {
		used[d.Name] = true
	}
	for i := 1; i < MaxDisksPerVM; i++ {
		if n := DeviceName(i); !used[n] {
			return n, nil
		}
	}
	return "", errs.Invalidf("uuid", "the VM has the maximum of %d disks", MaxDisksPerVM)
}

// ---- VM storage (ID-27 … ID-29, ID-35, ID-36) ----

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

// ---- replicas (ID-21 … ID-23) ----

// replicaDisk finds the disk a replica operation means: uuid is a VM's
// (its primary disk) or a disk's.
func (s *Service) replicaDisks(ctx context.Context, q Queries, a actor.Actor, location, uuid string, primaryOnly bool) ([]Disk, string, error) {
	if v, err := s.ownedVM(ctx, q, a, location, uuid); err == nil {
		disks, err := q.ListDisks(ctx, DiskFilter{Scope: "/", VMUUIDs: []string{v.UUID}})
		if err != nil {
			return nil, "", err
		}
		if primaryOnly {
			for _, d := range disks {
				if d.Primary {
					return []Disk{d}, v.Name, nil
				}
			}
			return nil, "", errs.New(errs.KindInternal, "the VM has no primary disk")
		}
		return disks, v.Name, nil
	} else if !errs.Is(err, errs.KindNotFound) {
		return nil, "", err
	}
	d, err := s.ownedDisk(ctx, q, a, location, uuid, "uuid")
	if err != nil {
		return nil, "", vmNotFound(uuid)
	}
	name := ""
	if d.VMUUID != "" {
		if v, err := q.GetVM(ctx, "/", d.VMUUID); err == nil {
			name = v.Name
		}
	}
	return []Disk{d}, name, nil
}

// CreateSnapshot takes a snapshot of a VM's primary disk (uuid is the VM)
// or of a disk (uuid is the disk), ID-23, and returns the disk with its
// replicas.
func (s *Service) CreateSnapshot(ctx context.Context, a actor.Actor, location, uuid string) (Disk, error) {
	if err := a.Require(actor.Staff); err != nil {
		return Disk{}, err
	}
	var d Disk
	err := s.store.Tx(ctx, func(tx Store) error {
		disks, vmName, err := s.replicaDisks(ctx, tx, a, location, uuid, true)
		if err != nil {
			return err
		}
		if d, err = tx.LockDisk(ctx, disks[0].UUID); err != nil {
			return err
		}
		_, err = s.snapshotTx(ctx, tx, a, &d, vmName, ReplicaSnapshot)
		return err
	})
	if err != nil {
		return Disk{}, err
	}
	return s.afterDiskStep(ctx, d.UUID, d.OpSeq)
}

// snapshotTx inserts a replica of d in status creating and starts the
// snapshot step (admission on the disk's account).
func (s *Service) snapshotTx(ctx context.Context, tx Store, a actor.Actor, d *Disk, vmName, rType string) (Replica, error) {
	if d.Op != "" {
		return Replica{}, pending(d.Op)
	}
	if d.Status != DiskActive {
		return Replica{}, errs.Invalidf("uuid", "the disk is %s, not active", d.Status)
	}
	if rType == ReplicaSnapshot {
		if _, err := s.billing.AdmitTx(ctx, tx, a, d.BillingAccountID, false); err != nil {
			return Replica{}, err
		}
	}
	id, err := tx.NextNumber(ctx, CounterReplica)
	if err != nil {
		return Replica{}, err
	}
	now := s.now()
	name := vmName
	if name == "" {
		name = diskBillingName(*d, "")
	}
	r := Replica{UUID: ReplicaUUID(d.UUID, now), ID: id, DiskUUID: d.UUID, DiskID: d.ID, OrgID: d.OrgID,
		OrgPath: d.OrgPath, UserID: d.UserID, BillingAccountID: d.BillingAccountID, Location: d.Location,
		Type: rType, SizeGB: d.SizeGB, Status: ReplicaCreating, BillingName: name, CreatedAt: now}
	if err := tx.InsertReplica(ctx, r); err != nil {
		return Replica{}, err
	}
	return r, s.startDiskStep(ctx, tx, a, d, DiskOpSnapshot, stepArgs{Replica: r.UUID}, false)
}

// ListReplicas returns the active replicas of one type (default
// snapshot) of a VM's disks or of one disk (ID-22).
func (s *Service) ListReplicas(ctx context.Context, a actor.Actor, location, uuid, rType string) ([]Replica, error) {
	if err := a.Require(actor.Viewer); err != nil {
		return nil, err
	}
	rType = strings.ToLower(strings.TrimSpace(rType))
	if rType == "" {
		rType = ReplicaSnapshot
	}
	if rType != ReplicaSnapshot && rType != ReplicaBackup {
		return nil, errs.Invalid("r_type", "must be snapshot or backup")
	}
	disks, _, err := s.replicaDisks(ctx, s.store, a, location, uuid, false)
	if err != nil {
		return nil, err
	}
	uuids := make([]string, len(disks))
	for i, d := range disks {
		uuids[i] = d.UUID
	}
	reps, err := s.store.ListReplicas(ctx, uuids, rType)
	if err != nil {
		return nil, err
	}
	out := []Replica{}
	for _, r := range reps {
		if r.Status == ReplicaActive {
			out = append(out, r)
		}
	}
	return out, nil
}

// DeleteReplica deletes one replica (ID-21).
func (s *Service) DeleteReplica(ctx context.Context, a actor.Actor, location, replicaUUID string) error {
	if err := a.Require(actor.Staff); err != nil {
		return err
	}
	replicaUUID = strings.ToLower(strings.TrimSpace(replicaUUID))
	if replicaUUID == "" {
		return errs.Invalid("replica_uuid", "is required")
	}
	var d Disk
	err := s.store.Tx(ctx, func(tx Store) error {
		r, err := tx.GetReplica(ctx, a.Scope(), replicaUUID)
		if errs.Is(err, errs.KindNotFound) || (err == nil && (r.Status != ReplicaActive ||
			!visible(a, r.OrgPath, r.BillingAccountID, r.Location, location))) {
			return replicaNotFound(replicaUUID)
		}
		if err != nil {
			return err
		}
		if d, err = tx.LockDisk(ctx, r.DiskUUID); err != nil {
			return err
		}
		if d.Op != "" {
			return pending(d.Op)
		}
		return s.startDiskStep(ctx, tx, a, &d, DiskOpDeleteReplica, stepArgs{Replica: r.UUID}, false)
	})
	if err != nil {
		return err
	}
	_, err = s.afterDiskStep(ctx, d.UUID, d.OpSeq)
	return err
}

// ---- block storage (ID-30 … ID-34) ----

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

// ---- automatic backups ----

// RunBackups is the periodic backup sweep (a timed job, run at least
// hourly with the current instant): every live VM with backups on whose
// primary disk has no backup newer than BackupInterval gets one (a real
// replica of type backup, taken by the provider and billed as backup
// storage), and each such disk keeps its BackupsKept newest backups.
// Automatic backups are not subject to admission (nothing new is asked
// for). It returns the number of backups started.
func (s *Service) RunBackups(ctx context.Context, at time.Time) (int, error) {
	due, err := s.store.ListBackupsDue(ctx, at.Add(-BackupInterval), 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, uuid := range due {
		var d Disk
		started := false
		err := s.store.Tx(ctx, func(tx Store) error {
			v, err := tx.LockVM(ctx, uuid)
			if err != nil {
				return err
			}
			if !v.Backup || !v.Billed() || v.Op != "" || v.DeletedAt != nil {
				return nil
			}
			disks, err := tx.ListDisks(ctx, DiskFilter{Scope: "/", VMUUIDs: []string{v.UUID}})
			if err != nil {
				return err
			}
			for _, x := range disks {
				if x.Primary {
					d = x
				}
			}
			if d.UUID == "" {
				return nil
			}
			if d, err = tx.LockDisk(ctx, d.UUID); err != nil {
				return err
			}
			if d.Op != "" || d.Status != DiskActive {
				return nil
			}
			if _, err := s.snapshotTx(ctx, tx, system, &d, v.Name, ReplicaBackup); err != nil {
				return err
			}
			started = true
			return nil
		})
		if err != nil {
			return n, err
		}
		if !started {
			continue
		}
		n++
		if _, err := s.afterDiskStep(ctx, d.UUID, d.OpSeq); err != nil {
			return n, err
		}
		if err := s.pruneBackups(ctx, d.UUID); err != nil {
			return n, err
		}
	}
	return n, nil
}

// pruneBackups deletes a disk's oldest backups beyond BackupsKept, one
// delete step at a time.
func (s *Service) pruneBackups(ctx context.Context, diskUUID string) error {
	for {
		reps, err := s.store.ListReplicas(ctx, []string{diskUUID}, ReplicaBackup)
		if err != nil {
			return err
		}
		var active []Replica
		for _, r := range reps {
			if r.Status == ReplicaActive {
				active = append(active, r)
			}
		}
		if len(active) <= BackupsKept {
			return nil
		}
		var d Disk
		started := false
		err = s.store.Tx(ctx, func(tx Store) error {
			var err error
			if d, err = tx.LockDisk(ctx, diskUUID); err != nil {
				return err
			}
			if d.Op != "" || d.DeletedAt != nil {
				return nil
			}
			started = true
			return s.startDiskStep(ctx, tx, system, &d, DiskOpDeleteReplica, stepArgs{Replica: active[0].UUID}, false)
		})
		if err != nil || !started || !s.inline() {
			return err
		}
		if _, err := s.afterDiskStep(ctx, d.UUID, d.OpSeq); err != nil {
			return err
		}
		if d, _ := s.store.GetDisk(ctx, "/", diskUUID); d.Op != "" {
			return nil // the step failed; its job retries it, the next sweep prunes on
		}
	}
}
