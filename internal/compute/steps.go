package compute

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// system is the actor of step completions (audit rows).
var system = actor.System("compute-step")

// RunStep is the worker of StepArgs (register it with
// jobs.AddWorker(q, svc.RunStep)). It runs the step if it is still
// pending; an error (the provider failed) makes River retry it.
func (s *Service) RunStep(ctx context.Context, args StepArgs) error {
	switch args.Resource {
	case ResourceVM:
		return s.runVMStep(ctx, args.UUID, args.Seq)
	case ResourceDisk:
		return s.runDiskStep(ctx, args.UUID, args.Seq)
	}
	return fmt.Errorf("compute: unknown step resource %q", args.Resource)
}

// stepRow is a VM or a disk as the step worker reads it.
type stepRow interface {
	isPending(seq int64) bool // step seq is neither done nor replaced by a later step
	pendingArgs() string      // the pending step's encoded arguments
}

func (v VM) isPending(seq int64) bool   { return v.Op != "" && v.OpSeq == seq }
func (v VM) pendingArgs() string        { return v.OpArgs }
func (d Disk) isPending(seq int64) bool { return d.Op != "" && d.OpSeq == seq }
func (d Disk) pendingArgs() string      { return d.OpArgs }

// runStep runs step seq of one VM or disk, for the worker and inline: a
// step that is done or was replaced is nothing to do (jobs are retried and
// may run twice); otherwise the provider call, outside any transaction,
// then the row's transition (finish). A provider error leaves the row in
// error (fail) and is returned, so River retries the step.
func runStep[R stepRow](ctx context.Context, uuid string, seq int64,
	get func(ctx context.Context, scope, uuid string) (R, error),
	call func(context.Context, R, stepArgs) error,
	fail func(ctx context.Context, uuid string, seq int64, cause error) error,
	finish func(ctx context.Context, uuid string, seq int64, args stepArgs) error) error {
	row, err := get(ctx, "/", uuid)
	if errs.Is(err, errs.KindNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !row.isPending(seq) {
		return nil
	}
	args, err := decodeArgs(row.pendingArgs())
	if err != nil {
		return err
	}
	if perr := call(ctx, row, args); perr != nil {
		if err := fail(ctx, uuid, seq, perr); err != nil {
			return err
		}
		return perr
	}
	return finish(ctx, uuid, seq, args)
}

// ---- VM steps ----

func (s *Service) runVMStep(ctx context.Context, uuid string, seq int64) error {
	return runStep(ctx, uuid, seq, s.store.GetVM, s.callVMProvider, s.failVM, s.finishVM)
}

func (s *Service) callVMProvider(ctx context.Context, v VM, args stepArgs) error {
	switch v.Op {
	case OpCreate:
		disks, err := s.store.ListDisks(ctx, DiskFilter{Scope: "/", VMUUIDs: []string{v.UUID}})
		if err != nil {
			return err
		}
		var primary Disk
		for _, d := range disks {
			if d.Primary {
				primary = d
			}
		}
		if primary.UUID == "" {
			return fmt.Errorf("compute: VM %s has no primary disk", v.UUID)
		}
		return s.provider.CreateVM(ctx, VMSpec{UUID: v.UUID, Location: v.Location, PoolUUID: v.PoolUUID,
			Hostname: v.Hostname, VCPU: v.VCPU, RAMMB: v.RAMMB, OSName: v.OSName, OSVersion: v.OSVersion,
			Username: v.Username, PasswordHash: v.PasswordHash, PublicKey: v.PublicKey, CloudInit: v.CloudInit,
			MAC: v.MAC, PrivateIPv4: v.PrivateIPv4, ExistingDisk: primary.WasActive,
			Disk: DiskSpec{UUID: primary.UUID, Location: primary.Location, SizeGB: primary.SizeGB,
				SourceType: primary.SourceImageType, SourceImage: primary.SourceImage}})
	case OpStart, OpRescue:
		return s.provider.StartVM(ctx, v.UUID, args.Rescue)
	case OpStop:
		return s.provider.StopVM(ctx, v.UUID, args.Force)
	case OpResize:
		return s.provider.ResizeVM(ctx, v.UUID, args.VCPU, args.RAMMB)
	case OpReinstall:
		return s.provider.Reinstall(ctx, v.UUID, args.OSName, args.OSVersion)
	case OpRebuild:
		r, err := s.store.GetReplica(ctx, "/", args.Replica)
		if err != nil {
			return err
		}
		return s.provider.Rebuild(ctx, v.UUID, r.DiskUUID, r.UUID)
	case OpDelete:
		return s.provider.DeleteVM(ctx, v.UUID)
	}
	return fmt.Errorf("compute: unknown VM step %q", v.Op)
}

// failVM leaves the VM in error with the step pending: not billed.
func (s *Service) failVM(ctx context.Context, uuid string, seq int64, cause error) error {
	return s.store.Tx(ctx, func(tx Store) error {
		v, err := tx.LockVM(ctx, uuid)
		if err != nil {
			return err
		}
		if !v.isPending(seq) {
			return nil
		}
		now := s.now()
		v.Status, v.OpError, v.UpdatedAt = StatusError, stepFailed(cause), &now
		if err := tx.UpdateVM(ctx, v); err != nil {
			return err
		}
		if err := s.setVMUsage(ctx, tx, v, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, system, now, "vm."+v.Op+".failed", "vm", v.UUID, v.OrgPath, detailf(`{"error":%q}`, v.OpError))
	})
}

func (s *Service) finishVM(ctx context.Context, uuid string, seq int64, args stepArgs) error {
	return s.store.Tx(ctx, func(tx Store) error {
		v, err := tx.LockVM(ctx, uuid)
		if err != nil {
			return err
		}
		if !v.isPending(seq) {
			return nil
		}
		now := s.now()
		op := v.Op
		switch op {
		case OpCreate:
			v.Status = StatusRunning
			disks, err := tx.ListDisks(ctx, DiskFilter{Scope: "/", VMUUIDs: []string{v.UUID}})
			if err != nil {
				return err
			}
			for _, d := range disks {
				if !d.Primary {
					continue
				}
				d.Status, d.WasActive, d.UpdatedAt = DiskActive, true, &now
				if err := tx.UpdateDisk(ctx, d); err != nil {
					return err
				}
				// A disk the VM boots from stops being billed as a
				// disk: the VM meter bills it now.
				if err := s.setDiskUsage(ctx, tx, d, v.Name, now); err != nil {
					return err
				}
			}
		case OpStart, OpRescue:
			v.Status, v.Rescue = StatusRunning, args.Rescue
		case OpStop:
			v.Status, v.Rescue = StatusStopped, false
		case OpResize:
			v.Status, v.VCPU, v.RAMMB = StatusStopped, args.VCPU, args.RAMMB
		case OpReinstall:
			v.Status, v.Rescue, v.OSName, v.OSVersion = StatusRunning, false, args.OSName, args.OSVersion
			v.LicenseType = ""
			if strings.EqualFold(v.OSName, WindowsOS) {
				v.LicenseType = LicenseWindows
			}
		case OpRebuild:
			v.Status, v.Rescue = StatusStopped, false
		case OpDelete:
			if err := s.network.DetachVMTx(ctx, tx, v.UUID); err != nil {
				return err
			}
			disks, err := tx.ListDisks(ctx, DiskFilter{Scope: "/", VMUUIDs: []string{v.UUID}})
			if err != nil {
				return err
			}
			for _, d := range disks {
				if err := s.deleteDiskRowTx(ctx, tx, d, now); err != nil {
					return err
				}
			}
			v.Status, v.DeletedAt = StatusDeleted, &now
		default:
			return fmt.Errorf("compute: unknown VM step %q", op)
		}
		v.Op, v.OpArgs, v.OpError, v.UpdatedAt = "", "", "", &now
		if err := tx.UpdateVM(ctx, v); err != nil {
			return err
		}
		if err := s.setVMUsage(ctx, tx, v, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, system, now, "vm."+op+".done", "vm", v.UUID, v.OrgPath, detailf(`{"status":%q}`, v.Status))
	})
}

// deleteDiskRowTx marks a disk and its replicas deleted and stops their
// billing.
func (s *Service) deleteDiskRowTx(ctx context.Context, tx Store, d Disk, now time.Time) error {
	reps, err := tx.ListReplicas(ctx, []string{d.UUID}, "")
	if err != nil {
		return err
	}
	for _, r := range reps {
		r.Status, r.DeletedAt, r.UpdatedAt = ReplicaDeleted, &now, &now
		if err := tx.UpdateReplica(ctx, r); err != nil {
			return err
		}
		if err := s.setReplicaUsage(ctx, tx, r, now); err != nil {
			return err
		}
	}
	d.Status, d.DeletedAt, d.UpdatedAt = DiskDeleted, &now, &now
	d.VMUUID, d.Name, d.Primary, d.Op, d.OpArgs, d.OpError = "", "", false, "", "", ""
	if err := tx.UpdateDisk(ctx, d); err != nil {
		return err
	}
	return s.setDiskUsage(ctx, tx, d, "", now)
}

// ---- disk steps ----

func (s *Service) runDiskStep(ctx context.Context, uuid string, seq int64) error {
	return runStep(ctx, uuid, seq, s.store.GetDisk, s.callDiskProvider, s.failDisk, s.finishDisk)
}

func (s *Service) callDiskProvider(ctx context.Context, d Disk, args stepArgs) error {
	switch d.Op {
	case DiskOpCreate:
		if err := s.provider.CreateDisk(ctx, DiskSpec{UUID: d.UUID, Location: d.Location, SizeGB: d.SizeGB,
			SourceType: d.SourceImageType, SourceImage: d.SourceImage}); err != nil {
			return err
		}
		if args.VMUUID != "" {
			return s.provider.AttachDisk(ctx, d.UUID, args.VMUUID, args.Device)
		}
		return nil
	case DiskOpResize:
		return s.provider.ResizeDisk(ctx, d.UUID, args.SizeGB)
	case DiskOpAttach:
		return s.provider.AttachDisk(ctx, d.UUID, args.VMUUID, args.Device)
	case DiskOpDetach:
		return s.provider.DetachDisk(ctx, d.UUID, args.VMUUID)
	case DiskOpSnapshot:
		return s.provider.Snapshot(ctx, d.UUID, args.Replica)
	case DiskOpDeleteReplica:
		return s.provider.DeleteReplica(ctx, args.Replica)
	case DiskOpDelete:
		if args.VMUUID != "" {
			if err := s.provider.DetachDisk(ctx, d.UUID, args.VMUUID); err != nil {
				return err
			}
		}
		return s.provider.DeleteDisk(ctx, d.UUID)
	}
	return fmt.Errorf("compute: unknown disk step %q", d.Op)
}

// failDisk leaves the disk in error with the step pending. Its billing
// does not change: a disk that was active still holds its data.
func (s *Service) failDisk(ctx context.Context, uuid string, seq int64, cause error) error {
	return s.store.Tx(ctx, func(tx Store) error {
		d, err := tx.LockDisk(ctx, uuid)
		if err != nil {
			return err
		}
		if !d.isPending(seq) {
			return nil
		}
		now := s.now()
		d.Status, d.OpError, d.UpdatedAt = DiskError, stepFailed(cause), &now
		if err := tx.UpdateDisk(ctx, d); err != nil {
			return err
		}
		return s.audit(ctx, tx, system, now, "disk."+d.Op+".failed", "disk", d.UUID, d.OrgPath, detailf(`{"error":%q}`, d.OpError))
	})
}

func (s *Service) finishDisk(ctx context.Context, uuid string, seq int64, args stepArgs) error {
	return s.store.Tx(ctx, func(tx Store) error {
		d, err := tx.LockDisk(ctx, uuid)
		if err != nil {
			return err
		}
		if !d.isPending(seq) {
			return nil
		}
		now := s.now()
		op := d.Op
		d.Status = DiskActive
		switch op {
		case DiskOpCreate:
			d.WasActive = true
		case DiskOpResize:
			d.SizeGB = args.SizeGB
		case DiskOpAttach:
		case DiskOpDetach:
			d.VMUUID, d.Name = "", ""
		case DiskOpSnapshot, DiskOpDeleteReplica:
			r, err := tx.GetReplica(ctx, "/", args.Replica)
			if err != nil {
				return err
			}
			if op == DiskOpSnapshot {
				r.Status = ReplicaActive
			} else {
				r.Status, r.DeletedAt = ReplicaDeleted, &now
			}
			r.UpdatedAt = &now
			if err := tx.UpdateReplica(ctx, r); err != nil {
				return err
			}
			if err := s.setReplicaUsage(ctx, tx, r, now); err != nil {
				return err
			}
		case DiskOpDelete:
			if err := s.deleteDiskRowTx(ctx, tx, d, now); err != nil {
				return err
			}
			return s.audit(ctx, tx, system, now, "disk.delete.done", "disk", d.UUID, d.OrgPath, "")
		default:
			return fmt.Errorf("compute: unknown disk step %q", op)
		}
		d.Op, d.OpArgs, d.OpError, d.UpdatedAt = "", "", "", &now
		if err := tx.UpdateDisk(ctx, d); err != nil {
			return err
		}
		if err := s.diskUsageWithVM(ctx, tx, d, now); err != nil {
			return err
		}
		return s.audit(ctx, tx, system, now, "disk."+op+".done", "disk", d.UUID, d.OrgPath, detailf(`{"size_gb":%d}`, d.SizeGB))
	})
}

// diskUsageWithVM re-states a disk's billing; a VM's primary disk changes
// the VM's.
func (s *Service) diskUsageWithVM(ctx context.Context, tx Store, d Disk, now time.Time) error {
	vmName := ""
	if d.VMUUID != "" {
		v, err := tx.GetVM(ctx, "/", d.VMUUID)
		if err != nil {
			return err
		}
		vmName = v.Name
		if d.Primary {
			return s.setVMUsage(ctx, tx, v, now)
		}
	}
	return s.setDiskUsage(ctx, tx, d, vmName, now)
}
