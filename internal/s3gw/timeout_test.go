package s3gw_test

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// Issue 14, finding 10: connections that send nothing, or half a request
// header, or stay idle after a request, are closed by the server within its
// (here short) timeouts; an upload whose body takes longer than the header
// timeout still succeeds.
func TestConnectionTimeouts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t, dbtest.Open(t, "sqlite"))
	_, key := f.account(10*mb, false)
	const timeout = 300 * time.Millisecond
	srv := f.server("", timeouts(timeout))
	addr := srv.URL()[len("http://"):]
	c := client(srv.URL(), key)
	bkt := bucketName("timeouts")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bkt}); err != nil {
		t.Fatal(err)
	}

	const each = 100
	var conns []net.Conn
	dial := func(send string) {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if send != "" {
			if _, err := conn.Write([]byte(send)); err != nil {
				t.Fatal(err)
			}
		}
		conns = append(conns, conn)
	}
	for range each {
		dial("")                                           // nothing
		dial("GET / HTTP/1.1\r\nHost: s3.example.com\r\n") // half a header
	}
	// Idle after a complete request (keep-alive).
	idle := "HEAD /" + bkt + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"
	for range each {
		dial(idle)
	}
	slow := startSlowPut(t, c, bkt, "slow", body(100_000, 1))
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	open := 0
	for _, conn := range conns {
		wg.Go(func() {
			defer conn.Close()
			_ = conn.SetReadDeadline(time.Now().Add(10 * timeout))
			buf := make([]byte, 4096)
			for {
				if _, err := conn.Read(buf); err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						mu.Lock()
						open++
						mu.Unlock()
					}
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if open > 0 {
		t.Fatalf("%d of %d connections still open after %v", open, len(conns), 10*timeout)
	}
	t.Logf("%d connections (nothing, half a header, idle) closed by the server within %v", len(conns), took)
	// The upload's body has waited longer than the header timeout.
	if wait := 2*timeout - time.Since(start); wait > 0 {
		time.Sleep(wait)
	}
	slow.finish(t)
}

func timeouts(d time.Duration) func(*s3gw.Config) {
	return func(c *s3gw.Config) { c.Timeouts = s3gw.Timeouts{Header: d, Idle: d} }
}
