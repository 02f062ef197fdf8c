package s3gw

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// Bucket state: whether a bucket takes reads and writes now (suspension,
// a restricted or leaving storage account), cached a short time.

// accessCache keeps BucketAccess answers a short time: reads and the
// byte-less writes check them; writes of bytes always go through Reserve,
// which checks in the database.
type accessCache struct {
	acct  Accounting
	cache *ttlCache[accessEntry]
}

type accessEntry struct {
	a   buckets.Access
	err error
}

func newAccessCache(acct Accounting, clk clock.Clock, ttl time.Duration) *accessCache {
	return &accessCache{acct: acct, cache: newTTLCache[accessEntry](clk, ttl)}
}

func (c *accessCache) get(ctx context.Context, bucket string) (buckets.Access, error) {
	if e, ok := c.cache.get(bucket); ok {
		return e.a, e.err
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
	defer cancel()
	a, err := c.acct.BucketAccess(dctx, bucket)
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		return a, err // not cached: the database may be back soon
	}
	c.cache.put(bucket, accessEntry{a: a, err: err})
	return a, err
}

func (c *accessCache) invalidate(bucket string) { c.cache.forget(bucket) }

func (s *store) checkRead(ctx context.Context, bucket string) error {
	if isTrusted(ctx) {
		return nil
	}
	a, err := s.access.get(ctx, bucket)
	if err != nil {
		return s3Error(s.log, "access", bucket, err)
	}
	if a.ReadDenied != "" {
		return accessDenied(a.ReadDenied)
	}
	return nil
}

// checkDelete lets deletes through whenever reads are: a customer whose
// account is restricted or scheduled for deletion may still remove data
// (which only lowers what is stored and billed); a suspended bucket takes
// nothing.
func (s *store) checkDelete(ctx context.Context, bucket string) error {
	return s.checkRead(ctx, bucket)
}

func (s *store) checkWrite(ctx context.Context, bucket string) error {
	if isTrusted(ctx) {
		return nil
	}
	a, err := s.access.get(ctx, bucket)
	if err != nil {
		return s3Error(s.log, "access", bucket, err)
	}
	if a.WriteDenied != "" {
		return accessDenied(a.WriteDenied)
	}
	return nil
}
