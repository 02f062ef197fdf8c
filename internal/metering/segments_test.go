package metering_test

import (
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// TestMeterSegments checks the sweep: one record per resource and meter for
// each closed hour with a billable segment, at the hour's highest-priced
// configuration, written once however often and by however many sweepers
// it runs, and nothing for hours without a segment.
func TestMeterSegments(t *testing.T) {
	t.Parallel()
	each(t, func(e *env) {
		st := sqlstore.New(e.store.(sqlstore.MeteringHourly).DB())
		sweep := metering.NewSegmentMeter(st, e.svc, nil)
		h := hour // 10:00; the clock is at 10:30
		// Nothing to meter before the first segment exists.
		if n, err := sweep.MeterSegments(e.ctx, h.Add(5*time.Hour)); err != nil || n != 0 {
			t.Fatalf("no segments: %d, %v", n, err)
		}
		os := "ubuntu"
		vm := func(cpus int64, status string) metering.Segment {
			disk := int64(20)
			return metering.Segment{Meter: pricing.MeterVM, BillingAccountID: 6, LocationSlug: "cyc01", OwnerUUID: "vm-1",
				UserID: 8, Config: pricing.Config{VMName: "web", CPUs: cpus, RAMMB: 2048, DiskGB: &disk, OSName: &os, Status: status}}
		}
		set := func(at time.Time, id string, segs ...metering.Segment) {
			t.Helper()
			must(t, metering.SetUsageTx(e.ctx, st, at, id, segs...))
		}
		// VM: running 2 CPUs from 10:20, 4 CPUs from 10:40, stopped at
		// 12:30, deleted at 13:10. A floating IP unassigned 11:15–11:45.
		set(h.Add(20*time.Minute), "vm-1", vm(2, pricing.StatusRunning))
		set(h.Add(40*time.Minute), "vm-1", vm(4, pricing.StatusRunning))
		set(h.Add(150*time.Minute), "vm-1", vm(4, pricing.StatusStopped))
		set(h.Add(190*time.Minute), "vm-1")
		ip := metering.Segment{Meter: pricing.MeterFloatingIP, BillingAccountID: 6, OwnerUUID: "ip-1", UserID: 8,
			Config: pricing.Config{Name: "1.2.3.4"}}
		set(h.Add(75*time.Minute), "ip-1", ip)
		set(h.Add(105*time.Minute), "ip-1")

		// Sweep every hour from 11:00 to 15:00 with two sweepers at once:
		// hours 10–14, five in all, each metered once.
		metered := 0
		for at := h.Add(time.Hour); !at.After(h.Add(5 * time.Hour)); at = at.Add(time.Hour) {
			e.clk.Set(at)
			var wg sync.WaitGroup
			var mu sync.Mutex
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := sweep.MeterSegments(e.ctx, at)
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					metered += n
					mu.Unlock()
				}()
			}
			wg.Wait()
		}
		if metered != 5 {
			t.Fatalf("hours metered by the two sweepers: %d, want 5", metered)
		}
		if n, err := sweep.MeterSegments(e.ctx, e.clk.Now()); err != nil || n != 0 {
			t.Fatalf("replay: %d, %v", n, err)
		}

		recs, err := e.svc.List(e.ctx, operator, "vm-1", h.Add(-time.Hour), h.Add(6*time.Hour), 100)
		must(t, err)
		want := []struct {
			hour   time.Time
			cpus   int64
			status string
		}{
			{h, 4, pricing.StatusRunning}, // max of 2 and 4 CPUs
			{h.Add(time.Hour), 4, pricing.StatusRunning},
			{h.Add(2 * time.Hour), 4, pricing.StatusRunning}, // running beats stopped
			{h.Add(3 * time.Hour), 4, pricing.StatusStopped}, // until 13:10
		}
		if len(recs) != len(want) {
			t.Fatalf("%d VM records, want %d: %+v", len(recs), len(want), recs)
		}
		policy, err := e.prices.PolicyAt(e.ctx, h)
		must(t, err)
		for i, w := range want {
			r := recs[i]
			rate, err := pricing.Rate(policy, pricing.MeterVM, vm(w.cpus, w.status).Config)
			must(t, err)
			if !r.PeriodStart.Equal(w.hour) || r.Config.CPUs != w.cpus || r.Config.Status != w.status ||
				!r.Quantity.Equal(money.DecimalFromInt(1)) || !r.UnitPrice.Equal(rate.UnitPrice) || r.BillingAccountID != 6 {
				t.Errorf("record %d: %+v, want %+v at %s", i, r, w, rate.UnitPrice)
			}
		}
		ipRecs, err := e.svc.List(e.ctx, operator, "ip-1", h, h.Add(6*time.Hour), 100)
		must(t, err)
		if len(ipRecs) != 1 || !ipRecs[0].PeriodStart.Equal(h.Add(time.Hour)) || !ipRecs[0].UnitPrice.Equal(d("0.00274")) {
			t.Fatalf("floating IP records: %+v", ipRecs)
		}

		// An hour the sweep reaches only after it closed is skipped (and
		// logged), never written late.
		set(h.Add(5*time.Hour+10*time.Minute), "vm-2", vm(1, pricing.StatusRunning))
		e.clk.Set(h.Add(7*time.Hour + 30*time.Minute)) // 17:30: 15:00 closed at 17:00, 16:00 is open until 18:00
		if n, err := sweep.MeterSegments(e.ctx, e.clk.Now()); err != nil || n != 2 {
			t.Fatalf("catch-up: %d, %v", n, err)
		}
		late, err := e.svc.List(e.ctx, operator, "vm-2", h, h.Add(9*time.Hour), 100)
		must(t, err)
		if len(late) != 1 || !late[0].PeriodStart.Equal(h.Add(6*time.Hour)) {
			t.Fatalf("vm-2 records: %+v (15:00 had closed; 16:00 is within its grace)", late)
		}
	})
}
