package s3gw

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3api/middlewares"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"

	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/errs"
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
	accessTTL time.Duration, log *slog.Logger) *store {
	s := &store{Backend: be, acct: acct, lease: lease, nodes: nodes, log: log, locks: newLocks(cluster),
		access: &accessCache{acct: acct, ttl: accessTTL, m: map[string]accessEntry{}}}
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

// ---- bucket state ----

// accessCache keeps BucketAccess answers a short time: reads and the
// byte-less writes check them; writes of bytes always go through Reserve,
// which checks in the database.
type accessCache struct {
	acct Accounting
	ttl  time.Duration
	mu   sync.RWMutex
	m    map[string]accessEntry
}

type accessEntry struct {
	a       buckets.Access
	err     error
	expires time.Time
}

func (c *accessCache) get(ctx context.Context, bucket string) (buckets.Access, error) {
	now := time.Now()
	c.mu.RLock()
	e, ok := c.m[bucket]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.a, e.err
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
	defer cancel()
	a, err := c.acct.BucketAccess(dctx, bucket)
	if err != nil && !errs.Is(err, errs.KindNotFound) {
		return a, err // not cached: the database may be back soon
	}
	if c.ttl > 0 {
		c.mu.Lock()
		if len(c.m) > 100_000 {
			clear(c.m)
		}
		c.m[bucket] = accessEntry{a: a, err: err, expires: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	return a, err
}

func (c *accessCache) invalidate(bucket string) {
	c.mu.Lock()
	delete(c.m, bucket)
	c.mu.Unlock()
}

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

// ---- accounting ----

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
	err := retry(ctx, func(ctx context.Context) (err error) { claimed, err = s.acct.Settle(ctx, r, c); return err })
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
	err := retry(ctx, func(ctx context.Context) (err error) { _, err = s.acct.Release(ctx, r); return err })
	if err != nil {
		s.log.Error("s3: release failed; the reservation waits for recovery", "bucket", r.Bucket, "key", r.Key,
			"op", r.Op, "reservation", r.ID, "err", err)
	}
}

// apply records a change that needed no reservation (deletes, aborts). A
// failure leaves the counters high until the reconciliation reports it.
func (s *store) apply(ctx context.Context, bucket string, c buckets.Change) {
	err := retry(ctx, func(ctx context.Context) error { return s.acct.Apply(ctx, bucket, c) })
	if err != nil {
		s.log.Error("s3: recording a delete failed; the counters drift until reconciled", "bucket", bucket,
			"objects", c.Objects, "object_bytes", c.ObjectBytes, "part_bytes", c.PartBytes, "err", err)
	}
}

// retry runs fn a few times on transient failures (the database busy or
// briefly away), each under its own timeout and never cancelled by the
// request.
func retry(ctx context.Context, fn func(context.Context) error) error {
	base := context.WithoutCancel(ctx)
	var err error
	for attempt := range 4 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt*attempt) * 50 * time.Millisecond)
		}
		dctx, cancel := context.WithTimeout(base, dbTimeout)
		err = fn(dctx)
		cancel()
		if err == nil || errs.KindOf(err) != errs.KindUnavailable && errs.KindOf(err) != errs.KindInternal {
			return err
		}
	}
	return err
}

// objectChange is what replacing old with an object of size bytes does.
func objectChange(old objInfo, size int64) buckets.Change {
	c := buckets.Change{ObjectBytes: size - old.bytes()}
	if !old.exists {
		c.Objects = 1
	}
	return c
}

// ---- bodies ----

// countingReader counts the body and refuses bytes beyond what was reserved,
// so a body longer than announced cannot store more than the quota allowed.
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, s3err.GetAPIError(s3err.ErrIncompleteBody)
	}
	return n, err
}

// checksumCountingReader keeps a trailing-checksum body recognisable: posix
// type-asserts the body to read the checksum the trailer carried.
type checksumCountingReader struct {
	*countingReader
	ck middlewares.ChecksumReader
}

func (c checksumCountingReader) Algorithm() string { return c.ck.Algorithm() }
func (c checksumCountingReader) Checksum() string  { return c.ck.Checksum() }

