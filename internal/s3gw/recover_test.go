package s3gw_test

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/versity/versitygw/s3response"

	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/s3gw/s3gwtest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// A node stopped in the middle of writes left reservations; its next start
// settles those whose write reached the disk (with the real difference) and
// releases the others, before it serves. Nothing drifts after.
func TestCrashRecovery(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		principal, key := f.account(100*mb, false)
		be := s3gwtest.Backend(t)
		first := f.server("node-first")
		c := client(first.URL(), key)
		bkt := bucketName("crash")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		// Counted before the crash: an object to overwrite, a multipart
		// upload with one part to complete.
		if err := put(c, bkt, "over", body(200, 1)); err != nil {
			t.Fatal(err)
		}
		// Two objects the crashed node was deleting: one it removed from the
		// store, one it had not yet.
		for _, k := range []string{"gone", "kept"} {
			if err := put(c, bkt, k, body(400, 5)); err != nil {
				t.Fatal(err)
			}
		}
		heads := map[string]*string{}
		for _, k := range []string{"gone", "kept"} {
			h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bkt, Key: aws.String(k)})
			if err != nil {
				t.Fatal(err)
			}
			heads[k] = h.ETag
		}
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bkt, Key: aws.String("over")})
		if err != nil {
			t.Fatal(err)
		}
		up2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bkt, Key: aws.String("mp2")})
		if err != nil {
			t.Fatal(err)
		}
		one := int32(1)
		p2, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bkt, Key: aws.String("mp2"), UploadId: up2.UploadId,
			PartNumber: &one, Body: bytes.NewReader(body(2000, 2)), ContentLength: aws.Int64(2000)})
		if err != nil {
			t.Fatal(err)
		}
		// A second part the completion will leave out (dropped with it).
		two := int32(2)
		if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bkt, Key: aws.String("mp2"), UploadId: up2.UploadId,
			PartNumber: &two, Body: bytes.NewReader(body(700, 2)), ContentLength: aws.Int64(700)}); err != nil {
			t.Fatal(err)
		}
		if err := first.Stop(ctx); err != nil {
			t.Fatal(err)
		}

		// What the crashed node "crashed" was doing: each write reserved,
		// some of them reaching the disk.
		const node = "node-crashed"
		reserve := func(w buckets.Write) {
			t.Helper()
			w.Node, w.Bucket = node, bkt
			if _, err := f.bk.Reserve(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		rawPut := func(key string, n int) {
			t.Helper()
			if _, err := be.PutObject(ctx, s3response.PutObjectInput{Bucket: &bkt, Key: &key,
				ContentLength: aws.Int64(int64(n)), Body: bytes.NewReader(body(n, 3))}); err != nil {
				t.Fatal(err)
			}
		}
		reserve(buckets.Write{Op: buckets.OpDelete, Key: "gone", OldSize: 400, OldETag: *heads["gone"]})
		if _, err := be.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bkt, Key: aws.String("gone")}); err != nil {
			t.Fatal(err)
		}
		reserve(buckets.Write{Op: buckets.OpDelete, Key: "kept", OldSize: 400, OldETag: *heads["kept"]})
		reserve(buckets.Write{Op: buckets.OpPut, Key: "done", Bytes: 100, OldSize: -1})
		rawPut("done", 100)
		reserve(buckets.Write{Op: buckets.OpPut, Key: "never", Bytes: 50, OldSize: -1})
		reserve(buckets.Write{Op: buckets.OpPut, Key: "over", Bytes: 300, OldSize: 200, OldETag: *head.ETag})
		rawPut("over", 300)
		mp, err := be.CreateMultipartUpload(ctx, s3response.CreateMultipartUploadInput{Bucket: &bkt, Key: aws.String("mp")})
		if err != nil {
			t.Fatal(err)
		}
		reserve(buckets.Write{Op: buckets.OpPart, Key: "mp", UploadID: mp.UploadId, Part: 1, Bytes: 1000, OldSize: -1})
		if _, err := be.UploadPart(ctx, &s3.UploadPartInput{Bucket: &bkt, Key: aws.String("mp"), UploadId: &mp.UploadId,
			PartNumber: &one, Body: bytes.NewReader(body(1000, 4)), ContentLength: aws.Int64(1000)}); err != nil {
			t.Fatal(err)
		}
		reserve(buckets.Write{Op: buckets.OpPart, Key: "mp", UploadID: mp.UploadId, Part: 2, Bytes: 500, OldSize: -1})
		reserve(buckets.Write{Op: buckets.OpComplete, Key: "mp2", UploadID: *up2.UploadId, OldSize: -1, PartsBytes: 2000 + 700})
		if _, _, err := be.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bkt, Key: aws.String("mp2"),
			UploadId: up2.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: &one, ETag: p2.ETag}}}}); err != nil {
			t.Fatal(err)
		}
		if _, reserved := f.quota(principal); reserved != 100+50+300+1000+500 {
			t.Fatalf("reserved before recovery: %d", reserved)
		}

		srv := f.server(node)
		if left := f.pending(); len(left) != 0 {
			t.Fatalf("left after recovery: %+v", left)
		}
		used, reserved := f.quota(principal)
		if used != 300+100+2000+1000+400 || reserved != 0 {
			t.Fatalf("after recovery: used %d reserved %d", used, reserved)
		}
		if b := f.bucket(bkt); b.NumObjects != 4 || b.SizeBytes != 300+100+2000+400 || b.PartsBytes != 1000 {
			t.Fatalf("bucket after recovery: %+v", b)
		}
		rep, err := srv.Reconcile(ctx)
		if err != nil || len(rep.Drifts) != 0 || rep.Buckets != 1 {
			t.Fatalf("reconcile: %+v %v", rep, err)
		}
		// And the data is there across the restart.
		g, err := client(srv.URL(), key).GetObject(ctx, &s3.GetObjectInput{Bucket: &bkt, Key: aws.String("mp2")})
		if err != nil {
			t.Fatal(err)
		}
		g.Body.Close()
		if *g.ContentLength != 2000 {
			t.Fatalf("mp2 is %d bytes", *g.ContentLength)
		}
	})
}

