package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/services"
)

// jobPeriods: of the nodes claiming one sweep's period exactly one wins; a
// later period is claimed again, an earlier one never.
func (s *suite) jobPeriods(t *testing.T) {
	s.cover("ClaimPeriod")
	p := time.Date(2027, 6, 1, 9, 0, 0, 0, time.UTC)
	claim := func(period time.Time, node string) bool {
		ok, err := s.st.ClaimPeriod(s.ctx, "storetest", period, node, period.Add(10*time.Second))
		must(t, err)
		return ok
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if claim(p, string(rune('a'+i))) {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d of 4 nodes claimed one period, want 1", won)
	}
	if claim(p, "e") || claim(p.Add(-time.Minute), "e") {
		t.Fatal("a period already claimed (or an earlier one) was claimed again")
	}
	if !claim(p.Add(time.Minute), "e") || claim(p.Add(time.Minute), "f") {
		t.Fatal("the next period: want exactly one claim")
	}
}

// pendingSteps: after the other families' tests, every step job listed is
// one of a resource in a transitional state, each such resource is listed,
// and nothing changed after `before` is.
func (s *suite) pendingSteps(t *testing.T) {
	s.cover("PendingSteps")
	none, err := s.st.PendingSteps(s.ctx, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	must(t, err)
	if len(none) != 0 {
		t.Fatalf("steps pending since before 2000: %v", none)
	}
	all, err := s.st.PendingSteps(s.ctx, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	must(t, err)
	var want int
	must(t, s.st.DB().Read().QueryRowContext(s.ctx, `SELECT
		(SELECT COUNT(*) FROM compute_vms WHERE op <> '' AND status <> 'error') +
		(SELECT COUNT(*) FROM compute_disks WHERE op <> '' AND status <> 'error') +
		(SELECT COUNT(*) FROM networks WHERE state = 'pending') +
		(SELECT COUNT(*) FROM load_balancers WHERE state = 'pending') +
		(SELECT COUNT(*) FROM service_packages WHERE status IN ('creating', 'deleting')) +
		(SELECT COUNT(*) FROM reseller_orders WHERE state = 'Creating')`).Scan(&want))
	if len(all) != want {
		t.Fatalf("%d pending steps listed, %d resources transitional", len(all), want)
	}
	for _, a := range all {
		var q string
		var arg any
		switch a := a.(type) {
		case compute.StepArgs:
			q, arg = `SELECT COUNT(*) FROM compute_vms WHERE uuid = $1 AND op <> '' AND status <> 'error'`, a.UUID
			if a.Resource == compute.ResourceDisk {
				q = `SELECT COUNT(*) FROM compute_disks WHERE uuid = $1 AND op <> '' AND status <> 'error'`
			}
		case network.NetworkStep:
			q, arg = `SELECT COUNT(*) FROM networks WHERE uuid = $1 AND state = 'pending'`, a.NetworkUUID
		case network.LBStep:
			q, arg = `SELECT COUNT(*) FROM load_balancers WHERE uuid = $1 AND state = 'pending'`, a.LBUUID
		case services.PackageStep:
			q, arg = `SELECT COUNT(*) FROM service_packages WHERE uuid = $1 AND status = '`+map[string]string{
				services.OpCreate: "creating", services.OpDelete: "deleting"}[a.Op]+`'`, a.PackageUUID
		case orders.OrderStep:
			q, arg = `SELECT COUNT(*) FROM reseller_orders WHERE id = $1 AND state = 'Creating'`, a.OrderID
		default:
			t.Fatalf("unexpected step %T", a)
		}
		var n int
		must(t, s.st.DB().Read().QueryRowContext(s.ctx, q, arg).Scan(&n))
		if n != 1 {
			t.Fatalf("step %+v: its resource is not transitional", a)
		}
	}
	t.Logf("%d pending steps", len(all))
}
