package compute

import (
	"context"
	"time"
)

// Automatic backups: the periodic sweep and the pruning of old backups.

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
