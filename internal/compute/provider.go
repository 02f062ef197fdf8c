package compute

import (
	"context"
	"time"
)

// Provider is the hypervisor and storage back end. Every method is keyed
// by resource uuid and idempotent: repeating a call that succeeded (a
// retried job) succeeds without doing it twice. An error means the step
// did not happen and may be retried.
type Provider interface {
	// Delay is how long a step takes; 0 = immediate (the service then runs
	// each step right after the request's commit).
	Delay() time.Duration

	// CreateVM creates and boots a VM with its primary disk made from the
	// spec's source.
	CreateVM(ctx context.Context, spec VMSpec) error
	StartVM(ctx context.Context, uuid string, rescue bool) error
	StopVM(ctx context.Context, uuid string, force bool) error
	// ResizeVM changes vcpu and ram of a stopped VM.
	ResizeVM(ctx context.Context, uuid string, vcpu, ramMB int64) error
	// Reinstall overwrites the VM's primary disk with an OS base image.
	Reinstall(ctx context.Context, uuid, osName, osVersion string) error
	// Rebuild overwrites the VM's disk diskUUID with a replica.
	Rebuild(ctx context.Context, uuid, diskUUID, replicaUUID string) error
	// SetPassword sets the password (a crypt-style hash, as cloud-init
	// takes it) of an existing user of a running VM.
	SetPassword(ctx context.Context, uuid, username, passwordHash string) error
	// DeleteVM destroys the VM and its disks.
	DeleteVM(ctx context.Context, uuid string) error

	CreateDisk(ctx context.Context, spec DiskSpec) error
	ResizeDisk(ctx context.Context, uuid string, sizeGB int64) error
	AttachDisk(ctx context.Context, diskUUID, vmUUID, device string) error
	DetachDisk(ctx context.Context, diskUUID, vmUUID string) error
	DeleteDisk(ctx context.Context, uuid string) error
	// Snapshot copies a disk into a replica.
	Snapshot(ctx context.Context, diskUUID, replicaUUID string) error
	DeleteReplica(ctx context.Context, replicaUUID string) error
}

// VMSpec is what CreateVM needs.
type VMSpec struct {
	UUID         string
	Location     string
	PoolUUID     string
	Hostname     string
	VCPU         int64
	RAMMB        int64
	OSName       string
	OSVersion    string
	Username     string
	PasswordHash string
	PublicKey    string
	CloudInit    string
	MAC          string
	PrivateIPv4  string
	Disk         DiskSpec // the primary disk (UUID, size, source)
	// ExistingDisk: Disk is an existing disk to boot from (not created).
	ExistingDisk bool
}

// DiskSpec is what CreateDisk needs.
type DiskSpec struct {
	UUID        string
	Location    string
	SizeGB      int64
	SourceType  string // EMPTY, OS_BASE, DISK, SNAPSHOT
	SourceImage string // os image "ubuntu_20.04", disk uuid or replica uuid
}
