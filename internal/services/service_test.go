package services_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/jobs/jobstest"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/network"
	netsim "github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/services"
	"github.com/trellis-cloud/trellis/internal/services/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

var (
	t0  = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	sys = actor.System("")
)

// jobRec records the jobs the service enqueues (no River: the tests run
// the worker function themselves, as River's retries would).
type jobRec struct{ jobstest.Recorder }

func (j *jobRec) count() int { return j.Count() }

func (j *jobRec) last() (services.PackageStep, jobs.InsertOpts) {
	a, o := j.Last()
	return a.(services.PackageStep), o
}

// segment is one usage segment in force and when it began.
type segment struct {
	metering.Segment
	From time.Time
}

// segRec is the billing state the service left: per resource id, the
// segments in force (none: not billed). A transaction's writes count only
// when it commits.
type segRec struct {
	mu   sync.Mutex
	segs map[string][]segment
}

func (r *segRec) billed(id string) []segment {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.segs[id]
}

// snapshot returns the resources billed now.
func (r *segRec) snapshot() map[string][]segment {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]segment{}
	for id, segs := range r.segs {
		if len(segs) > 0 {
			out[id] = segs
		}
	}
	return out
}

// recStore is the SQL store with usage segments kept in a segRec.
type recStore struct {
	sqlstore.Services
	rec     *segRec
	pending map[string][]segment
}

