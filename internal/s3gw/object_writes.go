package s3gw

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3response"

	"github.com/trellis-cloud/trellis/internal/buckets"
)

// Object writes with bytes: each reserves, writes, then settles or releases.

// PutObject reserves the body's bytes, writes, and settles the difference
// with the object it replaced.
func (s *store) PutObject(ctx context.Context, po s3response.PutObjectInput) (s3response.PutObjectOutput, error) {
	if po.Bucket == nil || po.Key == nil {
		return s.Backend.PutObject(ctx, po)
	}
	bucket, key := *po.Bucket, *po.Key
	var size int64
	if po.ContentLength != nil {
		size = *po.ContentLength
	}
	// Every refusal before the write reads the body first (see drainRefused).
	refuse := func(err error) (s3response.PutObjectOutput, error) {
		drainRefused(po.Body, size)
		return s3response.PutObjectOutput{}, err
	}
	defer s.activity.begin(bucket)()
	unlock, err := s.locks.object(ctx, bucket, key)
	if err != nil {
		return refuse(s.lockError("put", bucket, err))
	}
	defer unlock()
	old, err := s.stat(ctx, bucket, key)
	if err != nil {
		return refuse(err)
	}
	r, err := s.reserve(ctx, buckets.Write{Bucket: bucket, Op: buckets.OpPut, Key: key, Bytes: size,
		OldSize: old.oldSize(), OldETag: old.etag})
	if err != nil {
		return refuse(err)
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
	var size int64
	if in.ContentLength != nil {
		size = *in.ContentLength
	}
	// Every refusal before the write reads the body first (see
	// drainRefused): a part sent while its upload is completed gets
	// NoSuchUpload, not a reset.
	refuse := func(err error) (*s3.UploadPartOutput, error) {
		drainRefused(in.Body, size)
		return nil, err
	}
	defer s.activity.begin(bucket)()
	unlock1, err := s.locks.uploadShared(ctx, bucket, key, uploadID)
	if err != nil {
		return refuse(s.lockError("part", bucket, err))
	}
	defer unlock1()
	unlock2, err := s.locks.part(ctx, bucket, key, uploadID, pn)
	if err != nil {
		return refuse(s.lockError("part", bucket, err))
	}
	defer unlock2()
	old, err := s.part(ctx, bucket, key, uploadID, pn)
	if err != nil {
		return refuse(err)
	}
	r, err := s.reserve(ctx, buckets.Write{Bucket: bucket, Op: buckets.OpPart, Key: key, UploadID: uploadID, Part: pn,
		Bytes: size, OldSize: old.oldSize(), OldETag: old.etag})
	if err != nil {
		return refuse(err)
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