func countBody(body io.Reader, limit int64) (io.Reader, *countingReader) {
	if body == nil {
		body = http.NoBody
	}
	cr := &countingReader{r: body, limit: limit}
	if ck, ok := body.(middlewares.ChecksumReader); ok {
		return checksumCountingReader{countingReader: cr, ck: ck}, cr
	}
	return cr, cr
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// ---- buckets ----

// CreateBucket records the bucket (name unique platform-wide, the
// principal allowed to create it), then creates it; the record goes if the
// creation fails.
func (s *store) CreateBucket(ctx context.Context, in *s3.CreateBucketInput, acl []byte) error {
	name := str(in.Bucket)
	owner, ok := ctx.Value("bucket-owner").(auth.Account)
	if !ok || owner.Access == "" {
		return s3err.GetAPIError(s3err.ErrAccessDenied)
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), dbTimeout)
	defer cancel()
	_, err := s.acct.RegisterBucket(dctx, name, owner.Access)
	if errs.Is(err, errs.KindConflict) && errs.FieldOf(err) == "owned" {
		// Ours already: a creation that stopped between the record and the
		// directory is finished now; otherwise S3's answer.
		if _, herr := s.Backend.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &name}); codeOf(herr) == "NoSuchBucket" {
			err = s.Backend.CreateBucket(ctx, in, acl)
			s.access.invalidate(name)
			return err
		}
	}
	if err != nil {
		return s3Error(s.log, "create_bucket", name, err)
	}
	s.access.invalidate(name)
	if err := s.Backend.CreateBucket(ctx, in, acl); err != nil {
		if uerr := retry(ctx, func(ctx context.Context) error { return s.acct.UnregisterBucket(ctx, name) }); uerr != nil {
			s.log.Error("s3: unregistering a bucket whose creation failed", "bucket", name, "err", uerr)
		}
		s.access.invalidate(name)
		return err
	}
	return nil
}

// DeleteBucket deletes an empty bucket: its unfinished multipart uploads are
// aborted first (their parts leave the counters), then the bucket goes and
// its record is marked deleted.
func (s *store) DeleteBucket(ctx context.Context, name string) error {
	if err := s.checkDelete(ctx, name); err != nil {
		return err
	}
	empty, err := s.isEmpty(ctx, name)
	if err != nil {
		return err
	}
	if !empty {
		return s3err.GetBucketErr(s3err.ErrBucketNotEmpty, name)
	}
	if err := s.abortUploads(trustedCtx(ctx), name); err != nil {
		return err
	}
	if err := s.Backend.DeleteBucket(ctx, name); err != nil {
		return err
	}
	if err := retry(ctx, func(ctx context.Context) error { return s.acct.DropBucket(ctx, name) }); err != nil {
		s.log.Error("s3: marking a deleted bucket deleted", "bucket", name, "err", err)
	}
	s.access.invalidate(name)
	return nil
}

func (s *store) isEmpty(ctx context.Context, name string) (bool, error) {
	one, empty := int32(1), ""
	out, err := s.Backend.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &name, MaxKeys: &one, StartAfter: &empty})
	if err != nil {
		return false, err
	}
	return len(out.Contents) == 0 && len(out.CommonPrefixes) == 0, nil
}

// abortUploads aborts every unfinished multipart upload of a bucket through
// the accounting.
func (s *store) abortUploads(ctx context.Context, name string) error {
	for {
		max := int32(1000)
		out, err := s.Backend.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &name, MaxUploads: &max})
		if err != nil {
			return err
		}
		if len(out.Uploads) == 0 {
			return nil
		}
		for _, u := range out.Uploads {
			key, id := u.Key, u.UploadID
			err := s.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &name, Key: &key, UploadId: &id})
			if err != nil && codeOf(err) != "NoSuchUpload" {
				return err
			}
		}
	}
}

// PutBucketPolicy is refused: a policy could open a bucket to other
// principals or to anyone, and a principal sees and touches only its own
// buckets.
func (s *store) PutBucketPolicy(context.Context, string, []byte) error {
	return apiError("NotImplemented", http.StatusNotImplemented, "Bucket policies are not supported: a bucket is its owner's only.")
}