func (r recStore) Tx(ctx context.Context, fn func(services.Store) error) error {
	var pending map[string][]segment
	err := r.Services.Tx(ctx, func(s services.Store) error {
		pending = map[string][]segment{}
		return fn(recStore{Services: s.(sqlstore.Services), rec: r.rec, pending: pending})
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
	r.pending[id] = []segment{}
	return nil
}

func (r recStore) InsertUsageSegment(_ context.Context, id string, s metering.Segment, at time.Time) error {
	r.pending[id] = append(r.pending[id], segment{Segment: s, From: at})
	return nil
}

type env struct {
	st   *sqlstore.Store
	clk  *clock.Fake
	bil  *billing.Service
	net  *network.Service
	prov *sim.Provider
	svc  *services.Service
	jobs *jobRec
	segs *segRec

	cust, other   actor.Actor
	custOrg       tenancy.Org
	userID        int64
	acct, acct2   int64 // the customer's accounts (acct is the default)
	otherAcct     int64
	frozen        int64 // a customer account frozen by dunning
	store         services.Store
	locA, locB    string // locB has no address pool
	pricesService *pricing.Service
}

func newEnv(t *testing.T, d *db.DB, cfg services.Config) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{clk: clock.NewFake(t0), jobs: &jobRec{}, segs: &segRec{segs: map[string][]segment{}}, locA: "cyc01", locB: "bus02"}
	e.st = sqlstore.New(d).WithJobs(e.jobs)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	cat := catalog.NewService(sqlstore.Catalog{Store: e.st}, e.clk)
	must(cat.LoadDemo(ctx, sys))
	led := ledger.NewService(sqlstore.Ledger{Store: e.st}, e.clk)
	e.bil = billing.NewService(sqlstore.Billing{Store: e.st}, led, e.clk, billing.Config{})
	idn := access.NewIdentity(sqlstore.Identity{Store: e.st}, e.clk)
	e.pricesService = pricing.NewService(sqlstore.Pricing{Store: e.st}, e.clk)
	must(e.pricesService.EnsureDefault(ctx))

	now := db.Micro(t0)
	org := func(kind actor.OrgKind, parent *tenancy.Org, name string) tenancy.Org {
		id := ids.New()
		o := tenancy.Org{ID: id, Kind: kind, Path: "/" + id + "/", Name: name, TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
		if parent != nil {
			o.ParentID, o.Path = parent.ID, parent.Path+id+"/"
		}
		must(e.st.InsertOrg(ctx, o))
		return o
	}
	root := org(actor.Provider, nil, "Provider")
	e.custOrg = org(actor.Customer, &root, "Customer")
	otherOrg := org(actor.Customer, &root, "Other")
	u, err := idn.CreateUser(ctx, sys, access.CreateIDCHUserInput{OrgID: e.custOrg.ID, Email: "c@example.com"})
	must(err)
	e.userID = u.ID
	ou, err := idn.CreateUser(ctx, sys, access.CreateIDCHUserInput{OrgID: otherOrg.ID, Email: "o@example.com"})
	must(err)
	acct := func(o tenancy.Org, uid int64) int64 {
		a, err := e.bil.CreateAccount(ctx, sys, billing.CreateAccountInput{OrgID: o.ID, UserID: uid,
			Data: billing.AccountData{Title: "a", Email: "a@example.com"}})
		must(err)
		return a.ID
	}
	e.acct, e.acct2, e.frozen = acct(e.custOrg, u.ID), acct(e.custOrg, u.ID), acct(e.custOrg, u.ID)
	ok, err := e.st.SetBillingAccountRestriction(ctx, e.frozen, billing.RestrictionNone, billing.RestrictionFrozen, "unpaid", now)
	must(err)
	if !ok {
		t.Fatal("seed: freezing an account changed nothing")
	}
	e.otherAcct = acct(otherOrg, ou.ID)
	e.cust = actor.Actor{Type: actor.TypeAPIKey, ID: "k1", OrgID: e.custOrg.ID, OrgPath: e.custOrg.Path, OrgKind: actor.Customer, Role: actor.Admin}
	e.other = actor.Actor{Type: actor.TypeAPIKey, ID: "k2", OrgID: otherOrg.ID, OrgPath: otherOrg.Path, OrgKind: actor.Customer, Role: actor.Admin}

	e.net = network.NewService(sqlstore.Network{Store: e.st}, e.bil, netsim.New(0), e.clk, network.Config{})
	_, err = e.net.AddPoolRange(ctx, sys, network.AddPoolRange{Location: e.locA, CIDR: "203.0.113.0/24"})
	must(err)

	e.prov = sim.New(0)
	e.store = recStore{Services: sqlstore.Services{Store: e.st}, rec: e.segs}
	e.svc, err = services.NewService(e.store, e.bil, e.net, e.pricesService, e.prov, e.clk, cfg)
	must(err)
	return e
}

func (e *env) restricted(id int64) actor.Actor {
	a := e.cust
	a.BillingAccount = id
	return a
}

func pg(acct int64) services.CreateInput {
	return services.CreateInput{BillingAccountID: acct, Location: "cyc01", Service: "postgresql", Version: "14.0",
		DisplayName: "My Postgre Service 14.0", VMCPU: 2, VMRAMMB: 4096, VMDiskGB: 40, IsMultiNode: true,
		Parameters: []byte(`"{\"location\":\"dc1\"}"`)}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err error, kind errs.Kind, field string) {
	t.Helper()
	var e *errs.Error
	if !errs.Is(err, kind) || !asErr(err, &e) || e.Field != field {
		t.Fatalf("error %v (kind %v), want %v naming %q", err, errs.KindOf(err), kind, field)
	}
}

// count returns the rows of a table.
func (e *env) count(t *testing.T, table string) int {
	t.Helper()
	ctx := t.Context()
	var n int
	must(t, e.st.DB().Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n))
	return n
}

// reserved returns the customer's reserved floating IPs in locA.
func (e *env) reserved(t *testing.T) []network.FloatingIP {
	t.Helper()
	ctx := t.Context()
	list, err := e.net.ListFloatingIPs(ctx, e.cust, e.locA, network.FloatingIPFilter{})
	must(t, err)
	return list
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, services.Config{})
		p, err := e.svc.Create(ctx, e.cust, pg(e.acct))
		must(t, err)

		// The multi-node package of the seed: a virtual IP and two VMs,
		// active at once (the provider has no delay).
		if p.Status != services.StatusActive || p.IsDeleted() || !p.IsMultiNode || p.Port != 5432 || p.SQLUser != "wadmin" ||
			p.Location != "cyc01" || p.UserID != e.userID || p.BillingAccountID != e.acct || p.Parameters != `{"location":"dc1"}` {
			t.Fatalf("created package: %+v", p)
		}
		if len(p.Resources) != 3 || p.Resources[0].Type != services.ResourceVirtualIP || p.Resources[0].Address != p.ServiceIP {
			t.Fatalf("resources: %+v", p.Resources)
		}
		disks := map[string]bool{}
		for _, r := range p.VMs() {
			if r.Status != services.VMRunning || r.VCPU != 2 || r.MemoryMB != 4096 || r.DiskGB != 40 || !ids.Valid(r.DiskUUID) {
				t.Errorf("vm resource: %+v", r)
			}
			disks[r.DiskUUID] = true
		}
		if len(disks) != 2 {
			t.Errorf("the VMs share a disk: %v", disks)
		}
		if ips := e.reserved(t); len(ips) != 1 || ips[0].Address != p.ServiceIP || ips[0].AssignedType != network.AssignedService ||
			ips[0].AssignedTo != p.UUID || !strings.HasPrefix(p.ServiceIP, "203.0.113.") {
			t.Fatalf("reserved addresses: %+v (service_ip %s)", ips, p.ServiceIP)
		}
		want := pricing.DefaultServices()[1].Multipliers // postgresql
		if d := cmp.Diff(want, p.Prices, cmp.Comparer(func(a, b money.Decimal) bool { return a.Equal(b) })); d != "" {
			t.Errorf("prices (-want +got):\n%s", d)
		}
		// The step job is the safety net, 30 s ahead.
		job, opts := e.jobs.last()
		if job != (services.PackageStep{PackageUUID: p.UUID, Op: services.OpCreate}) || !opts.RunAt.Equal(t0.Add(30*time.Second)) {
			t.Errorf("job %+v at %v", job, opts.RunAt)
		}
		if got, ok := e.prov.Get(p.UUID); !ok || len(got.Spec.Nodes) != 2 || got.Spec.ServiceIP != p.ServiceIP {
			t.Errorf("the provider has %+v", got)
		}

		// Billing: each VM as a running VM of the service, the virtual IP
		// as a floating IP of the service.
		for _, r := range p.Resources {
			segs := e.segs.billed(r.ID)
			if len(segs) != 1 || segs[0].BillingAccountID != e.acct || segs[0].LocationSlug != "cyc01" ||
				segs[0].OwnerUUID != r.ID || segs[0].UserID != e.userID || segs[0].Config.Service != "postgresql" ||
				!segs[0].From.Equal(t0) {
				t.Fatalf("segments of %s: %+v", r.Type, segs)
			}
			c := segs[0].Config
			switch r.Type {
			case services.ResourceVM:
				if segs[0].Meter != pricing.MeterVM || c.VMName != "postgresql 14.0" || c.CPUs != 2 || c.RAMMB != 4096 ||
					c.DiskGB == nil || *c.DiskGB != 40 || c.Status != "running" {
					t.Errorf("vm segment: %+v", segs[0])
				}
			case services.ResourceVirtualIP:
				if segs[0].Meter != pricing.MeterFloatingIP || c.Name != p.ServiceIP {
					t.Errorf("virtual IP segment: %+v", segs[0])
				}
			}
			// The configuration rates with the service's multipliers.
			pol, err := e.pricesService.PolicyAt(ctx, t0)
			must(t, err)
			if _, err := pricing.Rate(pol, segs[0].Meter, c); err != nil {
				t.Errorf("rating %s: %v", r.Type, err)
			}
		}
		if n, err := e.svc.ActiveResources(ctx, e.acct); err != nil || n != 1 {
			t.Fatalf("ActiveResources = %d, %v", n, err)
		}

		// Reads.
		sec, err := e.svc.Secrets(ctx, e.cust, "cyc01", p.UUID)
		must(t, err)
		if len(sec.SQLPass) != services.PasswordLength {
			t.Errorf("sql_pass %q", sec.SQLPass)
		}
		if got, err := e.svc.Get(ctx, e.cust, "cyc01", strings.ToUpper(p.UUID)); err != nil || got.UUID != p.UUID {
			t.Fatalf("Get by upper-case uuid: %v", err)
		}
		list, err := e.svc.List(ctx, e.cust, "cyc01")
		must(t, err)
		if len(list) != 1 || list[0].UUID != p.UUID || len(list[0].Prices) != 9 {
			t.Fatalf("List: %+v", list)
		}
		if list, _ := e.svc.List(ctx, e.cust, "bus02"); len(list) != 0 {
			t.Fatalf("List in another location: %+v", list)
		}
		for _, a := range []actor.Actor{e.other, e.restricted(e.acct2)} {
			_, err := e.svc.Get(ctx, a, "cyc01", p.UUID)
			wantErr(t, err, errs.KindNotFound, "service_package_uuid")
		}
		_, err = e.svc.Get(ctx, e.cust, "bus02", p.UUID)
		wantErr(t, err, errs.KindNotFound, "service_package_uuid")
		_, err = e.svc.Get(ctx, e.cust, "cyc01", "not-a-uuid")
		wantErr(t, err, errs.KindNotFound, "service_package_uuid")
		if list, _ := e.svc.List(ctx, e.restricted(e.acct2), "cyc01"); len(list) != 0 {
			t.Fatalf("a token restricted to another account lists %d packages", len(list))
		}

		// Update: name and account; billing moves with the package.
		e.clk.Advance(time.Hour)
		name, to := "New name", e.acct2
		p, err = e.svc.Update(ctx, e.cust, "cyc01", p.UUID, services.UpdateInput{DisplayName: &name, BillingAccountID: &to})
		must(t, err)
		if p.DisplayName != "New name" || p.BillingAccountID != e.acct2 || !p.UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("updated: %+v", p)
		}
		for _, r := range p.Resources {
			if segs := e.segs.billed(r.ID); len(segs) != 1 || segs[0].BillingAccountID != e.acct2 || !segs[0].From.Equal(t0.Add(time.Hour)) {
				t.Fatalf("segments after the move: %+v", segs)
			}
		}
		back := e.acct
		_, err = e.svc.Update(ctx, e.restricted(e.acct2), "cyc01", p.UUID, services.UpdateInput{BillingAccountID: &back})
		wantErr(t, err, errs.KindForbidden, "billing_account_id")
		foreign := e.otherAcct
		_, err = e.svc.Update(ctx, e.cust, "cyc01", p.UUID, services.UpdateInput{BillingAccountID: &foreign})
		wantErr(t, err, errs.KindNotFound, "billing_account_id")

		// Whitelist: insertion order, duplicates and absent entries are
		// no-ops; the provider follows.
		wl, err := e.svc.AddWhitelist(ctx, e.cust, "cyc01", p.UUID, "176.112.157.203")
		must(t, err)
		if !slices.Equal(wl, []string{"176.112.157.203"}) {
			t.Fatalf("whitelist after the first add: %v", wl)
		}
		wl, err = e.svc.AddWhitelist(ctx, e.cust, "cyc01", p.UUID, "1.2.3.0/24")
		must(t, err)
		jobs := e.jobs.count()
		wl2, err := e.svc.AddWhitelist(ctx, e.cust, "cyc01", p.UUID, "1.2.3.0/24")
		must(t, err)
		if !slices.Equal(wl, []string{"176.112.157.203", "1.2.3.0/24"}) || !slices.Equal(wl, wl2) || e.jobs.count() != jobs {
			t.Fatalf("whitelist %v then %v (%d jobs, was %d)", wl, wl2, e.jobs.count(), jobs)
		}
		wl, err = e.svc.RemoveWhitelist(ctx, e.cust, "cyc01", p.UUID, "10.0.0.0/8")
		must(t, err)
		if len(wl) != 2 || e.jobs.count() != jobs {
			t.Fatalf("removing an absent entry: %v", wl)
		}
		wl, err = e.svc.RemoveWhitelist(ctx, e.cust, "cyc01", p.UUID, "176.112.157.203")
		must(t, err)
		if got, _ := e.prov.Get(p.UUID); !slices.Equal(wl, []string{"1.2.3.0/24"}) || !slices.Equal(got.Whitelist, wl) {
			t.Fatalf("whitelist %v, provider %v", wl, got.Whitelist)
		}
		if got, _ := e.svc.Whitelist(ctx, e.cust, "cyc01", p.UUID); !slices.Equal(got, wl) {
			t.Fatalf("Whitelist = %v", got)
		}

		// Delete: a soft delete, billing stops, the address goes back.
		e.clk.Advance(time.Hour)
		p, err = e.svc.Delete(ctx, e.cust, "cyc01", p.UUID)
		must(t, err)
		if p.Status != services.StatusDeleted || !p.IsDeleted() || !p.DeletedAt.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("deleted: %+v", p)
		}
		for _, r := range p.Resources {
			if r.Status != services.VMDeleted || len(e.segs.billed(r.ID)) != 0 {
				t.Fatalf("after the delete: %+v billed %v", r, e.segs.billed(r.ID))
			}
		}
		if ips := e.reserved(t); len(ips) != 0 {
			t.Fatalf("addresses still reserved: %+v", ips)
		}
		if _, ok := e.prov.Get(p.UUID); ok {
			t.Fatal("the provider still has the package")
		}
		jobs = e.jobs.count()
		again, err := e.svc.Delete(ctx, e.cust, "cyc01", p.UUID)
		must(t, err)
		if again.Status != services.StatusDeleted || !again.DeletedAt.Equal(*p.DeletedAt) || e.jobs.count() != jobs {
			t.Fatalf("deleting twice: %+v", again)
		}
		if got, err := e.svc.Get(ctx, e.cust, "cyc01", p.UUID); err != nil || !got.IsDeleted() {
			t.Fatalf("Get after the delete: %+v, %v", got, err)
		}
		if list, _ := e.svc.List(ctx, e.cust, "cyc01"); len(list) != 0 {
			t.Fatalf("List after the delete: %+v", list)
		}
		_, err = e.svc.Secrets(ctx, e.cust, "cyc01", p.UUID)
		wantErr(t, err, errs.KindPrecondition, "")
		_, err = e.svc.AddWhitelist(ctx, e.cust, "cyc01", p.UUID, "1.1.1.1")
		wantErr(t, err, errs.KindPrecondition, "")
		_, err = e.svc.Update(ctx, e.cust, "cyc01", p.UUID, services.UpdateInput{DisplayName: &name})
		wantErr(t, err, errs.KindPrecondition, "")
		if n, _ := e.svc.ActiveResources(ctx, e.acct2); n != 0 {
			t.Fatalf("ActiveResources after the delete = %d", n)
		}
	})
}

