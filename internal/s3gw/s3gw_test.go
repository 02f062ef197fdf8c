package s3gw_test

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// The S3 surface through the server: bucket creation, put, a 3-part
// multipart upload, range GET, copy, list v1/v2, delete; the bucket's
// counters follow every step and equal what is stored.
func TestObjects(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		principal, key := f.account(100*mb, false)
		srv := f.server("node-a")
		c := client(srv.URL(), key)
		bkt := bucketName("objects")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		small := body(1000, 1)
		if err := put(c, bkt, "a/small.txt", small); err != nil {
			t.Fatal(err)
		}
		// Overwrite with a larger body: an overwrite is no new object.
		small = body(1500, 2)
		if err := put(c, bkt, "a/small.txt", small); err != nil {
			t.Fatal(err)
		}
		// Multipart: 5 MiB, 5 MiB and a short last part.
		big := "big.bin"
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bkt, Key: &big})
		if err != nil {
			t.Fatal(err)
		}
		parts := [][]byte{body(5<<20, 3), body(5<<20, 4), body(12345, 5)}
		var done []types.CompletedPart
		for i, p := range parts {
			n := int32(i + 1)
			out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bkt, Key: &big, UploadId: up.UploadId,
				PartNumber: &n, Body: bytes.NewReader(p), ContentLength: aws.Int64(int64(len(p)))})
			if err != nil {
				t.Fatal(err)
			}
			done = append(done, types.CompletedPart{PartNumber: &n, ETag: out.ETag})
		}
		// Re-upload part 3 (replacing it) before completing.
		n3 := int32(3)
		parts[2] = body(777, 6)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bkt, Key: &big, UploadId: up.UploadId,
			PartNumber: &n3, Body: bytes.NewReader(parts[2]), ContentLength: aws.Int64(777)})
		if err != nil {
			t.Fatal(err)
		}
		done[2].ETag = out.ETag
		partsTotal := int64(len(parts[0]) + len(parts[1]) + len(parts[2]))
		if b := f.bucket(bkt); b.PartsBytes != partsTotal || b.SizeBytes != 1500 || b.NumObjects != 1 {
			t.Fatalf("before complete: %+v", b)
		}
		if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bkt, Key: &big,
			UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: done}}); err != nil {
			t.Fatal(err)
		}
		if b := f.bucket(bkt); b.PartsBytes != 0 || b.SizeBytes != 1500+partsTotal || b.NumObjects != 2 {
			t.Fatalf("after complete: %+v", b)
		}

		// Range GET.
		g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bkt, Key: &big, Range: aws.String("bytes=5242878-5242881")})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(g.Body)
		g.Body.Close()
		want := append(append([]byte{}, parts[0][len(parts[0])-2:]...), parts[1][:2]...)
		if !bytes.Equal(got, want) {
			t.Fatalf("range: %v, want %v", got, want)
		}

		// Copy, then list v1 and v2.
		src := url.PathEscape(bkt) + "/a/small.txt"
		if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bkt, Key: aws.String("b/copy.txt"), CopySource: &src}); err != nil {
			t.Fatal(err)
		}
		if b := f.bucket(bkt); b.SizeBytes != 1500+partsTotal+1500 || b.NumObjects != 3 {
			t.Fatalf("after copy: %+v", b)
		}
		l1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: &bkt})
		if err != nil {
			t.Fatal(err)
		}
		l2, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bkt, Prefix: aws.String("b/")})
		if err != nil {
			t.Fatal(err)
		}
		var keys1 []string
		for _, o := range l1.Contents {
			keys1 = append(keys1, *o.Key)
		}
		sort.Strings(keys1)
		if fmt.Sprint(keys1) != "[a/small.txt b/copy.txt big.bin]" || len(l2.Contents) != 1 || *l2.Contents[0].Key != "b/copy.txt" {
			t.Fatalf("list v1 %v, v2 %d", keys1, len(l2.Contents))
		}

		// Delete one, and two at once; deleting a missing key changes nothing.
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bkt, Key: aws.String("a/small.txt")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bkt, Key: aws.String("nope")}); err != nil {
			t.Fatal(err)
		}
		if b := f.bucket(bkt); b.SizeBytes != partsTotal+1500 || b.NumObjects != 2 {
			t.Fatalf("after delete: %+v", b)
		}
		used, reserved := f.quota(principal)
		if used != partsTotal+1500 || reserved != 0 {
			t.Fatalf("principal: used %d reserved %d", used, reserved)
		}
		rep, err := srv.Reconcile(ctx)
		if err != nil || len(rep.Drifts) != 0 || len(rep.Busy) != 0 {
			t.Fatalf("reconcile: %+v %v", rep, err)
		}
		if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bkt, Delete: &types.Delete{Objects: []types.ObjectIdentifier{
			{Key: aws.String("big.bin")}, {Key: aws.String("b/copy.txt")}}}}); err != nil {
			t.Fatal(err)
		}
		if b := f.bucket(bkt); b.SizeBytes != 0 || b.NumObjects != 0 || b.PartsBytes != 0 {
			t.Fatalf("after delete objects: %+v", b)
		}
		if used, _ := f.quota(principal); used != 0 {
			t.Fatalf("principal still uses %d", used)
		}

		// An unfinished upload's parts count until the bucket is deleted.
		up2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bkt, Key: aws.String("left")})
		if err != nil {
			t.Fatal(err)
		}
		n1 := int32(1)
		if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bkt, Key: aws.String("left"), UploadId: up2.UploadId,
			PartNumber: &n1, Body: bytes.NewReader(body(4000, 7)), ContentLength: aws.Int64(4000)}); err != nil {
			t.Fatal(err)
		}
		if used, _ := f.quota(principal); used != 4000 {
			t.Fatalf("principal uses %d with a 4000-byte part", used)
		}
		if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		if used, _ := f.quota(principal); used != 0 {
			t.Fatalf("principal uses %d after deleting the bucket", used)
		}
		if bs, _ := f.bk.LiveBuckets(ctx); len(bs) != 0 {
			t.Fatalf("live buckets after delete: %+v", bs)
		}
	})
}