// GetBucketPolicy answers that there is none without reading the disk:
// PutBucketPolicy is refused, so no bucket has one. versitygw asks on every
// request of a principal (never of its root), before its ACL check; the
// bucket's existence is checked before that, by the ACL read.
func (s *store) GetBucketPolicy(_ context.Context, bucket string) ([]byte, error) {
	return nil, s3err.GetBucketErr(s3err.ErrNoSuchBucketPolicy, bucket)
}

// PutBucketVersioning is refused: versions would hold bytes the accounting
// does not see.
func (s *store) PutBucketVersioning(context.Context, string, types.BucketVersioningStatus) error {
	return apiError("NotImplemented", http.StatusNotImplemented, "Bucket versioning is not supported.")
}

// ChangeBucketOwner is refused: a bucket's owner is the principal the
// accounting records.
func (s *store) ChangeBucketOwner(context.Context, string, string) error {
	return s3err.GetAPIError(s3err.ErrAccessDenied)
}

// HeadBucket is a read.
func (s *store) HeadBucket(ctx context.Context, in *s3.HeadBucketInput) (*s3.HeadBucketOutput, error) {
	if err := s.checkRead(ctx, str(in.Bucket)); err != nil {
		return nil, err
	}
	return s.Backend.HeadBucket(ctx, in)
}

// ---- objects: writes with bytes ----

// maxRefusedDrain bounds how much of a refused upload's body is read and
// thrown away so that the client reads the S3 error (QuotaExceeded,
// AccessDenied) instead of a connection reset: the server answers before
// the body is read, and versitygw drains only 256 KiB before closing.
// Larger bodies still see a reset (clients send those with
// "Expect: 100-continue", and then nothing was sent yet).
const maxRefusedDrain = 16 << 20

func drainRefused(body io.Reader, size int64) {
	if body == nil || size <= 0 || size > maxRefusedDrain {
		return
	}
	_, _ = io.CopyN(io.Discard, body, size)
}

// PutObject reserves the body's bytes, writes, and settles the difference
// with the object it replaced.
func (s *store) PutObject(ctx context.Context, po s3response.PutObjectInput) (s3response.PutObjectOutput, error) {
	if po.Bucket == nil || po.Key == nil {
		return s.Backend.PutObject(ctx, po)
	}
	bucket, key := *po.Bucket, *po.Key
	defer s.activity.begin(bucket)()
	unlock, err := s.locks.object(ctx, bucket, key)
	if err != nil {
		return s3response.PutObjectOutput{}, s.lockError("put", bucket, err)
	}
	defer unlock()
	old, err := s.stat(ctx, bucket, key)
	if err != nil {
		return s3response.PutObjectOutput{}, err
	}
	var size int64
	if po.ContentLength != nil {
		size = *po.ContentLength
	}
	r, err := s.reserve(ctx, buckets.Write{Bucket: bucket, Op: buckets.OpPut, Key: key, Bytes: size,
		OldSize: old.oldSize(), OldETag: old.etag})
	if err != nil {
		drainRefused(po.Body, size)
		return s3response.PutObjectOutput{}, err
	}
	var body *countingReader
	po.Body, body = countBody(po.Body, size)
	out, err := s.Backend.PutObject(ctx, po)
	if err != nil {
		s.release(ctx, r)
		return out, err
	}
	s.settle(ctx, r, objectChange(old, body.n))
	return out, nil
}