func TestSingleNode(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, services.Config{})
		in := pg(0)
		in.Service, in.Version, in.IsMultiNode, in.Parameters = "mariadb", "10.5", false, nil
		p, err := e.svc.Create(ctx, e.restricted(e.acct2), in) // a restricted token needs no account
		must(t, err)
		if p.Status != services.StatusActive || p.Port != 3306 || p.BillingAccountID != e.acct2 || len(p.Resources) != 1 ||
			p.Resources[0].Type != services.ResourceVM || p.ServiceIP == "" || p.Parameters != "{}" {
			t.Fatalf("single-node package: %+v", p)
		}
		// Only the VM is billed: the address is its own.
		if segs := e.segs.billed(p.Resources[0].ID); len(segs) != 1 || segs[0].Config.Service != "mariadb" {
			t.Fatalf("segments: %+v", segs)
		}
		if len(e.segs.snapshot()) != 1 {
			t.Fatalf("billed resources: %v", e.segs.snapshot())
		}
	})
}

// TestBadInput: every refused create or change names its field and
// changes nothing (rows, jobs, billing, addresses, audit).
func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, services.Config{Offerings: append(services.DefaultOfferings(),
			services.Offering{Service: "redis", Versions: []string{"7.2"}, Port: 6379, SQLUser: "default"})})
		p, err := e.svc.Create(ctx, e.cust, pg(e.acct))
		must(t, err)
		type state struct {
			Packages, Audit, Whitelist, Jobs int
			Segs                             map[string][]segment
			IPs                              int
			Pkg                              services.Package
		}
		snap := func() state {
			got, err := e.svc.Get(ctx, e.cust, "cyc01", p.UUID)
			must(t, err)
			return state{e.count(t, "service_packages"), e.count(t, "audit_log"), e.count(t, "service_whitelist"),
				e.jobs.count(), e.segs.snapshot(), len(e.reserved(t)), got}
		}
		before := snap()
		check := func(name string) {
			t.Helper()
			if d := cmp.Diff(before, snap(), cmp.AllowUnexported()); d != "" {
				t.Fatalf("%s changed something (-before +after):\n%s", name, d)
			}
		}
		for _, c := range []struct {
			name  string
			a     actor.Actor
			mod   func(*services.CreateInput)
			kind  errs.Kind
			field string
		}{
			{"no service", e.cust, func(in *services.CreateInput) { in.Service = "" }, errs.KindInvalid, "service"},
			{"unknown service", e.cust, func(in *services.CreateInput) { in.Service = "oracle" }, errs.KindInvalid, "service"},
			{"service without prices", e.cust, func(in *services.CreateInput) { in.Service, in.Version = "redis", "7.2"; in.IsMultiNode = false }, errs.KindInvalid, "service"},
			{"unknown version", e.cust, func(in *services.CreateInput) { in.Version = "9.6" }, errs.KindInvalid, "version"},
			{"empty name", e.cust, func(in *services.CreateInput) { in.DisplayName = "" }, errs.KindInvalid, "display_name"},
			{"no vcpu", e.cust, func(in *services.CreateInput) { in.VMCPU = 0 }, errs.KindInvalid, "vm_cpu"},
			{"too many vcpus", e.cust, func(in *services.CreateInput) { in.VMCPU = 64 }, errs.KindInvalid, "vm_cpu"},
			{"too little RAM", e.cust, func(in *services.CreateInput) { in.VMRAMMB = 256 }, errs.KindInvalid, "vm_ram"},
			{"too small a disk", e.cust, func(in *services.CreateInput) { in.VMDiskGB = 5 }, errs.KindInvalid, "vm_disk_gb"},
			{"multi-node mariadb", e.cust, func(in *services.CreateInput) { in.Service, in.Version = "mariadb", "10.5" }, errs.KindInvalid, "is_multi_node"},
			{"parameters not an object", e.cust, func(in *services.CreateInput) { in.Parameters = []byte(`[1]`) }, errs.KindInvalid, "package_parameters"},
			{"global token without account", e.cust, func(in *services.CreateInput) { in.BillingAccountID = 0 }, errs.KindInvalid, "billing_account_id"},
			{"unknown account", e.cust, func(in *services.CreateInput) { in.BillingAccountID = 999999 }, errs.KindNotFound, "billing_account_id"},
			{"another user's account", e.cust, func(in *services.CreateInput) { in.BillingAccountID = e.otherAcct }, errs.KindNotFound, "billing_account_id"},
			{"restricted token, other account", e.restricted(e.acct2), func(*services.CreateInput) {}, errs.KindForbidden, "billing_account_id"},
			{"frozen account", e.cust, func(in *services.CreateInput) { in.BillingAccountID = e.frozen }, errs.KindPrecondition, "billing_account_id"},
			{"existing uuid", e.cust, func(in *services.CreateInput) { in.UUID = p.UUID }, errs.KindConflict, "uuid"},
		} {
			in := pg(e.acct)
			c.mod(&in)
			_, err := e.svc.Create(ctx, c.a, in)
			wantErr(t, err, c.kind, c.field)
			check(c.name)
		}
		// A location without an address pool: refused, nothing made.
		in := pg(e.acct)
		in.Location = e.locB
		if _, err := e.svc.Create(ctx, e.cust, in); err == nil {
			t.Fatal("a package was created in a location without addresses")
		}
		check("no address pool")

		empty, long := " ", strings.Repeat("x", 300)
		for _, c := range []struct {
			name  string
			a     actor.Actor
			in    services.UpdateInput
			kind  errs.Kind
			field string
		}{
			{"empty name", e.cust, services.UpdateInput{DisplayName: &empty}, errs.KindInvalid, "display_name"},
			{"long name", e.cust, services.UpdateInput{DisplayName: &long}, errs.KindInvalid, "display_name"},
			{"foreign account", e.cust, services.UpdateInput{BillingAccountID: &e.otherAcct}, errs.KindNotFound, "billing_account_id"},
			{"restricted token", e.restricted(e.acct), services.UpdateInput{BillingAccountID: &e.acct2}, errs.KindForbidden, "billing_account_id"},
		} {
			_, err := e.svc.Update(ctx, c.a, "cyc01", p.UUID, c.in)
			wantErr(t, err, c.kind, c.field)
			check("update: " + c.name)
		}
		for _, entry := range []string{"", "1.2.3.4/24", "example.com", "1.2.3.4/33", "::1%lo"} {
			_, err := e.svc.AddWhitelist(ctx, e.cust, "cyc01", p.UUID, entry)
			wantErr(t, err, errs.KindInvalid, "ip_address")
			_, err = e.svc.RemoveWhitelist(ctx, e.cust, "cyc01", p.UUID, entry)
			wantErr(t, err, errs.KindInvalid, "ip_address")
			check("whitelist " + entry)
		}
		// Another user's package is not found, whatever the operation.
		_, err = e.svc.Delete(ctx, e.other, "cyc01", p.UUID)
		wantErr(t, err, errs.KindNotFound, "service_package_uuid")
		_, err = e.svc.AddWhitelist(ctx, e.other, "cyc01", p.UUID, "1.1.1.1")
		wantErr(t, err, errs.KindNotFound, "service_package_uuid")
		_, err = e.svc.Secrets(ctx, e.other, "cyc01", p.UUID)
		wantErr(t, err, errs.KindNotFound, "service_package_uuid")
		check("foreign package")
		// Viewers read, but change nothing and see no secrets.
		viewer := e.cust
		viewer.Role = actor.Viewer
		_, err = e.svc.Secrets(ctx, viewer, "cyc01", p.UUID)
		wantErr(t, err, errs.KindForbidden, "")
		_, err = e.svc.Delete(ctx, viewer, "cyc01", p.UUID)
		wantErr(t, err, errs.KindForbidden, "")
		check("viewer")

		// The whitelist holds at most MaxWhitelist entries.
		for i := range services.MaxWhitelist {
			_, err := e.svc.AddWhitelist(ctx, e.cust, "cyc01", p.UUID, "10.0."+itoa(i/250)+"."+itoa(i%250))
			must(t, err)
		}
		_, err = e.svc.AddWhitelist(ctx, e.cust, "cyc01", p.UUID, "192.0.2.1")
		wantErr(t, err, errs.KindInvalid, "ip_address")
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

