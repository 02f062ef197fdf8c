package s3gw_test

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/versity/versitygw/s3response"

	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/nodes"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/s3gw/s3gwtest"
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

// pending is the reservations left, of every node.
func (f *fixture) pending() []buckets.Reservation {
	f.t.Helper()
	rs, err := f.bk.PendingReservations(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	return rs
}

// Issue 14, finding 2. Two nodes on one database (and, as versitygw's posix
// store wants, one store): node 1 is killed in the middle of two writes (one
// reached the disk, one did not) while node 2's uploads are in flight, and
// starts again. Its identity is its own (a fresh id), so its restart
// touches neither node 2's uploads nor — while the old incarnation's lease
// runs — the old incarnation's writes; once that lease ran out (the clock
// moved, the live nodes renewing), both live nodes recover the dead node's
// writes at once, each exactly once. The counters then equal the bytes
// listed, nothing stays reserved, and filling to the quota stores not one
// byte over it. (Before: both nodes read one id from the shared data dir,
// node 1's restart released node 2's uploads, the counters read 0 against
// 800,000 listed and filling stored 600,000 bytes over 3,000,000.)
func TestNodeRestartLeavesOtherNodesUploads(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		const alloc, size = 3 * mb, 400_000
		principal, key := f.account(alloc, false)
		l1, l2 := f.node(""), f.node("")
		n1, n2 := f.serverOn(l1), f.serverOn(l2)
		c2 := client(n2.URL(), key)
		bkt := bucketName("nodes")
		if _, err := c2.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		var puts []*slowPut
		for i := range 2 {
			puts = append(puts, startSlowPut(t, c2, bkt, "inflight-"+string(rune('a'+i)), body(size, byte(i))))
		}
		waitFor(t, "node 2's reservations", func() bool { _, r := f.quota(principal); return r == 2*size })

		// Node 1 dies in the middle of two writes: their reservations stay,
		// one object reached the disk; its lease is no longer renewed.
		const landed, lost = 300_000, 200_000
		for _, w := range []buckets.Write{
			{Node: l1.ID(), Bucket: bkt, Op: buckets.OpPut, Key: "dead-landed", Bytes: landed, OldSize: -1},
			{Node: l1.ID(), Bucket: bkt, Op: buckets.OpPut, Key: "dead-lost", Bytes: lost, OldSize: -1},
		} {
			if _, err := f.bk.Reserve(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s3gwtest.Backend(t).PutObject(ctx, s3response.PutObjectInput{Bucket: &bkt, Key: aws.String("dead-landed"),
			ContentLength: aws.Int64(landed), Body: bytes.NewReader(body(landed, 9))}); err != nil {
			t.Fatal(err)
		}
		if err := n1.Stop(ctx); err != nil { // the listener goes; the lease is abandoned, not stopped
			t.Fatal(err)
		}

		// Node 1 starts again: a new incarnation, a new id.
		l1b := f.node("")
		if l1b.ID() == l1.ID() {
			t.Fatal("the restarted node has its old id")
		}
		n1 = f.serverOn(l1b)
		c1 := client(n1.URL(), key)
		if got := len(f.pending()); got != 4 {
			t.Fatalf("the restart touched live reservations: %d left, want 4", got)
		}
		for _, p := range puts {
			p.finish(t)
		}
		used, reserved := f.quota(principal)
		if got := listed(t, c1, bkt); used != got-landed || reserved != landed+lost {
			t.Fatalf("after node 2's uploads: counters %d used, %d reserved; %d bytes listed (%d of them the dead node's)",
				used, reserved, got, landed)
		}
		// Not dead yet: its lease runs.
		if s, r, err := n2.Recover(ctx, 0); err != nil || s+r != 0 {
			t.Fatalf("recovered %d+%d of a live lease: %v", s, r, err)
		}

		// The lease runs out while the live nodes renew theirs.
		for range 4 {
			f.clk.Advance(leaseTTL / 3)
			for _, l := range []*nodes.Lease{l1b, l2} {
				if err := l.Renew(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		var settled, released atomic.Int64
		var wg sync.WaitGroup
		for _, srv := range []*s3gw.Server{n1, n2} {
			wg.Go(func() {
				s, r, err := srv.Recover(ctx, 0)
				if err != nil {
					t.Error(err)
				}
				settled.Add(int64(s))
				released.Add(int64(r))
			})
		}
		wg.Wait()
		if settled.Load() != 1 || released.Load() != 1 {
			t.Fatalf("recovered: %d settled, %d released; want 1 and 1", settled.Load(), released.Load())
		}
		if left := f.pending(); len(left) != 0 {
			t.Fatalf("reservations left after the lease ran out: %+v", left)
		}
		used, reserved = f.quota(principal)
		if got := listed(t, c1, bkt); used != got || reserved != 0 {
			t.Fatalf("after recovery: counters %d used, %d reserved; %d bytes listed", used, reserved, got)
		}
		// The dead incarnation stays dead: it cannot renew.
		if err := l1.Renew(ctx); err != nil || l1.ID() == l1b.ID() {
			t.Fatalf("old incarnation renewing: %v", err)
		}

		n := fill(t, c1, bkt, size)
		got := listed(t, c1, bkt)
		if got > alloc || alloc-got >= size {
			t.Fatalf("filled to quota with %d puts: %d bytes stored on %d allocated", n, got, alloc)
		}
		if used, reserved := f.quota(principal); used != got || reserved != 0 {
			t.Fatalf("after filling: counters %d used, %d reserved; %d bytes listed", used, reserved, got)
		}
		t.Logf("stored %d of %d bytes (%d over); counters = listed", got, alloc, max(0, got-alloc))
	})
}

// A node whose lease lapsed by its own clock renews before it writes: if
// nobody declared it dead, under its id; if another node did (fenced it),
// it registers again under a new id first, so no write of it lands under
// the dead id. Nothing stays reserved.
func TestLapsedLeaseRenewsBeforeWriting(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		f := newFixture(t, d)
		_, key := f.account(10*mb, false)
		lease := f.node("")
		srv := f.serverOn(lease)
		c := client(srv.URL(), key)
		bkt := bucketName("lapsed")
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
			t.Fatal(err)
		}
		first := lease.ID()
		f.clk.Advance(leaseTTL + time.Second) // late, but nobody noticed
		if err := put(c, bkt, "late", body(10, 1)); err != nil || lease.ID() != first {
			t.Fatalf("late renewal: %v, id %s (was %s)", err, lease.ID(), first)
		}
		f.clk.Advance(leaseTTL + time.Second) // late again, and declared dead
		if alive, err := f.nodes.Alive(ctx, first); err != nil || alive {
			t.Fatalf("alive %v %v", alive, err)
		}
		if err := put(c, bkt, "fenced", body(10, 2)); err != nil {
			t.Fatal(err)
		}
		if lease.ID() == first || !lease.Held() {
			t.Fatalf("after the fence: id %s (was %s), held %v", lease.ID(), first, lease.Held())
		}
		if alive, _ := f.nodes.Alive(ctx, first); alive {
			t.Fatal("the fenced id came back")
		}
		if left := f.pending(); len(left) != 0 {
			t.Fatalf("reservations left: %+v", left)
		}
	})
}
