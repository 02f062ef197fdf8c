package s3gw

import (
	"context"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/s3err"

	"github.com/trellis-cloud/trellis/internal/errs"
)

// Bucket operations: create and delete through the accounting; what a bucket
// may not have (policies, versioning, another owner).

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
		if uerr := retryAccounting(ctx, func(ctx context.Context) error { return s.acct.UnregisterBucket(ctx, name) }); uerr != nil {
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
	if err := retryAccounting(ctx, func(ctx context.Context) error { return s.acct.DropBucket(ctx, name) }); err != nil {
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
