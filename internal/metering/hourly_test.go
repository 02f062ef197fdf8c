package metering_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// March 2026; the clock starts at 10:30 on the 14th.
var (
	month   = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	nextMon = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	t0      = time.Date(2026, 3, 14, 10, 30, 0, 0, time.UTC)
	hour    = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC) // the open hour at t0
)

var (
	operator = actor.Actor{Type: actor.TypeUser, ID: "op", OrgID: "root", OrgPath: "/root/", OrgKind: actor.Provider, Role: actor.Admin}
	system   = actor.System("test")
	customer = actor.Actor{Type: actor.TypeAPIKey, ID: "c", OrgID: "cust", OrgPath: "/root/d/p/cust/", OrgKind: actor.Customer, Role: actor.Admin}
)

type env struct {
	t      *testing.T
	ctx    context.Context
	clk    *clock.Fake
	prices *pricing.Service
	svc    *metering.HourlyService
	store  metering.HourlyStore
}

func each(t *testing.T, fn func(e *env)) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		st := sqlstore.New(d)
		clk := clock.NewFake(t0)
		prices := pricing.NewService(sqlstore.Pricing{Store: st}, clk)
		must(t, prices.EnsureDefault(t.Context()))
		hs := sqlstore.MeteringHourly{Store: st}
		fn(&env{t: t, ctx: t.Context(), clk: clk, prices: prices, store: hs,
			svc: metering.NewHourlyService(hs, prices, clk)})
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err error, k errs.Kind, field string) {
	t.Helper()
	if err == nil || errs.KindOf(err) != k || errs.FieldOf(err) != field {
		t.Fatalf("got error %v (kind %v, field %q), want kind %v on %q", err, errs.KindOf(err), errs.FieldOf(err), k, field)
	}
}

func d(s string) money.Decimal {
	v, err := money.ParseDecimal("", s)
	if err != nil {
		panic(err)
	}
	return v
}

func i64(n int64) *int64 { return &n }

var cmpDecimal = cmp.Comparer(func(a, b money.Decimal) bool { return a.Equal(b) })

// ubuntu is the seed usage sample's VM: 0.019 per hour by the default policy.
func ubuntu() pricing.Config {
	os := "ubuntu"
	return pricing.Config{VMName: "Ubuntu-16-04", CPUs: 2, RAMMB: 2048, DiskGB: i64(20), OSName: &os, Status: "running"}
}

func vmInput(account int64, resource string, at time.Time, cfg pricing.Config, qty string) metering.RecordInput {
	return metering.RecordInput{ResourceID: resource, Meter: pricing.MeterVM, PeriodStart: at, BillingAccountID: account,
		LocationSlug: "tll", OwnerUUID: "f80b1d62-ffe4-43ef-9210-60f05445456a", UserID: 8, Config: cfg, Quantity: d(qty)}
}

// recordAt writes a record with the clock inside its hour (as a resource
// reporting live would).
func (e *env) recordAt(in metering.RecordInput) metering.HourlyRecord {
	e.t.Helper()
	e.clk.Set(in.PeriodStart.Add(30 * time.Minute))
	r, err := e.svc.Record(e.ctx, system, in)
	must(e.t, err)
	return r
}

func (e *env) stored(in metering.RecordInput) metering.HourlyRecord {
	e.t.Helper()
	r, err := e.store.GetHourlyUsage(e.ctx, in.ResourceID, in.Meter, in.PeriodStart)
	must(e.t, err)
	return r
}

