package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

var pmCmpDecimal = cmp.Comparer(func(a, b money.Decimal) bool { return a.Equal(b) })

func pmDec(s string) money.Decimal {
	d, err := money.ParseDecimal("", s)
	if err != nil {
		panic(err)
	}
	return d
}

// pricingMetering exercises the price-version, service-multiplier and
// hourly-usage store methods (rating and the closed-hour rule are tested in
// internal/pricing and internal/metering).
func (s *suite) pricingMetering(t *testing.T) {
	s.cover("InsertPriceVersion", "ListPriceVersions", "PriceVersionAt",
		"ReplaceServiceMultipliers", "InsertServiceMultipliers", "ListServiceMultipliers",
		"UpsertHourlyUsage", "GetHourlyUsage", "ListHourlyUsage", "HourlyUsageGroups", "HourlyUsageAccounts")
	t.Run("price versions", s.priceVersions)
	t.Run("service multipliers", s.serviceMultipliers)
	t.Run("hourly usage", s.hourlyUsage)
}

func (s *suite) priceVersions(t *testing.T) {
	// Far in the future, so other groups' versions cannot interfere.
	base := time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)
	v1 := pricing.Version{ID: ids.New(), EffectiveFrom: base, Items: pricing.DefaultItems(), CreatedAt: db.Micro(t0), CreatedBy: "op"}
	items := pricing.DefaultItems()
	items[0].Price = pmDec("0.000000000001") // 12 decimals survive the round trip
	v2 := pricing.Version{ID: ids.New(), EffectiveFrom: base.Add(time.Hour), Items: items, CreatedAt: db.Micro(t0), CreatedBy: "op"}
	pr := sqlstore.Pricing{Store: s.st}
	must(t, pr.Tx(s.ctx, func(tx pricing.Store) error {
		for _, v := range []pricing.Version{v1, v2} {
			ok, err := tx.InsertPriceVersion(s.ctx, v)
			if err != nil {
				return err
			}
			if !ok {
				t.Errorf("InsertPriceVersion %s: not inserted", v.ID)
			}
		}
		return nil
	}))
	// Same effective time or same id: not inserted, no error.
	dup := v1
	dup.ID = ids.New()
	ok, err := s.st.InsertPriceVersion(s.ctx, dup)
	must(t, err)
	if ok {
		t.Fatal("two versions with one effective time")
	}
	dup = v1
	dup.EffectiveFrom = base.Add(2 * time.Hour)
	ok, err = s.st.InsertPriceVersion(s.ctx, dup)
	must(t, err)
	if ok {
		t.Fatal("two versions with one id")
	}

	_, err = s.st.PriceVersionAt(s.ctx, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC))
	wantKind(t, err, errs.KindNotFound)
	for _, c := range []struct {
		at   time.Time
		want pricing.Version
	}{{base, v1}, {base.Add(time.Hour - time.Microsecond), v1}, {base.Add(time.Hour), v2}, {base.AddDate(1, 0, 0), v2}} {
		got, err := s.st.PriceVersionAt(s.ctx, c.at)
		must(t, err)
		if d := cmp.Diff(c.want, got, pmCmpDecimal); d != "" {
			t.Fatalf("PriceVersionAt(%s) (-want +got):\n%s", c.at, d)
		}
	}
	list, err := s.st.ListPriceVersions(s.ctx)
	must(t, err)
	var mine []string
	for i, v := range list {
		if i > 0 && v.EffectiveFrom.Before(list[i-1].EffectiveFrom) {
			t.Fatal("ListPriceVersions not in effective order")
		}
		if v.ID == v1.ID || v.ID == v2.ID {
			mine = append(mine, v.ID)
		}
	}
	if d := cmp.Diff([]string{v1.ID, v2.ID}, mine); d != "" {
		t.Fatalf("ListPriceVersions (-want +got):\n%s", d)
	}
}

