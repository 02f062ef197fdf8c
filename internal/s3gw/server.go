package s3gw

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/versity/versitygw/auth"
	"github.com/versity/versitygw/backend"
	"github.com/versity/versitygw/s3api"
	"github.com/versity/versitygw/s3api/middlewares"

	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
)

// DefaultRegion is the region the server answers for when none is set.
const DefaultRegion = "us-east-1"

// DefaultCacheTTL is how long resolved S3 keys and bucket states are reused.
const DefaultCacheTTL = 2 * time.Second

// Config configures the S3 server.
type Config struct {
	// Addr is host:port to listen on; port 0 picks a free port (URL tells
	// which). Default "127.0.0.1:9000".
	Addr string
	// Region is the SigV4 region clients sign for (default us-east-1).
	Region string
	// VirtualHostDomain enables virtual-host-style addressing
	// (<bucket>.<domain>) besides path style, which always works.
	VirtualHostDomain string
	// Backend is the object store: the posix store (OpenBackend) or an
	// upstream S3 (OpenUpstream).
	Backend backend.Backend
	// Keys resolves S3 keys (objstore.Service).
	Keys Keys
	// Buckets is the accounting (buckets.Service).
	Buckets Accounting
	// Node is this process's lease (nodes.Lease): its id names the
	// server's reservations; while it cannot be held, writes are refused.
	Node Lease
	// Nodes tells which nodes are dead (nodes.Registry): their
	// reservations are recovered by this server.
	Nodes Liveness
	// Locks, when set, makes every write also lock what it writes in the
	// database (nodelock.Locker), for nodes that share the object store;
	// nil: only this process writes to it (locks in memory).
	Locks ClusterLocks
	// RecoverEvery is how often dead nodes' reservations are looked for
	// (default DefaultRecoverEvery; negative: only at Start and Reconcile).
	RecoverEvery time.Duration
	// Logger gets the server's own log lines (default: discarded).
	Logger *slog.Logger
	// Registerer gets the reconciliation's metrics (nil: not registered).
	Registerer prometheus.Registerer
	// KeyCacheTTL and AccessCacheTTL bound how long a resolved key and a
	// bucket's state are reused (0: DefaultCacheTTL; negative: no cache).
	KeyCacheTTL    time.Duration
	AccessCacheTTL time.Duration
	// Clock dates the caches' entries (default clock.Real).
	Clock clock.Clock
	// Timeouts bound how long a connection may wait for a request header
	// and stay idle (defaults: DefaultHeaderTimeout, DefaultIdleTimeout).
	Timeouts Timeouts
}

// Server is the embedded S3 server. It is also the buckets.Provider the
// bucket API drives.
type Server struct {
	cfg     Config
	log     *slog.Logger
	iam     *iam
	store   *store
	metrics *reconcileMetrics
	region  string

	mu          sync.Mutex
	srv         *s3api.S3ApiServer
	url         string
	serveErr    chan error
	stopRecover func()
}

// Lease is this node's registration (*nodes.Lease): Check reports whether
// it may write now (renewing a lapsed lease first).
type Lease interface {
	ID() string
	Check(ctx context.Context) bool
}

// Liveness tells which nodes are dead (*nodes.Registry): a node it calls
// dead can no longer write (it is fenced).
type Liveness interface {
	Dead(ctx context.Context, ids []string) (map[string]bool, error)
}

// DefaultRecoverEvery is how often a server looks for the reservations of
// dead nodes.
const DefaultRecoverEvery = 30 * time.Second

var _ buckets.Provider = (*Server)(nil)

// New returns a server; Start recovers and serves.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil || cfg.Keys == nil || cfg.Buckets == nil || cfg.Node == nil || cfg.Nodes == nil {
		return nil, errors.New("s3gw: Backend, Keys, Buckets, Node and Nodes are required")
	}
	if cfg.RecoverEvery == 0 {
		cfg.RecoverEvery = DefaultRecoverEvery
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:9000"
	}
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	ttl := func(d time.Duration) time.Duration {
		if d == 0 {
			return DefaultCacheTTL
		}
		return max(d, 0)
	}
	s := &Server{cfg: cfg, log: log, region: region,
		iam:     newIAM(cfg.Keys, cfg.Clock, ttl(cfg.KeyCacheTTL), log),
		store:   newStore(cfg.Backend, cfg.Buckets, cfg.Node, cfg.Nodes, cfg.Locks, cfg.Clock, ttl(cfg.AccessCacheTTL), log),
		metrics: newReconcileMetrics(cfg.Registerer)}
	return s, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// InvalidateKey forgets a cached S3 key at once (call it when a key is
// deleted; otherwise it works until the cache's lifetime ends).
func (s *Server) InvalidateKey(accessKey string) { s.iam.Invalidate(accessKey) }

