package s3gw

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3response"
)

// Operations passed to the backend once the bucket's state allows them:
// reads, then writes without bytes (refused while the bucket refuses writes).

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
