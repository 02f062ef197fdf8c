package orders_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/jobs/jobstest"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/orders/sim"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

var (
	t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
)

type env struct {
	st    *sqlstore.Store
	clk   *clock.Fake
	res   *reseller.Service
	prov  *sim.Provider
	svc   *orders.Service
	jobs  *jobstest.Recorder
	op    actor.Actor // a provider operator
	pa    actor.Actor // the partner's key
	other actor.Actor // another partner's key
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err error, kind errs.Kind, field string) {
	t.Helper()
	if !errs.Is(err, kind) || errs.FieldOf(err) != field {
		t.Fatalf("error %v (kind %v, field %q), want %v naming %q", err, errs.KindOf(err), errs.FieldOf(err), kind, field)
	}
}

// noTickets is a support desk with no tickets (orders' tests need none).
type noTickets struct{}

func (noTickets) OpenTicketsTx(context.Context, reseller.Queries, int64) (int, error) { return 0, nil }

func newEnv(t *testing.T, d *db.DB, delay time.Duration) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{clk: clock.NewFake(t0), jobs: &jobstest.Recorder{}, prov: sim.New(delay)}
	e.st = sqlstore.New(d).WithJobs(e.jobs)
	led := ledger.NewService(sqlstore.Ledger{Store: e.st}, e.clk)
	bil := billing.NewService(sqlstore.Billing{Store: e.st}, led, e.clk, billing.Config{})
	e.res = wiring.Must(reseller.NewService(sqlstore.Reseller{Store: e.st}, bil, led, e.clk,
		reseller.Deps{Services: orders.ProjectHooks{}, Tickets: noTickets{}, Blocks: orders.ProjectHooks{}}, reseller.Config{}))
	e.svc = orders.NewService(sqlstore.Orders{Store: e.st}, e.res, e.prov, e.clk, orders.Config{})

	now := db.Micro(t0)
	org := func(kind actor.OrgKind, parent *tenancy.Org) tenancy.Org {
		id := ids.New()
		o := tenancy.Org{ID: id, Kind: kind, Path: "/" + id + "/", Name: string(kind), TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
		if parent != nil {
			o.ParentID, o.Path = parent.ID, parent.Path+id+"/"
		}
		must(t, e.st.InsertOrg(ctx, o))
		return o
	}
	root := org(actor.Provider, nil)
	dist := org(actor.Distributor, &root)
	p1, p2 := org(actor.Partner, &dist), org(actor.Partner, &dist)
	key := func(o tenancy.Org) actor.Actor {
		return actor.Actor{Type: actor.TypeAPIKey, ID: "key-" + o.ID[:8], OrgID: o.ID, OrgPath: o.Path, OrgKind: actor.Partner,
			Role: actor.Staff, ResellerRole: reseller.RoleUser}
	}
	e.pa, e.other = key(p1), key(p2)
	e.op = actor.Actor{Type: actor.TypeUser, ID: "op", OrgID: root.ID, OrgPath: root.Path, OrgKind: actor.Provider, Role: actor.Admin}
	return e
}

// project creates an account of a's partner and returns its personal
// project, credited with amount minor units (0: none).
func (e *env) project(t *testing.T, a actor.Actor, amount int64) int64 {
	t.Helper()
	ctx := t.Context()
	acct, err := e.res.CreateAccount(ctx, a, reseller.CreateAccountInput{Email: ids.New()[:8] + "@example.com",
		State: reseller.StateActive})
	must(t, err)
	if amount > 0 {
		e.credit(t, a, acct.PersonalProjectID, amount)
	}
	return acct.PersonalProjectID
}

func (e *env) credit(t *testing.T, a actor.Actor, project, amount int64) {
	t.Helper()
	ctx := t.Context()
	_, err := e.res.CreateOperation(ctx, a, project, reseller.OpDengiOnlinePlus, amount)
	must(t, err)
}

func (e *env) balance(t *testing.T, project int64) int64 {
	t.Helper()
	ctx := t.Context()
	m, _, err := e.res.Balance(ctx, project)
	must(t, err)
	return m
}

func (e *env) blocked(t *testing.T, project int64) bool {
	t.Helper()
	ctx := t.Context()
	p, err := e.res.GetProject(ctx, e.op, project)
	must(t, err)
	return p.Blocked
}

func (e *env) count(t *testing.T, table string) int {
	t.Helper()
	ctx := t.Context()
	var n int
	must(t, e.st.DB().Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n))
	return n
}

func (e *env) state(t *testing.T, id int64) string {
	t.Helper()
	ctx := t.Context()
	o, err := e.svc.GetOrder(ctx, e.op, id)
	must(t, err)
	return o.State
}

func raw(items ...string) []json.RawMessage {
	out := []json.RawMessage{}
	for _, s := range items {
		out = append(out, json.RawMessage(s))
	}
	return out
}

func i64(v int64) *int64 { return &v }

// vstack is the seed's vStack sample with one 50 GB SSD volume:
// 4×450 + 8×210 + 50×9.50 + 5×150 = 4705.00 a month, 156.83 a day.
func vstack(project int64) orders.VStackServerInput {
	return orders.VStackServerInput{ProjectID: project, LocationID: 1, Name: "Example", Cpu: 4, RamMb: 8192,
		TemplateID: "1", Volumes: raw(`{"Size":50,"Type":"SSD"}`), BandwidthMbps: 50}
}

const vstackDaily = 15683

// vmware is the seed's VMware sample: 3×500 + 1×250 + 10×12 + 30×15 +
// backup 10×1×2.50 = 2345.00 a month, 78.17 a day.
func vmware(project int64) orders.VMwareServerInput {
	return orders.VMwareServerInput{ProjectID: project, LocationID: "ds1", Name: "Example-Server", CPU: 3, RAM: 1024,
		HDD: 10, HDDType: "SSD", NetworkBandwidth: i64(30), ImageID: 48, IsBackupActive: true, BackupPeriod: 7}
}

const vmwareDaily = 7817
