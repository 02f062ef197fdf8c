package orders_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/orders/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

func TestDailyPrice(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		monthly string
		want    int64
	}{
		{"4705", 15683},    // 156.8333…
		{"2345", 7817},     // 78.1666…
		{"1234.5", 4115},   // exact
		{"0.15", 1},        // 0.005: half rounds up
		{"0.1499", 0},      // 0.004996…
		{"0", 0},           // free
		{"30.3", 101},      // 1.01 exact
		{"45.15", 151},     // 1.505 → 1.51
		{"45.149999", 150}, // 1.50499997
	} {
		d, err := money.ParseDecimal("m", c.monthly)
		must(t, err)
		if got := orders.DailyPrice(d, 2); got != c.want {
			t.Errorf("DailyPrice(%s) = %d, want %d", c.monthly, got, c.want)
		}
	}
}

func TestCatalogs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, 0)
		for _, k := range orders.CatalogKinds() {
			body, err := e.svc.GetCatalog(ctx, k)
			must(t, err)
			def, err := orders.DefaultCatalog(k)
			must(t, err)
			if string(body) != string(def) || !json.Valid(body) {
				t.Fatalf("catalog %s = %s, want the default", k, body)
			}
		}
		if n := e.count(t, "reseller_catalogs"); n != len(orders.CatalogKinds()) {
			t.Fatalf("%d catalogs stored, want %d", n, len(orders.CatalogKinds()))
		}
		_, err := e.svc.GetCatalog(ctx, "nope")
		wantErr(t, err, errs.KindInvalid, "kind")

		locs, err := e.svc.IaaSLocations(ctx)
		must(t, err)
		if len(locs) != 2 || locs[0].Id != "ds1" {
			t.Fatalf("IaaS locations: %+v", locs)
		}
		l, err := e.svc.IaaSLocation(ctx, "am2")
		must(t, err)
		if l.MaxCpu != 16 {
			t.Fatalf("am2: %+v", l)
		}
		_, err = e.svc.IaaSLocation(ctx, "AM2")
		wantErr(t, err, errs.KindNotFound, "location_id")
		p, err := e.svc.SSLProduct(ctx, 2)
		must(t, err)
		if !p.Wildcard || p.PricePerYear != "14900.00" {
			t.Fatalf("SSL product 2: %+v", p)
		}
		_, err = e.svc.SSLProduct(ctx, 99)
		wantErr(t, err, errs.KindNotFound, "product_id")
		vs, err := e.svc.VStackPrices(ctx)
		must(t, err)
		if len(vs.Locations) != 2 || vs.Locations[0].Id != 1 {
			t.Fatalf("vStack: %+v", vs)
		}
		for _, k := range []string{orders.CatalogManagedTariffs, orders.CatalogObjectStorage, orders.CatalogCDNTariffs} {
			tr, err := e.svc.Tariffs(ctx, k)
			must(t, err)
			if len(tr.Tariffs) == 0 {
				t.Fatalf("%s: no tariffs", k)
			}
		}
		_, err = e.svc.Tariffs(ctx, orders.CatalogIaaS)
		wantErr(t, err, errs.KindInvalid, "kind")

		// Replacing: only operators, only valid documents.
		good := json.RawMessage(`{"Tariffs": [{"Id": "cdn-x", "Name": "X", "Unit": "GB", "PricePerMonth": 1.25}]}`)
		_, err = e.svc.PutCatalog(ctx, e.pa, orders.CatalogCDNTariffs, good)
		wantErr(t, err, errs.KindForbidden, "")
		for _, bad := range []string{
			`{"Tariffs": [{"Id": "cdn-x", "PricePerMonth": -1}]}`,
			`{"Tariffs": [{"Id": "cdn-x", "PricePerMonth": "1"}]}`,
			`{"Tariffs": [{"Id": "a", "PricePerMonth": 1}, {"Id": "a", "PricePerMonth": 2}]}`,
			`{"Tarifs": []}`,
			`[]`,
			`{"Tariffs": []} {}`,
		} {
			_, err = e.svc.PutCatalog(ctx, e.op, orders.CatalogCDNTariffs, json.RawMessage(bad))
			if !errs.Is(err, errs.KindInvalid) {
				t.Fatalf("PutCatalog(%s): %v, want invalid", bad, err)
			}
		}
		tr, err := e.svc.Tariffs(ctx, orders.CatalogCDNTariffs)
		must(t, err)
		if tr.Tariffs[0].Id != "cdn-traffic" {
			t.Fatalf("a refused catalog changed the stored one: %+v", tr)
		}
		_, err = e.svc.PutCatalog(ctx, e.op, orders.CatalogCDNTariffs, good)
		must(t, err)
		tr, err = e.svc.Tariffs(ctx, orders.CatalogCDNTariffs)
		must(t, err)
		if len(tr.Tariffs) != 1 || tr.Tariffs[0].Id != "cdn-x" || tr.Tariffs[0].PricePerMonth != "1.25" {
			t.Fatalf("replaced catalog: %+v", tr)
		}
	})
}