// Bytes written behind the accounting's back show as drift: a log line and
// the gauges, per bucket.
func TestReconcileDrift(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		_, key := f.account(100*mb, false)
		srv := f.server("node-drift")
		c := client(srv.URL(), key)
		bkt, clean := bucketName("drift"), bucketName("clean")
		for _, b := range []string{bkt, clean} {
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); err != nil {
				t.Fatal(err)
			}
			if err := put(c, b, "counted", body(10, 1)); err != nil {
				t.Fatal(err)
			}
		}
		k := "sneaked"
		if _, err := s3gwtest.Backend(t).PutObject(ctx, s3response.PutObjectInput{Bucket: &bkt, Key: &k,
			ContentLength: aws.Int64(1234), Body: bytes.NewReader(body(1234, 2))}); err != nil {
			t.Fatal(err)
		}
		rep, err := srv.Reconcile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Buckets != 2 || len(rep.Drifts) != 1 {
			t.Fatalf("report %+v", rep)
		}
		dr := rep.Drifts[0]
		if dr.Bucket != bkt || dr.Counted != (s3gw.Usage{Objects: 1, ObjectBytes: 10}) || dr.Walked != (s3gw.Usage{Objects: 2, ObjectBytes: 1244}) {
			t.Fatalf("drift %+v", dr)
		}
		// Aggregates only: no label carries a bucket name (issue 14,
		// finding 10); the log line names the bucket.
		want := `
# HELP trellis_s3_drift_bytes Bytes by which the stored objects and parts exceed (uncounted) or fall short of (overcounted) the bucket counters, summed over the buckets of the last reconciliation.
# TYPE trellis_s3_drift_bytes gauge
trellis_s3_drift_bytes{direction="overcounted"} 0
trellis_s3_drift_bytes{direction="uncounted"} 1234
# HELP trellis_s3_drift_objects Objects stored but not counted (uncounted) or counted but not stored (overcounted), summed over the buckets of the last reconciliation.
# TYPE trellis_s3_drift_objects gauge
trellis_s3_drift_objects{direction="overcounted"} 0
trellis_s3_drift_objects{direction="uncounted"} 1
# HELP trellis_s3_drifted_buckets Buckets whose counters disagreed with the stored objects at the last reconciliation.
# TYPE trellis_s3_drifted_buckets gauge
trellis_s3_drifted_buckets 1
`
		if err := testutil.GatherAndCompare(f.reg, strings.NewReader(want), "trellis_s3_drift_bytes", "trellis_s3_drift_objects",
			"trellis_s3_drifted_buckets"); err != nil {
			t.Fatal(err)
		}
		noTenantData(t, f.reg, bkt, clean)
		if runs := counterValue(t, f, "trellis_s3_reconcile_runs_total"); runs != 1 {
			t.Fatalf("runs %v", runs)
		}
	})
}