// CopyObject reserves the source's size (the source is locked, so it is
// the size copied), copies, and settles what the destination became.
func (s *store) CopyObject(ctx context.Context, in s3response.CopyObjectInput) (s3response.CopyObjectOutput, error) {
	if in.Bucket == nil || in.Key == nil || in.CopySource == nil {
		return s.Backend.CopyObject(ctx, in)
	}
	srcBucket, srcKey, _, err := backend.ParseCopySource(*in.CopySource)
	if err != nil {
		return s3response.CopyObjectOutput{}, err
	}
	if err := s.checkRead(ctx, srcBucket); err != nil {
		return s3response.CopyObjectOutput{}, err
	}
	bucket, key := *in.Bucket, *in.Key
	defer s.activity.begin(bucket)()
	unlock, err := s.locks.objects2(ctx, srcBucket, srcKey, bucket, key)
	if err != nil {
		return s3response.CopyObjectOutput{}, s.lockError("copy", bucket, err)
	}
	defer unlock()
	src, err := s.stat(ctx, srcBucket, srcKey)
	if err != nil || !src.exists {
		return s.Backend.CopyObject(ctx, in) // its error: no such bucket or key
	}
	old, err := s.stat(ctx, bucket, key)
	if err != nil {
		return s3response.CopyObjectOutput{}, err
	}
	r, err := s.reserve(ctx, buckets.Write{Bucket: bucket, Op: buckets.OpCopy, Key: key, Bytes: src.size,
		OldSize: old.oldSize(), OldETag: old.etag})
	if err != nil {
		return s3response.CopyObjectOutput{}, err
	}
	out, err := s.Backend.CopyObject(ctx, in)
	if err != nil {
		s.release(ctx, r)
		return out, err
	}
	cur, err := s.stat(ctx, bucket, key)
	if err != nil || !cur.exists {
		// Should not happen (the destination is locked); recovery decides.
		s.log.Error("s3: copy destination unreadable after the copy", "bucket", bucket, "key", key, "err", err)
		s.inflight.Delete(r.ID)
		return out, nil
	}
	s.settle(ctx, r, objectChange(old, cur.size))
	return out, nil
}

// part returns a part of an upload (exists false: no such part); the error
// is NoSuchUpload when the upload is gone.
func (s *store) part(ctx context.Context, bucket, key, uploadID string, part int32) (objInfo, error) {
	return s.statPart(ctx, bucket, key, uploadID, part)
}

// listPart is part through ListParts, for backends other than posix.
func (s *store) listPart(ctx context.Context, bucket, key, uploadID string, part int32) (objInfo, error) {
	marker, one := strconv.Itoa(int(part)-1), int32(1)
	out, err := s.Backend.ListParts(ctx, &s3.ListPartsInput{Bucket: &bucket, Key: &key, UploadId: &uploadID,
		PartNumberMarker: &marker, MaxParts: &one})
	if err != nil {
		return objInfo{}, err
	}
	if len(out.Parts) == 1 && out.Parts[0].PartNumber == int(part) {
		return objInfo{exists: true, size: out.Parts[0].Size, etag: out.Parts[0].ETag}, nil
	}
	return objInfo{}, nil
}

// parts returns the total size of an upload's parts.
func (s *store) parts(ctx context.Context, bucket, key, uploadID string) (int64, error) {
	var total int64
	marker, max := "", int32(10000)
	for {
		out, err := s.Backend.ListParts(ctx, &s3.ListPartsInput{Bucket: &bucket, Key: &key, UploadId: &uploadID,
			PartNumberMarker: &marker, MaxParts: &max})
		if err != nil {
			return 0, err
		}
		for _, p := range out.Parts {
			total += p.Size
		}
		if !out.IsTruncated || len(out.Parts) == 0 {
			return total, nil
		}
		marker = strconv.Itoa(out.NextPartNumberMarker)
	}
}

// UploadPart reserves the part's bytes and settles the difference with the
// part it replaced.
func (s *store) UploadPart(ctx context.Context, in *s3.UploadPartInput) (*s3.UploadPartOutput, error) {
	if in.Bucket == nil || in.Key == nil || in.UploadId == nil || in.PartNumber == nil {
		return s.Backend.UploadPart(ctx, in)
	}
	bucket, key, uploadID, pn := *in.Bucket, *in.Key, *in.UploadId, *in.PartNumber
	defer s.activity.begin(bucket)()
	unlock1, err := s.locks.uploadShared(ctx, bucket, key, uploadID)
	if err != nil {
		return nil, s.lockError("part", bucket, err)
	}
	defer unlock1()
	unlock2, err := s.locks.part(ctx, bucket, key, uploadID, pn)
	if err != nil {
		return nil, s.lockError("part", bucket, err)
	}
	defer unlock2()
	old, err := s.part(ctx, bucket, key, uploadID, pn)
	if err != nil {
		return nil, err
	}
	var size int64
	if in.ContentLength != nil {
		size = *in.ContentLength
	}
	r, err := s.reserve(ctx, buckets.Write{Bucket: bucket, Op: buckets.OpPart, Key: key, UploadID: uploadID, Part: pn,
		Bytes: size, OldSize: old.oldSize(), OldETag: old.etag})
	if err != nil {
		drainRefused(in.Body, size)
		return nil, err
	}
	var body *countingReader
	in.Body, body = countBody(in.Body, size)
	out, err := s.Backend.UploadPart(ctx, in)
	if err != nil {
		s.release(ctx, r)
		return out, err
	}
	s.settle(ctx, r, buckets.Change{PartBytes: body.n - old.bytes()})
	return out, nil
}

