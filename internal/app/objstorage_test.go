package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/s3gw/s3gwtest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// The test binary's one object store (versitygw's posix store chdirs into
// its root): every test's buckets have names of their own.
func TestMain(m *testing.M) { s3gwtest.Main(m) }

// s3App is an app on d with the demo loaded and the S3 server on a free
// loopback port. The demo is loaded before the S3 server starts, so it
// creates no demo bucket (its name would collide between tests).
type s3App struct {
	*app.App
	creds map[string]string
}

func newS3App(t *testing.T, d *db.DB, clk clock.Clock, dataDir, node string) s3App {
	t.Helper()
	ctx := context.Background()
	a, err := app.New(ctx, d, app.Config{DataDir: dataDir, Clock: clk, Sandbox: true, S3Addr: "127.0.0.1:0",
		S3Backend: s3gwtest.Backend(t), S3Node: node})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := a.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := a.LoadDemo(ctx, boot.Root, boot.NewAdminKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.StartS3(ctx); err != nil {
		t.Fatal(err)
	}
	return s3App{App: a, creds: creds}
}

func s3Client(endpoint, access, secret string) *s3.Client {
	return s3.New(s3.Options{BaseEndpoint: aws.String(endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(access, secret, "")})
}

func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func put(t *testing.T, c *s3.Client, bucket, key string, body []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))}); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

