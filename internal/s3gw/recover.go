package s3gw

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/buckets"
)

// recoverPending settles or releases the reservations whose write can no
// longer finish: those of dead nodes (any node may take them: the node is
// fenced, so it writes no more), and this node's own that are older than
// minAge and not running here (settles that failed, or a previous
// incarnation of a given node id). A reservation of a live node is never
// touched: its write may still be running there.
func (s *store) recoverPending(ctx context.Context, minAge time.Duration) (settled, released int, err error) {
	rs, err := s.acct.PendingReservations(ctx)
	if err != nil {
		return 0, 0, err
	}
	self := s.lease.ID()
	var others []string
	for _, r := range rs {
		if r.Node != self {
			others = append(others, r.Node)
		}
	}
	dead := map[string]bool{}
	if len(others) > 0 {
		if dead, err = s.nodes.Dead(ctx, others); err != nil {
			return 0, 0, err
		}
	}
	for _, r := range rs {
		if r.Node == self && minAge > 0 && time.Since(r.CreatedAt) < minAge {
			continue
		}
		if r.Node != self && !dead[r.Node] {
			continue
		}
		if _, running := s.inflight.Load(r.ID); running {
			continue
		}
		didSettle, claimed, err := s.recoverOne(ctx, r, false)
		if err == nil && !claimed {
			continue // another node recovered it meanwhile
		}
		if err != nil {
			s.log.Error("s3: recovering a reservation", "reservation", r.ID, "node", r.Node, "bucket", r.Bucket,
				"key", r.Key, "op", r.Op, "err", err)
			continue
		}
		if didSettle {
			settled++
		} else {
			released++
		}
		s.log.Info("s3: recovered a reservation", "reservation", r.ID, "node", r.Node, "bucket", r.Bucket,
			"key", r.Key, "op", r.Op, "settled", didSettle)
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
// the difference is settled; otherwise the bytes are released. claimed is
// false when another node recovered it first.
// held: the caller holds the object's lock (a put or copy only).
func (s *store) recoverOne(ctx context.Context, r buckets.Reservation, held bool) (settled, claimed bool, err error) {
	ctx = trustedCtx(ctx)
	var change *buckets.Change // nil: the write did not happen
	var unlock func()
	switch r.Op {
	case buckets.OpPut, buckets.OpCopy:
		change, unlock, err = s.putOutcome(ctx, r, held)
	case buckets.OpDelete:
		change, unlock, err = s.deleteOutcome(ctx, r, held)
	case buckets.OpPart:
		change, unlock, err = s.partOutcome(ctx, r)
	case buckets.OpComplete:
		change, unlock, err = s.completeOutcome(ctx, r)
	}
	if err != nil {
		return false, false, err
	}
	if unlock != nil {
		defer unlock() // held until the reservation is settled or released
	}
	dctx, cancel := context.WithTimeout(ctx, dbTimeout)
	defer cancel()
	if change == nil {
		claimed, err = s.acct.Release(dctx, r)
		return false, claimed, err
	}
	claimed, err = s.acct.Settle(dctx, r, *change)
	return true, claimed, err
}

// The outcomes of recoverOne: each takes the locks the write took (unless
// held), reads what is stored, and returns the change the write made (nil:
// it did not happen) with the function that releases the locks (nil with
// an error: none are held then).

// objectNow takes the object's lock (unless the caller holds it) and reads
// what is stored at the reservation's key (found false: nothing is, cur
// says nothing). On an error no lock is held.
func (s *store) objectNow(ctx context.Context, r buckets.Reservation, held bool) (cur objInfo, found bool, unlock func(), err error) {
	unlock = func() {}
	if !held {
		if unlock, err = s.locks.object(ctx, r.Bucket, r.Key); err != nil {
			return objInfo{}, false, nil, err
		}
	}
	cur, err = s.stat(ctx, r.Bucket, r.Key)
	if err != nil && !gone(err) {
		unlock()
		return objInfo{}, false, nil, err
	}
	return cur, err == nil, unlock, nil
}

// putOutcome: a put or copy happened if the object differs from what it
// replaced.
func (s *store) putOutcome(ctx context.Context, r buckets.Reservation, held bool) (*buckets.Change, func(), error) {
	cur, found, unlock, err := s.objectNow(ctx, r, held)
	if err != nil {
		return nil, nil, err
	}
	old := oldOf(r)
	// A put cannot remove an object: gone means it did not happen.
	if found && cur.exists && !unchanged(old, cur) {
		c := objectChange(old, cur.size)
		return &c, unlock, nil
	}
	return nil, unlock, nil
}

// deleteOutcome: a delete happened if the object it found is gone or
// changed.
func (s *store) deleteOutcome(ctx context.Context, r buckets.Reservation, held bool) (*buckets.Change, func(), error) {
	cur, found, unlock, err := s.objectNow(ctx, r, held)
	if err != nil {
		return nil, nil, err
	}
	old := oldOf(r)
	// The object the delete found is gone (or was replaced, which a
	// writer does only after settling this reservation): it happened.
	if !found || !unchanged(old, cur) {
		return &buckets.Change{Objects: -1, ObjectBytes: -old.size}, unlock, nil
	}
	return nil, unlock, nil
}

// partOutcome: a part upload happened if the part differs from the one it
// replaced.
func (s *store) partOutcome(ctx context.Context, r buckets.Reservation) (*buckets.Change, func(), error) {
	unlock1, err := s.locks.uploadShared(ctx, r.Bucket, r.Key, r.UploadID)
	if err != nil {
		return nil, nil, err
	}
	unlock2, err := s.locks.part(ctx, r.Bucket, r.Key, r.UploadID, r.Part)
	if err != nil {
		unlock1()
		return nil, nil, err
	}
	unlock := func() { unlock2(); unlock1() }
	old := oldOf(r)
	cur, err := s.part(ctx, r.Bucket, r.Key, r.UploadID, r.Part)
	if err != nil && !gone(err) {
		unlock()
		return nil, nil, err
	}
	if err == nil && cur.exists && !unchanged(old, cur) {
		return &buckets.Change{PartBytes: cur.size - old.bytes()}, unlock, nil
	}
	return nil, unlock, nil
}

// completeOutcome: a complete happened if its upload is gone and the object
// differs from what it replaced.
func (s *store) completeOutcome(ctx context.Context, r buckets.Reservation) (*buckets.Change, func(), error) {
	unlock1, err := s.locks.uploadExclusive(ctx, r.Bucket, r.Key, r.UploadID)
	if err != nil {
		return nil, nil, err
	}
	unlock2, err := s.locks.object(ctx, r.Bucket, r.Key)
	if err != nil {
		unlock1()
		return nil, nil, err
	}
	unlock := func() { unlock2(); unlock1() }
	if _, err := s.parts(ctx, r.Bucket, r.Key, r.UploadID); err == nil {
		return nil, unlock, nil // the upload is still there: the complete did not happen
	} else if !gone(err) {
		unlock()
		return nil, nil, err
	}
	old := oldOf(r)
	cur, err := s.stat(ctx, r.Bucket, r.Key)
	if err != nil && !gone(err) {
		unlock()
		return nil, nil, err
	}
	if err == nil && cur.exists && !unchanged(old, cur) {
		// Every part of the upload left the parts' bytes, the listed
		// ones into the object, the others dropped.
		c := objectChange(old, cur.size)
		c.PartBytes = -r.PartsBytes
		return &c, unlock, nil
	}
	return nil, unlock, nil
}

// recoverTakenOver settles or releases the puts and copies of one object
// that dead nodes left reserved; the caller holds the object's lock, taken
// over from one of them. Another node's write to the object after the death
// and before the periodic recovery would otherwise make the dead node's
// write look done (the object differs from what it replaced) and count it
// twice.
func (s *store) recoverTakenOver(ctx context.Context, bucket, key string) error {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
	defer cancel()
	rs, err := s.acct.PendingReservations(dctx)
	if err != nil {
		return err
	}
	self := s.lease.ID()
	var mine []buckets.Reservation
	var ids []string
	for _, r := range rs {
		if r.Bucket == bucket && r.Key == key && (r.Op == buckets.OpPut || r.Op == buckets.OpCopy || r.Op == buckets.OpDelete) && r.Node != self {
			mine = append(mine, r)
			ids = append(ids, r.Node)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	dead, err := s.nodes.Dead(dctx, ids)
	if err != nil {
		return err
	}
	for _, r := range mine {
		if !dead[r.Node] {
			continue
		}
		didSettle, claimed, err := s.recoverOne(dctx, r, true)
		if err != nil {
			return err
		}
		if claimed {
			s.log.Info("s3: recovered a dead node's write before writing over it", "reservation", r.ID, "node", r.Node,
				"bucket", r.Bucket, "key", r.Key, "op", r.Op, "settled", didSettle)
		}
	}
	return nil
}
