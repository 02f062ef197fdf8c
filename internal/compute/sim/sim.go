// Package sim is the built-in compute provider: a fake hypervisor. It
// keeps the VMs, disks and replicas it was told about and checks that each
// call makes sense (a VM is started only if it exists and is stopped …),
// so a bug in the service's step ordering shows up as an error. Its state
// is a simstep.State: in the database when the app wires it (one
// hypervisor for every node, surviving restarts), in memory for unit
// tests. Delay is the time each step takes (0: immediate); FailNext makes
// the next n calls of a step fail, for tests (per process).
//
// Idempotence: repeating a call that succeeded succeeds without change
// (creating an existing VM, stopping a stopped one, deleting a missing
// one).
package sim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/simstep"
)

// Step names for FailNext (the Provider method names).
const (
	StepCreateVM      = "CreateVM"
	StepStartVM       = "StartVM"
	StepStopVM        = "StopVM"
	StepResizeVM      = "ResizeVM"
	StepReinstall     = "Reinstall"
	StepRebuild       = "Rebuild"
	StepSetPassword   = "SetPassword"
	StepDeleteVM      = "DeleteVM"
	StepCreateDisk    = "CreateDisk"
	StepResizeDisk    = "ResizeDisk"
	StepAttachDisk    = "AttachDisk"
	StepDetachDisk    = "DetachDisk"
	StepDeleteDisk    = "DeleteDisk"
	StepSnapshot      = "Snapshot"
	StepDeleteReplica = "DeleteReplica"
)

// VM is the simulator's view of a VM.
type VM struct {
	Spec         compute.VMSpec
	Running      bool
	Rescue       bool
	OSName       string
	OSVersion    string
	PasswordHash string
	Restored     string // the replica the VM was last rebuilt from
}

// Disk is the simulator's view of a disk.
type Disk struct {
	Spec   compute.DiskSpec
	VMUUID string
	Device string
}

// Provider is the simulator. The zero value is not usable; use New.
type Provider struct {
	simstep.Steps // Delay, SetDelay, FailNext, Calls

	space simstep.Space
}

var _ compute.Provider = (*Provider)(nil)

// The documents of the simulator's space.
const (
	kindVM      = "vm"
	kindDisk    = "disk"
	kindReplica = "replica" // replica uuid → disk uuid
)

// New returns an empty simulator in memory with the given step delay.
func New(delay time.Duration) *Provider { return NewWithState(delay, nil) }

// NewWithState returns a simulator whose hypervisor lives in st (shared by
// every process on it); st nil keeps it in memory.
func NewWithState(delay time.Duration, st simstep.State) *Provider {
	return &Provider{Steps: simstep.New(delay), space: simstep.NewSpace("compute", st)}
}

// view runs fn on the hypervisor for the inspection methods, which are for
// tests and answer "absent" if the state cannot be read.
func (p *Provider) view(fn func(hv) error) bool {
	return p.space.View(context.Background(), func(d simstep.Docs) error { return fn(hv{d}) }) == nil
}

// VM returns a copy of the simulator's VM.
func (p *Provider) VM(uuid string) (VM, bool) {
	var v VM
	var ok bool
	if !p.view(func(h hv) (err error) { v, ok, err = simstep.Get[VM](h.d, kindVM, uuid); return err }) {
		return VM{}, false
	}
	return v, ok
}

// Disk returns a copy of the simulator's disk.
func (p *Provider) Disk(uuid string) (Disk, bool) {
	var d Disk
	var ok bool
	if !p.view(func(h hv) (err error) { d, ok, err = simstep.Get[Disk](h.d, kindDisk, uuid); return err }) {
		return Disk{}, false
	}
	return d, ok
}

// Replica reports whether the simulator holds the replica.
func (p *Provider) Replica(uuid string) bool {
	var ok bool
	p.view(func(h hv) (err error) { _, ok, err = h.d.Get(kindReplica, uuid); return err })
	return ok
}

// Counts returns how many VMs, disks and replicas exist.
func (p *Provider) Counts() (vms, disks, replicas int) {
	p.view(func(h hv) error {
		for _, n := range []struct {
			kind string
			to   *int
		}{{kindVM, &vms}, {kindDisk, &disks}, {kindReplica, &replicas}} {
			docs, err := h.d.List(n.kind)
			if err != nil {
				return err
			}
			*n.to = len(docs)
		}
		return nil
	})
	return vms, disks, replicas
}

// step counts a call, applies an injected failure, waits the delay, then
// runs fn alone on the hypervisor (its changes are kept if it succeeds).
func (p *Provider) step(ctx context.Context, step string, fn func(hv) error) error {
	if err := p.Begin(step); err != nil {
		return err
	}
	if d := p.Delay(); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return p.space.Update(ctx, func(d simstep.Docs) error { return fn(hv{d}) })
}

// hv is the hypervisor's documents inside one step.
type hv struct{ d simstep.Docs }