func (s *suite) serviceMultipliers(t *testing.T) {
	svc := "st-" + ids.New()[:8]
	ms := pricing.ServiceMultipliers{Service: svc, UpdatedAt: db.Micro(t0), Multipliers: []pricing.Multiplier{
		{ResourceType: pricing.CPU, PriceMultiplier: pmDec("3")},
		{ResourceType: pricing.Storage, ServiceNameInUptime: "snapshot", PriceMultiplier: pmDec("0.125")},
	}}
	ok, err := s.st.InsertServiceMultipliers(s.ctx, ms)
	must(t, err)
	if !ok {
		t.Fatal("InsertServiceMultipliers: not inserted")
	}
	other := ms
	other.Multipliers = nil
	ok, err = s.st.InsertServiceMultipliers(s.ctx, other)
	must(t, err)
	if ok {
		t.Fatal("InsertServiceMultipliers overwrote a list")
	}
	find := func() (pricing.ServiceMultipliers, bool) {
		list, err := s.st.ListServiceMultipliers(s.ctx)
		must(t, err)
		for i, sm := range list {
			if i > 0 && list[i-1].Service >= sm.Service {
				t.Fatal("ListServiceMultipliers not ordered by service")
			}
			if sm.Service == svc {
				return sm, true
			}
		}
		return pricing.ServiceMultipliers{}, false
	}
	got, found := find()
	if d := cmp.Diff(ms, got, pmCmpDecimal); !found || d != "" {
		t.Fatalf("multipliers round trip (-want +got):\n%s", d)
	}
	other.Multipliers = []pricing.Multiplier{}
	other.UpdatedAt = db.Micro(t0.Add(time.Hour))
	must(t, s.st.ReplaceServiceMultipliers(s.ctx, other))
	got, _ = find()
	if d := cmp.Diff(other, got, pmCmpDecimal); d != "" {
		t.Fatalf("after replace (-want +got):\n%s", d)
	}
}

