package tenancy_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

type world struct {
	ctx  context.Context // the test's
	svc  *tenancy.Service
	st   *sqlstore.Store
	root tenancy.Org
	dist tenancy.Org
	c    tenancy.Contract
}

func newWorld(t *testing.T, d *db.DB, reserved int64) world {
	t.Helper()
	ctx := t.Context()
	st := sqlstore.New(d)
	svc := tenancy.NewService(sqlstore.Tenancy{Store: st}, clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	sys := actor.System("")
	root, err := svc.EnsureRoot(ctx, tenancy.CreateRootInput{Name: "P"})
	if err != nil {
		t.Fatal(err)
	}
	dist, err := svc.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "D"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.CreateContract(ctx, sys, tenancy.CreateContractInput{OrgID: dist.ID, ReservedCapacity: reserved, Currency: "EUR", Details: "C"})
	if err != nil {
		t.Fatal(err)
	}
	return world{ctx: ctx, svc: svc, st: st, root: root, dist: dist, c: c}
}

// invariant checks contract.allocated == Σ partners ≤ reserved.
func (w world) invariant(t *testing.T) int64 {
	t.Helper()
	ctx := t.Context()
	c, err := w.svc.GetContract(ctx, actor.System(""), w.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := w.svc.ListPartners(ctx, actor.System(""), w.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, p := range ps {
		sum += p.AllocatedCapacity
	}
	if sum != c.AllocatedCapacity || c.AllocatedCapacity > c.ReservedCapacity {
		t.Fatalf("contract allocated %d, partners hold %d, reserved %d", c.AllocatedCapacity, sum, c.ReservedCapacity)
	}
	return sum
}

// Concurrent resizes of the same partners must not lose updates: the
// contract's allocation stays the exact sum of its partners.
func TestConcurrentResizeKeepsTheSum(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newWorld(t, d, 1000)
		ctx := t.Context()
		sys := actor.System("")
		var ps []tenancy.Org
		for range 4 {
			p, err := w.svc.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: w.c.ID, Name: "p", AllocatedCapacity: 10})
			if err != nil {
				t.Fatal(err)
			}
			ps = append(ps, p)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				size := int64(50 + 100*(i%3)) // 50, 150, 250: some fit, some do not
				_, err := w.svc.UpdatePartner(ctx, sys, ps[i%len(ps)].ID, tenancy.UpdatePartnerInput{AllocatedCapacity: &size})
				if err != nil && !errs.Is(err, errs.KindCapacityExceeded) {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if sum := w.invariant(t); sum == 40 {
			t.Fatal("no resize succeeded")
		}
	})
}

func TestPartnerRules(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newWorld(t, d, 100)
		ctx := t.Context()
		sys := actor.System("")
		p, err := w.svc.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: w.c.ID, Name: " Acme ", AllocatedCapacity: 60})
		if err != nil || p.Name != "Acme" {
			t.Fatalf("create: %+v %v", p, err)
		}
		_, err = w.svc.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: w.c.ID, Name: "Big", AllocatedCapacity: 41})
		if !errs.Is(err, errs.KindCapacityExceeded) || errs.FieldOf(err) != "allocatedCapacity" {
			t.Fatalf("over the contract: %v", err)
		}
		if _, err := w.svc.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: w.c.ID, Name: "PPU", AllocatedCapacity: 0}); err != nil {
			t.Fatalf("pay-per-use must always fit: %v", err)
		}
		// The reservation cannot drop below the allocation.
		small := int64(59)
		if _, err := w.svc.UpdateContract(ctx, sys, w.c.ID, tenancy.UpdateContractInput{ReservedCapacity: &small}); !errs.Is(err, errs.KindCapacityExceeded) {
			t.Fatalf("shrinking the reservation below the allocation: %v", err)
		}
		// A contract with partners cannot be deleted; a partner can, and its
		// capacity returns.
		if err := w.svc.DeleteContract(ctx, sys, w.c.ID); !errs.Is(err, errs.KindPrecondition) {
			t.Fatalf("delete a contract with partners: %v", err)
		}
		if err := w.svc.DeletePartner(ctx, sys, p.ID); err != nil {
			t.Fatal(err)
		}
		if sum := w.invariant(t); sum != 0 {
			t.Fatalf("after delete: %d allocated", sum)
		}
		// A distributor sees its contracts; a partner key is refused.
		da := actor.Actor{Type: actor.TypeAPIKey, ID: "k", OrgID: w.dist.ID, OrgPath: w.dist.Path, OrgKind: actor.Distributor, Role: actor.Viewer}
		if cs, err := w.svc.ListContracts(ctx, da, "", 10); err != nil || len(cs) != 1 {
			t.Fatalf("distributor contracts: %v %v", cs, err)
		}
		pa := actor.Actor{Type: actor.TypeAPIKey, ID: "k", OrgID: "x", OrgPath: w.dist.Path + "x/", OrgKind: actor.Partner, Role: actor.Admin}
		if _, err := w.svc.ListContracts(ctx, pa, "", 10); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("partner listing contracts: %v", err)
		}
		// A viewer cannot create partners.
		if _, err := w.svc.CreatePartner(ctx, da, tenancy.CreatePartnerInput{ContractID: w.c.ID, Name: "x"}); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("viewer created a partner: %v", err)
		}
	})
}
