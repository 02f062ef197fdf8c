package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAnnounceAdminKey: on a terminal the key is printed once; on captured
// output (a service manager's log, a pipe) only a path is printed and the
// key is in a 0600 file of the data dir.
func TestAnnounceAdminKey(t *testing.T) {
	t.Parallel()
	const key = "trl_secret-admin-key-0123456789"
	var tty bytes.Buffer
	if err := announceAdminKey(&tty, true, t.TempDir(), key); err != nil {
		t.Fatal(err)
	}
	if strings.Count(tty.String(), key) != 1 || !strings.Contains(tty.String(), "Provider admin API key") {
		t.Errorf("terminal output: %q", tty.String())
	}

	dir := filepath.Join(t.TempDir(), "data")
	var logged bytes.Buffer
	if err := announceAdminKey(&logged, false, dir, key); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logged.String(), key) || !strings.Contains(logged.String(), "Provider admin API key") {
		t.Errorf("captured output: %q", logged.String())
	}
	path := filepath.Join(dir, AdminKeyFile)
	b, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(b)) != key {
		t.Fatalf("key file: %q %v", b, err)
	}
	for p, mode := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want %o", p, fi.Mode().Perm(), err, mode)
		}
	}
	if isTerminal(&logged) {
		t.Error("a buffer is not a terminal")
	}
}