func (s *suite) hourlyUsage(t *testing.T) {
	// Usage in 2031, a range no other group writes.
	h0 := time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)
	acct := int64(900000 + time.Now().UnixNano()%1000)
	disk := int64(20)
	res := "st-" + ids.New()
	rec := func(at time.Time, account int64, qty string, cfg pricing.Config, price, desc string) metering.HourlyRecord {
		return metering.HourlyRecord{ResourceID: res, Meter: pricing.MeterVM, PeriodStart: at, BillingAccountID: account,
			LocationSlug: "tll", OwnerUUID: "uuid-1", UserID: 8, Config: cfg, Quantity: pmDec(qty), UnitPrice: pmDec(price),
			Description: desc, UptimeTypes: []string{"VM_COMPUTE", "VM_RUNNING"}, RecordedAt: db.Micro(t0)}
	}
	cfg := pricing.Config{VMName: "vm", CPUs: 2, RAMMB: 2048, DiskGB: &disk}
	r1 := rec(h0, acct, "1", cfg, "0.019", "vm, 2 CPUs, 2 GB RAM, 20 GB disk")
	mh := sqlstore.MeteringHourly{Store: s.st}
	must(t, mh.Tx(s.ctx, func(tx metering.HourlyStore) error {
		ok, err := tx.UpsertHourlyUsage(s.ctx, r1)
		if err == nil && !ok {
			t.Error("first upsert wrote nothing")
		}
		return err
	}))
	got, err := s.st.GetHourlyUsage(s.ctx, res, pricing.MeterVM, h0)
	must(t, err)
	if d := cmp.Diff(r1, got, pmCmpDecimal); d != "" {
		t.Fatalf("usage round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetHourlyUsage(s.ctx, res, pricing.MeterDisk, h0)
	wantKind(t, err, errs.KindNotFound)

	// Same content (another recorded_at): nothing written, the row keeps
	// its first recorded_at.
	same := r1
	same.RecordedAt = db.Micro(t0.Add(time.Minute))
	ok, err := s.st.UpsertHourlyUsage(s.ctx, same)
	must(t, err)
	if ok {
		t.Fatal("identical content rewritten")
	}
	got, _ = s.st.GetHourlyUsage(s.ctx, res, pricing.MeterVM, h0)
	if !got.RecordedAt.Equal(r1.RecordedAt) {
		t.Fatal("recorded_at changed by an identical upsert")
	}
	// Every content column counts as a change.
	edits := []func(*metering.HourlyRecord){
		func(r *metering.HourlyRecord) { r.Quantity = pmDec("0.5") },
		func(r *metering.HourlyRecord) { r.UnitPrice = pmDec("0.02") },
		func(r *metering.HourlyRecord) { r.Description = "x" },
		func(r *metering.HourlyRecord) { r.Config.CPUs = 3 },
		func(r *metering.HourlyRecord) { r.UptimeTypes = []string{"MAIN_STORAGE"} },
		func(r *metering.HourlyRecord) { r.LocationSlug = "jkt01" },
		func(r *metering.HourlyRecord) { r.OwnerUUID = "uuid-2" },
		func(r *metering.HourlyRecord) { r.UserID = 9 },
		func(r *metering.HourlyRecord) { r.BillingAccountID = acct + 1 },
	}
	for i, edit := range edits {
		r := r1
		r.Config = cfg
		edit(&r)
		r.RecordedAt = db.Micro(t0.Add(time.Duration(i+2) * time.Minute))
		ok, err := s.st.UpsertHourlyUsage(s.ctx, r)
		must(t, err)
		if !ok {
			t.Fatalf("edit %d not written", i)
		}
		got, _ := s.st.GetHourlyUsage(s.ctx, res, pricing.MeterVM, h0)
		if d := cmp.Diff(r, got, pmCmpDecimal); d != "" {
			t.Fatalf("edit %d (-want +got):\n%s", i, d)
		}
	}
	// Back to r1 (account acct) for the aggregates.
	_, err = s.st.UpsertHourlyUsage(s.ctx, r1)
	must(t, err)

	// Racing upserts of one key: one row, no error.
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rec(h0.Add(time.Hour), acct, []string{"1", "0.5"}[i%2], cfg, "0.019", "vm, 2 CPUs, 2 GB RAM, 20 GB disk")
			if _, err := s.st.UpsertHourlyUsage(s.ctx, r); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Three more hours: one at another price, one of another account, one a month later.
	for _, r := range []metering.HourlyRecord{
		rec(h0.Add(2*time.Hour), acct, "0.000001", cfg, "0.02", "vm, 2 CPUs, 2 GB RAM, 20 GB disk"),
		rec(h0.Add(3*time.Hour), acct, "1", cfg, "0.019", "vm, 2 CPUs, 2 GB RAM, 20 GB disk"),
		rec(h0.AddDate(0, 1, 0), acct, "1", cfg, "0.019", "vm, 2 CPUs, 2 GB RAM, 20 GB disk"),
	} {
		_, err := s.st.UpsertHourlyUsage(s.ctx, r)
		must(t, err)
	}
	other := rec(h0.Add(4*time.Hour), acct+1, "1", cfg, "0.019", "vm, 2 CPUs, 2 GB RAM, 20 GB disk")
	other.ResourceID = res + "-b"
	_, err = s.st.UpsertHourlyUsage(s.ctx, other)
	must(t, err)

	list, err := s.st.ListHourlyUsage(s.ctx, res, h0, h0.AddDate(0, 1, 0), 100)
	must(t, err)
	if len(list) != 4 || !list[0].PeriodStart.Equal(h0) || !list[3].PeriodStart.Equal(h0.Add(3*time.Hour)) {
		t.Fatalf("ListHourlyUsage: %d records", len(list))
	}
	list, err = s.st.ListHourlyUsage(s.ctx, res, h0, h0.AddDate(0, 1, 0), 2)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("ListHourlyUsage limit: %d", len(list))
	}

	groups, err := s.st.HourlyUsageGroups(s.ctx, acct, h0, h0.AddDate(0, 1, 0))
	must(t, err)
	byPrice := map[string]metering.UsageGroup{}
	for _, g := range groups {
		byPrice[g.UnitPrice] = g
	}
	g := byPrice["0.019"]
	hour1 := list[1].Quantity // whichever racer won
	wantQ := metering.QuantityE6(pmDec("2").Add(hour1))
	if len(groups) != 2 || g.Records != 3 || g.QuantityE6 != wantQ || !g.FirstPeriod.Equal(h0) ||
		!g.LastPeriod.Equal(h0.Add(3*time.Hour)) || g.ResourceID != res || g.Meter != pricing.MeterVM ||
		g.OwnerUUID != "uuid-1" || g.LocationSlug != "tll" || g.UserID != 8 || g.UptimeTypes != `["VM_COMPUTE","VM_RUNNING"]` {
		t.Fatalf("HourlyUsageGroups: %+v", groups)
	}
	if p := byPrice["0.02"]; p.QuantityE6 != 1 || p.Records != 1 {
		t.Fatalf("HourlyUsageGroups, second price: %+v", p)
	}
	accts, err := s.st.HourlyUsageAccounts(s.ctx, h0, h0.AddDate(0, 1, 0))
	must(t, err)
	if d := cmp.Diff([]int64{acct, acct + 1}, accts); d != "" {
		t.Fatalf("HourlyUsageAccounts (-want +got):\n%s", d)
	}
	accts, err = s.st.HourlyUsageAccounts(s.ctx, h0.Add(4*time.Hour), h0.AddDate(0, 2, 0))
	must(t, err)
	if d := cmp.Diff([]int64{acct, acct + 1}, accts); d != "" {
		t.Fatalf("HourlyUsageAccounts later range (-want +got):\n%s", d)
	}
	accts, err = s.st.HourlyUsageAccounts(s.ctx, h0.Add(5*time.Hour), h0.AddDate(0, 1, 0))
	must(t, err)
	if len(accts) != 0 {
		t.Fatalf("HourlyUsageAccounts empty range: %v", accts)
	}
}
