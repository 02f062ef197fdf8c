package pricing_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
)

func d(s string) money.Decimal {
	v, err := money.ParseDecimal("", s)
	if err != nil {
		panic(err)
	}
	return v
}

func i64(n int64) *int64   { return &n }
func str(s string) *string { return &s }

func defaultPolicy() pricing.Policy {
	p := pricing.Policy{Version: pricing.DefaultVersion(), Services: map[string][]pricing.Multiplier{}}
	for _, sm := range pricing.DefaultServices() {
		p.Services[sm.Service] = sm.Multipliers
	}
	return p
}

// TestDefaultIsTheSeedSample checks the built-in policy against the seed's
// getPricingPolicy sample, value by value and exactly (3.42e-05 included).
func TestDefaultIsTheSeedSample(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../httpapi/dialect/idcloudhost/testdata/samples/getPricingPolicy.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber()
	var sample struct {
		Policy []struct {
			PolicyID                int64       `json:"policyId"`
			ResourceType            string      `json:"resourceType"`
			ServiceNameUserFriendly string      `json:"serviceNameUserFriendly"`
			NumCPUs                 int64       `json:"numCpus"`
			MegsRAM                 int64       `json:"megsRam"`
			ServiceNameInUptime     string      `json:"serviceNameInUptime"`
			Price                   json.Number `json:"price"`
		} `json:"policy"`
	}
	if err := dec.Decode(&sample); err != nil {
		t.Fatal(err)
	}
	var want []pricing.Item
	for _, it := range sample.Policy {
		p, err := money.ParseJSONNumber("price", it.Price)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, pricing.Item{PolicyID: it.PolicyID, ResourceType: pricing.ResourceType(it.ResourceType),
			ServiceNameUserFriendly: it.ServiceNameUserFriendly, NumCPUs: it.NumCPUs, MegsRAM: it.MegsRAM,
			ServiceNameInUptime: it.ServiceNameInUptime, Price: p})
	}
	// The default is the sample's eight items, then the two the sample
	// does not price (unassigned floating IP, load balancer).
	all := pricing.DefaultItems()
	if len(all) != 10 || len(want) != 8 {
		t.Fatalf("default has %d items, sample %d", len(all), len(want))
	}
	got := all[:8]
	if all[8].ResourceType != pricing.FloatingIP || all[9].ResourceType != pricing.LoadBalancer {
		t.Fatalf("extra items = %+v, %+v", all[8], all[9])
	}
	for i := range want {
		if !got[i].Price.Equal(want[i].Price) {
			t.Errorf("item %d price %s, sample %s", i, got[i].Price, want[i].Price)
		}
		got[i].Price, want[i].Price = money.Decimal{}, money.Decimal{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("default policy vs sample (-sample +default):\n%s", diff)
	}
	if err := pricing.ValidateItems(pricing.DefaultItems()); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
	for _, sm := range pricing.DefaultServices() {
		if err := pricing.ValidateMultipliers(sm.Service, sm.Multipliers); err != nil {
			t.Fatalf("default multipliers of %s invalid: %v", sm.Service, err)
		}
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	vmTypes := []string{"VM_COMPUTE", "VM_RUNNING", "MAIN_STORAGE"}
	noSnapshot := defaultPolicy()
	noSnapshot.Version.Items = nil
	for _, it := range pricing.DefaultItems() {
		if it.ServiceNameInUptime != pricing.UptimeSnapshot {
			noSnapshot.Version.Items = append(noSnapshot.Version.Items, it)
		}
	}
	tests := []struct {
		name   string
		policy pricing.Policy
		meter  pricing.Meter
		cfg    pricing.Config
		price  string
		desc   string
		types  []string
		kind   errs.Kind // expected error kind, KindInternal = none
		field  string
	}{
		{name: "seed usage sample: running VM", meter: pricing.MeterVM,
			cfg:   pricing.Config{VMName: "Ubuntu-16-04", CPUs: 2, RAMMB: 2048, DiskGB: i64(20), OSName: str("ubuntu"), Status: "running"},
			price: "0.019", desc: "Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk", types: vmTypes}, // 2×0.00521 + 2×0.00329 + 20×0.0001
		{name: "empty status is running", meter: pricing.MeterVM,
			cfg:   pricing.Config{VMName: "Ubuntu-16-04", CPUs: 2, RAMMB: 2048, DiskGB: i64(20)},
			price: "0.019", desc: "Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk", types: vmTypes},
		{name: "seed invoice sample: null disk", meter: pricing.MeterVM,
			cfg:   pricing.Config{VMName: "DEBUGXYZ-buntu", CPUs: 2, RAMMB: 2048},
			price: "0.017", desc: "DEBUGXYZ-buntu, 2 CPUs, 2 GB RAM, null GB disk", types: vmTypes},
		{name: "seed invoice sample: 4 CPUs 1 GB 30 GB", meter: pricing.MeterVM,
			cfg:   pricing.Config{VMName: "buntu-b-Parool123", CPUs: 4, RAMMB: 1024, DiskGB: i64(30)},
			price: "0.02713", desc: "buntu-b-Parool123, 4 CPUs, 1 GB RAM, 30 GB disk", types: vmTypes},
		{name: "stopped: storage only", meter: pricing.MeterVM,
			cfg:   pricing.Config{VMName: "Ubuntu-16-04", CPUs: 2, RAMMB: 2048, DiskGB: i64(20), Status: "stopped"},
			price: "0.002", desc: "Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk, stopped", types: []string{"MAIN_STORAGE"}},
		{name: "half a GB of RAM", meter: pricing.MeterVM,
			cfg:   pricing.Config{VMName: "small", CPUs: 1, RAMMB: 512, DiskGB: i64(0)},
			price: "0.006855", desc: "small, 1 CPUs, 0.5 GB RAM, 0 GB disk", types: vmTypes},
		{name: "RAM not a multiple of 512: exact", meter: pricing.MeterVM,
			cfg:   pricing.Config{VMName: "odd", CPUs: 1, RAMMB: 1000, DiskGB: i64(10)},
			price: "0.009422890625", desc: "odd, 1 CPUs, 0.9765625 GB RAM, 10 GB disk", types: vmTypes}, // 0.00521 + 0.00329×0.9765625 + 0.001
		{name: "windows adds a licence per core", meter: pricing.MeterVM,
			cfg:   pricing.Config{VMName: "win", CPUs: 4, RAMMB: 4096, DiskGB: i64(50), OSName: str("Windows")},
			price: "0.06092", desc: "win, 4 CPUs, 4 GB RAM, 50 GB disk", // 0.02084 + 0.01316 + 0.005 + 0.02192
			types: []string{"VM_COMPUTE", "VM_RUNNING", "MAIN_STORAGE", "WINDOWS_LICENSE"}},
		{name: "windows stopped: no licence", meter: pricing.MeterVM,
			cfg:   pricing.Config{VMName: "win", CPUs: 4, RAMMB: 4096, DiskGB: i64(50), OSName: str("windows"), Status: "stopped"},
			price: "0.005", desc: "win, 4 CPUs, 4 GB RAM, 50 GB disk, stopped", types: []string{"MAIN_STORAGE"}},
		{name: "managed postgresql: compute and disk ×3", meter: pricing.MeterVM,
			cfg:   pricing.Config{VMName: "pg", CPUs: 2, RAMMB: 4096, DiskGB: i64(40), Service: "postgresql"},
			price: "0.08274", desc: "pg, 2 CPUs, 4 GB RAM, 40 GB disk", types: vmTypes}, // 3 × (0.01042 + 0.01316 + 0.004) = 3 × 0.02758
		{name: "managed service: windows licence ×0", meter: pricing.MeterVM,
			cfg:   pricing.Config{VMName: "pg", CPUs: 2, RAMMB: 4096, DiskGB: i64(40), Service: "mariadb", OSName: str("windows")},
			price: "0.08274", desc: "pg, 2 CPUs, 4 GB RAM, 40 GB disk",
			types: []string{"VM_COMPUTE", "VM_RUNNING", "MAIN_STORAGE", "WINDOWS_LICENSE"}},
		{name: "extra disk", meter: pricing.MeterDisk, cfg: pricing.Config{Name: "data", SizeGB: 100},
			price: "0.01", desc: "data, 100 GB disk", types: []string{"BLOCK_STORAGE"}},
		{name: "extra disk of a managed service: block ×3", meter: pricing.MeterDisk, cfg: pricing.Config{Name: "data", SizeGB: 100, Service: "postgresql"},
			price: "0.03", desc: "data, 100 GB disk", types: []string{"BLOCK_STORAGE"}},
		{name: "snapshot", meter: pricing.MeterSnapshot, cfg: pricing.Config{Name: "snap-1", SizeGB: 60},
			price: "0.006", desc: "snap-1, 60 GB snapshot", types: []string{"SNAPSHOT_STORAGE"}},
		{name: "snapshot of a managed service is free", meter: pricing.MeterSnapshot, cfg: pricing.Config{Name: "snap-1", SizeGB: 60, Service: "postgresql"},
			price: "0", desc: "snap-1, 60 GB snapshot", types: []string{"SNAPSHOT_STORAGE"}},
		{name: "backup", meter: pricing.MeterBackup, cfg: pricing.Config{Name: "nightly", SizeGB: 10},
			price: "0.000342", desc: "nightly, 10 GB backup", types: []string{"BACKUP_STORAGE"}},
		{name: "object storage per GB-hour", meter: pricing.MeterObjectStorage, cfg: pricing.Config{Name: "bucket-1"},
			price: "0.0000342", desc: "bucket-1, object storage", types: []string{"OBJECT_STORAGE"}},

		{name: "unknown managed service", meter: pricing.MeterVM, kind: errs.KindInvalid, field: "config.service",
			cfg: pricing.Config{VMName: "x", CPUs: 1, RAMMB: 1024, Service: "oracle"}},
		{name: "unknown meter", meter: "gpu", kind: errs.KindInvalid, field: "meter", cfg: pricing.Config{Name: "x"}},
		{name: "vm without a name", meter: pricing.MeterVM, kind: errs.KindInvalid, field: "config.vm_name", cfg: pricing.Config{CPUs: 1, RAMMB: 1024}},
		{name: "vm without CPUs", meter: pricing.MeterVM, kind: errs.KindInvalid, field: "config.cpus", cfg: pricing.Config{VMName: "x", RAMMB: 1024}},
		{name: "vm without RAM", meter: pricing.MeterVM, kind: errs.KindInvalid, field: "config.ram_MB", cfg: pricing.Config{VMName: "x", CPUs: 1}},
		{name: "negative disk", meter: pricing.MeterVM, kind: errs.KindInvalid, field: "config.disk_size_GB", cfg: pricing.Config{VMName: "x", CPUs: 1, RAMMB: 1, DiskGB: i64(-1)}},
		{name: "unknown status", meter: pricing.MeterVM, kind: errs.KindInvalid, field: "config.status", cfg: pricing.Config{VMName: "x", CPUs: 1, RAMMB: 1, Status: "paused"}},
		{name: "disk without size", meter: pricing.MeterDisk, kind: errs.KindInvalid, field: "config.size_GB", cfg: pricing.Config{Name: "x"}},
		{name: "disk without name", meter: pricing.MeterDisk, kind: errs.KindInvalid, field: "config.name", cfg: pricing.Config{SizeGB: 1}},
		{name: "bucket without name", meter: pricing.MeterObjectStorage, kind: errs.KindInvalid, field: "config.name"},
		{name: "policy without the needed price", policy: noSnapshot, meter: pricing.MeterSnapshot, kind: errs.KindPrecondition,
			cfg: pricing.Config{Name: "s", SizeGB: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := tc.policy
			if p.Version.Items == nil {
				p = defaultPolicy()
			}
			got, err := pricing.Rate(p, tc.meter, tc.cfg)
			if tc.kind != errs.KindInternal {
				if err == nil || errs.KindOf(err) != tc.kind || errs.FieldOf(err) != tc.field {
					t.Fatalf("got %v (kind %v, field %q), want kind %v field %q", err, errs.KindOf(err), errs.FieldOf(err), tc.kind, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.UnitPrice.Equal(d(tc.price)) {
				t.Errorf("price %s, want %s", got.UnitPrice, tc.price)
			}
			if got.Description != tc.desc {
				t.Errorf("description %q, want %q", got.Description, tc.desc)
			}
			if diff := cmp.Diff(tc.types, got.UptimeTypes); diff != "" {
				t.Errorf("uptime types (-want +got):\n%s", diff)
			}
			// Pure: the same input rates the same.
			again, _ := pricing.Rate(p, tc.meter, tc.cfg)
			if !again.UnitPrice.Equal(got.UnitPrice) || again.Description != got.Description {
				t.Error("Rate is not deterministic")
			}
		})
	}
}

func TestValidateItems(t *testing.T) {
	t.Parallel()
	base := pricing.DefaultItems
	tests := []struct {
		name  string
		edit  func([]pricing.Item) []pricing.Item
		field string
	}{
		{"empty", func([]pricing.Item) []pricing.Item { return nil }, "items"},
		{"negative price", func(it []pricing.Item) []pricing.Item { it[0].Price = d("-0.1"); return it }, "items[0].price"},
		{"too many decimals", func(it []pricing.Item) []pricing.Item { it[0].Price = d("0.0000000000001"); return it }, "items[0].price"},
		{"duplicate policy id", func(it []pricing.Item) []pricing.Item { it[1].PolicyID = it[0].PolicyID; return it }, "items[1].policyId"},
		{"zero policy id", func(it []pricing.Item) []pricing.Item { it[2].PolicyID = 0; return it }, "items[2].policyId"},
		{"unknown type", func(it []pricing.Item) []pricing.Item { it[3].ResourceType = "GPU"; return it }, "items[3].resourceType"},
		{"CPU without numCpus", func(it []pricing.Item) []pricing.Item { it[0].NumCPUs = 0; return it }, "items[0].numCpus"},
		{"RAM with a storage name", func(it []pricing.Item) []pricing.Item { it[1].ServiceNameInUptime = "main"; return it }, "items[1].resourceType"},
		{"RAM without megsRam", func(it []pricing.Item) []pricing.Item { it[1].MegsRAM = 0; return it }, "items[1].megsRam"},
		{"storage kind unknown", func(it []pricing.Item) []pricing.Item { it[3].ServiceNameInUptime = "tape"; return it }, "items[3].serviceNameInUptime"},
		{"licence for linux", func(it []pricing.Item) []pricing.Item { it[6].ServiceNameInUptime = "linux"; return it }, "items[6].serviceNameInUptime"},
		{"storage priced twice", func(it []pricing.Item) []pricing.Item { it[4].ServiceNameInUptime = "main"; return it }, "items[5].resourceType"},
		{"no 1-core CPU price", func(it []pricing.Item) []pricing.Item { it[0].NumCPUs = 2; return it }, "items"},
		{"no main storage price", func(it []pricing.Item) []pricing.Item { return append(it[:5], it[6:]...) }, "items"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := pricing.ValidateItems(tc.edit(base()))
			if errs.KindOf(err) != errs.KindInvalid || errs.FieldOf(err) != tc.field {
				t.Fatalf("got %v (field %q), want Invalid on %q", err, errs.FieldOf(err), tc.field)
			}
		})
	}
}

func TestValidateMultipliers(t *testing.T) {
	t.Parallel()
	ok := []pricing.Multiplier{{ResourceType: pricing.CPU, PriceMultiplier: d("2.5")}}
	if err := pricing.ValidateMultipliers("postgresql", ok); err != nil {
		t.Fatal(err)
	}
	if err := pricing.ValidateMultipliers("redis", nil); err != nil {
		t.Fatalf("an empty list (every multiplier 1) is valid: %v", err)
	}
	tests := []struct {
		service string
		ms      []pricing.Multiplier
		field   string
	}{
		{"", ok, "service"},
		{"Postgres SQL", ok, "service"},
		{"pg", []pricing.Multiplier{{ResourceType: "GPU", PriceMultiplier: d("1")}}, "prices[0].resourceType"},
		{"pg", []pricing.Multiplier{{ResourceType: pricing.CPU, PriceMultiplier: d("-1")}}, "prices[0].priceMultiplier"},
		{"pg", []pricing.Multiplier{ok[0], ok[0]}, "prices[1].resourceType"},
	}
	for _, tc := range tests {
		err := pricing.ValidateMultipliers(tc.service, tc.ms)
		if errs.KindOf(err) != errs.KindInvalid || errs.FieldOf(err) != tc.field {
			t.Errorf("%q %+v: got %v (field %q), want Invalid on %q", tc.service, tc.ms, err, errs.FieldOf(err), tc.field)
		}
	}
}

func TestRateFloatingIPAndLoadBalancer(t *testing.T) {
	t.Parallel()
	p := defaultPolicy()
	r, err := pricing.Rate(p, pricing.MeterFloatingIP, pricing.Config{Name: "103.1.2.3"})
	if err != nil || !r.UnitPrice.Equal(d("0.00274")) || r.Description != "103.1.2.3, floating IP" {
		t.Fatalf("floating IP: %+v, %v", r, err)
	}
	r, err = pricing.Rate(p, pricing.MeterLoadBalancer, pricing.Config{Name: "web"})
	if err != nil || !r.UnitPrice.Equal(d("0.0137")) || r.Description != "web, load balancer" {
		t.Fatalf("load balancer: %+v, %v", r, err)
	}
	// A managed service's virtual IP: the service's multiplier (0 by default).
	r, err = pricing.Rate(p, pricing.MeterFloatingIP, pricing.Config{Name: "10.0.0.1", Service: "postgresql"})
	if err != nil || !r.UnitPrice.IsZero() {
		t.Fatalf("service IP: %+v, %v", r, err)
	}
	if _, err := pricing.Rate(p, pricing.MeterLoadBalancer, pricing.Config{}); errs.FieldOf(err) != "config.name" {
		t.Fatalf("no name: %v", err)
	}
}