func fill(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

// bucketStats reads size_bytes and num_objects of a bucket through the
// idcloudhost API.
func bucketStats(c *client, key, name string) (size, num string) {
	b := c.object(c.idc(200, "GET", "/storage/bucket", key, url.Values{"name": {name}}))
	return fmt.Sprint(b["size_bytes"]), fmt.Sprint(b["num_objects"])
}

// The first acceptance point: keys through the idcloudhost API, a
// bucket through S3 and one through the API, the S3 operations with the
// AWS SDK, counters equal to what was stored, a wrong secret and another
// principal refused.
func TestObjectStorageEndToEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		a := newS3App(t, d, clock.NewSandbox(clock.Real{}), t.TempDir(), "e2e-"+ids.New())
		defer a.Close()
		c := newClient(t, a.Handler)
		key := a.creds["idcloudhost_key"]
		sfx := strings.ToLower(d.Dialect().Name() + "-" + ids.New()[:8])

		// The S3 user and its first key appear on the first GET; a second
		// key is appended last.
		user := c.object(c.idc(200, "GET", "/storage/user", key, nil))
		first := user["s3Credentials"].([]any)
		if len(first) != 1 || user["userId"] != "user@example.com" {
			t.Fatalf("S3 user %v", user)
		}
		keys := c.list(c.idc(200, "POST", "/storage/user/keys", key, url.Values{}))
		if len(keys) != 2 || keys[0].(obj)["accessKey"] != first[0].(obj)["accessKey"] {
			t.Fatalf("keys after create %v", keys)
		}
		k2 := keys[1].(obj)
		info := c.object(c.idc(200, "GET", "/storage/api/s3", key, nil))
		if strings.TrimSuffix(fmt.Sprint(info["url"]), "/") != a.S3.URL() {
			t.Fatalf("S3 API info %v, server %s", info, a.S3.URL())
		}
		cl := s3Client(a.S3.URL(), k2["accessKey"].(string), k2["secretKey"].(string))

		viaS3, viaAPI := "s3-"+sfx, "api-"+sfx
		if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(viaS3)}); err != nil {
			t.Fatal(err)
		}
		c.idc(200, "PUT", "/storage/bucket", key, url.Values{"name": {viaAPI}, "billing_account_id": {"6"}})
		c.idc(409, "PUT", "/storage/bucket", key, url.Values{"name": {viaS3}, "billing_account_id": {"6"}})
		lb, err := cl.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, b := range lb.Buckets {
			names[*b.Name] = true
		}
		if !names[viaS3] || !names[viaAPI] {
			t.Fatalf("S3 ListBuckets %v lacks %s or %s", names, viaS3, viaAPI)
		}
		listed := c.list(c.idc(200, "GET", "/storage/bucket/list", key, nil))
		if len(listed) != 2 {
			t.Fatalf("API bucket list %v", listed)
		}

		put(t, cl, viaS3, "a.txt", fill(1000, 'a'))
		b := make([]byte, 2500)
		for i := range b {
			b[i] = byte(i % 251)
		}
		put(t, cl, viaS3, "b.bin", b)
		// Multipart: 5 MiB + 1234 bytes.
		mp, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(viaS3), Key: aws.String("big")})
		if err != nil {
			t.Fatal(err)
		}
		var parts []types.CompletedPart
		for i, body := range [][]byte{fill(5<<20, 'x'), fill(1234, 'y')} {
			up, err := cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(viaS3), Key: aws.String("big"),
				UploadId: mp.UploadId, PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body),
				ContentLength: aws.Int64(int64(len(body)))})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
		}
		if _, err := cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(viaS3),
			Key: aws.String("big"), UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
			t.Fatal(err)
		}
		// Range GET.
		got, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(viaS3), Key: aws.String("b.bin"), Range: aws.String("bytes=10-19")})
		if err != nil {
			t.Fatal(err)
		}
		part, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if !bytes.Equal(part, b[10:20]) {
			t.Fatalf("range got %v, want %v", part, b[10:20])
		}
		// Copy into the API's bucket.
		if _, err := cl.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(viaAPI), Key: aws.String("copy.bin"),
			CopySource: aws.String(viaS3 + "/b.bin")}); err != nil {
			t.Fatal(err)
		}
		v2, err := cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(viaS3)})
		if err != nil || len(v2.Contents) != 3 {
			t.Fatalf("list v2: %v %v", v2, err)
		}
		v1, err := cl.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(viaAPI)})
		if err != nil || len(v1.Contents) != 1 || *v1.Contents[0].Key != "copy.bin" {
			t.Fatalf("list v1: %v %v", v1, err)
		}
		if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(viaS3), Key: aws.String("a.txt")}); err != nil {
			t.Fatal(err)
		}
		if size, num := bucketStats(c, key, viaS3); size != fmt.Sprint(2500+5<<20+1234) || num != "2" {
			t.Fatalf("%s: size_bytes %s num_objects %s", viaS3, size, num)
		}
		if size, num := bucketStats(c, key, viaAPI); size != "2500" || num != "1" {
			t.Fatalf("%s: size_bytes %s num_objects %s", viaAPI, size, num)
		}

		// A wrong secret: the SigV4 error.
		bad := s3Client(a.S3.URL(), k2["accessKey"].(string), strings.Repeat("x", 40))
		if _, err := bad.ListBuckets(ctx, &s3.ListBucketsInput{}); s3Code(err) != "SignatureDoesNotMatch" {
			t.Fatalf("wrong secret: %v", err)
		}
		// Another principal (the demo storage account) sees none of them.
		other := s3Client(a.S3.URL(), a.creds["s3_access_key"], a.creds["s3_secret_key"])
		if _, err := other.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(viaS3), Key: aws.String("b.bin")}); s3Code(err) != "AccessDenied" {
			t.Fatalf("another principal's read: %v", err)
		}
		if _, err := other.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(viaAPI), Key: aws.String("x"),
			Body: strings.NewReader("x")}); s3Code(err) != "AccessDenied" {
			t.Fatalf("another principal's write: %v", err)
		}
		if ol, err := other.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil || len(ol.Buckets) != 0 {
			t.Fatalf("another principal lists %v %v", ol, err)
		}

		// Only empty buckets are deleted through the API.
		c.idc(409, "DELETE", "/storage/bucket", key, url.Values{"name": {viaAPI}})
		if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(viaAPI), Key: aws.String("copy.bin")}); err != nil {
			t.Fatal(err)
		}
		c.idc(204, "DELETE", "/storage/bucket", key, url.Values{"name": {viaAPI}})
		// A deleted key stops working at once.
		rest := c.list(c.idc(200, "DELETE", "/storage/user/keys", key, url.Values{"access_key": {k2["accessKey"].(string)}}))
		if len(rest) != 1 {
			t.Fatalf("keys after delete %v", rest)
		}
		if _, err := cl.ListBuckets(ctx, &s3.ListBucketsInput{}); s3Code(err) != "InvalidAccessKeyId" {
			t.Fatalf("deleted key: %v", err)
		}
		if r, err := a.S3.Reconcile(ctx); err != nil || len(r.Drifts) != 0 {
			t.Fatalf("reconcile: %+v %v", r, err)
		}
	})
}

var _ = os.Getenv
