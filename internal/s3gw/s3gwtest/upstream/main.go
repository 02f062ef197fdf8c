// Command upstream is the upstream S3 store of the tests of
// `trellis serve --s3-backend s3`: versitygw's posix backend on a directory,
// with one root key, as a process of its own (the way a real S3 cluster is
// another process). It prints "upstream-url <URL>" on stdout once it listens, and
// serves until SIGTERM or SIGINT.
//
//	upstream -dir DIR -access KEY -secret SECRET [-addr 127.0.0.1:0] [-delay 100ms]
//
// -delay makes each object and part write wait that long before and again
// after storing, as a slow distributed store would, so a test that kills a
// Trellis node finds writes in flight at either side of the store.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3response"

	"github.com/trellis-cloud/trellis/internal/s3gw"
)

func main() {
	dir := flag.String("dir", "", "directory of the objects (created)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0: a free port)")
	access := flag.String("access", "", "root access key")
	secret := flag.String("secret", "", "root secret key")
	region := flag.String("region", s3gw.DefaultRegion, "region requests are signed for")
	delay := flag.Duration("delay", 0, "wait before and after each object or part write")
	flag.Parse()
	if *dir == "" || *access == "" || *secret == "" {
		fmt.Fprintln(os.Stderr, "upstream: -dir, -access and -secret are required")
		os.Exit(2)
	}
	be, err := s3gw.OpenBackend(s3gw.Dirs(*dir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
	var store backend.Backend = be
	if *delay > 0 {
		store = slow{Backend: be, d: *delay}
	}
	srv, err := s3gw.StartPlain(store, *addr, *region, *access, *secret)
	if err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
	fmt.Println("upstream-url", srv.URL())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
}

// slow waits around object and part writes.
type slow struct {
	*s3gw.Backend
	d time.Duration
}

func (s slow) PutObject(ctx context.Context, in s3response.PutObjectInput) (s3response.PutObjectOutput, error) {
	time.Sleep(s.d)
	defer time.Sleep(s.d)
	return s.Backend.PutObject(ctx, in)
}

func (s slow) UploadPart(ctx context.Context, in *s3.UploadPartInput) (*s3.UploadPartOutput, error) {
	time.Sleep(s.d)
	defer time.Sleep(s.d)
	return s.Backend.UploadPart(ctx, in)
}
