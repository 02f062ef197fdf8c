package app_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/versity/versitygw/s3response"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/s3gw/s3gwtest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/testflags"
)

// The test binary's one object store (versitygw's posix store chdirs into
// its root): every test's buckets have names of their own. The package's
// tests mostly wait (for River's scheduler, the sandbox clock's
// steps, a cache's expiry): more of them run at once than CPUs.
func TestMain(m *testing.M) {
	testflags.RaiseParallel()
	s3gwtest.Main(m)
}

// s3App is an app on d with the demo loaded and the S3 server on a free
// loopback port. The demo is loaded before the S3 server starts, so it
// creates no demo bucket (its name would collide between tests).
type s3App struct {
	*app.App
	creds map[string]string
}

func newS3App(t *testing.T, d *db.DB, clk clock.Clock, dataDir, node string) s3App {
	t.Helper()
	ctx := t.Context()
	a, creds := newDemo(t, d, app.Config{DataDir: dataDir, Clock: clk, Sandbox: true, S3Addr: "127.0.0.1:0",
		S3Backend: s3gwtest.Backend(t), NodeID: node})
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
	if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
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
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
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
		// A presigned GET works without credentials.
		ps, err := s3.NewPresignClient(cl).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(viaS3), Key: aws.String("b.bin")})
		if err != nil {
			t.Fatal(err)
		}
		presp, err := http.Get(ps.URL)
		if err != nil {
			t.Fatal(err)
		}
		pbody, _ := io.ReadAll(presp.Body)
		presp.Body.Close()
		if presp.StatusCode != 200 || !bytes.Equal(pbody, b) {
			t.Fatalf("presigned GET: %d, %d bytes", presp.StatusCode, len(pbody))
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

// Objects, counters and reservations survive a stop in the middle of a
// workload and a start on the same data: nothing leaks, nothing is lost;
// a write a crashed node made but never settled is counted on the next
// start.
func TestObjectStorageRestart(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		dir, node := t.TempDir(), "restart-"+ids.New()
		clk := clock.NewSandbox(clock.Real{})
		a1 := newS3App(t, d, clk, dir, node)
		cl := s3Client(a1.S3.URL(), a1.creds["s3_access_key"], a1.creds["s3_secret_key"])
		bucket := strings.ToLower("restart-" + d.Dialect().Name() + "-" + ids.New()[:8])
		if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		// 8 writers put (and overwrite) 64 KiB objects; after 40 puts the
		// server stops under them.
		var done atomic.Int64
		stopped := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 30 {
					key := fmt.Sprintf("w%d/%d", w, i%20) // some overwrites
					_, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
						Body: bytes.NewReader(fill(64<<10, byte('a'+w))), ContentLength: aws.Int64(64 << 10)})
					if err != nil {
						return // the server went away
					}
					if done.Add(1) == 40 {
						close(stopped)
					}
				}
			}()
		}
		<-stopped
		a1.Close()
		wg.Wait()
		t.Logf("%d puts succeeded before the stop", done.Load())

		// A node that crashed after writing and before settling: a
		// reservation, and the object in the store without accounting.
		a2 := restartS3(t, d, clk, dir, node)
		r, err := a2.Buckets.Reserve(ctx, buckets.Write{Node: node, Bucket: bucket, Op: buckets.OpPut, Key: "crashed",
			Bytes: 4096, OldSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		_ = r
		if _, err := s3gwtest.Backend(t).PutObject(ctx, s3response.PutObjectInput{Bucket: aws.String(bucket),
			Key: aws.String("crashed"), Body: bytes.NewReader(fill(4096, 'c')), ContentLength: aws.Int64(4096)}); err != nil {
			t.Fatal(err)
		}
		// And one that crashed before writing: nothing to count.
		if _, err := a2.Buckets.Reserve(ctx, buckets.Write{Node: node, Bucket: bucket, Op: buckets.OpPut, Key: "never",
			Bytes: 9999, OldSize: -1}); err != nil {
			t.Fatal(err)
		}
		a2.Close()

		a3 := restartS3(t, d, clk, dir, node)
		defer a3.Close()
		cl3 := s3Client(a3.S3.URL(), a1.creds["s3_access_key"], a1.creds["s3_secret_key"])
		var total, n int64
		p := s3.NewListObjectsV2Paginator(cl3, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page.Contents {
				total += *o.Size
				n++
			}
		}
		if n == 0 || total != (n-1)*(64<<10)+4096 {
			t.Fatalf("%d objects, %d bytes after restart", n, total)
		}
		b, err := a3.Store.GetLiveBucket(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		used, reserved, _, err := a3.Store.Quota(ctx, b.PrincipalID)
		if err != nil {
			t.Fatal(err)
		}
		var pending int
		if err := a3.DB.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM s3_reservations`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if b.SizeBytes != total || b.NumObjects != n || b.PartsBytes != 0 || reserved != 0 || pending != 0 || used != total {
			t.Fatalf("bucket %d bytes %d objects, principal used %d reserved %d, %d reservations; stored %d bytes in %d objects",
				b.SizeBytes, b.NumObjects, used, reserved, pending, total, n)
		}
		if r, err := a3.S3.Reconcile(ctx); err != nil || len(r.Drifts) != 0 {
			t.Fatalf("reconcile: %+v %v", r, err)
		}
		got, err := cl3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("w0/0")})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(got.Body)
		got.Body.Close()
		if !bytes.Equal(body, fill(64<<10, 'a')) {
			t.Fatalf("w0/0 after restart: %d bytes", len(body))
		}
	})
}

// restartS3 opens an app on an existing database and data dir and starts
// its S3 server (no bootstrap, no demo: they exist).
func restartS3(t *testing.T, d *db.DB, clk clock.Clock, dir, node string) *app.App {
	t.Helper()
	a, err := app.New(t.Context(), d, app.Config{DataDir: dir, Clock: clk, Sandbox: true, S3Addr: "127.0.0.1:0",
		S3Backend: s3gwtest.Backend(t), NodeID: node})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.StartS3(t.Context()); err != nil {
		t.Fatal(err)
	}
	return a
}

// Over several days the Impossible Cloud daily usage, the idcloudhost
// bucket stats and the invoice's object-storage line agree with the bytes
// really stored.
func TestObjectStorageUsageOverDays(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		clk := clock.NewFake(time.Date(2027, 3, 29, 10, 0, 0, 0, time.UTC))
		a := newS3App(t, d, clk, t.TempDir(), "days-"+ids.New())
		defer a.Close()
		c := newClient(t, a.Handler)
		admin, key := a.creds["admin_key"], a.creds["idcloudhost_key"]
		sfx := strings.ToLower(d.Dialect().Name() + "-" + ids.New()[:8])
		sa := s3Client(a.S3.URL(), a.creds["s3_access_key"], a.creds["s3_secret_key"])
		saBucket, userBucket := "days-sa-"+sfx, "days-user-"+sfx
		if _, err := sa.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(saBucket)}); err != nil {
			t.Fatal(err)
		}
		c.idc(200, "PUT", "/storage/bucket", key, url.Values{"name": {userBucket}, "billing_account_id": {"6"}})
		ukeys := c.object(c.idc(200, "GET", "/storage/user", key, nil))["s3Credentials"].([]any)
		user := s3Client(a.S3.URL(), ukeys[0].(obj)["accessKey"].(string), ukeys[0].(obj)["secretKey"].(string))

		// Mar 29 10:00: the storage account stores 3 × 1.5 MB, the user 2 MB + 0.5 MB.
		for i := range 3 {
			put(t, sa, saBucket, fmt.Sprintf("o%d", i), fill(1_500_000, 's'))
		}
		put(t, user, userBucket, "a", fill(2_000_000, 'u'))
		put(t, user, userBucket, "b", fill(500_000, 'u'))
		advance := func(d string) { c.api(200, "POST", "/sandbox/clock", admin, `{"advance":"`+d+`"}`) }
		advance("24h")
		// Mar 30 10:00: one of the account's objects goes; the user adds 1 MB.
		if _, err := sa.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(saBucket), Key: aws.String("o0")}); err != nil {
			t.Fatal(err)
		}
		put(t, user, userBucket, "c", fill(1_000_000, 'u'))
		advance("24h")
		// Mar 31 10:00: the account stores 2.5 MB more.
		put(t, sa, saBucket, "o3", fill(2_500_000, 's'))
		advance("17h") // Apr 1 03:00: the days are recorded, March is invoiced.

		var usage map[string]any
		decodeInto(t, c.icGET(a.creds["partner_key"], "/storage-account/"+a.creds["storage_account_id"]+"/usage?from=2027-03-29&to=2027-03-31"), &usage)
		days := usage["daily_usage"].([]any)
		want := []string{"4500000", "3000000", "5500000"}
		if len(days) != 3 {
			t.Fatalf("daily usage %v", usage)
		}
		for i, dd := range days {
			dd := dd.(map[string]any)
			if fmt.Sprint(dd["usage"]) != want[i] || fmt.Sprint(dd["allocated_capacity"]) != "10000000000" ||
				dd["date"] != fmt.Sprintf("2027-03-%d", 29+i) {
				t.Errorf("day %d: %v, want usage %s", i, dd, want[i])
			}
		}
		if size, num := bucketStats(c, key, userBucket); size != "3500000" || num != "3" {
			t.Fatalf("user bucket: size_bytes %s num_objects %s", size, num)
		}
		// March's invoice bills the user's bucket 24 h at 2.5 MB (Mar 29
		// 10:00–Mar 30 10:00) and 38 h at 3.5 MB (to Mar 31 24:00):
		// 24 × 0.0025 + 38 × 0.0035 = 0.193 GB-h at 0.0000342.
		var invoices []map[string]any
		decodeInto(t, c.idc(200, "GET", "/payment/invoice/list", key, url.Values{"billing_account_id": {"6"}}), &invoices)
		var line map[string]any
		for _, inv := range invoices {
			for _, r := range inv["records_list"].([]any) {
				if r := r.(map[string]any); strings.Contains(fmt.Sprint(r["name"]), userBucket) {
					line = r
				}
			}
		}
		if line == nil {
			t.Fatalf("no object-storage line for %s in %v", userBucket, invoices)
		}
		if !sameNumber(fmt.Sprint(line["qty"]), "0.193") || !sameNumber(fmt.Sprint(line["item_price"]), "0.0000342") ||
			!sameNumber(fmt.Sprint(line["amount"]), "0.0000066006") {
			t.Fatalf("object-storage line %v, want 0.193 GB-h × 0.0000342 = 0.0000066006", line)
		}
	})
}

// ic sends an Impossible Cloud request with a bearer key (and a JSON body),
// validated against the vendor's spec.
func (c *client) ic(key, method, path, body string) apitest.Response {
	c.t.Helper()
	req := apitest.Request{Method: method, Path: impossiblecloud.Prefix + path,
		Header: http.Header{"Authorization": {"Bearer " + key}}}
	if body != "" {
		req.Body = []byte(body)
		req.Header.Set("Content-Type", "application/json")
	}
	return validator(c.t, impossiblecloud.Spec()).Do(c.t, c.h, req)
}

// icGET is ic for a GET that must answer 200.
func (c *client) icGET(key, path string) []byte {
	c.t.Helper()
	resp := c.ic(key, "GET", path, "")
	if resp.Status != 200 {
		c.t.Fatalf("GET %s = %d: %s", path, resp.Status, resp.Body)
	}
	return resp.Body
}

// storageAccount creates a storage account with the partner key through the
// Impossible Cloud API (allocation in bytes) and returns its id and an S3
// client on its first key, read from the native API.
func (c *client) storageAccount(s3URL, partner, name string, alloc int64, overdraft bool) (string, *s3.Client) {
	c.t.Helper()
	resp := c.ic(partner, "POST", "/storage-account", fmt.Sprintf(`{"name":%q,"allocatedCapacity":%d,"allowOverdraft":%t,
		"clientAccount":{"contactEmail":"%s-%s@example.com","password":"Str0ng!pass"}}`, name, alloc, overdraft,
		strings.ToLower(name), ids.New()[:8]))
	if resp.Status != 201 {
		c.t.Fatalf("create storage account: %d %s", resp.Status, resp.Body)
	}
	var sa map[string]any
	decodeInto(c.t, resp.Body, &sa)
	id := sa["clientAccountId"].(string)
	k := c.api(200, "GET", "/storage-accounts/"+id+"/s3-keys", partner, "")["items"].([]any)[0].(map[string]any)
	return id, s3Client(s3URL, k["access_key"].(string), k["secret_key"].(string))
}

// An account with overdraft created on the Impossible Cloud API stores 32
// concurrent 1 MB uploads (some multipart) over its 10 MB, and the 22 MB
// above the allocation are metered as overage: in the daily usage and in
// the contract's excess.
func TestObjectStorageOverdraftExcess(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		clk := clock.NewFake(time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC))
		a := newS3App(t, d, clk, t.TempDir(), "overdraft-"+ids.New())
		defer a.Close()
		c := newClient(t, a.Handler)
		partner := a.creds["partner_key"]
		id, cl := c.storageAccount(a.S3.URL(), partner, "Overdraft", 10_000_000, true)
		bucket := "overdraft-" + strings.ToLower(d.Dialect().Name()+"-"+ids.New()[:8])
		if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var stored atomic.Int64
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key, body := fmt.Sprintf("o%02d", i), fill(1_000_000, byte(i))
				if i%4 != 0 {
					put(t, cl, bucket, key, body)
					stored.Add(1)
					return
				}
				mp, err := cl.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				if err != nil {
					t.Error(err)
					return
				}
				up, err := cl.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: mp.UploadId,
					PartNumber: aws.Int32(1), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body)))})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := cl.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
					UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: up.ETag, PartNumber: aws.Int32(1)}}}}); err != nil {
					t.Error(err)
					return
				}
				stored.Add(1)
			}()
		}
		wg.Wait()
		if stored.Load() != 32 {
			t.Fatalf("stored %d of 32", stored.Load())
		}
		c.api(200, "POST", "/sandbox/clock", a.creds["admin_key"], `{"advance":"13h"}`) // Mar 11 01:00
		var usage map[string]any
		decodeInto(t, c.icGET(partner, "/storage-account/"+id+"/usage?from=2027-03-10&to=2027-03-10"), &usage)
		day := usage["daily_usage"].([]any)[0].(map[string]any)
		if fmt.Sprint(day["usage"]) != "32000000" || fmt.Sprint(day["allocated_capacity"]) != "10000000" {
			t.Fatalf("daily usage %v", usage)
		}
		ex := c.api(200, "GET", "/contracts/"+app.DemoContractID+"/excess?month=2027-03", a.creds["admin_key"], "")
		if ex["excess_byte_days"] != "22000000" {
			t.Fatalf("contract excess %v, want 22000000 byte-days (22 MB over the allocation for one day)", ex)
		}
		for _, dd := range ex["days"].([]any) {
			if dd := dd.(map[string]any); dd["date"] == "2027-03-10" && dd["overage_bytes"] != 22000000.0 {
				t.Fatalf("excess day %v", dd)
			}
		}
	})
}

// A storage account scheduled for deletion takes no writes but can still be
// read; when the deletion comes due its objects and buckets go with it.
func TestObjectStorageScheduledDeletion(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		clk := clock.NewFake(time.Date(2027, 5, 1, 9, 0, 0, 0, time.UTC))
		a := newS3App(t, d, clk, t.TempDir(), "purge-"+ids.New())
		defer a.Close()
		c := newClient(t, a.Handler)
		partner := a.creds["partner_key"]
		id, cl := c.storageAccount(a.S3.URL(), partner, "Leaving", 5_000_000, false)
		bucket := "leaving-" + strings.ToLower(d.Dialect().Name()+"-"+ids.New()[:8])
		if _, err := cl.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		put(t, cl, bucket, "keep.txt", fill(1000, 'k'))
		put(t, cl, bucket, "gone.txt", fill(500, 'g'))
		if r := c.ic(partner, "DELETE", "/storage-account/"+id, ""); r.Status != 204 {
			t.Fatalf("schedule deletion: %d %s", r.Status, r.Body)
		}
		clk.Advance(s3gw.DefaultCacheTTL) // the S3 server's cached bucket state expires
		if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("more"),
			Body: strings.NewReader("x")}); s3Code(err) != "AccessDenied" {
			t.Fatalf("write while scheduled for deletion: %v", err)
		}
		if _, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("keep.txt")}); err != nil {
			t.Fatalf("read while scheduled for deletion: %v", err)
		}
		// Deleting (which only lowers what is stored) is allowed.
		if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("gone.txt")}); err != nil {
			t.Fatalf("delete while scheduled for deletion: %v", err)
		}
		if b, err := a.Store.GetLiveBucket(ctx, bucket); err != nil || b.SizeBytes != 1000 || b.NumObjects != 1 {
			t.Fatalf("bucket after the delete: %+v %v", b, err)
		}
		// 30 days later the job removes the objects, the bucket and the account.
		c.api(200, "POST", "/sandbox/clock", a.creds["admin_key"], `{"advance":"721h"}`)
		if r := c.ic(partner, "GET", "/storage-account/"+id, ""); r.Status != 404 {
			t.Fatalf("account after the deletion came due: %d %s", r.Status, r.Body)
		}
		if _, err := os.Stat(filepath.Join(s3gwtest.Backend(t).Root(), bucket)); !os.IsNotExist(err) {
			t.Fatalf("bucket directory after the purge: %v", err)
		}
		if _, err := a.Store.GetLiveBucket(ctx, bucket); err == nil {
			t.Fatal("bucket still registered after the purge")
		}
		if _, err := cl.ListBuckets(ctx, &s3.ListBucketsInput{}); s3Code(err) != "InvalidAccessKeyId" {
			t.Fatalf("the deleted account's key: %v", err)
		}
	})
}