// UploadPartCopy reserves the copied range and settles what the part
// became.
func (s *store) UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput) (s3response.CopyPartResult, error) {
	if in.Bucket == nil || in.Key == nil || in.UploadId == nil || in.PartNumber == nil || in.CopySource == nil {
		return s.Backend.UploadPartCopy(ctx, in)
	}
	srcBucket, srcKey, _, err := backend.ParseCopySource(*in.CopySource)
	if err != nil {
		return s3response.CopyPartResult{}, err
	}
	if err := s.checkRead(ctx, srcBucket); err != nil {
		return s3response.CopyPartResult{}, err
	}
	bucket, key, uploadID, pn := *in.Bucket, *in.Key, *in.UploadId, *in.PartNumber
	defer s.activity.begin(bucket)()
	unlock1, err := s.locks.uploadShared(ctx, bucket, key, uploadID)
	if err != nil {
		return s3response.CopyPartResult{}, s.lockError("part_copy", bucket, err)
	}
	defer unlock1()
	unlock2, err := s.locks.part(ctx, bucket, key, uploadID, pn)
	if err != nil {
		return s3response.CopyPartResult{}, s.lockError("part_copy", bucket, err)
	}
	defer unlock2()
	unlock3, err := s.locks.object(ctx, srcBucket, srcKey)
	if err != nil {
		return s3response.CopyPartResult{}, s.lockError("part_copy", bucket, err)
	}
	defer unlock3()
	src, err := s.stat(ctx, srcBucket, srcKey)
	if err != nil || !src.exists {
		return s.Backend.UploadPartCopy(ctx, in)
	}
	_, length, err := backend.ParseCopySourceRange(src.size, str(in.CopySourceRange))
	if err != nil {
		return s3response.CopyPartResult{}, err
	}
	old, err := s.part(ctx, bucket, key, uploadID, pn)
	if err != nil {
		return s3response.CopyPartResult{}, err
	}
	r, err := s.reserve(ctx, buckets.Write{Bucket: bucket, Op: buckets.OpPart, Key: key, UploadID: uploadID, Part: pn,
		Bytes: length, OldSize: old.oldSize(), OldETag: old.etag})
	if err != nil {
		return s3response.CopyPartResult{}, err
	}
	out, err := s.Backend.UploadPartCopy(ctx, in)
	if err != nil {
		s.release(ctx, r)
		return out, err
	}
	cur, err := s.part(ctx, bucket, key, uploadID, pn)
	if err != nil || !cur.exists {
		s.log.Error("s3: copied part unreadable after the copy", "bucket", bucket, "key", key, "upload", uploadID, "err", err)
		s.inflight.Delete(r.ID)
		return out, nil
	}
	s.settle(ctx, r, buckets.Change{PartBytes: cur.size - old.bytes()})
	return out, nil
}

