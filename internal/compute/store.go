package compute

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/network"
)

// Queries is the persistence compute needs, without Tx. It embeds
// network.Queries (and through it billing.Queries), so network's
// AttachVMTx/DetachVMTx and billing's AdmitTx run in compute's
// transactions, and the usage segments.
type Queries interface {
	network.Queries
	billing.Queries
	metering.SegmentQueries

	AppendAudit(ctx context.Context, e audit.Entry) error
	// EnqueueJob inserts a job in the transaction (jobs.Queue).
	EnqueueJob(ctx context.Context, args jobs.Args, opts jobs.InsertOpts) error

	// ---- VMs ----

	InsertVM(ctx context.Context, v VM) error
	// GetVM returns a live (not deleted) VM whose org is in scope.
	GetVM(ctx context.Context, scope, uuid string) (VM, error)
	// LockVM takes a VM's row lock and returns it (deleted ones too).
	LockVM(ctx context.Context, uuid string) (VM, error)
	// UpdateVM writes every mutable field (all but uuid, id, org, user,
	// location, created_at).
	UpdateVM(ctx context.Context, v VM) error
	// ListVMs returns the live VMs of a filter, by id.
	ListVMs(ctx context.Context, f VMFilter) ([]VM, error)

	// ---- disks ----

	InsertDisk(ctx context.Context, d Disk) error
	// GetDisk returns a live disk whose org is in scope.
	GetDisk(ctx context.Context, scope, uuid string) (Disk, error)
	// LockDisk takes a disk's row lock and returns it (deleted ones too).
	LockDisk(ctx context.Context, uuid string) (Disk, error)
	// UpdateDisk writes every mutable field.
	UpdateDisk(ctx context.Context, d Disk) error
	// ListDisks returns the live disks of a filter, by id.
	ListDisks(ctx context.Context, f DiskFilter) ([]Disk, error)

	// ---- replicas ----

	InsertReplica(ctx context.Context, r Replica) error
	// GetReplica returns a live replica whose org is in scope.
	GetReplica(ctx context.Context, scope, uuid string) (Replica, error)
	// UpdateReplica writes status, billing account, billing name,
	// updated_at and deleted_at.
	UpdateReplica(ctx context.Context, r Replica) error
	// ListReplicas returns the live replicas of the disks (all of a type
	// when rType is not ""), oldest first.
	ListReplicas(ctx context.Context, diskUUIDs []string, rType string) ([]Replica, error)

	// CountComputeResources counts an account's live VMs, disks and
	// replicas.
	CountComputeResources(ctx context.Context, billingAccountID int64) (int, error)
	// ListBackupsDue returns the uuids of the live VMs with backups on
	// whose primary disk has no backup taken after since.
	ListBackupsDue(ctx context.Context, since time.Time, limit int) ([]string, error)
}

// Store is Queries with transactions.
type Store interface {
	Queries
	Tx(ctx context.Context, fn func(Store) error) error
}