func asErr(err error, target **errs.Error) bool { return errors.As(err, target) }

// TestProviderFailure: a failed step leaves the package in its error
// state, not billed; the job's retry completes it; billing starts then.
func TestProviderFailure(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, services.Config{})
		e.prov.FailNext(sim.StepCreate, 2)
		p, err := e.svc.Create(ctx, e.cust, pg(e.acct))
		must(t, err)
		if p.Status != services.StatusError || p.VMs()[0].Status != services.VMError {
			t.Fatalf("after a failed create: %+v", p)
		}
		if len(e.segs.snapshot()) != 0 {
			t.Fatalf("a failed package is billed: %v", e.segs.snapshot())
		}
		job, _ := e.jobs.last()
		// River runs the job: it fails once more, then succeeds.
		e.clk.Advance(time.Minute)
		if err := e.svc.RunPackageStep(ctx, job); err == nil {
			t.Fatal("the retry succeeded although the provider failed")
		}
		got, _ := e.svc.Get(ctx, e.cust, "cyc01", p.UUID)
		if got.Status != services.StatusError {
			t.Fatalf("after the second failure: %s", got.Status)
		}
		e.clk.Advance(time.Minute)
		must(t, e.svc.RunPackageStep(ctx, job))
		got, _ = e.svc.Get(ctx, e.cust, "cyc01", p.UUID)
		if got.Status != services.StatusActive || got.VMs()[1].Status != services.VMRunning {
			t.Fatalf("after the successful retry: %+v", got)
		}
		for _, r := range got.Resources {
			if segs := e.segs.billed(r.ID); len(segs) != 1 || !segs[0].From.Equal(t0.Add(2*time.Minute)) {
				t.Fatalf("billing of %s: %+v (should start at the success)", r.Type, segs)
			}
		}
		// A repeated job is a no-op.
		calls := e.prov.Calls(sim.StepCreate)
		must(t, e.svc.RunPackageStep(ctx, job))
		if e.prov.Calls(sim.StepCreate) != calls {
			t.Fatal("a repeated create step called the provider")
		}

		// A failed delete: the package is deleted for the user (billing
		// stopped) but keeps its address until the provider confirms.
		e.prov.FailNext(sim.StepDelete, 1)
		p, err = e.svc.Delete(ctx, e.cust, "cyc01", p.UUID)
		must(t, err)
		if p.Status != services.StatusDeleting || !p.IsDeleted() || len(e.reserved(t)) != 1 {
			t.Fatalf("after a failed delete: %+v", p)
		}
		for _, r := range p.Resources {
			if len(e.segs.billed(r.ID)) != 0 {
				t.Fatal("a deleting package is billed")
			}
		}
		job, _ = e.jobs.last()
		must(t, e.svc.RunPackageStep(ctx, job))
		got, _ = e.svc.Get(ctx, e.cust, "cyc01", p.UUID)
		if got.Status != services.StatusDeleted || len(e.reserved(t)) != 0 {
			t.Fatalf("after the delete retry: %s, %d addresses", got.Status, len(e.reserved(t)))
		}

		// A failed whitelist push is retried by its job.
		p2, err := e.svc.Create(ctx, e.cust, pg(e.acct))
		must(t, err)
		e.prov.FailNext(sim.StepWhitelist, 1)
		wl, err := e.svc.AddWhitelist(ctx, e.cust, "cyc01", p2.UUID, "1.2.3.4")
		must(t, err)
		if got, _ := e.prov.Get(p2.UUID); len(wl) != 1 || len(got.Whitelist) != 0 {
			t.Fatalf("whitelist %v, provider %v", wl, got.Whitelist)
		}
		job, _ = e.jobs.last()
		must(t, e.svc.RunPackageStep(ctx, job))
		if got, _ := e.prov.Get(p2.UUID); !slices.Equal(got.Whitelist, wl) {
			t.Fatalf("provider whitelist after the retry: %v", got.Whitelist)
		}
	})
}