// CompleteMultipartUpload turns the upload's parts into the object: every
// part leaves the parts' bytes (posix drops the ones the list left out), the
// object replaces the old one.
func (s *store) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput) (s3response.CompleteMultipartUploadResult, string, error) {
	if in.Bucket == nil || in.Key == nil || in.UploadId == nil {
		return s.Backend.CompleteMultipartUpload(ctx, in)
	}
	bucket, key, uploadID := *in.Bucket, *in.Key, *in.UploadId
	defer s.activity.begin(bucket)()
	unlock1, err := s.locks.uploadExclusive(ctx, bucket, key, uploadID)
	if err != nil {
		return s3response.CompleteMultipartUploadResult{}, "", s.lockError("complete", bucket, err)
	}
	defer unlock1()
	unlock2, err := s.locks.object(ctx, bucket, key)
	if err != nil {
		return s3response.CompleteMultipartUploadResult{}, "", s.lockError("complete", bucket, err)
	}
	defer unlock2()
	partBytes, err := s.parts(ctx, bucket, key, uploadID)
	if err != nil {
		// No such upload (or bucket): nothing to account; posix answers
		// (a retried complete of a completed upload succeeds again).
		return s.Backend.CompleteMultipartUpload(ctx, in)
	}
	old, err := s.stat(ctx, bucket, key)
	if err != nil {
		return s3response.CompleteMultipartUploadResult{}, "", err
	}
	r, err := s.reserve(ctx, buckets.Write{Bucket: bucket, Op: buckets.OpComplete, Key: key, UploadID: uploadID,
		OldSize: old.oldSize(), OldETag: old.etag, PartsBytes: partBytes})
	if err != nil {
		return s3response.CompleteMultipartUploadResult{}, "", err
	}
	out, version, err := s.Backend.CompleteMultipartUpload(ctx, in)
	if err != nil {
		s.release(ctx, r)
		return out, version, err
	}
	cur, err := s.stat(ctx, bucket, key)
	if err != nil || !cur.exists {
		s.log.Error("s3: completed object unreadable", "bucket", bucket, "key", key, "err", err)
		s.inflight.Delete(r.ID)
		return out, version, nil
	}
	c := objectChange(old, cur.size)
	c.PartBytes = -partBytes
	s.settle(ctx, r, c)
	return out, version, nil
}

// ---- objects: deletes ----

// AbortMultipartUpload drops an upload and its parts' bytes.
func (s *store) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput) error {
	if in.Bucket == nil || in.Key == nil || in.UploadId == nil {
		return s.Backend.AbortMultipartUpload(ctx, in)
	}
	bucket, key, uploadID := *in.Bucket, *in.Key, *in.UploadId
	if err := s.checkDelete(ctx, bucket); err != nil {
		return err
	}
	defer s.activity.begin(bucket)()
	unlock, err := s.locks.uploadExclusive(ctx, bucket, key, uploadID)
	if err != nil {
		return s.lockError("abort", bucket, err)
	}
	defer unlock()
	partBytes, err := s.parts(ctx, bucket, key, uploadID)
	if err != nil {
		return s.Backend.AbortMultipartUpload(ctx, in)
	}
	if err := s.Backend.AbortMultipartUpload(ctx, in); err != nil {
		return err
	}
	if partBytes != 0 {
		s.apply(ctx, bucket, buckets.Change{PartBytes: -partBytes})
	}
	return nil
}

// DeleteObject deletes an object and frees its bytes at once.
func (s *store) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error) {
	if in.Bucket == nil || in.Key == nil {
		return s.Backend.DeleteObject(ctx, in)
	}
	if err := s.checkDelete(ctx, *in.Bucket); err != nil {
		return nil, err
	}
	return s.deleteObject(ctx, in)
}

