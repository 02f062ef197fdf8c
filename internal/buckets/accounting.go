package buckets

import (
	"context"
	"fmt"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/objstore"
)

// writeDenied says why a bucket takes no writes now ("" if it does).
func writeDenied(t Target) string {
	switch {
	case t.Bucket.IsSuspended:
		return fmt.Sprintf("bucket %s is suspended", t.Bucket.Name)
	case t.AccountSuspended:
		return accountSuspended
	case t.AccountPending:
		return "the storage account is scheduled for deletion; it takes no writes"
	case t.BillingRestricted != "":
		return t.BillingRestricted
	}
	return ""
}

// readDenied says why a bucket serves no reads (nor deletes) now ("" if it
// does). A suspended storage account keeps its data but serves none of it:
// the suspension is a billing one, lifted by resuming the account.
func readDenied(t Target) string {
	switch {
	case t.Bucket.IsSuspended:
		return fmt.Sprintf("bucket %s is suspended", t.Bucket.Name)
	case t.AccountSuspended:
		return accountSuspended
	}
	return ""
}

// accountSuspended is what a suspended storage account's S3 requests get.
const accountSuspended = "the storage account is suspended"

// BucketAccess returns who owns a bucket and whether reads and writes are
// refused now (NotFound: no such live bucket).
func (s *Service) BucketAccess(ctx context.Context, name string) (Access, error) {
	t, err := s.store.GetTarget(ctx, name)
	if err != nil {
		return Access{}, err
	}
	return Access{BucketID: t.Bucket.ID, PrincipalID: t.Bucket.PrincipalID, WriteDenied: writeDenied(t),
		ReadDenied: readDenied(t)}, nil
}

// RegisterBucket records a bucket a principal creates through S3, before the
// S3 server creates it: Conflict (field "name") when the name is taken, with
// field "owned" when the principal holds it already; Forbidden when the
// principal may not create buckets now. An idcloudhost user's bucket is
// billed to the user's default billing account.
func (s *Service) RegisterBucket(ctx context.Context, name, principalID string) (Bucket, error) {
	if err := ValidateName(name); err != nil {
		return Bucket{}, err
	}
	var b Bucket
	err := s.store.Tx(ctx, func(tx Store) error {
		p, err := tx.GetPrincipal(ctx, principalID)
		if err != nil {
			return err
		}
		if existing, err := tx.GetLiveBucket(ctx, name); err == nil {
			if existing.PrincipalID == principalID {
				return &errs.Error{Kind: errs.KindConflict, Field: "owned", Msg: "you already own bucket " + name}
			}
			return &errs.Error{Kind: errs.KindConflict, Field: "name", Msg: "bucket name " + name + " is taken"}
		} else if !errs.Is(err, errs.KindNotFound) {
			return err
		}
		now := s.now()
		b = Bucket{ID: ids.New(), Name: name, PrincipalID: p.ID, OrgPath: p.OrgPath, CreatedAt: now, ModifiedAt: now}
		switch p.Kind {
		case objstore.KindUser:
			acct, err := tx.DefaultBillingAccount(ctx, p.OrgID, p.UserID)
			if err != nil {
				if errs.Is(err, errs.KindNotFound) {
					return errs.New(errs.KindForbidden, "the user has no default billing account to bill a bucket to")
				}
				return err
			}
			if err := s.billing.CheckAdmissionTx(ctx, tx, acct.ID); err != nil {
				return errs.New(errs.KindForbidden, errs.Public(err))
			}
			b.BillingAccountID = acct.ID
		case objstore.KindStorageAccount:
			sa, err := tx.GetStorageAccountAnywhere(ctx, "/", p.StorageAccountID)
			if err != nil {
				return err
			}
			if sa.PendingDeletedAt != nil {
				return errs.New(errs.KindForbidden, "the storage account is scheduled for deletion; it takes no new buckets")
			}
			if sa.SuspendedAt != nil {
				return errs.New(errs.KindForbidden, accountSuspended+"; it takes no new buckets")
			}
		}
		return tx.InsertBucket(ctx, b)
	})
	return b, err
}

// UnregisterBucket forgets a bucket RegisterBucket recorded whose creation
// then failed.
func (s *Service) UnregisterBucket(ctx context.Context, name string) error {
	return s.store.Tx(ctx, func(tx Store) error {
		b, err := tx.GetLiveBucket(ctx, name)
		if err != nil {
			return err
		}
		return tx.DeleteBucketRow(ctx, b.ID)
	})
}

// DropBucket marks a bucket deleted after the S3 server deleted it.
func (s *Service) DropBucket(ctx context.Context, name string) error {
	return s.store.Tx(ctx, func(tx Store) error {
		b, err := tx.GetLiveBucket(ctx, name)
		if err != nil {
			return err
		}
		now := s.now()
		if b.Stored() != 0 || b.NumObjects != 0 {
			// The S3 server found it empty; the counters disagree. Zero them
			// so the principal's total follows, and say so.
			s.log.WarnContext(ctx, "deleted bucket had non-zero counters; zeroed", "bucket", b.Name,
				"size_bytes", b.SizeBytes, "num_objects", b.NumObjects, "parts_bytes", b.PartsBytes)
			if err := s.applyTx(ctx, tx, b, Change{Objects: -b.NumObjects, ObjectBytes: -b.SizeBytes, PartBytes: -b.PartsBytes}, 0, now); err != nil {
				return err
			}
		}
		return tx.MarkBucketDeleted(ctx, b.ID, now)
	})
}

