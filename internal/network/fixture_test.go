package network_test

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/jobs/jobstest"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

var (
	t0  = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	sys = actor.System("")
)

// jobRec records the jobs the service enqueues (no River here: the tests
// run the workers' functions themselves).
type jobRec struct{ jobstest.Recorder }

func (j *jobRec) all() []jobs.Args { return j.All() }

// segRec is the billing state the service left: per resource id, the
// segments in force (empty: not billed). Writes of a transaction count only
// when it commits.
type segRec struct {
	mu   sync.Mutex
	segs map[string][]metering.Segment
}

func (r *segRec) billed(id string) []metering.Segment {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.segs[id]
}

// recStore wraps the SQL store, keeping usage segments in segRec.
type recStore struct {
	sqlstore.Network
	rec     *segRec
	pending map[string][]metering.Segment // inside a transaction
}

func (r recStore) Tx(ctx context.Context, fn func(network.Store) error) error {
	var pending map[string][]metering.Segment
	err := r.Network.Tx(ctx, func(s network.Store) error {
		pending = map[string][]metering.Segment{}
		return fn(recStore{Network: s.(sqlstore.Network), rec: r.rec, pending: pending})
	})
	if err == nil {
		r.rec.mu.Lock()
		maps.Copy(r.rec.segs, pending)
		r.rec.mu.Unlock()
	}
	return err
}

func (r recStore) CloseUsageSegments(_ context.Context, id string, _ time.Time) error {
	if r.pending == nil {
		panic("segments written outside a transaction")
	}
	r.pending[id] = []metering.Segment{}
	return nil
}

func (r recStore) InsertUsageSegment(_ context.Context, id string, s metering.Segment, _ time.Time) error {
	r.pending[id] = append(r.pending[id], s)
	return nil
}

type fixture struct {
	ctx  context.Context // the test's
	d    *db.DB
	st   *sqlstore.Store
	clk  *clock.Fake
	bil  *billing.Service
	net  *network.Service
	sim  *sim.Provider
	jobs *jobRec
	segs *segRec

	cust, other   actor.Actor // two users (customer orgs), admin role
	userID        int64
	acct, acct2   int64 // the customer's accounts (acct is the default)
	otherAcct     int64
	custOrg       tenancy.Org
	otherOrg      tenancy.Org
	provider      tenancy.Org
	locA, locB    string
	identity      *access.Identity
	catalogSvc    *catalog.Service
	ledgerSvc     *ledger.Service
	networkConfig network.Config
}

// newFixture seeds two locations, two users with billing accounts, and a
// /24 pool in location A (254 addresses) and a /28 in B.
func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{ctx: ctx, d: d, clk: clock.NewFake(t0), jobs: &jobRec{}, segs: &segRec{segs: map[string][]metering.Segment{}},
		locA: "cyc01", locB: "bus02"}
	f.st = sqlstore.New(d).WithJobs(f.jobs)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	f.catalogSvc = catalog.NewService(sqlstore.Catalog{Store: f.st}, f.clk)
	must(f.catalogSvc.LoadDemo(ctx, sys))
	f.ledgerSvc = ledger.NewService(sqlstore.Ledger{Store: f.st}, f.clk)
	f.bil = billing.NewService(sqlstore.Billing{Store: f.st}, f.ledgerSvc, f.clk, billing.Config{})
	f.identity = access.NewIdentity(sqlstore.Identity{Store: f.st}, f.clk)

	now := db.Micro(t0)
	org := func(kind actor.OrgKind, parent *tenancy.Org, name string) tenancy.Org {
		id := ids.New()
		o := tenancy.Org{ID: id, Kind: kind, Path: "/" + id + "/", Name: name, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
		if parent != nil {
			o.ParentID, o.Path = parent.ID, parent.Path+id+"/"
		}
		must(f.st.InsertOrg(ctx, o))
		return o
	}
	f.provider = org(actor.Provider, nil, "Provider")
	f.custOrg = org(actor.Customer, &f.provider, "Customer")
	f.otherOrg = org(actor.Customer, &f.provider, "Other")
	u, err := f.identity.CreateUser(ctx, sys, access.CreateIDCHUserInput{OrgID: f.custOrg.ID, Email: "c@example.com"})
	must(err)
	f.userID = u.ID
	ou, err := f.identity.CreateUser(ctx, sys, access.CreateIDCHUserInput{OrgID: f.otherOrg.ID, Email: "o@example.com"})
	must(err)
	acct := func(o tenancy.Org, uid int64) int64 {
		a, err := f.bil.CreateAccount(ctx, sys, billing.CreateAccountInput{OrgID: o.ID, UserID: uid,
			Data: billing.AccountData{Title: "a", Email: "a@example.com"}})
		must(err)
		return a.ID
	}
	f.acct, f.acct2 = acct(f.custOrg, u.ID), acct(f.custOrg, u.ID)
	f.otherAcct = acct(f.otherOrg, ou.ID)
	f.cust = actor.Actor{Type: actor.TypeAPIKey, ID: "k1", OrgID: f.custOrg.ID, OrgPath: f.custOrg.Path, OrgKind: actor.Customer, Role: actor.Admin}
	f.other = actor.Actor{Type: actor.TypeAPIKey, ID: "k2", OrgID: f.otherOrg.ID, OrgPath: f.otherOrg.Path, OrgKind: actor.Customer, Role: actor.Admin}

	f.sim = sim.New(0)
	f.net = f.service(f.st)
	_, err = f.net.AddPoolRange(ctx, sys, network.AddPoolRange{Location: f.locA, CIDR: "203.0.113.0/24"})
	must(err)
	_, err = f.net.AddPoolRange(ctx, sys, network.AddPoolRange{Location: f.locB, CIDR: "198.51.100.0/28"})
	must(err)
	return f
}

// service returns a network service on st (another "node" when st is on
// another pool).
func (f *fixture) service(st *sqlstore.Store) *network.Service {
	return network.NewService(recStore{Network: sqlstore.Network{Store: st}, rec: f.segs}, f.bil, f.sim, f.clk, f.networkConfig)
}

// restricted returns the customer acting with a token restricted to id.
func (f *fixture) restricted(id int64) actor.Actor {
	a := f.cust
	a.BillingAccount = id
	return a
}

// attach attaches a new VM of the customer in location loc (compute's
// part, in its own transaction).
func (f *fixture) attach(t *testing.T, a actor.Actor, loc, networkUUID string) (string, network.VMAddress) {
	t.Helper()
	ctx := t.Context()
	vm := ids.New()
	org, uid := f.custOrg.ID, f.userID
	if a.OrgID == f.otherOrg.ID {
		org, uid = f.otherOrg.ID, 0
	}
	var out network.VMAddress
	err := recStore{Network: sqlstore.Network{Store: f.st}, rec: f.segs}.Tx(ctx, func(tx network.Store) error {
		var err error
		out, err = f.net.AttachVMTx(ctx, tx, network.AttachVM{OrgID: org, UserID: uid, Location: loc, NetworkUUID: networkUUID, VMUUID: vm})
		return err
	})
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	return vm, out
}

// inTx runs fn in a transaction of the network store.
func (f *fixture) inTx(fn func(tx network.Store) error) error {
	return recStore{Network: sqlstore.Network{Store: f.st}, rec: f.segs}.Tx(f.ctx, fn)
}
