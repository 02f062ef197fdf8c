package buckets

import (
	"context"
	"log/slog"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/wiring"
)

// Target is what a write or a request is about: the live bucket with what
// decides whether it may be read or written now.
type Target struct {
	Bucket            Bucket
	PrincipalKind     string
	StorageAccountID  string
	AccountPending    bool   // the storage account is scheduled for deletion
	AccountSuspended  bool   // the storage account is suspended (no reads, no writes)
	BillingRestricted string // "" or why the bucket's billing account refuses growth
}

// Queries is the persistence the accounting needs inside a transaction.
type Queries interface {
	billing.Queries
	AppendAudit(ctx context.Context, e audit.Entry) error

	GetPrincipal(ctx context.Context, id string) (objstore.Principal, error)
	GetPrincipalByStorageAccount(ctx context.Context, storageAccountID string) (objstore.Principal, error)
	GetPrincipalByUser(ctx context.Context, userID int64) (objstore.Principal, error)
	GetStorageAccountAnywhere(ctx context.Context, scope, id string) (objstore.StorageAccount, error)

	// InsertBucket inserts a live bucket: Conflict (field "name") when a
	// live bucket has the name.
	InsertBucket(ctx context.Context, b Bucket) error
	// GetLiveBucket returns the live bucket of that name.
	GetLiveBucket(ctx context.Context, name string) (Bucket, error)
	// GetTarget returns the live bucket of that name with its access facts.
	GetTarget(ctx context.Context, name string) (Target, error)
	ListPrincipalBuckets(ctx context.Context, principalID string, billingAccountID int64) ([]Bucket, error)
	ListLiveBuckets(ctx context.Context) ([]Bucket, error)
	CountAccountBuckets(ctx context.Context, billingAccountID int64) (int, error)
	// DeleteBucketRow removes a bucket row (a registration whose creation
	// failed).
	DeleteBucketRow(ctx context.Context, id string) error
	MarkBucketDeleted(ctx context.Context, id string, at time.Time) error
	SetBucketBillingAccount(ctx context.Context, id string, accountID int64, at time.Time) error
	SetBucketSuspended(ctx context.Context, id string, suspended bool, at time.Time) error

	// ReserveBytes adds n to the principal's reserved bytes if its quota
	// holds them (used + reserved + n ≤ allocation, unless uncapped); it
	// reports whether it did.
	ReserveBytes(ctx context.Context, principalID string, n int64) (bool, error)
	// AddPrincipalBytes adds to the principal's used and reserved bytes
	// (never below 0).
	AddPrincipalBytes(ctx context.Context, principalID string, used, reserved int64) error
	// Quota returns the principal's used and reserved bytes and its cap
	// (-1: uncapped).
	Quota(ctx context.Context, principalID string) (used, reserved, limit int64, err error)
	InsertReservation(ctx context.Context, r Reservation) error
	// DeleteReservation deletes a reservation, reporting whether it was
	// there (a second settle of the same reservation does nothing).
	DeleteReservation(ctx context.Context, id string) (bool, error)
	ListReservations(ctx context.Context) ([]Reservation, error)
	// ApplyBucketChange adds c to the bucket's counters (never below 0) and
	// returns its stored bytes (objects + parts) after.
	ApplyBucketChange(ctx context.Context, bucketID string, c Change, at time.Time) (int64, error)
	// TouchBucketHour records that the bucket went from prev to now stored
	// bytes in the hour starting at hour.
	TouchBucketHour(ctx context.Context, bucketID string, hour time.Time, prev, now int64) error
}