func (s *store) deleteObject(ctx context.Context, in *s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error) {
	bucket, key := *in.Bucket, *in.Key
	defer s.activity.begin(bucket)()
	unlock, err := s.locks.object(ctx, bucket, key)
	if err != nil {
		return nil, s.lockError("delete", bucket, err)
	}
	defer unlock()
	old, err := s.stat(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	if !old.exists {
		return s.Backend.DeleteObject(ctx, in)
	}
	// The intent is recorded first, so a crash between the delete and its
	// accounting is settled by recovery instead of leaving the counters high.
	r, err := s.reserve(ctx, buckets.Write{Bucket: bucket, Op: buckets.OpDelete, Key: key,
		OldSize: old.oldSize(), OldETag: old.etag})
	if err != nil {
		return nil, err
	}
	out, err := s.Backend.DeleteObject(ctx, in)
	if err != nil {
		s.release(ctx, r)
		return out, err
	}
	if strings.HasSuffix(key, "/") {
		// A directory object with objects under it stays a directory: it is
		// no object any more only if its ETag went.
		if cur, err := s.stat(ctx, bucket, key); err == nil && cur.exists && unchanged(old, cur) {
			s.release(ctx, r)
			return out, nil
		}
	}
	s.settle(ctx, r, buckets.Change{Objects: -1, ObjectBytes: -old.size})
	return out, nil
}

// DeleteObjects deletes each object as DeleteObject does, reporting each
// failure on its own.
func (s *store) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput) (s3response.DeleteResult, error) {
	if in.Bucket == nil || in.Delete == nil {
		return s.Backend.DeleteObjects(ctx, in)
	}
	if err := s.checkDelete(ctx, *in.Bucket); err != nil {
		return s3response.DeleteResult{}, err
	}
	res := s3response.DeleteResult{Deleted: []types.DeletedObject{}, Error: []types.Error{}}
	for _, obj := range in.Delete.Objects {
		if obj.Key == nil {
			res.Error = append(res.Error, s3err.ObjectDeleteError(obj.Key, obj.VersionId, s3err.GetAPIError(s3err.ErrNoSuchKey)))
			continue
		}
		out, err := s.deleteObject(ctx, &s3.DeleteObjectInput{Bucket: in.Bucket, Key: obj.Key, VersionId: obj.VersionId})
		if err != nil {
			res.Error = append(res.Error, s3err.ObjectDeleteError(obj.Key, obj.VersionId, err))
			continue
		}
		d := types.DeletedObject{Key: obj.Key, VersionId: obj.VersionId}
		if out != nil && out.DeleteMarker != nil && *out.DeleteMarker {
			d.DeleteMarker, d.DeleteMarkerVersionId = out.DeleteMarker, out.VersionId
		}
		res.Deleted = append(res.Deleted, d)
	}
	return res, nil
}

// ---- reads ----

// GetObject is a read.
func (s *store) GetObject(ctx context.Context, in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
	if err := s.checkRead(ctx, str(in.Bucket)); err != nil {
		return nil, err
	}
	return s.Backend.GetObject(ctx, in)
}

// HeadObject is a read.
func (s *store) HeadObject(ctx context.Context, in *s3.HeadObjectInput) (*s3.HeadObjectOutput, error) {
	if err := s.checkRead(ctx, str(in.Bucket)); err != nil {
		return nil, err
	}
	return s.Backend.HeadObject(ctx, in)
}

// GetObjectAttributes is a read.
func (s *store) GetObjectAttributes(ctx context.Context, in *s3.GetObjectAttributesInput) (s3response.GetObjectAttributesResponse, error) {
	if err := s.checkRead(ctx, str(in.Bucket)); err != nil {
		return s3response.GetObjectAttributesResponse{}, err
	}
	return s.Backend.GetObjectAttributes(ctx, in)
}

// GetObjectAcl is a read.
func (s *store) GetObjectAcl(ctx context.Context, in *s3.GetObjectAclInput) (*s3.GetObjectAclOutput, error) {
	if err := s.checkRead(ctx, str(in.Bucket)); err != nil {
		return nil, err
	}
	return s.Backend.GetObjectAcl(ctx, in)
}

// GetObjectTagging is a read.
func (s *store) GetObjectTagging(ctx context.Context, bucket, object, versionID string) (map[string]string, error) {
	if err := s.checkRead(ctx, bucket); err != nil {
		return nil, err
	}
	return s.Backend.GetObjectTagging(ctx, bucket, object, versionID)
}

// ListObjects is a read.
func (s *store) ListObjects(ctx context.Context, in *s3.ListObjectsInput) (s3response.ListObjectsResult, error) {
	if err := s.checkRead(ctx, str(in.Bucket)); err != nil {
		return s3response.ListObjectsResult{}, err
	}
	return s.Backend.ListObjects(ctx, in)
}

// ListObjectsV2 is a read.
func (s *store) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input) (s3response.ListObjectsV2Result, error) {
	if err := s.checkRead(ctx, str(in.Bucket)); err != nil {
		return s3response.ListObjectsV2Result{}, err
	}
	return s.Backend.ListObjectsV2(ctx, in)
}

// ListObjectVersions is a read.
func (s *store) ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput) (s3response.ListVersionsResult, error) {
	if err := s.checkRead(ctx, str(in.Bucket)); err != nil {
		return s3response.ListVersionsResult{}, err
	}
	return s.Backend.ListObjectVersions(ctx, in)
}

