package s3gw

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"

	"github.com/trellis-cloud/trellis/internal/buckets"
)

// Object deletes: the bytes leave the counters.

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
