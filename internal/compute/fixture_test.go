package compute_test

import (
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/compute/sim"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/jobs/jobstest"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/network"
	netsim "github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

var (
	t0  = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	sys = actor.System("")
)

// jobRec records the jobs the service enqueues (no River: the tests run
// the worker's function themselves).
type jobRec struct{ jobstest.Recorder }

func (j *jobRec) last() (compute.StepArgs, jobs.InsertOpts) {
	a, o := j.Last()
	return a.(compute.StepArgs), o
}

type fixture struct {
	st    *sqlstore.Store
	clk   *clock.Fake
	bil   *billing.Service
	net   *network.Service
	cat   *catalog.Service
	sim   *sim.Provider
	svc   *compute.Service
	jobs  *jobRec
	cust  actor.Actor
	other actor.Actor
	org   tenancy.Org
	acct  int64 // the customer's default account
	acct2 int64
	oacct int64
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := t.Context()
	f := &fixture{clk: clock.NewFake(t0), jobs: &jobRec{}, sim: sim.New(0)}
	f.st = sqlstore.New(d).WithJobs(f.jobs)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	f.cat = catalog.NewService(sqlstore.Catalog{Store: f.st}, f.clk)
	must(f.cat.LoadDemo(ctx, sys))
	must(f.cat.LoadDemoResources(ctx, sys))
	led := ledger.NewService(sqlstore.Ledger{Store: f.st}, f.clk)
	f.bil = billing.NewService(sqlstore.Billing{Store: f.st}, led, f.clk, billing.Config{})
	idn := access.NewIdentity(sqlstore.Identity{Store: f.st}, f.clk)
	now := db.Micro(t0)
	org := func(kind actor.OrgKind, parent *tenancy.Org) tenancy.Org {
		id := ids.New()
		o := tenancy.Org{ID: id, Kind: kind, Path: "/" + id + "/", Name: "o", TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
		if parent != nil {
			o.ParentID, o.Path = parent.ID, parent.Path+id+"/"
		}
		must(f.st.InsertOrg(ctx, o))
		return o
	}
	root := org(actor.Provider, nil)
	f.org = org(actor.Customer, &root)
	oorg := org(actor.Customer, &root)
	u, err := idn.CreateUser(ctx, sys, access.CreateIDCHUserInput{OrgID: f.org.ID, Email: "c@example.com"})
	must(err)
	ou, err := idn.CreateUser(ctx, sys, access.CreateIDCHUserInput{OrgID: oorg.ID, Email: "o@example.com"})
	must(err)
	acct := func(o tenancy.Org, uid int64) int64 {
		a, err := f.bil.CreateAccount(ctx, sys, billing.CreateAccountInput{OrgID: o.ID, UserID: uid,
			Data: billing.AccountData{Title: "a", Email: "a@example.com"}})
		must(err)
		return a.ID
	}
	f.acct, f.acct2, f.oacct = acct(f.org, u.ID), acct(f.org, u.ID), acct(oorg, ou.ID)
	f.cust = actor.Actor{Type: actor.TypeAPIKey, ID: "k1", OrgID: f.org.ID, OrgPath: f.org.Path, OrgKind: actor.Customer, Role: actor.Admin}
	f.other = actor.Actor{Type: actor.TypeAPIKey, ID: "k2", OrgID: oorg.ID, OrgPath: oorg.Path, OrgKind: actor.Customer, Role: actor.Admin}
	f.net = network.NewService(sqlstore.Network{Store: f.st}, f.bil, netsim.New(0), f.clk, network.Config{})
	_, err = f.net.AddPoolRange(ctx, sys, network.AddPoolRange{Location: "cyc01", CIDR: "203.0.113.0/28"})
	must(err)
	f.svc = compute.NewService(compute.Deps{Store: sqlstore.Compute{Store: f.st}, Clock: f.clk, Provider: f.sim,
		Catalog: f.cat, Network: f.net, Billing: f.bil})
	return f
}

// seedVM is the seed's Create VM form, as an input.
func seedVM() compute.CreateVMInput {
	return compute.CreateVMInput{Location: "cyc01", Name: "Ubuntu-16-04", OSName: "ubuntu", OSVersion: "16.04", DiskGB: 20,
		VCPU: 2, RAMMB: 2048, PoolUUID: "d2fc6881-9316-46d7-b515-b6cddaeee927", Username: "example", HasUsername: true,
		Password: "Password123", ReservePublicIP: true,
		CloudInit: `{"runcmd": ["/firstboot"], "write_files": [{"path": "/firstboot", "content": "IyEvYmluL2Jhc2gKZWNobyBOb3cgQm9vdGluZwoK", "permissions": "0755", "encoding": "b64"}]}`}
}

func (f *fixture) createVM(t *testing.T) compute.VM {
	t.Helper()
	ctx := t.Context()
	v, err := f.svc.CreateVM(ctx, f.cust, seedVM())
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return v
}

// open returns the open usage segments of a resource at the fixture's now.
func (f *fixture) open(t *testing.T, id string) []metering.StoredSegment {
	t.Helper()
	ctx := t.Context()
	now := f.clk.Now()
	segs, err := f.st.UsageSegmentsIn(ctx, now.Add(-365*24*time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var out []metering.StoredSegment
	for _, s := range segs {
		if s.ResourceID == id && s.EndedAt == nil {
			out = append(out, s)
		}
	}
	return out
}

// all returns every usage segment of a resource.
func (f *fixture) all(t *testing.T, id string) []metering.StoredSegment {
	t.Helper()
	ctx := t.Context()
	now := f.clk.Now()
	segs, err := f.st.UsageSegmentsIn(ctx, now.Add(-365*24*time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var out []metering.StoredSegment
	for _, s := range segs {
		if s.ResourceID == id {
			out = append(out, s)
		}
	}
	return out
}

func wantErr(t *testing.T, err error, kind errs.Kind, field string) {
	t.Helper()
	if err == nil || errs.KindOf(err) != kind || errs.FieldOf(err) != field {
		t.Fatalf("error %v (kind %v, field %q), want kind %v on %q", err, errs.KindOf(err), errs.FieldOf(err), kind, field)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