func (h hv) vm(uuid string) (VM, error) {
	v, ok, err := simstep.Get[VM](h.d, kindVM, uuid)
	if err == nil && !ok {
		err = fmt.Errorf("sim: no VM %s", uuid)
	}
	return v, err
}

func (h hv) disk(uuid string) (Disk, error) {
	d, ok, err := simstep.Get[Disk](h.d, kindDisk, uuid)
	if err == nil && !ok {
		err = fmt.Errorf("sim: no disk %s", uuid)
	}
	return d, err
}

func (h hv) putVM(v VM) error     { return simstep.Put(h.d, kindVM, v.Spec.UUID, v) }
func (h hv) putDisk(d Disk) error { return simstep.Put(h.d, kindDisk, d.Spec.UUID, d) }

// replicaDisk returns the disk a replica is of ("" if there is no replica).
func (h hv) replicaDisk(uuid string) (string, error) {
	disk, _, err := simstep.Get[string](h.d, kindReplica, uuid)
	return disk, err
}

// changeVM applies change to an existing VM.
func (h hv) changeVM(uuid string, change func(*VM) error) error {
	v, err := h.vm(uuid)
	if err != nil {
		return err
	}
	if err := change(&v); err != nil {
		return err
	}
	return h.putVM(v)
}

// CreateVM implements compute.Provider.
func (p *Provider) CreateVM(ctx context.Context, spec compute.VMSpec) error {
	return p.step(ctx, StepCreateVM, func(h hv) error {
		if _, ok, err := h.d.Get(kindVM, spec.UUID); err != nil || ok {
			return err
		}
		if spec.ExistingDisk {
			d, err := h.disk(spec.Disk.UUID)
			if err != nil {
				return err
			}
			if d.VMUUID != "" && d.VMUUID != spec.UUID {
				return fmt.Errorf("sim: disk %s is attached to %s", d.Spec.UUID, d.VMUUID)
			}
			d.VMUUID, d.Device = spec.UUID, "vda"
			if err := h.putDisk(d); err != nil {
				return err
			}
		} else {
			if err := h.checkSource(spec.Disk); err != nil {
				return err
			}
			if err := h.putDisk(Disk{Spec: spec.Disk, VMUUID: spec.UUID, Device: "vda"}); err != nil {
				return err
			}
		}
		return h.putVM(VM{Spec: spec, Running: true, OSName: spec.OSName, OSVersion: spec.OSVersion,
			PasswordHash: spec.PasswordHash})
	})
}

func (h hv) checkSource(d compute.DiskSpec) error {
	switch d.SourceType {
	case compute.SourceDisk:
		if _, ok, err := h.d.Get(kindDisk, d.SourceImage); err != nil || !ok {
			return errors.Join(err, fmt.Errorf("sim: no source disk %s", d.SourceImage))
		}
	case compute.SourceSnapshot:
		if _, ok, err := h.d.Get(kindReplica, d.SourceImage); err != nil || !ok {
			return errors.Join(err, fmt.Errorf("sim: no source replica %s", d.SourceImage))
		}
	}
	return nil
}

// StartVM implements compute.Provider.
func (p *Provider) StartVM(ctx context.Context, uuid string, rescue bool) error {
	return p.step(ctx, StepStartVM, func(h hv) error {
		return h.changeVM(uuid, func(v *VM) error {
			if v.Running && rescue && !v.Rescue {
				// rescue_start on a running VM reboots it into the rescue image.
				v.Rescue = true
				return nil
			}
			if !v.Running {
				v.Running, v.Rescue = true, rescue
			}
			return nil
		})
	})
}

// StopVM implements compute.Provider.
func (p *Provider) StopVM(ctx context.Context, uuid string, _ bool) error {
	return p.step(ctx, StepStopVM, func(h hv) error {
		return h.changeVM(uuid, func(v *VM) error {
			v.Running, v.Rescue = false, false
			return nil
		})
	})
}

// ResizeVM implements compute.Provider.
func (p *Provider) ResizeVM(ctx context.Context, uuid string, vcpu, ramMB int64) error {
	return p.step(ctx, StepResizeVM, func(h hv) error {
		return h.changeVM(uuid, func(v *VM) error {
			if v.Running && (v.Spec.VCPU != vcpu || v.Spec.RAMMB != ramMB) {
				return fmt.Errorf("sim: VM %s is running", uuid)
			}
			v.Spec.VCPU, v.Spec.RAMMB = vcpu, ramMB
			return nil
		})
	})
}

// Reinstall implements compute.Provider.
func (p *Provider) Reinstall(ctx context.Context, uuid, osName, osVersion string) error {
	return p.step(ctx, StepReinstall, func(h hv) error {
		return h.changeVM(uuid, func(v *VM) error {
			v.OSName, v.OSVersion, v.Restored = osName, osVersion, ""
			v.Running = true
			return nil
		})
	})
}

