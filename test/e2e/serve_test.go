package e2e

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/lockedbuf"
)

// The README's first command: `trellis serve` with no flags in a fresh
// directory serves with SQLite in ./data and prints a working admin key
// once. The two listen addresses are the only settings given (through the
// environment, to free ports: the defaults 127.0.0.1:8080 and :9000 may be
// taken on a shared machine); cli's TestServeDefaultAddresses checks that
// those are the defaults.
func TestServeDefaults(t *testing.T) {
	t.Parallel()
	httpAddr, s3Addr := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	cmd := exec.Command(binary, "serve")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "TRELLIS_HTTP="+httpAddr, "TRELLIS_S3="+s3Addr)
	out := &lockedbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("exit after SIGINT: %v\n%s", err, out)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Error("no exit after SIGINT")
		}
	}()
	waitReady(t, "http://"+httpAddr, done, out)
	// Standard output is not a terminal here: the key is not printed (it
	// could end up in a log store) but written to ./data/initial-admin-key.
	if !strings.Contains(out.String(), "Provider admin API key") {
		t.Fatalf("the first start did not announce the admin key:\n%s", out)
	}
	if k := regexp.MustCompile(`trl_[A-Za-z0-9_-]{43}`).FindString(out.String()); k != "" {
		t.Fatalf("the admin key was printed to captured output:\n%s", out)
	}
	keyPath := filepath.Join(dir, "data", "initial-admin-key")
	kb, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatalf("no admin key file: %v\n%s", err, out)
	}
	key := strings.TrimSpace(string(kb))
	if fi, err := os.Stat(keyPath); err != nil || fi.Mode().Perm() != 0o600 || !regexp.MustCompile(`^trl_[A-Za-z0-9_-]{43}$`).MatchString(key) {
		t.Fatalf("admin key file: %q, %v", key, err)
	}
	for p, mode := range map[string]os.FileMode{"data": 0o700, "data/trellis.db": 0o600, "data/secret.key": 0o600} {
		if fi, err := os.Stat(filepath.Join(dir, p)); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, want mode %o", p, err, mode)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "trellis.db")); err != nil {
		t.Fatalf("no SQLite database at ./data/trellis.db: %v", err)
	}
	var orgs struct {
		Items []map[string]any `json:"items"`
	}
	if s := call(t, "GET", "http://"+httpAddr+"/api/v1/orgs", key, "", &orgs); s != 200 || len(orgs.Items) != 1 {
		t.Fatalf("admin key against the native API: %d %v", s, orgs)
	}
	// The embedded S3 server is on by default (an anonymous request is
	// refused the S3 way) and keeps objects under ./data/s3.
	resp, err := http.Get("http://" + s3Addr + "/")
	if err != nil {
		t.Fatalf("S3 on %s: %v", s3Addr, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
		t.Fatalf("anonymous S3 request: %d %s", resp.StatusCode, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "s3", "objects")); err != nil {
		t.Fatalf("no object store under ./data/s3: %v", err)
	}
}

// cleanEnv drops TRELLIS_* so the defaults are what is tested.
func cleanEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "TRELLIS_") {
			env = append(env, e)
		}
	}
	return env
}

func waitReady(t *testing.T, base string, done chan error, out *lockedbuf.Buffer) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("exited early: %v\n%s", err, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("not ready:\n%s", out)
}

// Flags win over environment variables; --admin-key / TRELLIS_ADMIN_KEY
// bootstraps a known key.
func TestFlagsOverEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	envAddr := freeAddr(t)
	const adminKey = "automation-admin-key-0123456789"
	n := start(t, []string{"TRELLIS_HTTP=" + envAddr, "TRELLIS_ADMIN_KEY=" + adminKey, "TRELLIS_DATA_DIR=" + dir})
	if strings.Contains(n.Stdout(), "Provider admin API key") {
		t.Error("a generated key was printed although TRELLIS_ADMIN_KEY was set")
	}
	if resp, err := http.Get("http://" + envAddr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("also serving on the environment's address; the flag must win")
	}
	if s := call(t, "GET", n.URL+"/api/v1/orgs", adminKey, "", nil); s != 200 {
		t.Fatalf("the bootstrapped admin key: %d", s)
	}
	if s := call(t, "GET", n.URL+"/api/v1/orgs", "wrong-key", "", nil); s != 401 {
		t.Fatalf("a wrong key: %d", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "trellis.db")); err != nil {
		t.Fatalf("TRELLIS_DATA_DIR not used: %v", err)
	}
}

// SIGTERM lets an in-flight request finish, then the process exits 0 with
// the database closed cleanly (SQLite folds its WAL back on close).
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const adminKey = "graceful-admin-key-0123456789"
	n := start(t, nil, "--data-dir", dir, "--admin-key", adminKey)
	// Hold a request open: send headers and half the body, signal, then
	// finish the body.
	pr, pw := ioPipe()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", n.URL+"/api/v1/orgs", pr)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	req.Header.Set("Content-Type", "application/json")
	type result struct {
		status int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			res <- result{err: err}
			return
		}
		resp.Body.Close()
		res <- result{status: resp.StatusCode}
	}()
	var orgs struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	call(t, "GET", n.URL+"/api/v1/orgs?kind=provider", adminKey, "", &orgs)
	if len(orgs.Items) != 1 {
		t.Fatalf("provider org: %+v", orgs)
	}
	_, _ = pw.Write([]byte(`{"parentId": "` + orgs.Items[0].ID + `",`))
	time.Sleep(200 * time.Millisecond) // the server is now reading the body
	stopped := make(chan error, 1)
	go func() { stopped <- n.stop() }()
	// Shutdown has begun when the listener refuses new connections.
	host := strings.TrimPrefix(n.URL, "http://")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		conn, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			break
		}
		_ = conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections 10 s after SIGTERM")
		}
	}
	_, _ = pw.Write([]byte(`"name": "Late distributor"}`))
	_ = pw.Close()
	r := <-res
	if r.err != nil || r.status != 201 {
		t.Fatalf("in-flight request during shutdown: %d %v", r.status, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("exit: %v\n%s", err, n.Stderr())
	}
	if fi, err := os.Stat(filepath.Join(dir, "trellis.db-wal")); err == nil && fi.Size() > 0 {
		t.Errorf("WAL left with %d bytes: the database was not closed cleanly", fi.Size())
	}
}
