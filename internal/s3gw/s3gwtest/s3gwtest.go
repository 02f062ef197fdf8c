// Package s3gwtest gives a test binary its one posix object store: versitygw's
// posix backend changes the process's working directory, so every test of a
// binary shares the same backend (bucket names must differ between tests).
package s3gwtest

import (
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/trellis-cloud/trellis/internal/s3gw"
)

var (
	once sync.Once
	dir  string
	be   *s3gw.Backend
	err  error
)

// Backend returns the test binary's backend, opened on first use in a
// fresh temporary directory (removed by Main).
func Backend(tb testing.TB) *s3gw.Backend {
	tb.Helper()
	once.Do(func() {
		if dir, err = os.MkdirTemp("", "trellis-s3gwtest-"); err != nil {
			return
		}
		be, err = s3gw.OpenBackend(s3gw.Dirs(dir))
	})
	if err != nil {
		tb.Fatalf("s3gwtest: %v", err)
	}
	return be
}

// Main runs the tests and removes the backend's directory; call it from
// TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if dir != "" {
		_ = os.RemoveAll(filepath.Clean(dir))
	}
	os.Exit(code)
}

// DefaultParallel is how many parallel tests Parallel lets run at once.
const DefaultParallel = 8

// Parallel raises -test.parallel to DefaultParallel when the command line
// does not set it; call it from TestMain before m.Run. The default,
// GOMAXPROCS (2 on the project's machines), suits tests that compute; these
// tests mostly wait (for River's scheduler, a server's timeout, a cache's
// expiry), so two at a time left the CPUs idle. (internal/s3gw's tests
// compute and write more than they wait, and keep the default.)
func Parallel() {
	if !flag.Parsed() {
		flag.Parse()
	}
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(max(DefaultParallel, runtime.GOMAXPROCS(0))))
	}
}
