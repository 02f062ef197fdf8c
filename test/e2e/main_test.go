// Package e2e drives the real trellis binary over HTTP: it builds it once,
// starts it as users do (serve, --demo, two nodes on one PostgreSQL) and
// checks what a client sees.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/impossiblecloud"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/infiterra"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/native"
	"github.com/trellis-cloud/trellis/internal/testflags"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trellis-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "trellis")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/trellis")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build trellis:", err)
		os.Exit(1)
	}
	testflags.RaiseParallel()
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// node is a running trellis serve process.
type node struct {
	t      *testing.T
	cmd    *exec.Cmd
	URL    string
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// start runs `trellis serve` with args and waits until /readyz answers.
func start(t *testing.T, env []string, args ...string) *node {
	t.Helper()
	addr := freeAddr(t)
	n := &node{t: t, URL: "http://" + addr, done: make(chan error, 1)}
	base := []string{"serve", "--http", addr}
	if !slices.Contains(args, "--s3") {
		// Every node its own S3 port (the default 127.0.0.1:9000 would
		// collide between nodes and tests).
		base = append(base, "--s3", freeAddr(t))
	}
	n.cmd = exec.Command(binary, append(base, args...)...)
	n.cmd.Env = append(os.Environ(), env...)
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	n.cmd.Stdout, n.cmd.Stderr = outW, errW
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	copyTo := func(r io.Reader, buf *bytes.Buffer) {
		s := bufio.NewScanner(r)
		for s.Scan() {
			n.mu.Lock()
			buf.WriteString(s.Text() + "\n")
			n.mu.Unlock()
		}
	}
	go copyTo(outR, &n.stdout)
	go copyTo(errR, &n.stderr)
	go func() {
		err := n.cmd.Wait()
		_ = outW.Close()
		_ = errW.Close()
		n.done <- err
	}()
	t.Cleanup(func() { n.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(n.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return n
			}
		}
		select {
		case err := <-n.done:
			t.Fatalf("trellis exited early: %v\nstdout:\n%s\nstderr:\n%s", err, n.Stdout(), n.Stderr())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("trellis did not become ready\nstderr:\n%s", n.Stderr())
	return nil
}

func (n *node) Stdout() string { n.mu.Lock(); defer n.mu.Unlock(); return n.stdout.String() }
func (n *node) Stderr() string { n.mu.Lock(); defer n.mu.Unlock(); return n.stderr.String() }

// stop sends SIGTERM and returns the exit error (nil for a clean exit).
func (n *node) stop() error {
	if n.cmd.ProcessState != nil {
		return nil
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.done:
		n.done <- err // keep it for a second stop
		return err
	case <-time.After(20 * time.Second):
		_ = n.cmd.Process.Kill()
		return fmt.Errorf("trellis did not stop within 20s")
	}
}

// validators check every exchange with a dialect against its spec.
var (
	validatorsOnce sync.Once
	validators     map[string]*apitest.Validator
)

func validatorFor(t *testing.T, path string) *apitest.Validator {
	validatorsOnce.Do(func() {
		validators = map[string]*apitest.Validator{
			impossiblecloud.Prefix + "/": apitest.NewValidator(t, impossiblecloud.Spec()),
			native.Prefix + "/":          apitest.NewValidator(t, native.Spec30()),
			itglobal.Prefix + "/":        apitest.NewValidator(t, itglobal.Spec()),
			infiterra.Prefix + "/":       apitest.NewValidator(t, infiterra.Spec()),
		}
	})
	// The longest prefix wins: the Infiterra routes sit under the
	// Impossible Cloud prefix.
	var best string
	for prefix := range validators {
		if strings.HasPrefix(path, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	return validators[best]
}

// call sends a request with an optional bearer key and JSON body, validates
// the exchange against the dialect's spec, and decodes the JSON answer into
// out (when non-nil).
func call(t *testing.T, method, url, key, body string, out any) int {
	t.Helper()
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	base, path := u.Scheme+"://"+u.Host, u.RequestURI()
	req := apitest.Request{Method: method, Path: path, Header: http.Header{}}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != "" {
		req.Body = []byte(body)
		req.Header.Set("Content-Type", "application/json")
	}
	v := validatorFor(t, u.Path)
	if v == nil {
		t.Fatalf("no spec for %s", u.Path)
	}
	resp := v.DoURL(t, nil, base, req)
	if out != nil && len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, url, resp.Status, resp.Body, err)
		}
	}
	return resp.Status
}

func ioPipe() (*io.PipeReader, *io.PipeWriter) { return io.Pipe() }
