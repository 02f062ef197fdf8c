package fault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// settings are the run's figures, from the environment (see the package
// comment).
type settings struct {
	seed          uint64
	duration      time.Duration
	kills         int
	nodes         int
	recovery      time.Duration
	advance       time.Duration
	providerDelay time.Duration
}

func loadSettings(t *testing.T) settings {
	s := settings{duration: 60 * time.Second, kills: 6, nodes: 3, recovery: 2 * time.Minute,
		advance: 6 * time.Minute, providerDelay: 2 * time.Second}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s.seed = uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 // short enough to type
	envUint := func(name string, p *uint64) {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("%s=%q: %v", name, v, err)
			}
			*p = n
		}
	}
	envInt := func(name string, p *int) {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("%s=%q: %v", name, v, err)
			}
			*p = n
		}
	}
	envDur := func(name string, p *time.Duration) {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				t.Fatalf("%s=%q: %v", name, v, err)
			}
			*p = d
		}
	}
	envUint("TRELLIS_FAULT_SEED", &s.seed)
	envDur("TRELLIS_FAULT_DURATION", &s.duration)
	envInt("TRELLIS_FAULT_KILLS", &s.kills)
	envInt("TRELLIS_FAULT_NODES", &s.nodes)
	envDur("TRELLIS_FAULT_RECOVERY", &s.recovery)
	envDur("TRELLIS_FAULT_ADVANCE", &s.advance)
	envDur("TRELLIS_FAULT_PROVIDER_DELAY", &s.providerDelay)
	if s.nodes < 2 {
		t.Fatalf("TRELLIS_FAULT_NODES=%d: the suite needs at least 2 nodes", s.nodes)
	}
	return s
}

// TestFault runs the workload under kill -9 and checks the invariants.
func TestFault(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.NewPostgresDatabase(t) // skips without TRELLIS_TEST_POSTGRES_URL
	cfg := loadSettings(t)
	buildBinary(t)
	t.Logf("fault suite: seed %d (replay with TRELLIS_FAULT_SEED=%d), %d nodes, workload %s, ≥ %d kills, recovery %s, clock advance %s",
		cfg.seed, cfg.seed, cfg.nodes, cfg.duration, cfg.kills, cfg.recovery, cfg.advance)
	rng := mrand.New(mrand.NewPCG(cfg.seed, 0x7472656c6c6973))

	const adminKey = "fault-suite-admin-key-0123456789abcdef"
	var secret [32]byte
	_, _ = rand.Read(secret[:])
	// Each node its own data dir (so its own S3 node id) whose s3/ is one
	// shared folder: the objects are the same through every node, as with
	// a shared posix mount.
	shared := t.TempDir()
	common := []string{"--db", dbURL, "--admin-key", adminKey, "--secret-key", hex.EncodeToString(secret[:]),
		"--rate-limit", "0", "--sandbox", "--provider-delay", cfg.providerDelay.String(),
		"--job-interval", "10s", "--shutdown-grace", "2s"}
	nodes := make([]*node, cfg.nodes)
	for i := range nodes {
		dir := t.TempDir()
		if err := os.Symlink(shared, filepath.Join(dir, "s3")); err != nil {
			t.Fatal(err)
		}
		nodes[i] = newNode(t, fmt.Sprintf("node%d", i+1), common, dir)
	}
	// The nodes' full logs are kept for a failed run, named by its seed.
	dumpLogs := func() {
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("trellis-fault-%d", cfg.seed))
		if err := os.MkdirAll(dir, 0o750); err != nil {
			t.Log(err)
			return
		}
		for _, n := range nodes {
			path := filepath.Join(dir, n.name+".log")
			if err := os.WriteFile(path, []byte(n.logs()), 0o600); err != nil {
				t.Log(err)
			}
			t.Logf("---- %s: full log in %s; its last lines ----\n%s", n.name, path, tail(n.logs(), 3000))
		}
	}
	t.Cleanup(func() {
		for _, n := range nodes {
			n.stop()
		}
	})
	// The first node loads the sandbox (keys of every dialect) once; the
	// others start on the migrated database.
	if err := nodes[0].start("--demo"); err != nil {
		t.Fatal(err)
	}
	if err := nodes[0].waitReady(90 * time.Second); err != nil {
		dumpLogs()
		t.Fatal(err)
	}
	for _, n := range nodes[1:] {
		if err := n.start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes[1:] {
		if err := n.waitReady(90 * time.Second); err != nil {
			dumpLogs()
			t.Fatal(err)
		}
	}

	st := &stats{}
	cl := &cluster{t: t, nodes: nodes, st: st, client: &http.Client{Timeout: 20 * time.Second}}
	creds := readCreds(t, filepath.Join(nodes[0].dataDir, "demo-credentials.json"))
	fx := setup(t, cl, rng, creds)

	// The workload and the chaos loop run for cfg.duration.
	ctx, cancel := context.WithTimeout(t.Context(), cfg.duration)
	defer cancel()
	w := newWorkload(cl, fx, cfg.seed)
	var wg sync.WaitGroup
	w.run(ctx, &wg)
	chaosDone := make(chan struct{})
	go func() {
		defer close(chaosDone)
		chaos(ctx, t, nodes, st, rng, cfg)
	}()
	<-ctx.Done()
	<-chaosDone
	wg.Wait()

	// Restart every node (cleanly), then give the cluster its bounded time
	// to recover.
	for _, n := range nodes {
		n.stop()
	}
	for _, n := range nodes {
		if err := n.start(); err != nil {
			t.Fatal(err)
		}
		st.restarts.Add(1)
	}
	for _, n := range nodes {
		if err := n.waitReady(90 * time.Second); err != nil {
			t.Errorf("after the workload: %v", err)
		}
	}
	ch := newChecker(t, dbURL, cl, fx, w)
	ch.recover(cfg)
	ch.checkAll()

	t.Logf("fault suite figures: seed %d; requests sent %d (acknowledged %d, refused 4xx %d, 5xx %d, no answer %d); "+
		"S3 puts acknowledged %d; kills %d over %d nodes; restarts %d; invariants checked %d; violations %d",
		cfg.seed, st.sent.Load(), st.acked.Load(), st.refused.Load(), st.serverErr.Load(), st.netErr.Load(),
		w.s3Acked.Load(), st.kills.Load(), killedNodes(nodes), st.restarts.Load(), ch.checked, len(ch.violations))
	for _, v := range ch.violations {
		t.Logf("VIOLATION %s", v)
	}
	if t.Failed() {
		dumpLogs()
	}
}

