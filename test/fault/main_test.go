// Package fault is the fault suite of issue 14: several `trellis serve`
// processes (the built binary) on one PostgreSQL run a bounded mixed
// workload while a seeded chaos loop kill -9s and restarts them; then every
// node is restarted, given a bounded time to recover, and the invariants
// are checked in PostgreSQL and through the APIs.
//
// Each node has its own data dir (so its own S3 node id) whose s3/ is one
// shared folder. Of every three kills one lands at a random moment, one is
// aimed into a request with an Idempotency-Key and one into an S3 write.
// TRELLIS_FAULT_KILLS=0 is a control run: the same workload without faults.
//
// It needs TRELLIS_TEST_POSTGRES_URL (it skips without it). The defaults fit
// CI (about a minute of workload, at least 6 kills over at least 2 nodes).
// A longer soak, or the replay of a failure, is the same test with other
// figures:
//
//	TRELLIS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable \
//	TRELLIS_FAULT_DURATION=30m TRELLIS_FAULT_KILLS=200 TRELLIS_FAULT_SEED=1234 \
//	go test ./test/fault/ -run TestFault -v -timeout 60m
//
// Knobs (environment): TRELLIS_FAULT_SEED (the printed seed of a run to
// replay its kill schedule and workload choices), TRELLIS_FAULT_DURATION
// (workload time, default 60s), TRELLIS_FAULT_KILLS (at least this many
// kills, default 6), TRELLIS_FAULT_NODES (2 or 3, default 3),
// TRELLIS_FAULT_RECOVERY (how long, in real time, the restarted cluster
// gets to bring every resource to a final state, free every idempotency
// key and settle every S3 reservation of a dead node, default 2m), TRELLIS_FAULT_ADVANCE (how far the sandbox
// clock is moved after the restart, so rescues and reconcilers that work on
// the sandbox clock are due, default 6m), TRELLIS_FAULT_PROVIDER_DELAY (the
// nodes' --provider-delay, default 2s, so VM steps run on River workers and
// a kill can interrupt them).
package fault

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

var (
	binaryDir  string
	binary     string
	binaryOnce sync.Once
	binaryErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trellis-fault-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binaryDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildBinary builds trellis once, only for a test that runs (the suite
// skips without PostgreSQL, and then costs no build).
func buildBinary(t *testing.T) {
	t.Helper()
	binaryOnce.Do(func() {
		binary = filepath.Join(binaryDir, "trellis")
		build := exec.Command("go", "build", "-o", binary, "../../cmd/trellis")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		binaryErr = build.Run()
	})
	if binaryErr != nil {
		t.Fatalf("build trellis: %v", binaryErr)
	}
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

// node is one trellis serve of the cluster: its addresses and data dir stay
// the same across kills and restarts, so clients keep one list of nodes.
type node struct {
	name    string
	URL     string // HTTP API
	S3URL   string // embedded S3 server
	args    []string
	dataDir string

	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{}
	runs  int
	kills int // by the chaos loop

	// keyedInFlight and s3InFlight count the requests with an
	// Idempotency-Key and the S3 writes this node is serving, so that some
	// kills can be aimed into one.
	keyedInFlight atomic.Int64
	s3InFlight    atomic.Int64
	alive         bool
	log           bytes.Buffer // stderr of every run, for the failure report
}

func newNode(t *testing.T, name string, common []string, dataDir string) *node {
	httpAddr, s3Addr := freeAddr(t), freeAddr(t)
	return &node{name: name, URL: "http://" + httpAddr, S3URL: "http://" + s3Addr, dataDir: dataDir,
		args: append([]string{"serve", "--http", httpAddr, "--s3", s3Addr, "--data-dir", dataDir}, common...)}
}

// start runs the process (with extra arguments for this run only) without
// waiting for it to be ready.
func (n *node) start(extra ...string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.alive {
		return fmt.Errorf("%s is running", n.name)
	}
	cmd := exec.Command(binary, append(append([]string{}, n.args...), extra...)...)
	outR, outW := io.Pipe()
	cmd.Stdout, cmd.Stderr = outW, outW
	if err := cmd.Start(); err != nil {
		return err
	}
	n.runs++
	run := n.runs
	done := make(chan struct{})
	n.cmd, n.done, n.alive = cmd, done, true
	go func() {
		s := bufio.NewScanner(outR)
		s.Buffer(make([]byte, 64<<10), 1<<20)
		for s.Scan() {
			n.mu.Lock()
			fmt.Fprintf(&n.log, "[run %d] %s\n", run, s.Text())
			n.mu.Unlock()
		}
	}()
	go func() {
		_ = cmd.Wait()
		_ = outW.Close()
		n.mu.Lock()
		if n.cmd == cmd {
			n.alive = false
		}
		n.mu.Unlock()
		close(done)
	}()
	return nil
}

// waitReady polls /readyz until it answers 200 or the process exits.
func (n *node) waitReady(d time.Duration) error {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	deadline := time.Now().Add(d)
	c := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		if resp, err := c.Get(n.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited before it was ready", n.name)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within %s", n.name, d)
}

// kill sends SIGKILL and waits for the process to be gone.
func (n *node) kill() {
	n.mu.Lock()
	cmd, done, alive := n.cmd, n.done, n.alive
	n.mu.Unlock()
	if !alive {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// stop sends SIGTERM (SIGKILL after 20 s).
func (n *node) stop() {
	n.mu.Lock()
	cmd, done, alive := n.cmd, n.done, n.alive
	n.mu.Unlock()
	if !alive {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (n *node) isAlive() bool { n.mu.Lock(); defer n.mu.Unlock(); return n.alive }

func (n *node) logs() string { n.mu.Lock(); defer n.mu.Unlock(); return n.log.String() }
