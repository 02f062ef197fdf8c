package compute

import (
	"context"
	"strings"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// Replicas (ID-21 … ID-23): snapshots and backups of disks.

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