// TestValidation: each documented rule is refused naming the field, and
// nothing changes (no order, no charge, no job).
func TestValidation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, 0)
		pid := e.project(t, e.pa, 1_000_000)
		vm := func(f func(*orders.VMwareServerInput)) error {
			in := vmware(pid)
			f(&in)
			_, err := e.svc.CreateVMwareServer(ctx, e.pa, in)
			return err
		}
		vs := func(f func(*orders.VStackServerInput)) error {
			in := vstack(pid)
			f(&in)
			_, err := e.svc.CreateVStackServer(ctx, e.pa, in)
			return err
		}
		k8s := func(f func(*orders.KubernetesInput)) error {
			in := orders.KubernetesInput{ProjectID: pid, Name: "fish", Version: "1.26.5", LocationID: 1, NodesGroups: raw()}
			f(&in)
			_, err := e.svc.CreateKubernetesCluster(ctx, e.pa, in)
			return err
		}
		oneC := func(f func(*orders.OneCInput)) error {
			in := orders.OneCInput{ProjectID: pid, Configurations: raw(), Users: raw()}
			f(&in)
			_, err := e.svc.Create1C(ctx, e.pa, in)
			return err
		}
		vorg := func(f func(*orders.VOrgInput)) error {
			in := orders.VOrgInput{ProjectID: pid, Location: "ds1", VcloudOrgName: "k8s-lab", AdminUsername: "admin",
				AdminPassword: "admin"}
			f(&in)
			_, err := e.svc.CreateVOrg(ctx, e.pa, in)
			return err
		}
		vdc := func(f func(*orders.VDCInput)) error {
			in := orders.VDCInput{OrgID: 88, VcloudVdcName: "vdc"}
			f(&in)
			_, err := e.svc.CreateVDC(ctx, e.pa, in)
			return err
		}
		for _, c := range []struct {
			name  string
			err   error
			kind  errs.Kind
			field string
		}{
			{"vmware name too long", vm(func(in *orders.VMwareServerInput) { in.Name = strings.Repeat("я", 51) }), errs.KindInvalid, "Name"},
			{"vmware name empty", vm(func(in *orders.VMwareServerInput) { in.Name = " " }), errs.KindInvalid, "Name"},
			{"vmware cpu 0", vm(func(in *orders.VMwareServerInput) { in.CPU = 0 }), errs.KindInvalid, "CPU"},
			{"vmware cpu over limit", vm(func(in *orders.VMwareServerInput) { in.CPU = 33 }), errs.KindInvalid, "CPU"},
			{"vmware ram 0", vm(func(in *orders.VMwareServerInput) { in.RAM = 0 }), errs.KindInvalid, "RAM"},
			{"vmware ram over limit", vm(func(in *orders.VMwareServerInput) { in.RAM = 131073 }), errs.KindInvalid, "RAM"},
			{"vmware hdd -1", vm(func(in *orders.VMwareServerInput) { in.HDD = -1 }), errs.KindInvalid, "HDD"},
			{"vmware hdd type", vm(func(in *orders.VMwareServerInput) { in.HDDType = "ssd" }), errs.KindInvalid, "HDDType"},
			{"vmware bandwidth 0", vm(func(in *orders.VMwareServerInput) { in.NetworkBandwidth = i64(0) }), errs.KindInvalid, "NetworkBandwidth"},
			{"vmware image", vm(func(in *orders.VMwareServerInput) { in.ImageID = 49; in.LocationID = "am2" }), errs.KindInvalid, "ImageID"},
			{"vmware backup period", vm(func(in *orders.VMwareServerInput) { in.BackupPeriod = 30 }), errs.KindInvalid, "BackupPeriod"},
			{"vmware backup period without backup", vm(func(in *orders.VMwareServerInput) { in.IsBackupActive = false; in.BackupPeriod = 0 }), errs.KindInvalid, "BackupPeriod"},
			{"vmware isp soft", vm(func(in *orders.VMwareServerInput) { in.ISPSoftID = i64(9) }), errs.KindInvalid, "ISPSoftID"},
			{"vmware location", vm(func(in *orders.VMwareServerInput) { in.LocationID = "DS1" }), errs.KindInvalid, "location_id"},
			{"vmware unknown project", vm(func(in *orders.VMwareServerInput) { in.ProjectID = 424242 }), errs.KindNotFound, ""},
			{"vstack bandwidth not ×10", vs(func(in *orders.VStackServerInput) { in.BandwidthMbps = 55 }), errs.KindInvalid, "BandwidthMbps"},
			{"vstack bandwidth 0", vs(func(in *orders.VStackServerInput) { in.BandwidthMbps = 0 }), errs.KindInvalid, "BandwidthMbps"},
			{"vstack template", vs(func(in *orders.VStackServerInput) { in.TemplateID = "9" }), errs.KindInvalid, "TemplateId"},
			{"vstack cpu", vs(func(in *orders.VStackServerInput) { in.Cpu = 0 }), errs.KindInvalid, "Cpu"},
			{"vstack ram", vs(func(in *orders.VStackServerInput) { in.RamMb = -5 }), errs.KindInvalid, "RamMb"},
			{"vstack name", vs(func(in *orders.VStackServerInput) { in.Name = "" }), errs.KindInvalid, "Name"},
			{"vstack volumes missing", vs(func(in *orders.VStackServerInput) { in.Volumes = nil }), errs.KindInvalid, "Volumes"},
			{"vstack volume not object", vs(func(in *orders.VStackServerInput) { in.Volumes = raw(`5`) }), errs.KindInvalid, "Volumes"},
			{"vstack volume size", vs(func(in *orders.VStackServerInput) { in.Volumes = raw(`{"Size":0}`) }), errs.KindInvalid, "Volumes[0].Size"},
			{"vstack volume size type", vs(func(in *orders.VStackServerInput) { in.Volumes = raw(`{"Size":"big"}`) }), errs.KindInvalid, "Volumes[0].Size"},
			{"vstack volume type", vs(func(in *orders.VStackServerInput) { in.Volumes = raw(`{}`, `{"Size":1,"Type":"NVMe"}`) }), errs.KindInvalid, "Volumes[1].Type"},
			{"vstack location", vs(func(in *orders.VStackServerInput) { in.LocationID = 7 }), errs.KindInvalid, "location_id"},
			{"k8s version", k8s(func(in *orders.KubernetesInput) { in.Version = "1.99" }), errs.KindInvalid, "Version"},
			{"k8s location", k8s(func(in *orders.KubernetesInput) { in.LocationID = 3 }), errs.KindInvalid, "LocationId"},
			{"k8s groups missing", k8s(func(in *orders.KubernetesInput) { in.NodesGroups = nil }), errs.KindInvalid, "NodesGroups"},
			{"k8s group count", k8s(func(in *orders.KubernetesInput) { in.NodesGroups = raw(`{"Count":0}`) }), errs.KindInvalid, "NodesGroups[0].Count"},
			{"k8s name", k8s(func(in *orders.KubernetesInput) { in.Name = "" }), errs.KindInvalid, "Name"},
			{"1c configurations missing", oneC(func(in *orders.OneCInput) { in.Configurations = nil }), errs.KindInvalid, "Configurations"},
			{"1c users missing", oneC(func(in *orders.OneCInput) { in.Users = nil }), errs.KindInvalid, "Users"},
			{"1c user not object", oneC(func(in *orders.OneCInput) { in.Users = raw(`"bob"`) }), errs.KindInvalid, "Users"},
			{"1c configuration id", oneC(func(in *orders.OneCInput) { in.Configurations = raw(`{"Id":77}`) }), errs.KindInvalid, "Configurations[0].Id"},
			{"vorg location", vorg(func(in *orders.VOrgInput) { in.Location = "de" }), errs.KindInvalid, "Location"},
			{"vorg name", vorg(func(in *orders.VOrgInput) { in.VcloudOrgName = "" }), errs.KindInvalid, "VcloudOrgName"},
			{"vorg user", vorg(func(in *orders.VOrgInput) { in.AdminUsername = "" }), errs.KindInvalid, "AdminUsername"},
			{"vorg password", vorg(func(in *orders.VOrgInput) { in.AdminPassword = "" }), errs.KindInvalid, "AdminPassword"},
			{"vorg project", vorg(func(in *orders.VOrgInput) { in.ProjectID = 0 }), errs.KindInvalid, "ProjectId"},
			{"vdc unknown vorg", vdc(func(in *orders.VDCInput) {}), errs.KindNotFound, "OrgId"},
		} {
			if !errs.Is(c.err, c.kind) || errs.FieldOf(c.err) != c.field {
				t.Errorf("%s: %v (kind %v field %q), want %v naming %q", c.name, c.err, errs.KindOf(c.err),
					errs.FieldOf(c.err), c.kind, c.field)
			}
		}
		if n := e.count(t, "reseller_orders"); n != 0 {
			t.Fatalf("refused orders left %d rows", n)
		}
		if b := e.balance(t, pid); b != 1_000_000 {
			t.Fatalf("refused orders changed the balance to %d", b)
		}
		if e.jobs.Count() != 0 || e.prov.Len() != 0 {
			t.Fatalf("refused orders scheduled %d jobs, built %d", e.jobs.Count(), e.prov.Len())
		}
		// Another partner's project is not found; a VDC in another
		// partner's VOrg is refused.
		_, err := e.svc.CreateVStackServer(ctx, e.other, vstack(pid))
		wantErr(t, err, errs.KindNotFound, "")
		v, err := e.svc.CreateVOrg(ctx, e.pa, orders.VOrgInput{ProjectID: pid, Location: "kz", VcloudOrgName: "o",
			AdminUsername: "a", AdminPassword: "p"})
		must(t, err)
		_, err = e.svc.CreateVDC(ctx, e.other, orders.VDCInput{OrgID: v.ID, VcloudVdcName: "x"})
		wantErr(t, err, errs.KindNotFound, "OrgId")
		_, err = e.svc.CreateVDC(ctx, e.pa, orders.VDCInput{OrgID: v.ID, VcloudVdcName: "x", Type: "public"})
		wantErr(t, err, errs.KindInvalid, "Type")
	})
}

