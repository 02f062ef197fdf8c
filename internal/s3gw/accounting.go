package s3gw

import (
	"context"
	"net/http"
	"time"

	"github.com/sethvargo/go-retry"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// Accounting of writes: reserve before, settle or release after, apply what
// needed no reservation; transient failures retried.

func (s *store) reserve(ctx context.Context, w buckets.Write) (buckets.Reservation, error) {
	// A node the others declared dead may see its reservations recovered
	// under it: it writes again only once it registered anew.
	if !s.lease.Check(context.WithoutCancel(ctx)) { // fasthttp's context: see locks.both
		return buckets.Reservation{}, apiError("ServiceUnavailable", http.StatusServiceUnavailable,
			"this node lost its lease and could not register again; retry")
	}
	w.Node = s.lease.ID()
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
	defer cancel()
	r, err := s.acct.Reserve(dctx, w)
	if err != nil {
		return r, s3Error(s.log, "reserve", w.Bucket, err)
	}
	s.inflight.Store(r.ID, struct{}{})
	return r, nil
}

// settle records what a reserved write did. A failure is logged, not
// returned: the write happened; the reservation stays in the database and
// the next recovery (Start, Reconcile) settles it from what is on disk.
func (s *store) settle(ctx context.Context, r buckets.Reservation, c buckets.Change) {
	defer s.inflight.Delete(r.ID)
	var claimed bool
	err := retryAccounting(ctx, func(ctx context.Context) (err error) { claimed, err = s.acct.Settle(ctx, r, c); return err })
	if err != nil {
		s.log.Error("s3: settle failed; the reservation waits for recovery", "bucket", r.Bucket, "key", r.Key,
			"op", r.Op, "reservation", r.ID, "err", err)
	} else if !claimed {
		s.lostReservation(r)
	}
}

// lostReservation logs a write whose reservation another node recovered
// while it ran: only a node declared dead (fenced) in the middle of a write
// gets here, and its write may be uncounted until the reconciliation.
func (s *store) lostReservation(r buckets.Reservation) {
	s.log.Error("s3: a write finished after another node recovered its reservation (this node was declared dead); "+
		"the bucket's counters may drift until reconciled", "bucket", r.Bucket, "key", r.Key, "op", r.Op, "reservation", r.ID)
}

// release drops the reservation of a write that did not happen.
func (s *store) release(ctx context.Context, r buckets.Reservation) {
	defer s.inflight.Delete(r.ID)
	err := retryAccounting(ctx, func(ctx context.Context) (err error) { _, err = s.acct.Release(ctx, r); return err })
	if err != nil {
		s.log.Error("s3: release failed; the reservation waits for recovery", "bucket", r.Bucket, "key", r.Key,
			"op", r.Op, "reservation", r.ID, "err", err)
	}
}

// apply records a change that needed no reservation (deletes, aborts). A
// failure leaves the counters high until the reconciliation reports it.
func (s *store) apply(ctx context.Context, bucket string, c buckets.Change) {
	err := retryAccounting(ctx, func(ctx context.Context) error { return s.acct.Apply(ctx, bucket, c) })
	if err != nil {
		s.log.Error("s3: recording a delete failed; the counters drift until reconciled", "bucket", bucket,
			"objects", c.Objects, "object_bytes", c.ObjectBytes, "part_bytes", c.PartBytes, "err", err)
	}
}

// retryBackoff is how a transient failure is retried: 3 more tries, 50 ms
// after the first, doubling, ±20 %, never more than 500 ms apart.
func retryBackoff() retry.Backoff {
	return retry.WithMaxRetries(3, retry.WithCappedDuration(500*time.Millisecond,
		retry.WithJitterPercent(20, retry.NewExponential(50*time.Millisecond))))
}

// retryable reports a failure another try may not meet: errs.KindUnavailable,
// the database busy or briefly away (db.Tx retries busy, serialization and
// deadlock failures itself and returns what is left of them, a SQLite still
// busy or a lock or statement timeout, as KindUnavailable). Any other
// error, an internal one above all, would fail the same way again.
func retryable(err error) bool { return errs.Is(err, errs.KindUnavailable) }

// retryAccounting runs fn again on retryable failures (retryBackoff), each
// try under its own timeout and never cancelled by the request.
func retryAccounting(ctx context.Context, fn func(context.Context) error) error {
	return retry.Do(context.WithoutCancel(ctx), retryBackoff(), func(ctx context.Context) error {
		dctx, cancel := context.WithTimeout(ctx, dbTimeout)
		defer cancel()
		err := fn(dctx)
		if retryable(err) {
			return retry.RetryableError(err)
		}
		return err
	})
}

// objectChange is what replacing old with an object of size bytes does.
func objectChange(old objInfo, size int64) buckets.Change {
	c := buckets.Change{ObjectBytes: size - old.bytes()}
	if !old.exists {
		c.Objects = 1
	}
	return c
}