// Start settles or releases the writes dead nodes left unfinished (and a
// previous incarnation of this node's id), then serves S3 on the configured
// address and keeps recovering what nodes that die meanwhile leave.
func (s *Server) Start(ctx context.Context) error {
	if _, _, err := s.Recover(ctx, 0); err != nil {
		return fmt.Errorf("s3gw: recovering unfinished writes: %w", err)
	}
	root, err := randomHex(20)
	if err != nil {
		return err
	}
	rootSecret, err := randomHex(20)
	if err != nil {
		return err
	}
	opts := []s3api.Option{s3api.WithDisableACL()}
	if s.cfg.VirtualHostDomain != "" {
		opts = append(opts, s3api.WithHostStyle(s.cfg.VirtualHostDomain))
	}
	// The root key is random and never leaves the process: nobody
	// authenticates as root; Trellis's own calls go to the backend directly.
	srv, addr, err := serve(s.store, s.iam, middlewares.RootUserConfig{Access: "ROOT" + root, Secret: rootSecret},
		s.region, s.cfg.Addr, s.cfg.Timeouts, opts...)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.srv, s.url = srv.srv, "http://"+addr
	s.serveErr = srv.done
	s.mu.Unlock()
	if s.cfg.RecoverEvery > 0 {
		rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.recoverLoop(rctx)
		}()
		s.mu.Lock()
		s.stopRecover = func() { cancel(); <-done }
		s.mu.Unlock()
	}
	s.log.Info("s3: serving", "url", s.url, "region", s.region, "virtual_host_domain", s.cfg.VirtualHostDomain,
		"node", s.cfg.Node.ID())
	return nil
}

// recoverLoop recovers dead nodes' reservations every RecoverEvery.
func (s *Server) recoverLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.RecoverEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, _, err := s.Recover(ctx, staleReservation); err != nil && ctx.Err() == nil {
			s.log.Error("s3: recovering dead nodes' writes", "err", err)
		}
	}
}

// Recover settles or releases the reservations of dead nodes, and those of
// this node older than minAge whose write is not running (a settle that
// failed). Two servers may recover the same reservation at once: one
// claims it (deletes its row), the other finds it gone.
func (s *Server) Recover(ctx context.Context, minAge time.Duration) (settled, released int, err error) {
	settled, released, err = s.store.recoverPending(trustedCtx(ctx), minAge)
	if s.cfg.Locks != nil && err == nil {
		err = s.cfg.Locks.Purge(ctx) // locks of dead nodes, and leaked ones
	}
	if settled+released > 0 {
		s.log.Info("s3: recovered unfinished writes", "settled", settled, "released", released)
	}
	return settled, released, err
}

// URL is the server's endpoint ("" before Start).
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Stop stops serving (in-flight requests get up to 10 s).
func (s *Server) Stop(ctx context.Context) error {
	s.mu.Lock()
	srv, done, stopRecover := s.srv, s.serveErr, s.stopRecover
	s.srv, s.stopRecover = nil, nil
	s.mu.Unlock()
	if stopRecover != nil {
		stopRecover()
	}
	if srv == nil {
		return nil
	}
	err := srv.ShutDown()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return err
}

// ---- buckets.Provider ----

// CreateBucket creates an empty bucket owned by principalID with the ACL
// versitygw's CreateBucket writes for a request without ACL headers (the
// bucket API recorded it already).
func (s *Server) CreateBucket(ctx context.Context, name, principalID string) error {
	acl, err := auth.UpdateACL(&auth.PutBucketAclInput{
		GrantFullControl: new(string), GrantRead: new(string), GrantReadACP: new(string),
		GrantWrite: new(string), GrantWriteACP: new(string),
		AccessControlPolicy: &auth.AccessControlPolicy{Owner: &types.Owner{ID: &principalID}},
	}, auth.ACL{Owner: principalID}, s.iam)
	if err != nil {
		return err
	}
	lock := false
	//lint:ignore SA1029 posix reads the bucket owner under versitygw's plain string key
	ownerCtx := context.WithValue(ctx, "bucket-owner", principalAccount(principalID))
	err = s.cfg.Backend.CreateBucket(ownerCtx,
		&s3.CreateBucketInput{Bucket: &name, ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced,
			ObjectLockEnabledForBucket: &lock, CreateBucketConfiguration: &types.CreateBucketConfiguration{}}, acl)
	s.store.access.invalidate(name)
	return providerError(name, err)
}