// Rebuild implements compute.Provider.
func (p *Provider) Rebuild(ctx context.Context, uuid, diskUUID, replicaUUID string) error {
	return p.step(ctx, StepRebuild, func(h hv) error {
		return h.changeVM(uuid, func(v *VM) error {
			disk, err := h.replicaDisk(replicaUUID)
			if err != nil {
				return err
			}
			if disk != diskUUID {
				return fmt.Errorf("sim: replica %s is not of disk %s", replicaUUID, diskUUID)
			}
			v.Restored, v.Running = replicaUUID, false
			return nil
		})
	})
}

// SetPassword implements compute.Provider.
func (p *Provider) SetPassword(ctx context.Context, uuid, username, passwordHash string) error {
	return p.step(ctx, StepSetPassword, func(h hv) error {
		return h.changeVM(uuid, func(v *VM) error {
			if !v.Running {
				return fmt.Errorf("sim: VM %s is not running", uuid)
			}
			if username != v.Spec.Username {
				return fmt.Errorf("sim: VM %s has no user %s", uuid, username)
			}
			v.PasswordHash = passwordHash
			return nil
		})
	})
}

// DeleteVM implements compute.Provider: the VM and every disk attached to
// it (with their replicas).
func (p *Provider) DeleteVM(ctx context.Context, uuid string) error {
	return p.step(ctx, StepDeleteVM, func(h hv) error {
		disks, err := simstep.List[Disk](h.d, kindDisk)
		if err != nil {
			return err
		}
		for du, d := range disks {
			if d.VMUUID == uuid {
				if err := h.deleteDisk(du); err != nil {
					return err
				}
			}
		}
		return h.d.Delete(kindVM, uuid)
	})
}

func (h hv) deleteDisk(uuid string) error {
	replicas, err := simstep.List[string](h.d, kindReplica)
	if err != nil {
		return err
	}
	for r, d := range replicas {
		if d == uuid {
			if err := h.d.Delete(kindReplica, r); err != nil {
				return err
			}
		}
	}
	return h.d.Delete(kindDisk, uuid)
}

// CreateDisk implements compute.Provider.
func (p *Provider) CreateDisk(ctx context.Context, spec compute.DiskSpec) error {
	return p.step(ctx, StepCreateDisk, func(h hv) error {
		if _, ok, err := h.d.Get(kindDisk, spec.UUID); err != nil || ok {
			return err
		}
		if err := h.checkSource(spec); err != nil {
			return err
		}
		return h.putDisk(Disk{Spec: spec})
	})
}

// ResizeDisk implements compute.Provider (grow only).
func (p *Provider) ResizeDisk(ctx context.Context, uuid string, sizeGB int64) error {
	return p.step(ctx, StepResizeDisk, func(h hv) error {
		d, err := h.disk(uuid)
		if err != nil {
			return err
		}
		if sizeGB < d.Spec.SizeGB {
			return fmt.Errorf("sim: disk %s cannot shrink from %d to %d GB", uuid, d.Spec.SizeGB, sizeGB)
		}
		d.Spec.SizeGB = sizeGB
		return h.putDisk(d)
	})
}

// AttachDisk implements compute.Provider.
func (p *Provider) AttachDisk(ctx context.Context, diskUUID, vmUUID, device string) error {
	return p.step(ctx, StepAttachDisk, func(h hv) error {
		d, err := h.disk(diskUUID)
		if err != nil {
			return err
		}
		if _, err := h.vm(vmUUID); err != nil {
			return err
		}
		if d.VMUUID != "" && d.VMUUID != vmUUID {
			return fmt.Errorf("sim: disk %s is attached to %s", diskUUID, d.VMUUID)
		}
		d.VMUUID, d.Device = vmUUID, device
		return h.putDisk(d)
	})
}

// DetachDisk implements compute.Provider.
func (p *Provider) DetachDisk(ctx context.Context, diskUUID, vmUUID string) error {
	return p.step(ctx, StepDetachDisk, func(h hv) error {
		d, err := h.disk(diskUUID)
		if err != nil {
			return err
		}
		if d.VMUUID != vmUUID {
			return nil
		}
		d.VMUUID, d.Device = "", ""
		return h.putDisk(d)
	})
}

// DeleteDisk implements compute.Provider (with the disk's replicas).
func (p *Provider) DeleteDisk(ctx context.Context, uuid string) error {
	return p.step(ctx, StepDeleteDisk, func(h hv) error { return h.deleteDisk(uuid) })
}

// Snapshot implements compute.Provider.
func (p *Provider) Snapshot(ctx context.Context, diskUUID, replicaUUID string) error {
	return p.step(ctx, StepSnapshot, func(h hv) error {
		if _, err := h.disk(diskUUID); err != nil {
			return err
		}
		return simstep.Put(h.d, kindReplica, replicaUUID, diskUUID)
	})
}

// DeleteReplica implements compute.Provider.
func (p *Provider) DeleteReplica(ctx context.Context, replicaUUID string) error {
	return p.step(ctx, StepDeleteReplica, func(h hv) error { return h.d.Delete(kindReplica, replicaUUID) })
}
