package s3gw

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/versity/versitygw/backend"

	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/clock"
)

// Accounting is what the S3 server needs of the bucket accounting
// (*buckets.Service).
type Accounting interface {
	BucketAccess(ctx context.Context, name string) (buckets.Access, error)
	RegisterBucket(ctx context.Context, name, principalID string) (buckets.Bucket, error)
	UnregisterBucket(ctx context.Context, name string) error
	DropBucket(ctx context.Context, name string) error
	Reserve(ctx context.Context, w buckets.Write) (buckets.Reservation, error)
	Settle(ctx context.Context, r buckets.Reservation, c buckets.Change) (bool, error)
	Release(ctx context.Context, r buckets.Reservation) (bool, error)
	Apply(ctx context.Context, bucket string, c buckets.Change) error
	PendingReservations(ctx context.Context) ([]buckets.Reservation, error)
	LiveBuckets(ctx context.Context) ([]buckets.Bucket, error)
}

var _ Accounting = (*buckets.Service)(nil)

// dbTimeout bounds one accounting call. The calls that record what already
// happened on disk run without the request's cancellation: a client hanging
// up must not leave a stored object unrecorded.
const dbTimeout = 30 * time.Second

// trustedKey marks Trellis's own calls (EmptyBucket, recovery, the
// reconciliation walk): no bucket-state checks.
type trustedKey struct{}

func trustedCtx(ctx context.Context) context.Context {
	return context.WithValue(ctx, trustedKey{}, true)
}

func isTrusted(ctx context.Context) bool {
	v, _ := ctx.Value(trustedKey{}).(bool)
	return v
}

// store is the backend versitygw serves: the posix backend, with every write
// reserved, settled or released in the accounting, and reads and writes
// refused when the bucket's state says so. Methods it does not override go
// straight to the posix backend.
type store struct {
	backend.Backend
	acct     Accounting
	lease    Lease
	nodes    Liveness
	log      *slog.Logger
	locks    *locks
	access   *accessCache
	activity activity
	stat     func(ctx context.Context, bucket, key string) (objInfo, error)
	statPart func(ctx context.Context, bucket, key, uploadID string, part int32) (objInfo, error)
	// ownersRecorded: the store keeps no bucket ACLs (an upstream S3); the
	// accounting's records say who owns a bucket (owners.go).
	ownersRecorded bool

	inflight sync.Map // reservation id → struct{} (writes this process is making)
}

func newStore(be backend.Backend, acct Accounting, lease Lease, nodes Liveness, cluster ClusterLocks,
	clk clock.Clock, accessTTL time.Duration, log *slog.Logger) *store {
	s := &store{Backend: be, acct: acct, lease: lease, nodes: nodes, log: log, locks: newLocks(cluster),
		access: newAccessCache(acct, clk, accessTTL)}
	s.locks.tookOver = s.recoverTakenOver
	if pb, ok := be.(*Backend); ok {
		s.stat = func(_ context.Context, bucket, key string) (objInfo, error) { return pb.statObject(bucket, key) }
		s.statPart = func(_ context.Context, bucket, key, uploadID string, part int32) (objInfo, error) {
			return pb.statPart(bucket, key, uploadID, part)
		}
	} else {
		s.stat = func(ctx context.Context, bucket, key string) (objInfo, error) {
			return headObject(ctx, be, bucket, key)
		}
		s.statPart = s.listPart
		s.ownersRecorded = true
	}
	return s
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
