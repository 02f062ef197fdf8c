package s3gw_test

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3response"

	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/s3gw/s3gwtest"
)

// The accounting reads what a write replaces with one stat and one
// metadata read instead of HeadObject / ListParts; both must agree on every
// kind of key.
func TestStatAgreesWithBackend(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	be := s3gwtest.Backend(t)
	bkt := bucketName("stat")
	if err := be.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt, CreateBucketConfiguration: &types.CreateBucketConfiguration{}}, []byte(`{"Owner":"x"}`)); err != nil {
		t.Fatal(err)
	}
	putRaw := func(key string, n int) {
		t.Helper()
		if _, err := be.PutObject(ctx, s3response.PutObjectInput{Bucket: &bkt, Key: &key, ContentLength: aws.Int64(int64(n)),
			Body: bytes.NewReader(body(n, 1))}); err != nil {
			t.Fatal(err)
		}
	}
	putRaw("file", 10)
	putRaw("dir/", 0)
	putRaw("implicit/child", 3)
	for _, key := range []string{"file", "dir/", "implicit/", "implicit", "implicit/child", "missing", "file/under", "dir"} {
		a, errA := s3gw.StatObject(be, bkt, key)
		b, errB := s3gw.HeadObjectInfo(be, bkt, key)
		if a != b || (errA == nil) != (errB == nil) {
			t.Errorf("%q: stat %+v %v, head %+v %v", key, a, errA, b, errB)
		}
	}
	if _, err := s3gw.StatObject(be, "no-such-bucket-"+bkt, "k"); err == nil {
		t.Error("stat in a missing bucket")
	}

	up, err := be.CreateMultipartUpload(ctx, s3response.CreateMultipartUploadInput{Bucket: &bkt, Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int32{2, 5} {
		if _, err := be.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bkt, Key: aws.String("mp"), UploadId: &up.UploadId,
			PartNumber: &n, Body: bytes.NewReader(body(int(n)*100, 2)), ContentLength: aws.Int64(int64(n) * 100)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		upload string
		part   int32
	}{{up.UploadId, 1}, {up.UploadId, 2}, {up.UploadId, 3}, {up.UploadId, 5}, {"no-such-upload", 1}} {
		a, errA := s3gw.StatPart(be, bkt, "mp", c.upload, c.part)
		b, errB := s3gw.ListPart(be, bkt, "mp", c.upload, c.part)
		if a != b || (errA == nil) != (errB == nil) {
			t.Errorf("%+v: stat %+v %v, list %+v %v", c, a, errA, b, errB)
		}
	}
}