// noTenantData fails if any metric of reg names one of words (bucket
// names): /metrics is an operator's view, not a tenant directory.
func noTenantData(t *testing.T, reg prometheus.Gatherer, words ...string) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range words {
		if strings.Contains(text.String(), w) {
			t.Fatalf("the metrics carry %q:\n%s", w, text.String())
		}
	}
}

func counterValue(t *testing.T, f *fixture, name string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.Metric) == 1 {
			return mf.Metric[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// A suspended bucket refuses writes (and reads) with AccessDenied and says
// why; resumed, it takes them again.
func TestSuspended(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		_, key := f.account(10*mb, false)
		srv := f.server("node-susp", func(c *s3gw.Config) { c.AccessCacheTTL = -1 })
		c := client(srv.URL(), key)
		bkt := bucketName("susp")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		if err := put(c, bkt, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if _, err := f.bk.SetSuspended(ctx, sys, bkt, true); err != nil {
			t.Fatal(err)
		}
		err := put(c, bkt, "k2", []byte("v"))
		if code(err) != "AccessDenied" || !strings.Contains(err.Error(), "suspended") {
			t.Fatalf("write to a suspended bucket: %v", err)
		}
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bkt, Key: aws.String("k")}); code(err) != "AccessDenied" {
			t.Fatalf("delete in a suspended bucket: %v", err)
		}
		if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bkt, Key: aws.String("m")}); code(err) != "AccessDenied" {
			t.Fatalf("multipart in a suspended bucket: %v", err)
		}
		if _, err := f.bk.SetSuspended(ctx, sys, bkt, false); err != nil {
			t.Fatal(err)
		}
		if err := put(c, bkt, "k2", []byte("v")); err != nil {
			t.Fatal(err)
		}
	})
}

// lookupCounter counts the key lookups that reach the database.
type lookupCounter struct {
	s3gw.Keys
	n atomic.Int64
}

func (c *lookupCounter) ResolveKey(ctx context.Context, access string) (objstore.Key, error) {
	c.n.Add(1)
	return c.Keys.ResolveKey(ctx, access)
}

// The resolved-key cache: 50 requests with one key cost one lookup (none
// with the cache off costs one each); a deleted key stops at once when the
// server is told.
func TestKeyCache(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		_, key := f.account(10*mb, false)
		for _, tc := range []struct {
			ttl  time.Duration
			want int64
		}{{0, 1}, {-1, 50}} {
			keys := &lookupCounter{Keys: f.obj}
			srv := f.server("node-cache", func(c *s3gw.Config) { c.Keys, c.KeyCacheTTL = keys, tc.ttl })
			c := client(srv.URL(), key)
			start := time.Now()
			for range 50 {
				if _, err := c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
					t.Fatal(err)
				}
			}
			want := tc.want
			if tc.ttl == 0 {
				// The cached key expires on the wall clock: a loaded
				// machine may take longer than one lifetime.
				want += int64(time.Since(start) / s3gw.DefaultCacheTTL)
			}
			if got := keys.n.Load(); got < tc.want || got > want {
				t.Fatalf("ttl %v: %d lookups for 50 requests in %v, want %d", tc.ttl, got, time.Since(start), want)
			}
			_ = srv.Stop(ctx)
		}
		// Deleting a key and telling the server: refused on the next request.
		srv := f.server("node-cache2")
		extra, err := f.obj.CreateAccountKey(ctx, sys, f.partner.ID, key.PrincipalID)
		if err != nil {
			t.Fatal(err)
		}
		c := client(srv.URL(), extra)
		if _, err := c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
			t.Fatal(err)
		}
		if err := f.obj.DeleteAccountKey(ctx, sys, f.partner.ID, key.PrincipalID, extra.AccessKey); err != nil {
			t.Fatal(err)
		}
		srv.InvalidateKey(extra.AccessKey)
		if _, err := c.ListBuckets(ctx, &s3.ListBucketsInput{}); code(err) != "InvalidAccessKeyId" {
			t.Fatalf("deleted key: %v", err)
		}
	})
}

