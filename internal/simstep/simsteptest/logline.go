package simsteptest

import (
	"strings"
	"testing"
)

// WantLogLine fails unless one line of log holds every part: the sim
// providers' callers log a failed step with its resource and step name.
func WantLogLine(t *testing.T, log string, parts ...string) {
	t.Helper()
	for line := range strings.SplitSeq(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return
		}
	}
	t.Fatalf("no log line with %q in:\n%s", parts, log)
}