// Reserve reserves w.Bytes for a write into a bucket: NotFound for no such
// bucket, Forbidden (message: why) when writes are refused, QuotaExceeded
// when the storage account's allocation cannot hold them. Concurrent calls
// share transactions (committer).
func (s *Service) Reserve(ctx context.Context, w Write) (Reservation, error) {
	if w.Bytes < 0 {
		return Reservation{}, errs.Invalid("Content-Length", "must not be negative")
	}
	var r Reservation
	var refused error // a business outcome: it leaves the transaction usable
	err := s.commit.do(ctx, s.store, func(tx Store) error {
		r, refused = Reservation{}, nil
		t, err := tx.GetTarget(ctx, w.Bucket)
		if errs.Is(err, errs.KindNotFound) {
			refused = err
			return nil
		}
		if err != nil {
			return err
		}
		// A delete's row records only the intent (it frees, never takes), so it
		// is neither refused nor counted against the quota.
		if w.Op == OpDelete {
			w.Bytes = 0
		} else {
			if why := writeDenied(t); why != "" {
				refused = errs.New(errs.KindForbidden, why)
				return nil
			}
			ok, err := tx.ReserveBytes(ctx, t.Bucket.PrincipalID, w.Bytes)
			if err != nil {
				return err
			}
			if !ok {
				used, reserved, limit, err := tx.Quota(ctx, t.Bucket.PrincipalID)
				if err != nil {
					return err
				}
				refused = errs.Newf(errs.KindQuotaExceeded,
					"the storage account's allocated capacity is %d bytes; %d are stored and %d reserved by writes in progress, so %d more do not fit",
					limit, used, reserved, w.Bytes)
				return nil
			}
		}
		r = Reservation{ID: ids.New(), PrincipalID: t.Bucket.PrincipalID, BucketID: t.Bucket.ID, Write: w, CreatedAt: s.now()}
		return tx.InsertReservation(ctx, r)
	})
	if err == nil {
		err = refused
	}
	if err != nil {
		return Reservation{}, err
	}
	return r, nil
}

// Settle records what a reserved write did and drops its reservation, in one
// transaction. Deleting the row claims the reservation: settling one
// already settled or released (by another node's recovery running at the
// same time) does nothing and reports false.
func (s *Service) Settle(ctx context.Context, r Reservation, c Change) (bool, error) {
	var claimed bool
	err := s.commit.do(ctx, s.store, func(tx Store) error {
		there, err := tx.DeleteReservation(ctx, r.ID)
		if claimed = there; err != nil || !there {
			return err
		}
		return s.applyTx(ctx, tx, Bucket{ID: r.BucketID, PrincipalID: r.PrincipalID}, c, -r.Bytes, s.now())
	})
	return claimed && err == nil, err
}

// Release drops a reservation whose write did not happen; false: it was
// gone (settled or released by another node's recovery).
func (s *Service) Release(ctx context.Context, r Reservation) (bool, error) {
	var claimed bool
	err := s.commit.do(ctx, s.store, func(tx Store) error {
		there, err := tx.DeleteReservation(ctx, r.ID)
		if claimed = there; err != nil || !there {
			return err
		}
		return tx.AddPrincipalBytes(ctx, r.PrincipalID, 0, -r.Bytes)
	})
	return claimed && err == nil, err
}

// Apply records a change that needed no reservation (deletes, aborts).
func (s *Service) Apply(ctx context.Context, bucket string, c Change) error {
	var missing error
	err := s.commit.do(ctx, s.store, func(tx Store) error {
		missing = nil
		b, err := tx.GetLiveBucket(ctx, bucket)
		if errs.Is(err, errs.KindNotFound) {
			missing = err
			return nil
		}
		if err != nil {
			return err
		}
		return s.applyTx(ctx, tx, b, c, 0, s.now())
	})
	if err == nil {
		err = missing
	}
	return err
}

// applyTx moves the bucket's and its principal's counters and the bucket's
// hour.
func (s *Service) applyTx(ctx context.Context, tx Store, b Bucket, c Change, reservedDelta int64, now time.Time) error {
	delta := c.ObjectBytes + c.PartBytes
	if err := tx.AddPrincipalBytes(ctx, b.PrincipalID, delta, reservedDelta); err != nil {
		return err
	}
	if c == (Change{}) {
		return nil
	}
	after, err := tx.ApplyBucketChange(ctx, b.ID, c, now)
	if err != nil {
		return err
	}
	return tx.TouchBucketHour(ctx, b.ID, now.UTC().Truncate(time.Hour), max(after-delta, 0), after)
}

// PendingReservations returns every reservation of every node (the S3
// server recovers those of dead nodes).
func (s *Service) PendingReservations(ctx context.Context) ([]Reservation, error) {
	return s.store.ListReservations(ctx)
}

// LiveBuckets returns every live bucket (the reconciliation walk).
func (s *Service) LiveBuckets(ctx context.Context) ([]Bucket, error) {
	return s.store.ListLiveBuckets(ctx)
}
