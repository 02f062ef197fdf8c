package compute

import (
	"context"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
)

// Disks: reading them, and what the disk operations of vm_storage.go,
// replicas.go, block_storage.go and backups.go share.

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
