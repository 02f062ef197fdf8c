// Package testflags adjusts the testing package's flags from a TestMain.
package testflags

import (
	"flag"
	"runtime"
	"strconv"
)

// DefaultParallel is how many parallel tests RaiseParallel lets run at once.
const DefaultParallel = 8

// RaiseParallel sets -test.parallel to DefaultParallel (or GOMAXPROCS if
// larger) when the command line does not set it; call it from TestMain
// before m.Run. The default, GOMAXPROCS (2 on the project's machines),
// suits tests that compute; a package whose tests mostly wait (for River's
// scheduler, a server's timeout, a cache's expiry, a subprocess) leaves
// the CPUs idle with two at a time.
func RaiseParallel() {
	if !flag.Parsed() {
		flag.Parse()
	}
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		_ = flag.Set("test.parallel", strconv.Itoa(max(DefaultParallel, runtime.GOMAXPROCS(0))))
	}
}
