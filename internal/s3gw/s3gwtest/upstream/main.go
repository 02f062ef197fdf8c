// Command upstream is the upstream S3 store of the tests of
// `trellis serve --s3-backend s3`: versitygw's posix backend on a directory,
// with one root key, as a process of its own (the way a real S3 cluster is
// another process). It prints "upstream-url <URL>" on stdout once it listens, and
// serves until SIGTERM or SIGINT.
//
//	upstream -dir DIR -access KEY -secret SECRET [-addr 127.0.0.1:0]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/trellis-cloud/trellis/internal/s3gw"
)

func main() {
	dir := flag.String("dir", "", "directory of the objects (created)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0: a free port)")
	access := flag.String("access", "", "root access key")
	secret := flag.String("secret", "", "root secret key")
	region := flag.String("region", s3gw.DefaultRegion, "region requests are signed for")
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
	srv, err := s3gw.StartPlain(be, *addr, *region, *access, *secret)
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
