package s3gw_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/nodelock"
	"github.com/trellis-cloud/trellis/internal/nodes"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/s3gw"
	"github.com/trellis-cloud/trellis/internal/s3gw/s3gwtest"
	"github.com/trellis-cloud/trellis/internal/sealed"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

func TestMain(m *testing.M) { s3gwtest.Main(m) }

var (
	ctx = context.Background()
	sys = actor.System("")
	t0  = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
)

const mb = 1_000_000

type fixture struct {
	t       *testing.T
	st      *sqlstore.Store
	obj     *objstore.Service
	bk      *buckets.Service
	partner tenancy.Org
	reg     *prometheus.Registry
	clk     *clock.Fake
	nodes   *nodes.Registry
	leases  map[string]*nodes.Lease // given id → its lease (a restart on one id reuses it)
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	clk := clock.NewFake(t0)
	f := &fixture{t: t, st: sqlstore.New(d), reg: prometheus.NewRegistry(), clk: clk, leases: map[string]*nodes.Lease{}}
	f.nodes = nodes.NewRegistry(sqlstore.Nodes{Store: f.st}, clk)
	ten := tenancy.NewService(sqlstore.Tenancy{Store: f.st}, clk)
	// Sealed secrets, as in production: the server must open them.
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := sealed.New(key)
	must(err)
	f.obj = wiring.Must(objstore.NewService(sqlstore.Objstore{Store: f.st}, clk, box, objstore.NoDataPlane{}))
	root, err := ten.EnsureRoot(t.Context(), tenancy.CreateRootInput{Name: "P"})
	must(err)
	dist, err := ten.CreateOrg(t.Context(), sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "D"})
	must(err)
	c, err := ten.CreateContract(t.Context(), sys, tenancy.CreateContractInput{OrgID: dist.ID, ReservedCapacity: 100_000 * mb, Currency: "EUR", Details: "C"})
	must(err)
	f.partner, err = ten.CreatePartner(t.Context(), sys, tenancy.CreatePartnerInput{ContractID: c.ID, Name: "P", AllocatedCapacity: 50_000 * mb})
	must(err)
	f.bk = wiring.Must(buckets.NewService(buckets.Deps{Store: sqlstore.Buckets{Store: f.st}, Principals: f.obj, Clock: clk, DataPlane: buckets.NoDataPlane{}}))
	return f
}

// account creates a storage account and returns its principal id and key.
func (f *fixture) account(alloc int64, overdraft bool) (string, objstore.Key) {
	f.t.Helper()
	sa, err := f.obj.CreateStorageAccount(f.t.Context(), sys, f.partner.ID, objstore.CreateStorageAccountInput{Name: "SA",
		AllocatedCapacity: alloc, AllowOverdraft: overdraft, ContactEmail: rnd() + "@example.com", Password: "Str0ng!pass"})
	if err != nil {
		f.t.Fatal(err)
	}
	p, keys, err := f.obj.AccountKeys(f.t.Context(), sys, f.partner.ID, sa.ID)
	if err != nil || len(keys) != 1 {
		f.t.Fatalf("principal: %v %d keys", err, len(keys))
	}
	return p.ID, keys[0]
}

// node registers a node: a fresh id for "", else the given one (the same
// lease for a given id registered before).
func (f *fixture) node(id string) *nodes.Lease {
	f.t.Helper()
	if l, ok := f.leases[id]; ok && id != "" {
		return l
	}
	l, err := f.nodes.Register(f.t.Context(), nodes.LeaseConfig{ID: id, TTL: leaseTTL, Every: leaseTTL / 3, Logger: testLogger()})
	if err != nil {
		f.t.Fatal(err)
	}
	f.leases[id] = l
	return l
}

// leaseTTL is the tests' node lease.
const leaseTTL = 30 * time.Second

// server starts an S3 server on a free loopback port, as node (a fresh
// node for "").
func (f *fixture) server(node string, mod ...func(*s3gw.Config)) *s3gw.Server {
	f.t.Helper()
	return f.serverOn(f.node(node), mod...)
}

// serverOn starts an S3 server on a free loopback port holding lease. It
// looks for dead nodes' reservations only when told (Recover).
func (f *fixture) serverOn(lease *nodes.Lease, mod ...func(*s3gw.Config)) *s3gw.Server {
	f.t.Helper()
	cfg := s3gw.Config{Addr: "127.0.0.1:0", Backend: s3gwtest.Backend(f.t), Keys: f.obj, Buckets: f.bk,
		Node: lease, Nodes: f.nodes, RecoverEvery: -1, Registerer: f.reg, Logger: testLogger(),
		Locks: nodelock.New(nodelock.Config{Store: sqlstore.NodeLocks{Store: f.st}, Node: lease, Nodes: f.nodes,
			Clock: f.clk, Logger: testLogger()})}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := s3gw.New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	if err := srv.Start(f.t.Context()); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	return srv
}

func testLogger() *slog.Logger {
	if os.Getenv("S3GW_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func (f *fixture) quota(principal string) (used, reserved int64) {
	f.t.Helper()
	used, reserved, _, err := f.st.Quota(f.t.Context(), principal)
	if err != nil {
		f.t.Fatal(err)
	}
	return used, reserved
}

// bucket returns a live bucket's record.
func (f *fixture) bucket(name string) buckets.Bucket {
	f.t.Helper()
	bs, err := f.bk.LiveBuckets(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	for _, b := range bs {
		if b.Name == name {
			return b
		}
	}
	f.t.Fatalf("no live bucket %s", name)
	return buckets.Bucket{}
}

// client is an S3 client of srv with a key: path style, no retries.
func client(url string, k objstore.Key, mod ...func(*s3.Options)) *s3.Client {
	o := s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(k.AccessKey, k.Secret, ""),
		BaseEndpoint: aws.String(url),
		UsePathStyle: true,
		Retryer:      aws.NopRetryer{},
	}
	for _, m := range mod {
		m(&o)
	}
	return s3.New(o)
}

// virtualHost makes a client address buckets as <bucket>.<domain> while
// every connection goes to the server's loopback address.
func virtualHost(addr, domain string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.UsePathStyle = false
		_, port, _ := net.SplitHostPort(addr)
		o.BaseEndpoint = aws.String("http://" + domain + ":" + port)
		var d net.Dialer
		o.HTTPClient = &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
		}}
	}
}

func rnd() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// bucketName is a name no other test of the binary uses (they share the
// object store).
func bucketName(prefix string) string { return prefix + "-" + rnd() }

// code is the S3 error code of err ("" for none).
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "?" + err.Error()
	}
	return ""
}

func body(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i%251)
	}
	return b
}

func put(c *s3.Client, bucket, key string, data []byte) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data)))})
	return err
}