func TestRecordRules(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		t := e.t
		in := vmInput(6, "vm-1", hour, ubuntu(), "1")
		r, err := e.svc.Record(e.ctx, operator, in)
		must(t, err)
		if !r.UnitPrice.Equal(d("0.019")) || r.Description != "Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk" || !r.RecordedAt.Equal(t0) {
			t.Fatalf("recorded %+v", r)
		}
		if diff := cmp.Diff(r, e.stored(in), cmpDecimal); diff != "" {
			t.Fatalf("stored record (-returned +stored):\n%s", diff)
		}

		// Replaying the same record later in the open hour is a no-op: the
		// stored row (recorded_at included) does not change.
		e.clk.Set(t0.Add(20 * time.Minute))
		again, err := e.svc.Record(e.ctx, system, in)
		must(t, err)
		if diff := cmp.Diff(r, again, cmpDecimal); diff != "" {
			t.Fatalf("replay returned (-first +replay):\n%s", diff)
		}
		if diff := cmp.Diff(r, e.stored(in), cmpDecimal); diff != "" {
			t.Fatalf("replay changed the row (-first +stored):\n%s", diff)
		}

		// A correction while the hour is open (until its end + 1 h) replaces it.
		e.clk.Set(hour.Add(2*time.Hour - time.Microsecond))
		fixed := in
		fixed.Quantity = d("0.5")
		fixed.Config.Status = "stopped"
		r2, err := e.svc.Record(e.ctx, system, fixed)
		must(t, err)
		if !r2.Quantity.Equal(d("0.5")) || !r2.UnitPrice.Equal(d("0.002")) || r2.Description != "Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk, stopped" {
			t.Fatalf("corrected %+v", r2)
		}
		if diff := cmp.Diff(r2, e.stored(in), cmpDecimal); diff != "" {
			t.Fatalf("correction not stored (-returned +stored):\n%s", diff)
		}

		// Closed at end + grace: refused, whatever the content, and the row
		// stays byte for byte.
		e.clk.Set(hour.Add(2 * time.Hour))
		for _, late := range []metering.RecordInput{in, fixed, vmInput(7, "vm-1", hour, ubuntu(), "0.25")} {
			_, err = e.svc.Record(e.ctx, system, late)
			wantErr(t, err, errs.KindPrecondition, "period_start")
		}
		if diff := cmp.Diff(r2, e.stored(in), cmpDecimal); diff != "" {
			t.Fatalf("closed hour changed (-before +after):\n%s", diff)
		}

		// Input errors, each naming its field.
		e.clk.Set(t0)
		future := vmInput(6, "vm-1", hour.Add(time.Hour), ubuntu(), "1")
		_, err = e.svc.Record(e.ctx, system, future)
		wantErr(t, err, errs.KindInvalid, "period_start")
		bad := []struct {
			edit  func(*metering.RecordInput)
			field string
		}{
			{func(in *metering.RecordInput) { in.PeriodStart = hour.Add(time.Minute) }, "period_start"},
			{func(in *metering.RecordInput) { in.PeriodStart = time.Time{} }, "period_start"},
			{func(in *metering.RecordInput) { in.ResourceID = "" }, "resource_id"},
			{func(in *metering.RecordInput) { in.Meter = "gpu" }, "meter"},
			{func(in *metering.RecordInput) { in.BillingAccountID = 0 }, "billing_account_id"},
			{func(in *metering.RecordInput) { in.UserID = -1 }, "user_id"},
			{func(in *metering.RecordInput) { in.Quantity = d("1.000001") }, "quantity"},
			{func(in *metering.RecordInput) { in.Quantity = d("0") }, "quantity"},
			{func(in *metering.RecordInput) { in.Quantity = d("0.0000001") }, "quantity"},
			{func(in *metering.RecordInput) { in.Config.CPUs = 0 }, "config.cpus"},
			{func(in *metering.RecordInput) { in.Config.Service = "oracle" }, "config.service"},
		}
		for i, b := range bad {
			x := vmInput(6, fmt.Sprint("bad-", i), hour, ubuntu(), "1")
			b.edit(&x)
			_, err := e.svc.Record(e.ctx, system, x)
			wantErr(t, err, errs.KindInvalid, b.field)
		}
		// Object storage is GB-hours: more than 1 is fine, negative is not.
		bucket := metering.RecordInput{ResourceID: "bucket-1", Meter: pricing.MeterObjectStorage, PeriodStart: hour,
			BillingAccountID: 6, Config: pricing.Config{Name: "bucket-1"}, Quantity: d("1234.5")}
		b, err := e.svc.Record(e.ctx, system, bucket)
		must(t, err)
		if !b.UnitPrice.Equal(d("0.0000342")) {
			t.Fatalf("bucket price %s", b.UnitPrice)
		}
		bucket.Quantity = d("-1")
		_, err = e.svc.Record(e.ctx, system, bucket)
		wantErr(t, err, errs.KindInvalid, "quantity")

		// Only operators and the system write usage.
		_, err = e.svc.Record(e.ctx, customer, vmInput(6, "vm-2", hour, ubuntu(), "1"))
		if errs.KindOf(err) != errs.KindForbidden {
			t.Fatalf("customer write: %v", err)
		}
		_, err = e.svc.Get(e.ctx, customer, "vm-1", pricing.MeterVM, hour)
		if errs.KindOf(err) != errs.KindForbidden {
			t.Fatalf("customer read: %v", err)
		}
		got, err := e.svc.Get(e.ctx, operator, "vm-1", pricing.MeterVM, hour)
		must(t, err)
		if got.Description != r2.Description {
			t.Fatalf("Get: %+v", got)
		}
	})
}