// TestOrdersChargedDaily: the first day is paid with the order, then one
// day per ChargeDue period, exactly, once.
func TestOrdersChargedDaily(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, 0)
		pid := e.project(t, e.pa, 1_000_000) // 10 000.00
		o, err := e.svc.CreateVStackServer(ctx, e.pa, vstack(pid))
		must(t, err)
		if o.State != orders.StateActive || o.DailyPrice != vstackDaily || o.MonthlyPrice != "4705" || o.Currency != "RUB" ||
			!o.NextChargeAt.Equal(t0.Add(orders.Day)) || o.Kind != orders.KindVStackServer || o.Location != "1" ||
			o.ProviderRef == "" {
			t.Fatalf("order: %+v", o)
		}
		var spec map[string]any
		must(t, json.Unmarshal(o.Spec, &spec))
		if spec["Name"] != "Example" || spec["BandwidthMbps"] != float64(50) || spec["TemplateId"] != "1" {
			t.Fatalf("spec: %s", o.Spec)
		}
		if _, ok := e.prov.Get(o.ID); !ok {
			t.Fatal("the provider did not build the server")
		}
		vm, err := e.svc.CreateVMwareServer(ctx, e.pa, vmware(pid))
		must(t, err)
		if vm.DailyPrice != vmwareDaily || vm.MonthlyPrice != "2345" {
			t.Fatalf("vmware prices: %s %d", vm.MonthlyPrice, vm.DailyPrice)
		}
		var vspec map[string]any
		must(t, json.Unmarshal(vm.Spec, &vspec))
		if vspec["NetworkBandwidth"] != float64(30) || vspec["BackupPeriod"] != float64(7) {
			t.Fatalf("vmware spec: %s", vm.Spec)
		}
		want := int64(1_000_000 - vstackDaily - vmwareDaily)
		if b := e.balance(t, pid); b != want {
			t.Fatalf("balance after ordering = %d, want %d", b, want)
		}

		// Nothing is due before a day has passed.
		n, err := e.svc.ChargeDue(ctx, t0.Add(orders.Day-time.Second))
		must(t, err)
		if n != 0 {
			t.Fatalf("charged %d days early", n)
		}
		// Three days later: days 2, 3 and 4 of both orders.
		e.clk.Set(t0.Add(3 * orders.Day))
		n, err = e.svc.ChargeDue(ctx, e.clk.Now())
		must(t, err)
		if n != 6 {
			t.Fatalf("charged %d days, want 6", n)
		}
		want -= 3 * (vstackDaily + vmwareDaily)
		if b := e.balance(t, pid); b != want {
			t.Fatalf("balance = %d, want %d", b, want)
		}
		got, err := e.svc.GetOrder(ctx, e.pa, o.ID)
		must(t, err)
		if !got.NextChargeAt.Equal(t0.Add(4 * orders.Day)) {
			t.Fatalf("next charge %v", got.NextChargeAt)
		}
		// Again at the same instant: nothing.
		n, err = e.svc.ChargeDue(ctx, e.clk.Now())
		must(t, err)
		if n != 0 || e.balance(t, pid) != want {
			t.Fatalf("second run charged %d (balance %d)", n, e.balance(t, pid))
		}
		// Free orders (a VOrg) are never charged but stay live.
		v, err := e.svc.CreateVOrg(ctx, e.pa, orders.VOrgInput{ProjectID: pid, Location: "ds1", VcloudOrgName: "k8s-lab",
			AdminUsername: "admin", AdminPassword: "s3cret-Password"})
		must(t, err)
		if v.DailyPrice != 0 || strings.Contains(string(v.Spec), "s3cret") || !strings.HasPrefix(v.SecretHash, "$argon2id$") {
			t.Fatalf("vorg: %+v", v)
		}
		vdc, err := e.svc.CreateVDC(ctx, e.pa, orders.VDCInput{OrgID: v.ID, VcloudVdcName: "roman.ivanov.test-vDC",
			IsVeeamConnected: new(true)})
		must(t, err)
		// Public 1500 + Veeam 900 = 2400 a month, 80.00 a day.
		if vdc.DailyPrice != 8000 || vdc.ParentID != v.ID || vdc.ProjectID != pid || vdc.Location != "ds1" {
			t.Fatalf("vdc: %+v", vdc)
		}
		want -= 8000
		e.clk.Set(t0.Add(5 * orders.Day))
		n, err = e.svc.ChargeDue(ctx, e.clk.Now())
		must(t, err)
		// vStack and VMware: days 5 and 6; the VDC (ordered on day 4):
		// its days 2 and 3.
		if n != 6 {
			t.Fatalf("charged %d days, want 6", n)
		}
		want -= 2 * (vstackDaily + vmwareDaily + 8000)
		if b := e.balance(t, pid); b != want {
			t.Fatalf("balance = %d, want %d", b, want)
		}
		if c, err := e.svc.ActiveServices(ctx, pid); err != nil || c != 4 {
			t.Fatalf("ActiveServices = %d, %v", c, err)
		}
	})
}

