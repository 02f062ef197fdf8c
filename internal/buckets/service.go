package buckets

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/objstore"
)

// TODO(lead): the bodies below are being written; signatures are the contract.
var errTODO = errs.New(errs.KindUnavailable, "buckets: not implemented yet")

// ---- the S3 server's side ----

// BucketAccess returns who owns a bucket and whether reads and writes are
// refused now (NotFound: no such live bucket).
func (s *Service) BucketAccess(ctx context.Context, name string) (Access, error) { return Access{}, errTODO }

// RegisterBucket records a bucket a principal creates through S3, before the
// S3 server creates it: Conflict (field "name") when the name is taken
// (BucketAlreadyOwnedByYou if the principal holds it: errs field "owned"),
// Forbidden when the principal may not create buckets now.
func (s *Service) RegisterBucket(ctx context.Context, name, principalID string) (Bucket, error) {
	return Bucket{}, errTODO
}

// UnregisterBucket forgets a bucket RegisterBucket recorded whose creation
// then failed.
func (s *Service) UnregisterBucket(ctx context.Context, name string) error { return errTODO }

// DropBucket marks a bucket deleted after the S3 server deleted it.
func (s *Service) DropBucket(ctx context.Context, name string) error { return errTODO }

// Reserve reserves w.Bytes for a write into a bucket: NotFound for no such
// bucket, Forbidden (message: why) when writes are refused,
// QuotaExceeded when the storage account's allocation cannot hold them.
func (s *Service) Reserve(ctx context.Context, w Write) (Reservation, error) { return Reservation{}, errTODO }

// Settle records what a reserved write did and drops its reservation, in one
// transaction.
func (s *Service) Settle(ctx context.Context, r Reservation, c Change) error { return errTODO }

// Release drops a reservation whose write did not happen.
func (s *Service) Release(ctx context.Context, r Reservation) error { return errTODO }

// Apply records a change that needed no reservation (deletes, aborts).
func (s *Service) Apply(ctx context.Context, bucket string, c Change) error { return errTODO }

// PendingReservations returns the reservations a node left (its start
// settles or releases each).
func (s *Service) PendingReservations(ctx context.Context, node string) ([]Reservation, error) {
	return nil, errTODO
}

// LiveBuckets returns every live bucket (the reconciliation walk).
func (s *Service) LiveBuckets(ctx context.Context) ([]Bucket, error) { return nil, errTODO }

// ---- the idcloudhost API ----

// S3URL is the S3 endpoint clients use ("" without a data plane).
func (s *Service) S3URL() string { return "" }

// CreateBucket creates a bucket for an idcloudhost user, billed to
// billingAccountID (0: the token's account; required with a global token):
// Invalid "name" for a name S3 refuses, Conflict "name" when taken.
func (s *Service) CreateBucket(ctx context.Context, a actor.Actor, u objstore.UserRef, name string, billingAccountID int64) (Bucket, error) {
	return Bucket{}, errTODO
}

// GetBucket returns one of the user's buckets (NotFound otherwise).
func (s *Service) GetBucket(ctx context.Context, a actor.Actor, u objstore.UserRef, name string) (Bucket, error) {
	return Bucket{}, errTODO
}

// ListBuckets lists the user's buckets, optionally of one billing account.
func (s *Service) ListBuckets(ctx context.Context, a actor.Actor, u objstore.UserRef, billingAccountID int64) ([]Bucket, error) {
	return nil, errTODO
}

// SetBucketBillingAccount moves a bucket to another of the user's billing
// accounts.
func (s *Service) SetBucketBillingAccount(ctx context.Context, a actor.Actor, u objstore.UserRef, name string, billingAccountID int64) (Bucket, error) {
	return Bucket{}, errTODO
}

// DeleteBucket deletes an empty bucket (Precondition "name" otherwise).
func (s *Service) DeleteBucket(ctx context.Context, a actor.Actor, u objstore.UserRef, name string) error {
	return errTODO
}

// ---- operators ----

// SetSuspended suspends or resumes a bucket (operators, native API).
func (s *Service) SetSuspended(ctx context.Context, a actor.Actor, name string, suspended bool) (Bucket, error) {
	return Bucket{}, errTODO
}

// AccountBuckets lists a storage account's buckets (partnerID "": the
// actor's partner), for the native API.
func (s *Service) AccountBuckets(ctx context.Context, a actor.Actor, partnerID, accountID string) ([]Bucket, error) {
	return nil, errTODO
}

// PurgeStorageAccount empties and deletes every bucket of a storage account
// (objstore calls it when a scheduled deletion comes).
func (s *Service) PurgeStorageAccount(ctx context.Context, storageAccountID string) error { return errTODO }

// MeterHours writes the object-storage usage (GB-hours per bucket) of every
// closed hour up to at into the billing core.
func (s *Service) MeterHours(ctx context.Context, at time.Time) error { return errTODO }

// SnapshotDays records the daily usage of every storage account for each
// day that ended.
func (s *Service) SnapshotDays(ctx context.Context, at time.Time) error { return errTODO }