// DeleteBucket deletes an empty bucket, aborting its unfinished multipart
// uploads through the accounting (the bucket API marks it deleted).
func (s *Server) DeleteBucket(ctx context.Context, name string) error {
	ctx = trustedCtx(ctx)
	if err := s.store.abortUploads(ctx, name); err != nil {
		return providerError(name, err)
	}
	err := s.cfg.Backend.DeleteBucket(ctx, name)
	s.store.access.invalidate(name)
	return providerError(name, err)
}

// EmptyBucket deletes every object and unfinished multipart upload of a
// bucket through the accounting, whatever the bucket's state.
func (s *Server) EmptyBucket(ctx context.Context, name string) error {
	ctx = trustedCtx(ctx)
	for {
		max, empty := int32(1000), ""
		out, err := s.cfg.Backend.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &name, MaxKeys: &max, StartAfter: &empty})
		if err != nil {
			if gone(err) {
				return nil
			}
			return providerError(name, err)
		}
		if len(out.Contents) == 0 {
			break
		}
		objs := make([]types.ObjectIdentifier, len(out.Contents))
		for i, o := range out.Contents {
			objs[i] = types.ObjectIdentifier{Key: o.Key}
		}
		res, err := s.store.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &name, Delete: &types.Delete{Objects: objs}})
		if err != nil {
			return providerError(name, err)
		}
		if len(res.Error) > 0 {
			e := res.Error[0]
			return errs.Wrap(errs.KindInternal, fmt.Errorf("emptying %s: deleting %q: %s", name, str(e.Key), str(e.Message)),
				"object storage failure")
		}
	}
	return providerError(name, s.store.abortUploads(ctx, name))
}

// ---- listening ----

type running struct {
	srv  *s3api.S3ApiServer
	done chan error
}

// serve starts versitygw's S3 server for be on addr and waits until it
// listens. versitygw binds the address itself from a port spec, so port 0
// is resolved first to a free port (retried if another process takes it in
// between).
func serve(be backend.Backend, iam auth.IAMService, root middlewares.RootUserConfig, region, addr string,
	timeouts Timeouts, opts ...s3api.Option) (running, string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return running{}, "", fmt.Errorf("s3gw: address %q: %w", addr, err)
	}
	var lastErr error
	for range 5 {
		p := port
		if p == "0" || p == "" {
			free, err := freePort(host)
			if err != nil {
				return running{}, "", err
			}
			p = strconv.Itoa(free)
		}
		listening := make(chan struct{})
		all := append([]s3api.Option{
			s3api.WithQuiet(),
			s3api.WithKeepAlive(),
			s3api.WithConcurrencyLimiter(250_000, 100_000),
			s3api.WithMpMaxParts(10_000),
			s3api.WithOnListen(func() { close(listening) }),
		}, opts...)
		srv, err := s3api.New(be, root, region, iam, nil, nil, nil, nil, all...)
		if err != nil {
			return running{}, "", err
		}
		if err := setTimeouts(srv, timeouts.withDefaults()); err != nil {
			return running{}, "", err
		}
		bind := net.JoinHostPort(host, p)
		done := make(chan error, 1)
		go func() { done <- srv.ServeMultiPort([]string{bind}) }()
		select {
		case <-listening:
			shown := host
			if shown == "" || shown == "0.0.0.0" || shown == "::" {
				shown = "127.0.0.1"
			}
			return running{srv: srv, done: done}, net.JoinHostPort(shown, p), nil
		case err := <-done:
			lastErr = err
			if port != "0" && port != "" {
				return running{}, "", fmt.Errorf("s3gw: listen on %s: %w", bind, err)
			}
		case <-time.After(10 * time.Second):
			_ = srv.ShutDown()
			return running{}, "", fmt.Errorf("s3gw: %s did not start listening", bind)
		}
	}
	return running{}, "", fmt.Errorf("s3gw: no free port on %s: %w", host, lastErr)
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Plain is versitygw alone on a backend, with a root key and nothing of
// Trellis's (no accounting, no Trellis keys): the baseline the benchmark
// compares the server with.
type Plain struct {
	run running
	url string
}

// StartPlain serves be with versitygw's own single-account IAM (root key
// access/secret) on addr, with the same server options as Server.
func StartPlain(be backend.Backend, addr, region, access, secret string) (*Plain, error) {
	if region == "" {
		region = DefaultRegion
	}
	root := middlewares.RootUserConfig{Access: access, Secret: secret}
	iam := auth.IAMServiceSingle{}
	run, hostport, err := serve(be, iam, root, region, addr, Timeouts{}, s3api.WithDisableACL())
	if err != nil {
		return nil, err
	}
	return &Plain{run: run, url: "http://" + hostport}, nil
}

// URL is the baseline server's endpoint.
func (p *Plain) URL() string { return p.url }

// Stop stops it.
func (p *Plain) Stop() error {
	err := p.run.srv.ShutDown()
	<-p.run.done
	return err
}