// TestBlockedProject: running out of money blocks the project; its orders
// go Blocked and are not charged; new orders are refused; a payment
// unblocks it and charging resumes from then.
func TestBlockedProject(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, 0)
		pid := e.project(t, e.pa, 20_000) // 200.00: the first day and a bit
		o, err := e.svc.CreateVStackServer(ctx, e.pa, vstack(pid))
		must(t, err)
		bal := int64(20_000 - vstackDaily)
		if e.balance(t, pid) != bal || e.blocked(t, pid) {
			t.Fatalf("after ordering: balance %d blocked %v", e.balance(t, pid), e.blocked(t, pid))
		}
		e.clk.Set(t0.Add(orders.Day))
		n, err := e.svc.ChargeDue(ctx, e.clk.Now())
		must(t, err)
		bal -= vstackDaily
		if n != 1 || e.balance(t, pid) != bal || !e.blocked(t, pid) || e.state(t, o.ID) != orders.StateBlocked {
			t.Fatalf("day 2: charged %d, balance %d (want %d), blocked %v, state %s", n, e.balance(t, pid), bal,
				e.blocked(t, pid), e.state(t, o.ID))
		}
		// New orders are refused and change nothing.
		rows, jobs := e.count(t, "reseller_orders"), e.jobs.Count()
		_, err = e.svc.CreateVMwareServer(ctx, e.pa, vmware(pid))
		wantErr(t, err, errs.KindConflict, "")
		if e.count(t, "reseller_orders") != rows || e.jobs.Count() != jobs || e.balance(t, pid) != bal {
			t.Fatal("a refused order changed something")
		}
		// Suspended days pass uncharged.
		e.clk.Set(t0.Add(4 * orders.Day))
		n, err = e.svc.ChargeDue(ctx, e.clk.Now())
		must(t, err)
		if n != 0 || e.balance(t, pid) != bal {
			t.Fatalf("blocked project charged %d days (balance %d)", n, e.balance(t, pid))
		}
		// A payment unblocks: the order is Active and pays from now.
		resume := t0.Add(4*orders.Day + 3*time.Hour)
		e.clk.Set(resume)
		e.credit(t, e.pa, pid, 100_000)
		bal += 100_000
		if e.blocked(t, pid) || e.state(t, o.ID) != orders.StateActive {
			t.Fatalf("after the payment: blocked %v, state %s", e.blocked(t, pid), e.state(t, o.ID))
		}
		got, err := e.svc.GetOrder(ctx, e.pa, o.ID)
		must(t, err)
		if !got.NextChargeAt.Equal(resume) {
			t.Fatalf("resumed order pays from %v, want %v", got.NextChargeAt, resume)
		}
		n, err = e.svc.ChargeDue(ctx, e.clk.Now())
		must(t, err)
		bal -= vstackDaily
		if n != 1 || e.balance(t, pid) != bal {
			t.Fatalf("after resuming: charged %d, balance %d want %d", n, e.balance(t, pid), bal)
		}
		// An order whose first day blocks the project is built Blocked.
		pid2 := e.project(t, e.pa, 10_000)
		o2, err := e.svc.CreateVStackServer(ctx, e.pa, vstack(pid2))
		must(t, err)
		if o2.State != orders.StateBlocked || !o2.ProjectBlocked || !e.blocked(t, pid2) ||
			e.balance(t, pid2) != 10_000-vstackDaily {
			t.Fatalf("order that blocked its project: %+v (balance %d)", o2, e.balance(t, pid2))
		}
		e.credit(t, e.pa, pid2, 10_000)
		if e.state(t, o2.ID) != orders.StateActive {
			t.Fatalf("unblocked order state %s", e.state(t, o2.ID))
		}
	})
}