func TestCloseGraceConfigurable(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		svc := e.svc.WithCloseGrace(0)
		if svc.CloseGrace() != 0 || e.svc.CloseGrace() != metering.CloseGrace {
			t.Fatal("WithCloseGrace changed the original")
		}
		prev := hour.Add(-time.Hour) // ended at 10:00, t0 is 10:30
		_, err := svc.Record(e.ctx, system, vmInput(6, "vm-1", prev, ubuntu(), "1"))
		wantErr(e.t, err, errs.KindPrecondition, "period_start")
		_, err = e.svc.Record(e.ctx, system, vmInput(6, "vm-1", prev, ubuntu(), "1"))
		must(e.t, err)
		if !e.svc.Closed(prev, hour.Add(time.Hour)) || e.svc.Closed(prev, hour.Add(time.Hour-time.Microsecond)) {
			t.Fatal("Closed boundary wrong")
		}
	})
}

func TestRecordBatch(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		t := e.t
		closed := hour.Add(-2 * time.Hour)
		batch := []metering.RecordInput{
			vmInput(6, "vm-1", hour, ubuntu(), "1"),
			vmInput(6, "vm-2", closed, ubuntu(), "1"),
		}
		_, err := e.svc.RecordBatch(e.ctx, system, batch)
		wantErr(t, err, errs.KindPrecondition, "records[1].period_start")
		// All or nothing: the valid first record was not written either.
		_, err = e.store.GetHourlyUsage(e.ctx, "vm-1", pricing.MeterVM, hour)
		if errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("batch partly written: %v", err)
		}
		_, err = e.svc.RecordBatch(e.ctx, system, nil)
		wantErr(t, err, errs.KindInvalid, "records")

		batch[1].PeriodStart = hour.Add(-time.Hour) // still open (ended 10:00, closes 11:00)
		batch = append(batch, metering.RecordInput{ResourceID: "disk-1", Meter: pricing.MeterDisk, PeriodStart: hour,
			BillingAccountID: 6, Config: pricing.Config{Name: "data", SizeGB: 100}, Quantity: d("1")})
		out, err := e.svc.RecordBatch(e.ctx, system, batch)
		must(t, err)
		if len(out) != 3 || !out[2].UnitPrice.Equal(d("0.01")) {
			t.Fatalf("batch: %+v", out)
		}
		list, err := e.svc.List(e.ctx, operator, "vm-1", month, nextMon, 10)
		must(t, err)
		if len(list) != 1 {
			t.Fatalf("List = %d records", len(list))
		}
		_, err = e.svc.List(e.ctx, operator, "vm-1", month, nextMon, 0)
		wantErr(t, err, errs.KindInvalid, "limit")
	})
}

// TestConcurrentWriters races many writers of one key: one row at the end,
// equal to one of the writes.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		const writers = 32
		qtys := make([]string, writers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range writers {
			qtys[i] = fmt.Sprintf("0.%02d", i%4+1) // a few distinct contents, some identical
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if _, err := e.svc.Record(e.ctx, system, vmInput(6, "vm-race", hour, ubuntu(), qtys[i])); err != nil {
					e.t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		list, err := e.store.ListHourlyUsage(e.ctx, "vm-race", month, nextMon, 100)
		must(e.t, err)
		if len(list) != 1 {
			e.t.Fatalf("%d rows for one key", len(list))
		}
		ok := false
		for _, q := range qtys {
			ok = ok || list[0].Quantity.Equal(d(q))
		}
		if !ok {
			e.t.Fatalf("final quantity %s was never written", list[0].Quantity)
		}
	})
}

// TestPriceVersionAtPeriodStart: a record is rated with the version
// effective at its hour's start, even when written after a newer version
// took effect.
func TestPriceVersionAtPeriodStart(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		t := e.t
		change := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
		items := pricing.DefaultItems()
		items[0].Price = d("0.01") // CPU 0.00521 → 0.01
		_, err := e.prices.CreateVersion(e.ctx, operator, pricing.CreateVersionInput{EffectiveFrom: change, Items: items})
		must(t, err)
		before := change.Add(-time.Hour)
		e.clk.Set(change.Add(30 * time.Minute)) // the new version is in effect; 23:00 is still open
		old, err := e.svc.Record(e.ctx, system, vmInput(6, "vm-1", before, ubuntu(), "1"))
		must(t, err)
		cur, err := e.svc.Record(e.ctx, system, vmInput(6, "vm-1", change, ubuntu(), "1"))
		must(t, err)
		if !old.UnitPrice.Equal(d("0.019")) || !cur.UnitPrice.Equal(d("0.02858")) { // 2×0.01 + 0.00658 + 0.002
			t.Fatalf("prices %s and %s", old.UnitPrice, cur.UnitPrice)
		}
		// Same resource, same description, two prices: two lines.
		lines, err := e.svc.Lines(e.ctx, 6, month, nextMon)
		must(t, err)
		if len(lines) != 2 || !lines[0].UnitPrice.Equal(d("0.019")) || !lines[1].UnitPrice.Equal(d("0.02858")) {
			t.Fatalf("lines: %+v", lines)
		}
	})
}

