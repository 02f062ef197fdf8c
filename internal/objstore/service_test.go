package objstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// Scheduled deletions come due after 30 days; the purge releases the
// partner's capacity, and two nodes purging at once delete each account
// exactly once.
func TestScheduledDeletion(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := t.Context()
		clk := clock.NewFake(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
		st := sqlstore.New(d)
		ten := tenancy.NewService(sqlstore.Tenancy{Store: st}, clk)
		obj := wiring.Must(objstore.NewService(sqlstore.Objstore{Store: st}, clk, nil, objstore.NoDataPlane{}))
		sys := actor.System("")
		root, _ := ten.EnsureRoot(ctx, tenancy.CreateRootInput{Name: "P"})
		dist, _ := ten.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "D"})
		c, _ := ten.CreateContract(ctx, sys, tenancy.CreateContractInput{OrgID: dist.ID, ReservedCapacity: 100, Currency: "EUR", Details: "C"})
		p, err := ten.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: c.ID, Name: "P", AllocatedCapacity: 10})
		if err != nil {
			t.Fatal(err)
		}
		var accounts []objstore.StorageAccount
		for i := range 3 {
			sa, err := obj.CreateStorageAccount(ctx, sys, p.ID, objstore.CreateStorageAccountInput{Name: "SA", AllocatedCapacity: 3,
				ContactEmail: fmt.Sprintf("sa%d@example.com", i), Password: "Str0ng!pass"})
			if err != nil {
				t.Fatal(err)
			}
			accounts = append(accounts, sa)
		}
		if _, err := obj.CreateStorageAccount(ctx, sys, p.ID, objstore.CreateStorageAccountInput{Name: "SA", AllocatedCapacity: 2,
			ContactEmail: "over@example.com", Password: "Str0ng!pass"}); !errs.Is(err, errs.KindCapacityExceeded) {
			t.Fatalf("fourth strict account beyond the partner: %v", err)
		}
		for _, sa := range accounts {
			if err := obj.ScheduleDeletion(ctx, sys, p.ID, sa.ID); err != nil {
				t.Fatal(err)
			}
		}
		// Cancel one.
		if _, err := obj.SetPendingDeletion(ctx, sys, p.ID, accounts[2].ID, nil); err != nil {
			t.Fatal(err)
		}
		clk.Advance(objstore.DeletionGrace - time.Second)
		if n, err := obj.PurgeDue(ctx, noObjects{}); err != nil || n != 0 {
			t.Fatalf("purge before due: %d %v", n, err)
		}
		clk.Advance(time.Second)
		var deleted atomic.Int64
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := obj.PurgeDue(ctx, noObjects{})
				if err != nil {
					t.Error(err)
				}
				deleted.Add(int64(n))
			}()
		}
		wg.Wait()
		if deleted.Load() != 2 {
			t.Fatalf("two purgers deleted %d accounts, want 2", deleted.Load())
		}
		left, _ := obj.ListStorageAccounts(ctx, sys, p.ID)
		if len(left) != 1 || left[0].ID != accounts[2].ID {
			t.Fatalf("left: %+v", left)
		}
		got, _ := ten.GetPartner(ctx, sys, p.ID)
		if got.AccountsAllocated != 3 {
			t.Fatalf("partner still holds %d for accounts, want 3", got.AccountsAllocated)
		}
	})
}

// noObjects purges nothing: these storage accounts have no buckets.
type noObjects struct{}

func (noObjects) PurgeStorageAccount(context.Context, string) error { return nil }
