// Package s3gwtest gives a test binary its one posix object store: versitygw's
// posix backend changes the process's working directory, so every test of a
// binary shares the same backend (bucket names must differ between tests).
package s3gwtest

import (
	"os"
	"path/filepath"
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