// Store is Queries with transactions.
type Store interface {
	Queries
	Tx(ctx context.Context, fn func(Store) error) error

	// BucketBytesInHour returns the stored bytes of every bucket billed in
	// the hour starting at h (the hour's peak, or what the bucket held since
	// its last change before h), with positive bytes only.
	BucketBytesInHour(ctx context.Context, h time.Time) ([]HourBytes, error)
	// FirstBucketHour returns the earliest hour any bucket changed (ok
	// false: none yet).
	FirstBucketHour(ctx context.Context) (time.Time, bool, error)
	// StorageAccountBytesAt returns, for every storage account created
	// before end, the bytes its buckets held at end.
	StorageAccountBytesAt(ctx context.Context, end time.Time) ([]AccountBytes, error)
	UpsertDailyUsage(ctx context.Context, u metering.DailyUsage) error
	UsageSweptUntil(ctx context.Context, name string) (time.Time, bool, error)
	AdvanceUsageSweep(ctx context.Context, name string, from, to time.Time) (bool, error)
}

// HourBytes is a billed bucket's bytes in an hour.
type HourBytes struct {
	Bucket      Bucket
	UserID      int64
	StoredBytes int64
}

// AccountBytes is a storage account's bytes at an instant.
type AccountBytes struct {
	StorageAccountID  string
	AllocatedCapacity int64
	Bytes             int64
}

// Billing is what buckets needs of the billing core (billing.Service).
type Billing interface {
	AdmitTx(ctx context.Context, tx billing.Queries, a actor.Actor, id int64, required bool) (billing.Account, error)
	ResolveAccountTx(ctx context.Context, tx billing.Queries, a actor.Actor, id int64) (billing.Account, error)
	CheckAdmissionTx(ctx context.Context, tx billing.Queries, accountID int64) error
}

// Principals is what buckets needs of objstore.
type Principals interface {
	UserPrincipal(ctx context.Context, a actor.Actor, u objstore.UserRef) (objstore.Principal, []objstore.Key, error)
	GetStorageAccount(ctx context.Context, a actor.Actor, partnerID, id string) (objstore.StorageAccount, error)
}

// Recorder writes hourly usage records (metering.HourlyService).
type Recorder interface {
	RecordBatch(ctx context.Context, a actor.Actor, ins []metering.RecordInput) ([]metering.HourlyRecord, error)
	Closed(periodStart, now time.Time) bool
}

var (
	_ Billing    = (*billing.Service)(nil)
	_ Principals = (*objstore.Service)(nil)
	_ Recorder   = (*metering.HourlyService)(nil)
)

// DataPlane is the S3 server of this node as the bucket service sees it:
// the server starts after the app is assembled (and may not run at all:
// no --s3), so the service asks at each call whether one runs.
type DataPlane interface {
	// Provider returns the running S3 server; false when none runs here.
	Provider() (Provider, bool)
}

// NoDataPlane is the DataPlane of a node that runs no S3 server.
type NoDataPlane struct{}

// Provider reports that no S3 server runs.
func (NoDataPlane) Provider() (Provider, bool) { return nil, false }

// Deps are the service's collaborators. Store, Principals, Clock and
// DataPlane are required; Billing and Recorder only by the bucket API and
// the usage sweeps (the S3 server's accounting runs without them).
type Deps struct {
	Store      Store
	Billing    Billing
	Principals Principals
	Recorder   Recorder
	Clock      clock.Clock
	Logger     *slog.Logger
	DataPlane  DataPlane
}

// Service runs the bucket use cases and the accounting.
type Service struct {
	store      Store
	billing    Billing
	principals Principals
	recorder   Recorder
	clock      clock.Clock
	log        *slog.Logger
	plane      DataPlane
	commit     committer
}

// NewService returns the service, or an error naming a missing dependency.
func NewService(d Deps) (*Service, error) {
	if err := wiring.Require("buckets", wiring.D("Store", d.Store), wiring.D("Principals", d.Principals),
		wiring.D("Clock", d.Clock), wiring.D("DataPlane", d.DataPlane)); err != nil {
		return nil, err
	}
	log := d.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: d.Store, billing: d.Billing, principals: d.Principals, recorder: d.Recorder,
		clock: d.Clock, log: log, plane: d.DataPlane}, nil
}

func (s *Service) now() time.Time { return clock.Micro(s.clock.Now()) }
