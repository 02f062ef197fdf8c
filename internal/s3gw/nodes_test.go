package s3gw_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// slowPut is a PUT of n bytes through a presigned URL whose body is sent in
// two halves: the first at once, the second when finish is called.
type slowPut struct {
	w    *io.PipeWriter
	data []byte
	done chan error
}

func startSlowPut(t *testing.T, c *s3.Client, bucket, key string, data []byte) *slowPut {
	t.Helper()
	req, err := s3.NewPresignClient(c).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key,
		ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	hr, err := http.NewRequest(http.MethodPut, req.URL, pr)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range req.SignedHeader {
		if k != "Host" {
			hr.Header[k] = vs
		}
	}
	hr.ContentLength = int64(len(data))
	p := &slowPut{w: pw, data: data, done: make(chan error, 1)}
	go func() {
		res, err := http.DefaultClient.Do(hr)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				err = &httpStatusError{res.StatusCode, string(b)}
			}
		}
		p.done <- err
	}()
	go func() { _, _ = pw.Write(data[:len(data)/2]) }()
	return p
}

type httpStatusError struct {
	code int
	body string
}

func (e *httpStatusError) Error() string { return http.StatusText(e.code) + ": " + e.body }

// finish sends the rest of the body and waits for the answer.
func (p *slowPut) finish(t *testing.T) {
	t.Helper()
	if _, err := p.w.Write(p.data[len(p.data)/2:]); err != nil {
		t.Fatal(err)
	}
	_ = p.w.Close()
	if err := <-p.done; err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond (the server works on its own goroutines) for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// listed is the bytes a bucket's objects hold, as S3 lists them.
func listed(t *testing.T, c *s3.Client, bucket string) int64 {
	t.Helper()
	var n int64
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			n += *o.Size
		}
	}
	return n
}

// fill puts objects of size n until the quota refuses one.
func fill(t *testing.T, c *s3.Client, bucket string, n int) int {
	t.Helper()
	for i := 0; ; i++ {
		err := put(c, bucket, "fill-"+string(rune('a'+i%26))+string(rune('a'+i/26)), body(n, byte(i)))
		if code(err) == "QuotaExceeded" || code(err) == "AccessDenied" {
			return i
		}
		if err != nil {
			t.Fatal(err)
		}
		if i > 1000 {
			t.Fatal("the quota never refused")
		}
	}
}

// Two nodes that share a data dir: node 1 restarts while node 2's uploads
// are in flight. Node 1's restart must not touch node 2's reservations: when
// they finish, the counters equal the bytes listed, and filling to the
// quota stores not one byte over it.
func TestNodeRestartLeavesOtherNodesUploads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		const alloc, size = 3 * mb, 400_000
		principal, key := f.account(alloc, false)
		dir := t.TempDir() // the data dir both nodes were given
		shared := func(c *s3gw.Config) { c.DataDir = dir }
		n1 := f.server("", shared)
		n2 := f.server("", shared)
		c1, c2 := client(n1.URL(), key), client(n2.URL(), key)
		bkt := bucketName("nodes")
		if _, err := c2.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		var puts []*slowPut
		for i := range 2 {
			puts = append(puts, startSlowPut(t, c2, bkt, "inflight-"+string(rune('a'+i)), body(size, byte(i))))
		}
		waitFor(t, "node 2's reservations", func() bool { _, r := f.quota(principal); return r == 2*size })

		// Node 1 stops and starts again while node 2 writes.
		if err := n1.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		n1 = f.server("", shared)
		c1 = client(n1.URL(), key)
		for _, p := range puts {
			p.finish(t)
		}
		used, reserved := f.quota(principal)
		if got := listed(t, c1, bkt); used != got || reserved != 0 {
			t.Fatalf("after node 2's uploads: counters %d used, %d reserved; %d bytes listed", used, reserved, got)
		}
		fill(t, c1, bkt, size)
		if got := listed(t, c1, bkt); got > alloc {
			t.Fatalf("filled to quota: %d bytes stored on %d allocated (%d over)", got, alloc, got-alloc)
		}
	})
}
