// Package sim is the built-in compute provider: an in-memory fake
// hypervisor per process. It keeps the VMs, disks and replicas it was told
// about and checks that each call makes sense (a VM is started only if it
// exists and is stopped …), so a bug in the service's step ordering shows
// up as an error. Delay is the time each step takes (0: immediate);
// FailNext makes the next n calls of a step fail, for tests.
//
// Idempotence: repeating a call that succeeded succeeds without change
// (creating an existing VM, stopping a stopped one, deleting a missing
// one).
package sim

import (
	"context"
	"fmt"
	"sync"
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

	mu       sync.Mutex
	vms      map[string]*VM
	disks    map[string]*Disk
	replicas map[string]string // replica uuid → disk uuid
}

var _ compute.Provider = (*Provider)(nil)

// New returns an empty simulator with the given step delay.
func New(delay time.Duration) *Provider {
	return &Provider{Steps: simstep.New(delay), vms: map[string]*VM{}, disks: map[string]*Disk{},
		replicas: map[string]string{}}
}

// VM returns a copy of the simulator's VM.
func (p *Provider) VM(uuid string) (VM, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.vms[uuid]
	if !ok {
		return VM{}, false
	}
	return *v, true
}

// Disk returns a copy of the simulator's disk.
func (p *Provider) Disk(uuid string) (Disk, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d, ok := p.disks[uuid]
	if !ok {
		return Disk{}, false
	}
	return *d, true
}

// Replica reports whether the simulator holds the replica.
func (p *Provider) Replica(uuid string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.replicas[uuid]
	return ok
}

// Counts returns how many VMs, disks and replicas exist.
func (p *Provider) Counts() (vms, disks, replicas int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.vms), len(p.disks), len(p.replicas)
}

// begin counts a call, applies an injected failure and waits the delay.
// It returns with p.mu held on success.
func (p *Provider) begin(ctx context.Context, step string) error {
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
	p.mu.Lock()
	return nil
}

func (p *Provider) vm(uuid string) (*VM, error) {
	v, ok := p.vms[uuid]
	if !ok {
		return nil, fmt.Errorf("sim: no VM %s", uuid)
	}
	return v, nil
}

// CreateVM implements compute.Provider.
func (p *Provider) CreateVM(ctx context.Context, spec compute.VMSpec) error {
	if err := p.begin(ctx, StepCreateVM); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if _, ok := p.vms[spec.UUID]; ok {
		return nil
	}
	if spec.ExistingDisk {
		d, ok := p.disks[spec.Disk.UUID]
		if !ok {
			return fmt.Errorf("sim: no disk %s", spec.Disk.UUID)
		}
		if d.VMUUID != "" && d.VMUUID != spec.UUID {
			return fmt.Errorf("sim: disk %s is attached to %s", d.Spec.UUID, d.VMUUID)
		}
		d.VMUUID, d.Device = spec.UUID, "vda"
	} else {
		if err := p.checkSource(spec.Disk); err != nil {
			return err
		}
		p.disks[spec.Disk.UUID] = &Disk{Spec: spec.Disk, VMUUID: spec.UUID, Device: "vda"}
	}
	p.vms[spec.UUID] = &VM{Spec: spec, Running: true, OSName: spec.OSName, OSVersion: spec.OSVersion,
		PasswordHash: spec.PasswordHash}
	return nil
}

func (p *Provider) checkSource(d compute.DiskSpec) error {
	switch d.SourceType {
	case compute.SourceDisk:
		if _, ok := p.disks[d.SourceImage]; !ok {
			return fmt.Errorf("sim: no source disk %s", d.SourceImage)
		}
	case compute.SourceSnapshot:
		if _, ok := p.replicas[d.SourceImage]; !ok {
			return fmt.Errorf("sim: no source replica %s", d.SourceImage)
		}
	}
	return nil
}

// StartVM implements compute.Provider.
func (p *Provider) StartVM(ctx context.Context, uuid string, rescue bool) error {
	if err := p.begin(ctx, StepStartVM); err != nil {
		return err
	}
	defer p.mu.Unlock()
	v, err := p.vm(uuid)
	if err != nil {
		return err
	}
	if v.Running && rescue && !v.Rescue {
		// rescue_start on a running VM reboots it into the rescue image.
		v.Rescue = true
		return nil
	}
	if !v.Running {
		v.Running, v.Rescue = true, rescue
	}
	return nil
}

// StopVM implements compute.Provider.
func (p *Provider) StopVM(ctx context.Context, uuid string, _ bool) error {
	if err := p.begin(ctx, StepStopVM); err != nil {
		return err
	}
	defer p.mu.Unlock()
	v, err := p.vm(uuid)
	if err != nil {
		return err
	}
	v.Running, v.Rescue = false, false
	return nil
}

// ResizeVM implements compute.Provider.
func (p *Provider) ResizeVM(ctx context.Context, uuid string, vcpu, ramMB int64) error {
	if err := p.begin(ctx, StepResizeVM); err != nil {
		return err
	}
	defer p.mu.Unlock()
	v, err := p.vm(uuid)
	if err != nil {
		return err
	}
	if v.Running && (v.Spec.VCPU != vcpu || v.Spec.RAMMB != ramMB) {
		return fmt.Errorf("sim: VM %s is running", uuid)
	}
	v.Spec.VCPU, v.Spec.RAMMB = vcpu, ramMB
	return nil
}