// The bucket API's data plane: a bucket created for a principal is the same
// as one it creates through S3 (same ACL); emptying deletes every object and
// upload through the accounting; deleting removes it.
func TestProvider(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		principal, key := f.account(100*mb, false)
		srv := f.server("node-provider")
		c := client(srv.URL(), key)
		viaS3, viaAPI := bucketName("vias3"), bucketName("viaapi")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &viaS3}); err != nil {
			t.Fatal(err)
		}
		// The bucket API records the bucket itself, then asks the data plane.
		if _, err := f.bk.RegisterBucket(ctx, viaAPI, principal); err != nil {
			t.Fatal(err)
		}
		if err := srv.CreateBucket(ctx, viaAPI, principal); err != nil {
			t.Fatal(err)
		}
		be := s3gwtest.Backend(t)
		aclS3, err := be.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: &viaS3})
		if err != nil {
			t.Fatal(err)
		}
		aclAPI, err := be.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: &viaAPI})
		if err != nil || string(aclS3) != string(aclAPI) {
			t.Fatalf("ACLs differ: %s vs %s (%v)", aclS3, aclAPI, err)
		}
		lb, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil || len(lb.Buckets) != 2 {
			t.Fatalf("list: %v %v", lb, err)
		}
		for i := range 5 {
			if err := put(c, viaAPI, "dir/k"+string(rune('a'+i)), body(100, byte(i))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &viaAPI, Key: aws.String("dir/"), Body: bytes.NewReader(nil)}); err != nil {
			t.Fatal(err)
		}
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &viaAPI, Key: aws.String("mp")})
		if err != nil {
			t.Fatal(err)
		}
		one := int32(1)
		if _, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &viaAPI, Key: aws.String("mp"), UploadId: up.UploadId,
			PartNumber: &one, Body: bytes.NewReader(body(300, 1)), ContentLength: aws.Int64(300)}); err != nil {
			t.Fatal(err)
		}
		if b := f.bucket(viaAPI); b.NumObjects != 6 || b.SizeBytes != 500 || b.PartsBytes != 300 {
			t.Fatalf("before emptying: %+v", b)
		}
		if err := srv.EmptyBucket(ctx, viaAPI); err != nil {
			t.Fatal(err)
		}
		if b := f.bucket(viaAPI); b.NumObjects != 0 || b.SizeBytes != 0 || b.PartsBytes != 0 {
			t.Fatalf("after emptying: %+v", b)
		}
		if used, reserved := f.quota(principal); used != 0 || reserved != 0 {
			t.Fatalf("used %d reserved %d", used, reserved)
		}
		if err := srv.DeleteBucket(ctx, viaAPI); err != nil {
			t.Fatal(err)
		}
		if _, err := be.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &viaAPI}); err == nil {
			t.Fatal("the bucket is still on disk")
		}
		// The bucket API gets errors of a kind: a name held on disk only (no
		// record) is taken; a bucket with objects is not deleted.
		orphan := bucketName("orphan")
		if err := be.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &orphan, CreateBucketConfiguration: &types.CreateBucketConfiguration{}},
			[]byte(`{"Owner":"someone"}`)); err != nil {
			t.Fatal(err)
		}
		if err := srv.CreateBucket(ctx, orphan, principal); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("name taken on disk: %v", err)
		}
		if err := srv.DeleteBucket(ctx, viaS3+"-nope"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("no such bucket: %v", err)
		}
		if err := put(c, viaS3, "k", []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := srv.DeleteBucket(ctx, viaS3); !errs.Is(err, errs.KindPrecondition) {
			t.Fatalf("non-empty bucket: %v", err)
		}
		if srv.URL() == "" || !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") {
			t.Fatalf("url %q", srv.URL())
		}
	})
}
