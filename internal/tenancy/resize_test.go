package tenancy_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// resize runs ResizePartnerTx in a transaction of its own.
func (w world) resize(a actor.Actor, id string, delta int64) (tenancy.Org, error) {
	var p tenancy.Org
	err := sqlstore.Tenancy{Store: w.st}.Tx(w.ctx, func(tx tenancy.Store) error {
		var err error
		p, err = w.svc.ResizePartnerTx(w.ctx, tx, a, id, delta)
		return err
	})
	return p, err
}

// ResizePartnerTx grows a partner from its contract and shrinks it back,
// with UpdatePartner's refusals, an audit row carrying the request id, and
// nothing left behind when the caller's transaction fails.
func TestResizePartnerTx(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newWorld(t, d, 100)
		ctx := t.Context()
		sys := actor.System("req-1")
		p, err := w.svc.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: w.c.ID, Name: "p"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := w.resize(sys, p.ID, 60); err != nil || got.AllocatedCapacity != 60 {
			t.Fatalf("grow from pay-per-use: %+v %v", got, err)
		}
		if w.invariant(t) != 60 {
			t.Fatal("contract does not hold the partner's 60 bytes")
		}
		// Beyond the contract's free 40 bytes.
		_, err = w.resize(sys, p.ID, 41)
		if !errs.Is(err, errs.KindCapacityExceeded) || errs.FieldOf(err) != "allocatedCapacity" ||
			!strings.Contains(err.Error(), "40 bytes free of 100 reserved") {
			t.Fatalf("grow beyond the contract: %v", err)
		}
		// Below the partner's strict storage accounts (30 bytes).
		if ok, err := w.st.AddPartnerAccountsAllocation(ctx, p.ID, 30, time.Now()); err != nil || !ok {
			t.Fatalf("accounts: %v %v", ok, err)
		}
		_, err = w.resize(sys, p.ID, -31)
		if !errs.Is(err, errs.KindCapacityExceeded) || errs.FieldOf(err) != "allocatedCapacity" ||
			!strings.Contains(err.Error(), "30 bytes allocated to the partner's storage accounts") {
			t.Fatalf("shrink below the accounts: %v", err)
		}
		if got, err := w.resize(sys, p.ID, -30); err != nil || got.AllocatedCapacity != 30 {
			t.Fatalf("shrink to the accounts: %+v %v", got, err)
		}
		// Back to 0 (pay-per-use) always fits; below 0 is invalid.
		if got, err := w.resize(sys, p.ID, -30); err != nil || got.AllocatedCapacity != 0 {
			t.Fatalf("shrink to pay-per-use: %+v %v", got, err)
		}
		if _, err := w.resize(sys, p.ID, -1); !errs.Is(err, errs.KindInvalid) {
			t.Fatalf("below 0: %v", err)
		}
		if w.invariant(t) != 0 {
			t.Fatal("capacity not back on the contract")
		}
		// Delta 0 changes nothing and writes no audit row.
		before := auditCount(t, w, "partner.update")
		if got, err := w.resize(sys, p.ID, 0); err != nil || got.ID != p.ID {
			t.Fatalf("delta 0: %+v %v", got, err)
		}
		if auditCount(t, w, "partner.update") != before {
			t.Fatal("delta 0 wrote an audit row")
		}
		if before != 3 {
			t.Fatalf("%d partner.update rows, want 3 (one per applied resize)", before)
		}

		// The caller's transaction failing takes the resize with it.
		boom := errors.New("boom")
		err = sqlstore.Tenancy{Store: w.st}.Tx(ctx, func(tx tenancy.Store) error {
			if _, err := w.svc.ResizePartnerTx(ctx, tx, sys, p.ID, 50); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got, _ := w.svc.GetPartner(ctx, sys, p.ID); got.AllocatedCapacity != 0 || w.invariant(t) != 0 {
			t.Fatalf("rolled-back resize left %d bytes", got.AllocatedCapacity)
		}

		// Who may: a partner's own key may not resize itself; another
		// distributor does not see it.
		self := actor.Actor{Type: actor.TypeAPIKey, OrgID: p.ID, OrgPath: p.Path, OrgKind: actor.Partner, Role: actor.Admin}
		if _, err := w.resize(self, p.ID, 1); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("partner resizing itself: %v", err)
		}
		other := actor.Actor{Type: actor.TypeAPIKey, OrgID: "x", OrgPath: w.root.Path + "x/", OrgKind: actor.Distributor, Role: actor.Admin}
		if _, err := w.resize(other, p.ID, 1); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another distributor: %v", err)
		}
		viewer := actor.Actor{Type: actor.TypeAPIKey, OrgID: w.dist.ID, OrgPath: w.dist.Path, OrgKind: actor.Distributor, Role: actor.Viewer}
		if _, err := w.resize(viewer, p.ID, 1); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer: %v", err)
		}
	})
}

// Forty concurrent one-byte grows against a contract with 25 free bytes:
// exactly 25 succeed, the others are refused, the contract stays exact.
func TestResizePartnerTxConcurrent(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newWorld(t, d, 25)
		ctx := t.Context()
		sys := actor.System("")
		var ps []tenancy.Org
		for range 4 {
			p, err := w.svc.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: w.c.ID, Name: "p"})
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := w.resize(sys, ps[i%len(ps)].ID, 1)
				switch {
				case err == nil:
					ok.Add(1)
				case errs.Is(err, errs.KindCapacityExceeded):
					refused.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 25 || refused.Load() != 15 {
			t.Fatalf("%d grown, %d refused; want 25 and 15", ok.Load(), refused.Load())
		}
		if w.invariant(t) != 25 {
			t.Fatal("contract does not hold exactly 25 bytes")
		}
	})
}

func auditCount(t *testing.T, w world, action string) int {
	t.Helper()
	es, err := w.st.ListAudit(t.Context(), "/", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Action == action {
			if e.RequestID != "req-1" {
				t.Fatalf("audit %s has request id %q", action, e.RequestID)
			}
			n++
		}
	}
	return n
}