// TestChargeDueConcurrent: many ChargeDue runs at once charge every day of
// every order exactly once.
func TestChargeDueConcurrent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, 0)
		const days = 10
		var pids []int64
		var orderIDs []int64
		for range 2 {
			pid := e.project(t, e.pa, 10_000_000)
			pids = append(pids, pid)
			for range 3 {
				o, err := e.svc.CreateVStackServer(ctx, e.pa, vstack(pid))
				must(t, err)
				orderIDs = append(orderIDs, o.ID)
			}
		}
		e.clk.Set(t0.Add(days * orders.Day))
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		errc := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				n, err := e.svc.ChargeDue(ctx, e.clk.Now())
				if err != nil {
					errc <- err
				}
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		if want := days * len(orderIDs); total != want {
			t.Fatalf("concurrent runs charged %d days, want %d", total, want)
		}
		for _, pid := range pids {
			if b, want := e.balance(t, pid), int64(10_000_000-3*(days+1)*vstackDaily); b != want {
				t.Fatalf("project %d balance %d, want %d", pid, b, want)
			}
		}
		for _, id := range orderIDs {
			o, err := e.svc.GetOrder(ctx, e.op, id)
			must(t, err)
			if !o.NextChargeAt.Equal(t0.Add((days + 1) * orders.Day)) {
				t.Fatalf("order %d next charge %v", id, o.NextChargeAt)
			}
		}
		var ops int
		must(t, e.st.DB().Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_transactions
			WHERE idempotency_key LIKE 'reseller:charge:%'`).Scan(&ops))
		if want := (days + 1) * len(orderIDs); ops != want {
			t.Fatalf("%d charge transactions, want %d", ops, want)
		}
	})
}

// TestStepsAndDelete: a slow provider leaves orders Creating until the
// step job runs; failures go Error and are retried; deleting stops
// charging.
func TestStepsAndDelete(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, time.Minute)
		pid := e.project(t, e.pa, 1_000_000)
		o, err := e.svc.CreateKubernetesCluster(ctx, e.pa, orders.KubernetesInput{ProjectID: pid, Name: "fish",
			Version: "1.26.5", LocationID: 1, NodesGroups: raw(`{"Count":3,"Cpu":2,"RamMb":4096}`, `{"Name":"opaque"}`)})
		must(t, err)
		// 3000 + 3×(2×450 + 4×210) = 8220 a month, 274.00 a day.
		if o.State != orders.StateCreating || o.DailyPrice != 27400 {
			t.Fatalf("order: %+v", o)
		}
		args, opts := e.jobs.Last()
		step := args.(orders.OrderStep)
		if step.OrderID != o.ID || step.Op != orders.OpCreate || !opts.RunAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("job %+v at %v", step, opts.RunAt)
		}
		// Creating orders are not charged by ChargeDue.
		e.clk.Set(t0.Add(2 * orders.Day))
		n, err := e.svc.ChargeDue(ctx, e.clk.Now())
		must(t, err)
		if n != 0 {
			t.Fatalf("charged %d days of a Creating order", n)
		}
		e.prov.FailNext(sim.StepCreate, 1)
		if err := e.svc.RunOrderStep(ctx, step); err == nil || e.state(t, o.ID) != orders.StateError {
			t.Fatalf("failed step: %v, state %s", err, e.state(t, o.ID))
		}
		must(t, e.svc.RunOrderStep(ctx, step))
		if e.state(t, o.ID) != orders.StateActive {
			t.Fatalf("retried step left %s", e.state(t, o.ID))
		}
		must(t, e.svc.RunOrderStep(ctx, step)) // idempotent
		if e.prov.Calls(sim.StepCreate) != 2 {
			t.Fatalf("provider create called %d times", e.prov.Calls(sim.StepCreate))
		}

		// Another partner sees nothing.
		_, err = e.svc.GetOrder(ctx, e.other, o.ID)
		wantErr(t, err, errs.KindNotFound, "id")
		_, err = e.svc.DeleteOrder(ctx, e.other, o.ID)
		wantErr(t, err, errs.KindNotFound, "id")
		list, err := e.svc.ListOrders(ctx, e.other, 0)
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("other partner lists %d orders", len(list))
		}

		// VOrg and VDC reads are typed; a VOrg with a VDC cannot go.
		v, err := e.svc.CreateVOrg(ctx, e.pa, orders.VOrgInput{ProjectID: pid, Location: "by", VcloudOrgName: "o",
			AdminUsername: "a", AdminPassword: "p"})
		must(t, err)
		must(t, e.svc.RunOrderStep(ctx, orders.OrderStep{OrderID: v.ID, Op: orders.OpCreate}))
		vdc, err := e.svc.CreateVDC(ctx, e.pa, orders.VDCInput{OrgID: v.ID, VcloudVdcName: "x", Type: orders.VDCPrivate})
		must(t, err)
		if _, err := e.svc.GetVOrg(ctx, e.pa, v.ID); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.GetVOrg(ctx, e.pa, vdc.ID)
		wantErr(t, err, errs.KindNotFound, "id")
		_, err = e.svc.GetVDC(ctx, e.pa, v.ID)
		wantErr(t, err, errs.KindNotFound, "id")
		got, err := e.svc.GetVDC(ctx, e.pa, vdc.ID)
		must(t, err)
		if !strings.Contains(string(got.Spec), `"Type":"Private"`) || !strings.Contains(string(got.Spec), `"IsVeeamConnected":false`) {
			t.Fatalf("vdc spec: %s", got.Spec)
		}
		_, err = e.svc.DeleteOrder(ctx, e.pa, v.ID)
		wantErr(t, err, errs.KindConflict, "")

		// Deleting: Deleted at once, no more charges, provider step.
		del, err := e.svc.DeleteOrder(ctx, e.pa, o.ID)
		must(t, err)
		if del.State != orders.StateDeleted || del.DeletedAt == nil {
			t.Fatalf("deleted order: %+v", del)
		}
		if _, ok := e.prov.Get(o.ID); !ok {
			t.Fatal("the slow provider removed the cluster before its step")
		}
		must(t, e.svc.RunOrderStep(ctx, orders.OrderStep{OrderID: o.ID, Op: orders.OpDelete}))
		if _, ok := e.prov.Get(o.ID); ok {
			t.Fatal("the delete step left the cluster")
		}
		again, err := e.svc.DeleteOrder(ctx, e.pa, o.ID)
		must(t, err)
		if !again.DeletedAt.Equal(*del.DeletedAt) {
			t.Fatal("deleting twice changed the order")
		}
		bal := e.balance(t, pid)
		e.clk.Set(t0.Add(10 * orders.Day))
		_, err = e.svc.ChargeDue(ctx, e.clk.Now())
		must(t, err)
		// Only the (Creating, slow provider) VDC is not charged either.
		if e.balance(t, pid) != bal {
			t.Fatalf("deleted order still charged: %d → %d", bal, e.balance(t, pid))
		}
		if c, err := e.svc.ActiveServices(ctx, pid); err != nil || c != 2 {
			t.Fatalf("ActiveServices = %d, %v (want the VOrg and VDC)", c, err)
		}
		list, err = e.svc.ListOrders(ctx, e.pa, pid)
		must(t, err)
		if len(list) != 2 {
			t.Fatalf("ListOrders: %d", len(list))
		}
	})
}

// TestChoicesFirst: a VOrg's location and a VDC's type are the service's
// rules, checked before anything is looked up, with the values quoted as
// the Partner API writes them.
func TestChoicesFirst(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, 0)
		pid := e.project(t, e.pa, 1_000_000)
		_, err := e.svc.CreateVOrg(t.Context(), e.pa, orders.VOrgInput{ProjectID: 0, Location: "xx", VcloudOrgName: "o",
			AdminUsername: "a", AdminPassword: "p"})
		wantErr(t, err, errs.KindInvalid, "Location")
		if !strings.Contains(err.Error(), `must be one of "ds1", "am2", "kz", "by"`) {
			t.Fatalf("VOrg location message %q", err)
		}
		// The type is refused before the (unknown) VOrg is looked up.
		_, err = e.svc.CreateVDC(t.Context(), e.pa, orders.VDCInput{OrgID: 4242, VcloudVdcName: "x", Type: "Hybrid"})
		wantErr(t, err, errs.KindInvalid, "Type")
		if !strings.Contains(err.Error(), `must be one of "Public", "Private"`) {
			t.Fatalf("VDC type message %q", err)
		}
		_, err = e.svc.CreateVDC(t.Context(), e.pa, orders.VDCInput{OrgID: 4242, VcloudVdcName: "x"})
		wantErr(t, err, errs.KindNotFound, "OrgId")
		if n := e.count(t, "reseller_orders"); n != 0 {
			t.Fatalf("refused orders left %d rows", n)
		}
		if b := e.balance(t, pid); b != 1_000_000 {
			t.Fatalf("refused orders changed the balance to %d", b)
		}
	})
}