// TestLines: the month of an account with a configuration change in the
// middle, a stop, a null-disk configuration that prices the same, and a
// bucket; amounts exact.
func TestLines(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		t := e.t
		const acct = 6
		mid := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
		noOS := ubuntu()
		noOS.OSName = nil // same description and price: same line, second configuration
		big := ubuntu()
		big.CPUs, big.RAMMB = 4, 4096
		// vm-1: 10 hours of ubuntu (4 of them with os_name null), then from the 15th 5 hours as the bigger VM.
		for h := range 10 {
			cfg := ubuntu()
			if h >= 6 {
				cfg = noOS
			}
			e.recordAt(vmInput(acct, "vm-1", month.Add(time.Duration(h)*time.Hour), cfg, "1"))
		}
		for h := range 5 {
			e.recordAt(vmInput(acct, "vm-1", mid.Add(time.Duration(h)*time.Hour), big, "1"))
		}
		// A partial hour and a stopped hour of vm-2.
		e.recordAt(vmInput(acct, "vm-2", mid, ubuntu(), "0.25"))
		stopped := ubuntu()
		stopped.Status = "stopped"
		e.recordAt(vmInput(acct, "vm-2", mid.Add(time.Hour), stopped, "1"))
		// A bucket: 1000.5 + 999.5 GB-hours.
		for i, q := range []string{"1000.5", "999.5"} {
			e.recordAt(metering.RecordInput{ResourceID: "bucket-1", Meter: pricing.MeterObjectStorage, BillingAccountID: acct,
				PeriodStart: mid.Add(time.Duration(i) * time.Hour), Config: pricing.Config{Name: "bucket-1"}, Quantity: d(q)})
		}
		// Another account and another month do not leak in.
		e.recordAt(vmInput(7, "vm-9", mid, ubuntu(), "1"))
		e.recordAt(vmInput(acct, "vm-1", nextMon, ubuntu(), "1"))

		lines, err := e.svc.Lines(e.ctx, acct, month, nextMon)
		must(t, err)
		type row struct {
			Resource, Desc, Price, Qty, Amount string
			Records, Configs                   int
		}
		var got []row
		for _, l := range lines {
			if l.BillingAccountID != acct || l.Amount.Cmp(l.UnitPrice.Mul(l.Quantity)) != 0 {
				t.Fatalf("line %+v", l)
			}
			got = append(got, row{l.ResourceID, l.Description, l.UnitPrice.String(), l.Quantity.String(), l.Amount.String(), int(l.Records), len(l.Configurations)})
		}
		want := []row{
			{"vm-1", "Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk", "0.019", "10", "0.19", 10, 2},
			{"bucket-1", "bucket-1, object storage", "0.0000342", "2000", "0.0684", 2, 1},
			{"vm-1", "Ubuntu-16-04, 4 CPUs, 4 GB RAM, 20 GB disk", "0.03", "5", "0.15", 5, 1}, // 0.02084 + 0.01316 + 0.002... see below
			{"vm-2", "Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk", "0.019", "0.25", "0.00475", 1, 1},
			{"vm-2", "Ubuntu-16-04, 2 CPUs, 2 GB RAM, 20 GB disk, stopped", "0.002", "1", "0.002", 1, 1},
		}
		// 4 CPUs × 0.00521 + 4 GB × 0.00329 + 20 GB × 0.0001 = 0.02084 + 0.01316 + 0.002 = 0.036
		want[2].Price, want[2].Amount = "0.036", "0.18"
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("lines (-want +got):\n%s", diff)
		}
		l := lines[0]
		if !l.FirstPeriod.Equal(month) || !l.LastPeriod.Equal(month.Add(9*time.Hour)) || l.OwnerUUID == "" ||
			l.LocationSlug != "tll" || l.UserID != 8 || l.Meter != pricing.MeterVM {
			t.Fatalf("line attributes: %+v", l)
		}
		if diff := cmp.Diff([]pricing.Config{ubuntu(), noOS}, l.Configurations); diff != "" {
			t.Fatalf("configurations (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"VM_COMPUTE", "VM_RUNNING", "MAIN_STORAGE"}, l.UptimeTypes); diff != "" {
			t.Fatalf("uptime types (-want +got):\n%s", diff)
		}

		accts, err := e.svc.AccountsWithUsage(e.ctx, month, nextMon)
		must(t, err)
		if diff := cmp.Diff([]int64{6, 7}, accts); diff != "" {
			t.Fatalf("AccountsWithUsage (-want +got):\n%s", diff)
		}
		accts, err = e.svc.AccountsWithUsage(e.ctx, nextMon, nextMon.AddDate(0, 1, 0))
		must(t, err)
		if diff := cmp.Diff([]int64{6}, accts); diff != "" {
			t.Fatalf("AccountsWithUsage next month (-want +got):\n%s", diff)
		}
		none, err := e.svc.Lines(e.ctx, 99, month, nextMon)
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("lines of an account without usage: %+v", none)
		}
		_, err = e.svc.Lines(e.ctx, acct, nextMon, month)
		wantErr(t, err, errs.KindInvalid, "to")
		_, err = e.svc.AccountsWithUsage(e.ctx, month, month.AddDate(2, 0, 0))
		wantErr(t, err, errs.KindInvalid, "to")
	})
}

