package s3gw

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/buckets"
)

// recoverPending settles or releases the reservations this node left in the
// database: at start (writes a stopped process was making) and in each
// reconciliation (settles or releases that failed). A reservation younger
// than minAge, or of a write still running here, is left alone.
func (s *store) recoverPending(ctx context.Context, minAge time.Duration) (settled, released int, err error) {
	rs, err := s.acct.PendingReservations(ctx, s.node)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rs {
		if minAge > 0 && time.Since(r.CreatedAt) < minAge {
			continue
		}
		if _, running := s.inflight.Load(r.ID); running {
			continue
		}
		didSettle, err := s.recoverOne(ctx, r)
		if err != nil {
			s.log.Error("s3: recovering a reservation", "reservation", r.ID, "bucket", r.Bucket, "key", r.Key, "op", r.Op, "err", err)
			continue
		}
		if didSettle {
			settled++
		} else {
			released++
		}
		s.log.Info("s3: recovered a reservation", "reservation", r.ID, "bucket", r.Bucket, "key", r.Key, "op", r.Op,
			"settled", didSettle)
	}
	return settled, released, nil
}

func oldOf(r buckets.Reservation) objInfo {
	if r.OldSize < 0 {
		return objInfo{}
	}
	return objInfo{exists: true, size: r.OldSize, etag: r.OldETag}
}

// unchanged reports whether what is there now is what the write found.
func unchanged(old, cur objInfo) bool {
	return old.exists == cur.exists && (!cur.exists || cur.size == old.size && cur.etag == old.etag)
}

// gone reports the errors that mean the bucket or upload no longer exists.
func gone(err error) bool {
	switch codeOf(err) {
	case "NoSuchBucket", "NoSuchUpload", "NoSuchKey":
		return true
	}
	return false
}

// recoverOne decides from what is on disk whether a reserved write
// happened: the object (or part) differs from what it replaced → it did, and
// the difference is settled; otherwise the bytes are released.
func (s *store) recoverOne(ctx context.Context, r buckets.Reservation) (bool, error) {
	ctx = trustedCtx(ctx)
	old := oldOf(r)
	var change *buckets.Change
	switch r.Op {
	case buckets.OpPut, buckets.OpCopy:
		defer s.locks.object(r.Bucket, r.Key)()
		cur, err := s.stat(ctx, r.Bucket, r.Key)
		if err != nil && !gone(err) {
			return false, err
		}
		// A put cannot remove an object: gone means it did not happen.
		if err == nil && cur.exists && !unchanged(old, cur) {
			c := objectChange(old, cur.size)
			change = &c
		}
	case buckets.OpPart:
		defer s.locks.uploadShared(r.UploadID)()
		defer s.locks.part(r.UploadID, r.Part)()
		cur, err := s.part(ctx, r.Bucket, r.Key, r.UploadID, r.Part)
		if err != nil && !gone(err) {
			return false, err
		}
		if err == nil && cur.exists && !unchanged(old, cur) {
			change = &buckets.Change{PartBytes: cur.size - old.bytes()}
		}
	case buckets.OpComplete:
		defer s.locks.uploadExclusive(r.UploadID)()
		defer s.locks.object(r.Bucket, r.Key)()
		_, err := s.parts(ctx, r.Bucket, r.Key, r.UploadID)
		if err == nil {
			break // the upload is still there: the complete did not happen
		}
		if !gone(err) {
			return false, err
		}
		cur, err := s.stat(ctx, r.Bucket, r.Key)
		if err != nil && !gone(err) {
			return false, err
		}
		if err == nil && cur.exists && !unchanged(old, cur) {
			// Every part of the upload left the parts' bytes, the listed
			// ones into the object, the others dropped.
			c := objectChange(old, cur.size)
			c.PartBytes = -r.PartsBytes
			change = &c
		}
	}
	dctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	if change == nil {
		return false, s.acct.Release(dctx, r)
	}
	return true, s.acct.Settle(dctx, r, *change)
}