// Virtual-host-style addressing works besides path style.
func TestVirtualHost(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		_, key := f.account(10*mb, false)
		srv := f.server("node-vh", func(c *s3gw.Config) { c.VirtualHostDomain = "s3.trellis.test" })
		addr := srv.URL()[len("http://"):]
		vc := client(srv.URL(), key, virtualHost(addr, "s3.trellis.test"))
		bkt := bucketName("vhost")
		if _, err := vc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		if err := put(vc, bkt, "k", []byte("hello")); err != nil {
			t.Fatal(err)
		}
		g, err := client(srv.URL(), key).GetObject(ctx, &s3.GetObjectInput{Bucket: &bkt, Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(g.Body)
		g.Body.Close()
		if string(b) != "hello" {
			t.Fatalf("got %q", b)
		}
	})
}

// SigV4 against Trellis's keys: a wrong secret is SignatureDoesNotMatch, an
// unknown key InvalidAccessKeyId, a deleted key stops working.
func TestSignatures(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		_, key := f.account(10*mb, false)
		srv := f.server("node-sig")
		if _, err := client(srv.URL(), key).ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
			t.Fatal(err)
		}
		wrong := key
		wrong.Secret = "x" + key.Secret[1:]
		if wrong.Secret == key.Secret { // the secret started with x (1 run in 60 failed)
			wrong.Secret = "y" + key.Secret[1:]
		}
		if _, err := client(srv.URL(), wrong).ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "SignatureDoesNotMatch" {
			t.Fatalf("wrong secret: %v", err)
		}
		unknown := objstore.Key{AccessKey: "TRNOSUCHKEY000000000", Secret: key.Secret}
		if _, err := client(srv.URL(), unknown).ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "InvalidAccessKeyId" {
			t.Fatalf("unknown key: %v", err)
		}
	})
}

// A principal sees and touches only its own buckets; names are unique
// across the platform.
func TestIsolation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		_, keyA := f.account(10*mb, false)
		_, keyB := f.account(10*mb, false)
		srv := f.server("node-iso")
		a, b := client(srv.URL(), keyA), client(srv.URL(), keyB)
		bkt := bucketName("iso")
		if _, err := a.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		if err := put(a, bkt, "secret", []byte("a's")); err != nil {
			t.Fatal(err)
		}
		if _, err := a.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); code(err) != "BucketAlreadyOwnedByYou" {
			t.Fatalf("again by its owner: %v", err)
		}
		if _, err := b.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); code(err) != "BucketAlreadyExists" {
			t.Fatalf("taken name: %v", err)
		}
		lb, err := b.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil || len(lb.Buckets) != 0 {
			t.Fatalf("b lists %v (%v)", lb, err)
		}
		la, err := a.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil || len(la.Buckets) != 1 || *la.Buckets[0].Name != bkt {
			t.Fatalf("a lists %v (%v)", la, err)
		}
		if _, err := b.GetObject(ctx, &s3.GetObjectInput{Bucket: &bkt, Key: aws.String("secret")}); code(err) != "AccessDenied" {
			t.Fatalf("b reads a's object: %v", err)
		}
		if err := put(b, bkt, "mine", []byte("b's")); code(err) != "AccessDenied" {
			t.Fatalf("b writes into a's bucket: %v", err)
		}
		if _, err := b.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bkt}); code(err) != "AccessDenied" {
			t.Fatalf("b lists a's bucket: %v", err)
		}
		if _, err := b.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bkt, Key: aws.String("secret")}); code(err) != "AccessDenied" {
			t.Fatalf("b deletes a's object: %v", err)
		}
		if _, err := b.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bkt}); code(err) != "AccessDenied" {
			t.Fatalf("b deletes a's bucket: %v", err)
		}
		// No way to open a bucket to others.
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + bkt + `/*"}]}`
		if _, err := a.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &bkt, Policy: &policy}); err == nil {
			t.Fatal("a bucket policy was accepted")
		}
		if _, err := a.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: &bkt, ACL: types.BucketCannedACLPublicRead}); err == nil {
			t.Fatal("a public ACL was accepted")
		}
	})
}