// chaos kill -9s a random live node at seeded moments and restarts it after
// a seeded pause, so that at least cfg.kills kills hit at least two nodes
// within the workload. One node always stays up.
func chaos(ctx context.Context, t *testing.T, nodes []*node, st *stats, rng *mrand.Rand, cfg settings) {
	if cfg.kills == 0 {
		return // a control run: the same workload without faults
	}
	interval := cfg.duration / time.Duration(cfg.kills+1)
	killed := map[int]bool{}
	var restarting sync.WaitGroup
	defer restarting.Wait()
	for k := 0; ; k++ {
		// Between 0.5 and 1.0 of the interval, so the kills fit.
		wait := interval/2 + time.Duration(rng.Int64N(int64(interval/2)+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		var live []int
		for i, n := range nodes {
			if n.isAlive() {
				live = append(live, i)
			}
		}
		if len(live) < 2 {
			continue
		}
		i := live[rng.IntN(len(live))]
		// The last scheduled kills make sure a second node is hit.
		if k >= cfg.kills-2 && len(killed) == 1 && killed[i] {
			for _, j := range live {
				if j != i {
					i = j
					break
				}
			}
		}
		pause := time.Duration(500+rng.IntN(3000)) * time.Millisecond
		n := nodes[i]
		// Of three kills, one lands at a random moment, one is aimed into a
		// request with an Idempotency-Key and one into an S3 write (when
		// one reaches that node within 2 s): those are short, and a kill
		// between starting and completing them is the case to test.
		aimed := ""
		var inFlight *atomic.Int64
		switch k % 3 {
		case 1:
			inFlight, aimed = &n.keyedInFlight, " (into a keyed payment)"
		case 2:
			inFlight, aimed = &n.s3InFlight, " (into an S3 write)"
		}
		if inFlight != nil {
			hit := false
			for deadline := time.Now().Add(2 * time.Second); !hit && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				hit = inFlight.Load() > 0
			}
			if !hit {
				aimed = ""
			}
		}
		n.kill()
		killed[i] = true
		n.mu.Lock()
		n.kills++
		n.mu.Unlock()
		st.kills.Add(1)
		t.Logf("chaos: kill -9 %s%s at %s, restart in %s", n.name, aimed, time.Now().Format("15:04:05.000"), pause)
		restarting.Add(1)
		go func() {
			defer restarting.Done()
			time.Sleep(pause)
			if err := n.start(); err != nil {
				t.Errorf("restart %s: %v", n.name, err)
				return
			}
			st.restarts.Add(1)
			if err := n.waitReady(60 * time.Second); err != nil {
				t.Errorf("restart %s: %v", n.name, err)
			}
		}()
	}
}

func killedNodes(nodes []*node) int {
	k := 0
	for _, n := range nodes {
		n.mu.Lock()
		if n.kills > 0 {
			k++
		}
		n.mu.Unlock()
	}
	return k
}

func readCreds(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