// TestDelayedProvider: with a provider delay the request answers with the
// transitional state and the job (due after the delay) completes it; a
// delete before the create step ran makes the create step a no-op.
func TestDelayedProvider(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, services.Config{})
		e.prov.SetDelay(5 * time.Minute)
		p, err := e.svc.Create(ctx, e.cust, pg(e.acct))
		must(t, err)
		job, opts := e.jobs.last()
		if p.Status != services.StatusCreating || p.VMs()[0].Status != services.VMCreating || !opts.RunAt.Equal(t0.Add(5*time.Minute)) ||
			e.prov.Calls(sim.StepCreate) != 0 {
			t.Fatalf("delayed create: %+v, job at %v", p, opts.RunAt)
		}
		e.clk.Advance(5 * time.Minute)
		must(t, e.svc.RunPackageStep(ctx, job))
		if got, _ := e.svc.Get(ctx, e.cust, "cyc01", p.UUID); got.Status != services.StatusActive {
			t.Fatalf("after the step: %s", got.Status)
		}

		q, err := e.svc.Create(ctx, e.cust, pg(e.acct))
		must(t, err)
		create, _ := e.jobs.last()
		q, err = e.svc.Delete(ctx, e.cust, "cyc01", q.UUID)
		must(t, err)
		if q.Status != services.StatusDeleting {
			t.Fatalf("delayed delete: %s", q.Status)
		}
		del, _ := e.jobs.last()
		calls := e.prov.Calls(sim.StepCreate)
		must(t, e.svc.RunPackageStep(ctx, create))
		must(t, e.svc.RunPackageStep(ctx, del))
		got, _ := e.svc.Get(ctx, e.cust, "cyc01", q.UUID)
		if got.Status != services.StatusDeleted || e.prov.Calls(sim.StepCreate) != calls {
			t.Fatalf("create step after the delete: %s, %d create calls", got.Status, e.prov.Calls(sim.StepCreate)-calls)
		}
		for _, r := range got.Resources {
			if len(e.segs.billed(r.ID)) != 0 {
				t.Fatal("a package deleted before it was created is billed")
			}
		}
		if err := e.svc.RunPackageStep(ctx, services.PackageStep{PackageUUID: ids.New(), Op: services.OpCreate}); err != nil {
			t.Fatalf("a step of an unknown package: %v", err)
		}
		if err := e.svc.RunPackageStep(ctx, services.PackageStep{PackageUUID: q.UUID, Op: "bogus"}); err == nil {
			t.Fatal("an unknown step succeeded")
		}
	})
}