// TestLinesSumProperty: for random usage, Σ line amounts = Σ record
// quantity × unit price exactly, and Σ line quantities = Σ quantities.
func TestLinesSumProperty(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		t := e.t
		rng := rand.New(rand.NewPCG(3, 14))
		type key struct {
			res string
			at  time.Time
		}
		want := map[key]metering.HourlyRecord{}
		var ins []metering.RecordInput
		for range 300 {
			h := month.Add(time.Duration(rng.IntN(31*24)) * time.Hour)
			res := fmt.Sprintf("vm-%d", rng.IntN(6))
			cfg := pricing.Config{VMName: res, CPUs: int64(1 + rng.IntN(8)), RAMMB: int64(256 * (1 + rng.IntN(64))), DiskGB: i64(int64(rng.IntN(500)))}
			if rng.IntN(4) == 0 {
				cfg.Status = "stopped"
			}
			if rng.IntN(5) == 0 {
				cfg.Service = "postgresql"
			}
			q := money.DecimalFromInt(int64(1 + rng.IntN(1_000_000))).Shift(-6)
			ins = append(ins, vmInput(6, res, h, cfg, q.String()))
		}
		// Write in time order, the clock inside each hour; a later write of
		// the same key (open hour) replaces the earlier.
		for i := range ins {
			for j := i + 1; j < len(ins); j++ {
				if ins[j].PeriodStart.Before(ins[i].PeriodStart) {
					ins[i], ins[j] = ins[j], ins[i]
				}
			}
		}
		for _, in := range ins {
			r := e.recordAt(in)
			want[key{in.ResourceID, in.PeriodStart}] = r
		}
		sumAmount, sumQty := money.Decimal{}, money.Decimal{}
		for _, r := range want {
			sumAmount = sumAmount.Add(r.Quantity.Mul(r.UnitPrice))
			sumQty = sumQty.Add(r.Quantity)
		}
		lines, err := e.svc.Lines(e.ctx, 6, month, nextMon)
		must(t, err)
		gotAmount, gotQty, records := money.Decimal{}, money.Decimal{}, int64(0)
		for _, l := range lines {
			gotAmount = gotAmount.Add(l.Amount)
			gotQty = gotQty.Add(l.Quantity)
			records += l.Records
		}
		if !gotAmount.Equal(sumAmount) || !gotQty.Equal(sumQty) || records != int64(len(want)) {
			t.Fatalf("Σ lines: amount %s qty %s records %d; Σ records: amount %s qty %s records %d",
				gotAmount, gotQty, records, sumAmount, sumQty, len(want))
		}
		if sumAmount.IsZero() {
			t.Fatal("degenerate property test")
		}
	})
}

// TestNoPolicy: without a price version effective at the hour, nothing can
// be rated, and nothing is written.
func TestNoPolicy(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		st := sqlstore.New(d)
		clk := clock.NewFake(t0)
		hs := sqlstore.MeteringHourly{Store: st}
		svc := metering.NewHourlyService(hs, pricing.NewService(sqlstore.Pricing{Store: st}, clk), clk)
		_, err := svc.Record(t.Context(), system, vmInput(6, "vm-1", hour, ubuntu(), "1"))
		wantErr(t, err, errs.KindPrecondition, "")
		_, err = hs.GetHourlyUsage(t.Context(), "vm-1", pricing.MeterVM, hour)
		if errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("record written without a policy: %v", err)
		}
	})
}