// ListParts is a read.
func (s *store) ListParts(ctx context.Context, in *s3.ListPartsInput) (s3response.ListPartsResult, error) {
	if err := s.checkRead(ctx, str(in.Bucket)); err != nil {
		return s3response.ListPartsResult{}, err
	}
	return s.Backend.ListParts(ctx, in)
}

// ListMultipartUploads is a read.
func (s *store) ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput) (s3response.ListMultipartUploadsResult, error) {
	if err := s.checkRead(ctx, str(in.Bucket)); err != nil {
		return s3response.ListMultipartUploadsResult{}, err
	}
	return s.Backend.ListMultipartUploads(ctx, in)
}

// ---- writes without bytes: refused while the bucket refuses writes ----

// CreateMultipartUpload starts an upload (its parts reserve their bytes).
func (s *store) CreateMultipartUpload(ctx context.Context, in s3response.CreateMultipartUploadInput) (s3response.InitiateMultipartUploadResult, error) {
	if err := s.checkWrite(ctx, str(in.Bucket)); err != nil {
		return s3response.InitiateMultipartUploadResult{}, err
	}
	return s.Backend.CreateMultipartUpload(ctx, in)
}

// PutObjectAcl is a write.
func (s *store) PutObjectAcl(ctx context.Context, in *s3.PutObjectAclInput) error {
	if err := s.checkWrite(ctx, str(in.Bucket)); err != nil {
		return err
	}
	return s.Backend.PutObjectAcl(ctx, in)
}

// PutBucketAcl is a write.
func (s *store) PutBucketAcl(ctx context.Context, bucket string, data []byte) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.PutBucketAcl(ctx, bucket, data)
}

// PutObjectTagging is a write.
func (s *store) PutObjectTagging(ctx context.Context, bucket, object, versionID string, tags map[string]string) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.PutObjectTagging(ctx, bucket, object, versionID, tags)
}

// DeleteObjectTagging is a write.
func (s *store) DeleteObjectTagging(ctx context.Context, bucket, object, versionID string) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.DeleteObjectTagging(ctx, bucket, object, versionID)
}

// PutBucketTagging is a write.
func (s *store) PutBucketTagging(ctx context.Context, bucket string, tags map[string]string) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.PutBucketTagging(ctx, bucket, tags)
}

// DeleteBucketTagging is a write.
func (s *store) DeleteBucketTagging(ctx context.Context, bucket string) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.DeleteBucketTagging(ctx, bucket)
}

// PutBucketCors is a write.
func (s *store) PutBucketCors(ctx context.Context, bucket string, cors []byte) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.PutBucketCors(ctx, bucket, cors)
}

// DeleteBucketCors is a write.
func (s *store) DeleteBucketCors(ctx context.Context, bucket string) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.DeleteBucketCors(ctx, bucket)
}

// PutBucketWebsite is a write.
func (s *store) PutBucketWebsite(ctx context.Context, bucket string, website []byte) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.PutBucketWebsite(ctx, bucket, website)
}

// DeleteBucketWebsite is a write.
func (s *store) DeleteBucketWebsite(ctx context.Context, bucket string) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.DeleteBucketWebsite(ctx, bucket)
}

// PutBucketOwnershipControls is a write.
func (s *store) PutBucketOwnershipControls(ctx context.Context, bucket string, o types.ObjectOwnership) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.PutBucketOwnershipControls(ctx, bucket, o)
}

// DeleteBucketOwnershipControls is a write.
func (s *store) DeleteBucketOwnershipControls(ctx context.Context, bucket string) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.DeleteBucketOwnershipControls(ctx, bucket)
}

// PutObjectLockConfiguration is a write.
func (s *store) PutObjectLockConfiguration(ctx context.Context, bucket string, config []byte) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.PutObjectLockConfiguration(ctx, bucket, config)
}

// PutObjectRetention is a write.
func (s *store) PutObjectRetention(ctx context.Context, bucket, object, versionID string, retention []byte) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.PutObjectRetention(ctx, bucket, object, versionID, retention)
}

// PutObjectLegalHold is a write.
func (s *store) PutObjectLegalHold(ctx context.Context, bucket, object, versionID string, status bool) error {
	if err := s.checkWrite(ctx, bucket); err != nil {
		return err
	}
	return s.Backend.PutObjectLegalHold(ctx, bucket, object, versionID, status)
}