// Reinstall implements compute.Provider.
func (p *Provider) Reinstall(ctx context.Context, uuid, osName, osVersion string) error {
	if err := p.begin(ctx, StepReinstall); err != nil {
		return err
	}
	defer p.mu.Unlock()
	v, err := p.vm(uuid)
	if err != nil {
		return err
	}
	v.OSName, v.OSVersion, v.Restored = osName, osVersion, ""
	v.Running = true
	return nil
}

// Rebuild implements compute.Provider.
func (p *Provider) Rebuild(ctx context.Context, uuid, diskUUID, replicaUUID string) error {
	if err := p.begin(ctx, StepRebuild); err != nil {
		return err
	}
	defer p.mu.Unlock()
	v, err := p.vm(uuid)
	if err != nil {
		return err
	}
	if p.replicas[replicaUUID] != diskUUID {
		return fmt.Errorf("sim: replica %s is not of disk %s", replicaUUID, diskUUID)
	}
	v.Restored, v.Running = replicaUUID, false
	return nil
}

// SetPassword implements compute.Provider.
func (p *Provider) SetPassword(ctx context.Context, uuid, username, passwordHash string) error {
	if err := p.begin(ctx, StepSetPassword); err != nil {
		return err
	}
	defer p.mu.Unlock()
	v, err := p.vm(uuid)
	if err != nil {
		return err
	}
	if !v.Running {
		return fmt.Errorf("sim: VM %s is not running", uuid)
	}
	if username != v.Spec.Username {
		return fmt.Errorf("sim: VM %s has no user %s", uuid, username)
	}
	v.PasswordHash = passwordHash
	return nil
}

// DeleteVM implements compute.Provider: the VM and every disk attached to
// it (with their replicas).
func (p *Provider) DeleteVM(ctx context.Context, uuid string) error {
	if err := p.begin(ctx, StepDeleteVM); err != nil {
		return err
	}
	defer p.mu.Unlock()
	for du, d := range p.disks {
		if d.VMUUID == uuid {
			p.deleteDisk(du)
		}
	}
	delete(p.vms, uuid)
	return nil
}

func (p *Provider) deleteDisk(uuid string) {
	for r, d := range p.replicas {
		if d == uuid {
			delete(p.replicas, r)
		}
	}
	delete(p.disks, uuid)
}

// CreateDisk implements compute.Provider.
func (p *Provider) CreateDisk(ctx context.Context, spec compute.DiskSpec) error {
	if err := p.begin(ctx, StepCreateDisk); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if _, ok := p.disks[spec.UUID]; ok {
		return nil
	}
	if err := p.checkSource(spec); err != nil {
		return err
	}
	p.disks[spec.UUID] = &Disk{Spec: spec}
	return nil
}

// ResizeDisk implements compute.Provider (grow only).
func (p *Provider) ResizeDisk(ctx context.Context, uuid string, sizeGB int64) error {
	if err := p.begin(ctx, StepResizeDisk); err != nil {
		return err
	}
	defer p.mu.Unlock()
	d, ok := p.disks[uuid]
	if !ok {
		return fmt.Errorf("sim: no disk %s", uuid)
	}
	if sizeGB < d.Spec.SizeGB {
		return fmt.Errorf("sim: disk %s cannot shrink from %d to %d GB", uuid, d.Spec.SizeGB, sizeGB)
	}
	d.Spec.SizeGB = sizeGB
	return nil
}

// AttachDisk implements compute.Provider.
func (p *Provider) AttachDisk(ctx context.Context, diskUUID, vmUUID, device string) error {
	if err := p.begin(ctx, StepAttachDisk); err != nil {
		return err
	}
	defer p.mu.Unlock()
	d, ok := p.disks[diskUUID]
	if !ok {
		return fmt.Errorf("sim: no disk %s", diskUUID)
	}
	if _, err := p.vm(vmUUID); err != nil {
		return err
	}
	if d.VMUUID != "" && d.VMUUID != vmUUID {
		return fmt.Errorf("sim: disk %s is attached to %s", diskUUID, d.VMUUID)
	}
	d.VMUUID, d.Device = vmUUID, device
	return nil
}

// DetachDisk implements compute.Provider.
func (p *Provider) DetachDisk(ctx context.Context, diskUUID, vmUUID string) error {
	if err := p.begin(ctx, StepDetachDisk); err != nil {
		return err
	}
	defer p.mu.Unlock()
	d, ok := p.disks[diskUUID]
	if !ok {
		return fmt.Errorf("sim: no disk %s", diskUUID)
	}
	if d.VMUUID == vmUUID {
		d.VMUUID, d.Device = "", ""
	}
	return nil
}

// DeleteDisk implements compute.Provider (with the disk's replicas).
func (p *Provider) DeleteDisk(ctx context.Context, uuid string) error {
	if err := p.begin(ctx, StepDeleteDisk); err != nil {
		return err
	}
	defer p.mu.Unlock()
	p.deleteDisk(uuid)
	return nil
}

// Snapshot implements compute.Provider.
func (p *Provider) Snapshot(ctx context.Context, diskUUID, replicaUUID string) error {
	if err := p.begin(ctx, StepSnapshot); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if _, ok := p.disks[diskUUID]; !ok {
		return fmt.Errorf("sim: no disk %s", diskUUID)
	}
	p.replicas[replicaUUID] = diskUUID
	return nil
}

// DeleteReplica implements compute.Provider.
func (p *Provider) DeleteReplica(ctx context.Context, replicaUUID string) error {
	if err := p.begin(ctx, StepDeleteReplica); err != nil {
		return err
	}
	defer p.mu.Unlock()
	delete(p.replicas, replicaUUID)
	return nil
}