func TestSealedSecrets(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		key := []byte(strings.Repeat("k", 32))
		e := newEnv(t, d, services.Config{SecretKey: key})
		p, err := e.svc.Create(ctx, e.cust, pg(e.acct))
		must(t, err)
		sec, err := e.svc.Secrets(ctx, e.cust, "cyc01", p.UUID)
		must(t, err)
		var stored string
		must(t, e.st.DB().Read().QueryRowContext(ctx, `SELECT sealed_pass FROM service_packages WHERE uuid = $1`, p.UUID).Scan(&stored))
		if !strings.HasPrefix(stored, "gcm:") || strings.Contains(stored, sec.SQLPass) || len(sec.SQLPass) != services.PasswordLength {
			t.Fatalf("stored %q for %q", stored, sec.SQLPass)
		}
		// Never in the audit log.
		var n int
		must(t, e.st.DB().Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE detail LIKE $1`, "%"+sec.SQLPass+"%").Scan(&n))
		if n != 0 {
			t.Fatal("the password is in the audit log")
		}
		// Another key cannot open it.
		other, err := services.NewService(e.store, e.bil, e.net, e.pricesService, e.prov, e.clk,
			services.Config{SecretKey: []byte(strings.Repeat("x", 32))})
		must(t, err)
		_, err = other.Secrets(ctx, e.cust, "cyc01", p.UUID)
		wantErr(t, err, errs.KindInternal, "")
		if _, err := services.NewService(e.store, e.bil, e.net, e.pricesService, e.prov, e.clk,
			services.Config{SecretKey: []byte("short")}); err == nil {
			t.Fatal("a 5-byte key was accepted")
		}
	})
}

// TestRiverRetries runs the step jobs on River (the real queue, on the
// test's clock): a create that fails at the provider is retried by its
// job, which makes the package active.
func TestRiverRetries(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, services.Config{})
		q, err := jobs.NewQueue(d, jobs.QueueConfig{Clock: e.clk, Movable: true, PollInterval: 20 * time.Millisecond})
		must(t, err)
		e.st = e.st.WithJobs(q)
		e.store = recStore{Services: sqlstore.Services{Store: e.st}, rec: e.segs}
		e.svc, err = services.NewService(e.store, e.bil, e.net, e.pricesService, e.prov, e.clk, services.Config{})
		must(t, err)
		jobs.AddWorker(q, e.svc.RunPackageStep)
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		must(t, q.Start(runCtx))
		t.Cleanup(func() {
			stopCtx, c := context.WithTimeout(context.Background(), 10*time.Second)
			defer c()
			_ = q.Stop(stopCtx)
		})

		e.prov.FailNext(sim.StepCreate, 2) // the inline attempt and the job's first
		p, err := e.svc.Create(ctx, e.cust, pg(e.acct))
		must(t, err)
		if p.Status != services.StatusError {
			t.Fatalf("status %s after a failed create", p.Status)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := e.svc.Get(ctx, e.cust, "cyc01", p.UUID)
			must(t, err)
			if got.Status == services.StatusActive {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the job did not complete the package: %s after %d create calls", got.Status, e.prov.Calls(sim.StepCreate))
			}
			e.clk.Advance(10 * time.Second) // the safety net (30 s), then the retry backoff
			time.Sleep(20 * time.Millisecond)
		}
		if n := e.prov.Calls(sim.StepCreate); n != 3 {
			t.Errorf("%d create calls, want 3 (inline, failed job attempt, retry)", n)
		}
	})
}
