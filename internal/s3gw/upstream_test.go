package s3gw_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/s3gw/s3gwtest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// startUpstream serves the test binary's posix store with versitygw alone
// (one root key): the upstream S3 of these tests, in process.
func startUpstream(t *testing.T) (url, access, secret string) {
	t.Helper()
	access, secret = "UP"+strings.ToUpper(rnd()), rnd()+rnd()
	p, err := s3gw.StartPlain(s3gwtest.Backend(t), "127.0.0.1:0", "", access, secret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	return p.URL(), access, secret
}

// Two S3 servers over one upstream S3 (no posix store of their own): one
// quota across both, an object written through one read through the other,
// bucket ownership from Trellis's records, recovery of a write that reached
// the upstream unsettled (HeadObject, ListParts over the proxy), and a
// reconciliation walk without drift.
func TestUpstreamBackend(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		url, access, secret := startUpstream(t)
		if _, err := s3gw.OpenUpstream(ctx, s3gw.UpstreamConfig{URL: url, Key: access, Secret: "wrong"}); err == nil ||
			!strings.Contains(err.Error(), "refused the credentials") {
			t.Fatalf("wrong secret: %v", err)
		}
		up, err := s3gw.OpenUpstream(ctx, s3gw.UpstreamConfig{URL: url, Key: access, Secret: secret})
		if err != nil {
			t.Fatal(err)
		}
		onUpstream := func(c *s3gw.Config) { c.Backend = up }
		a, b := f.server("up-a-"+rnd(), onUpstream), f.server("up-b-"+rnd(), onUpstream)
		principal, key := f.account(10*mb, false)
		_, otherKey := f.account(10*mb, false)
		ca, cb := client(a.URL(), key), client(b.URL(), key)
		root := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(access, secret, "")})

		bkt := bucketName("upstream")
		if _, err := ca.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		if _, err := root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bkt}); err != nil {
			t.Fatalf("not on the upstream: %v", err)
		}
		// Owned by the principal, not by whoever holds a key.
		other := client(b.URL(), otherKey)
		if _, err := other.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bkt}); code(err) != "AccessDenied" {
			t.Fatalf("another principal lists the bucket: %v", err)
		}
		if lb, err := cb.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil || len(lb.Buckets) != 1 || *lb.Buckets[0].Name != bkt {
			t.Fatalf("owner's buckets: %v %v", lb, err)
		}
		if lb, err := other.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil || len(lb.Buckets) != 0 {
			t.Fatalf("the other principal's buckets: %v %v", lb, err)
		}

		// 16 parallel 1 MB uploads split over both servers against 10 MB.
		var wg sync.WaitGroup
		var mu sync.Mutex
		stored, first := 0, -1
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := ca
				if i%2 == 1 {
					c = cb
				}
				switch err := put(c, bkt, fmt.Sprintf("o%02d", i), body(mb, byte(i))); code(err) {
				case "":
					mu.Lock()
					stored++
					if first < 0 {
						first = i
					}
					mu.Unlock()
				case "QuotaExceeded":
				default:
					t.Errorf("put o%02d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if used, reserved := f.quota(principal); stored != 10 || used != int64(stored)*mb || reserved != 0 {
			t.Fatalf("%d stored; used %d, reserved %d", stored, used, reserved)
		}
		got, err := cb.GetObject(ctx, &s3.GetObjectInput{Bucket: &bkt, Key: aws.String(fmt.Sprintf("o%02d", first))})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(got.Body)
		got.Body.Close()
		if !bytes.Equal(buf.Bytes(), body(mb, byte(first))) {
			t.Fatalf("o%02d read through the other server differs", first)
		}
		// Room for what follows.
		for i := range 16 {
			if _, err := cb.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bkt, Key: aws.String(fmt.Sprintf("o%02d", i))}); err != nil {
				t.Fatal(err)
			}
		}

		// A node stopped after its writes reached the upstream but before
		// they were settled: an object and a part. Its next start settles
		// both from what the upstream holds, and releases a write that never
		// arrived.
		node := "up-crashed-" + rnd()
		reserve := func(w buckets.Write) {
			t.Helper()
			w.Node, w.Bucket = node, bkt
			if _, err := f.bk.Reserve(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		reserve(buckets.Write{Op: buckets.OpPut, Key: "landed", Bytes: 3000, OldSize: -1})
		if _, err := root.PutObject(ctx, &s3.PutObjectInput{Bucket: &bkt, Key: aws.String("landed"),
			Body: bytes.NewReader(body(3000, 7)), ContentLength: aws.Int64(3000)}); err != nil {
			t.Fatal(err)
		}
		reserve(buckets.Write{Op: buckets.OpPut, Key: "lost", Bytes: 5000, OldSize: -1})
		mp, err := root.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bkt, Key: aws.String("mp")})
		if err != nil {
			t.Fatal(err)
		}
		reserve(buckets.Write{Op: buckets.OpPart, Key: "mp", UploadID: *mp.UploadId, Part: 1, Bytes: 4000, OldSize: -1})
		if _, err := root.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bkt, Key: aws.String("mp"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(body(4000, 8)), ContentLength: aws.Int64(4000)}); err != nil {
			t.Fatal(err)
		}
		if _, reserved := f.quota(principal); reserved != 12000 {
			t.Fatalf("reserved %d before the restart, want 12000", reserved)
		}
		f.server(node, onUpstream)
		if used, reserved := f.quota(principal); used != 7000 || reserved != 0 {
			t.Fatalf("after recovery: used %d, reserved %d; want 7000 (3000 object + 4000 part) and 0", used, reserved)
		}
		if bk := f.bucket(bkt); bk.SizeBytes != 3000 || bk.NumObjects != 1 || bk.PartsBytes != 4000 {
			t.Fatalf("bucket after recovery: %+v", bk)
		}
		rep, err := a.Reconcile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, dr := range rep.Drifts {
			if dr.Bucket == bkt {
				t.Fatalf("drift over the upstream: %+v", dr)
			}
		}
	})
}
