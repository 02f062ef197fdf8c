package buckets_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

var (
	sys = actor.System("")
	t0  = time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
)

const mb = 1_000_000

type fixture struct {
	clk     *clock.Fake
	st      *sqlstore.Store
	obj     *objstore.Service
	bil     *billing.Service
	hourly  *metering.HourlyService
	svc     *buckets.Service
	partner tenancy.Org
	cust    actor.Actor
	user    objstore.UserRef
	acct    int64
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	f := &fixture{clk: clock.NewFake(t0)}
	f.st = sqlstore.New(d)
	ten := tenancy.NewService(sqlstore.Tenancy{Store: f.st}, f.clk)
	f.obj = wiring.Must(objstore.NewService(sqlstore.Objstore{Store: f.st}, f.clk, nil, objstore.NoDataPlane{}))
	root, err := ten.EnsureRoot(ctx, tenancy.CreateRootInput{Name: "P"})
	must(err)
	dist, err := ten.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "D"})
	must(err)
	c, err := ten.CreateContract(ctx, sys, tenancy.CreateContractInput{OrgID: dist.ID, ReservedCapacity: 1000 * mb, Currency: "EUR", Details: "C"})
	must(err)
	f.partner, err = ten.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: c.ID, Name: "P", AllocatedCapacity: 500 * mb})
	must(err)
	led := ledger.NewService(sqlstore.Ledger{Store: f.st}, f.clk)
	f.bil = billing.NewService(sqlstore.Billing{Store: f.st}, led, f.clk, billing.Config{})
	prices := pricing.NewService(sqlstore.Pricing{Store: f.st}, f.clk)
	must(prices.EnsureDefault(ctx))
	f.hourly = metering.NewHourlyService(sqlstore.MeteringHourly{Store: f.st}, prices, f.clk)
	idn := access.NewIdentity(sqlstore.Identity{Store: f.st}, f.clk)
	now := db.Micro(t0)
	id := ids.New()
	org := tenancy.Org{ID: id, Kind: actor.Customer, ParentID: root.ID, Path: root.Path + id + "/", Name: "c", TimeZone: "UTC", CreatedAt: now, UpdatedAt: now}
	must(f.st.InsertOrg(ctx, org))
	u, err := idn.CreateUser(ctx, sys, access.CreateIDCHUserInput{OrgID: org.ID, Email: "c@example.com"})
	must(err)
	a, err := f.bil.CreateAccount(ctx, sys, billing.CreateAccountInput{OrgID: org.ID, UserID: u.ID,
		Data: billing.AccountData{Title: "a", Email: "a@example.com"}})
	must(err)
	f.acct = a.ID
	f.cust = actor.Actor{Type: actor.TypeAPIKey, ID: "k1", OrgID: org.ID, OrgPath: org.Path, OrgKind: actor.Customer, Role: actor.Admin}
	f.user = objstore.UserRef{ID: u.ID, OrgID: org.ID, OrgPath: org.Path, Email: "c@example.com"}
	f.svc = wiring.Must(buckets.NewService(buckets.Deps{Store: sqlstore.Buckets{Store: f.st}, Billing: f.bil, Principals: f.obj,
		Recorder: f.hourly, Clock: f.clk, DataPlane: buckets.NoDataPlane{}}))
	return f
}

// account creates a storage account and returns its principal id.
func (f *fixture) account(t *testing.T, email string, alloc int64, overdraft bool) string {
	t.Helper()
	ctx := t.Context()
	sa, err := f.obj.CreateStorageAccount(ctx, sys, f.partner.ID, objstore.CreateStorageAccountInput{Name: "SA",
		AllocatedCapacity: alloc, AllowOverdraft: overdraft, ContactEmail: email, Password: "Str0ng!pass"})
	if err != nil {
		t.Fatal(err)
	}
	p, keys, err := f.obj.AccountKeys(ctx, sys, f.partner.ID, sa.ID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("principal: %v %d keys", err, len(keys))
	}
	return p.ID
}

func (f *fixture) quota(t *testing.T, principal string) (used, reserved int64) {
	t.Helper()
	ctx := t.Context()
	used, reserved, _, err := f.st.Quota(ctx, principal)
	if err != nil {
		t.Fatal(err)
	}
	return used, reserved
}

// 32 writes of 1 MB race for a 10 MB allocation: exactly 10 are reserved;
// after 3 deletes exactly 3 more fit. With overdraft all 32 are.
func TestQuotaRace(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		for _, tc := range []struct {
			name      string
			overdraft bool
			want      int64
		}{{"strict", false, 10}, {"overdraft", true, 32}} {
			p := f.account(t, tc.name+"@example.com", 10*mb, tc.overdraft)
			bucket := "race-" + tc.name
			if _, err := f.svc.RegisterBucket(ctx, bucket, p); err != nil {
				t.Fatal(err)
			}
			var ok, quota atomic.Int64
			var wg sync.WaitGroup
			for i := range 32 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r, err := f.svc.Reserve(ctx, buckets.Write{Node: "n1", Bucket: bucket, Op: buckets.OpPut,
						Key: "k" + string(rune('a'+i)), Bytes: mb, OldSize: -1})
					switch {
					case err == nil:
						ok.Add(1)
						if _, err := f.svc.Settle(ctx, r, buckets.Change{Objects: 1, ObjectBytes: mb}); err != nil {
							t.Error(err)
						}
					case errs.Is(err, errs.KindQuotaExceeded):
						quota.Add(1)
					default:
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if ok.Load() != tc.want || quota.Load() != 32-tc.want {
				t.Fatalf("%s: %d reserved, %d over quota; want %d", tc.name, ok.Load(), quota.Load(), tc.want)
			}
			used, reserved := f.quota(t, p)
			if used != tc.want*mb || reserved != 0 {
				t.Fatalf("%s: used %d reserved %d", tc.name, used, reserved)
			}
			if tc.overdraft {
				continue
			}
			for range 3 {
				if err := f.svc.Apply(ctx, bucket, buckets.Change{Objects: -1, ObjectBytes: -mb}); err != nil {
					t.Fatal(err)
				}
			}
			ok.Store(0)
			for range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if r, err := f.svc.Reserve(ctx, buckets.Write{Node: "n1", Bucket: bucket, Op: buckets.OpPut, Bytes: mb, OldSize: -1}); err == nil {
						ok.Add(1)
						if _, err := f.svc.Settle(ctx, r, buckets.Change{Objects: 1, ObjectBytes: mb}); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 3 {
				t.Fatalf("after 3 deletes %d more fit, want 3", ok.Load())
			}
			b, err := f.st.GetLiveBucket(ctx, bucket)
			if err != nil || b.SizeBytes != 10*mb || b.NumObjects != 10 {
				t.Fatalf("bucket %+v %v", b, err)
			}
		}
	})
}

// A released reservation gives its bytes back; settling twice counts once;
// reservations are listed per node until settled.
func TestReservationLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		p := f.account(t, "life@example.com", 5*mb, false)
		if _, err := f.svc.RegisterBucket(ctx, "life", p); err != nil {
			t.Fatal(err)
		}
		r1, err := f.svc.Reserve(ctx, buckets.Write{Node: "n1", Bucket: "life", Op: buckets.OpPut, Key: "a", Bytes: 3 * mb, OldSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reserve(ctx, buckets.Write{Node: "n1", Bucket: "life", Op: buckets.OpPut, Key: "b", Bytes: 3 * mb, OldSize: -1}); !errs.Is(err, errs.KindQuotaExceeded) {
			t.Fatalf("second 3 MB into 5 MB: %v", err)
		}
		pend, err := f.svc.PendingReservations(ctx)
		if err != nil || len(pend) != 1 || pend[0].ID != r1.ID || pend[0].Bucket != "life" || pend[0].Key != "a" {
			t.Fatalf("pending %+v %v", pend, err)
		}
		if _, err := f.svc.Release(ctx, r1); err != nil {
			t.Fatal(err)
		}
		if used, reserved := f.quota(t, p); used != 0 || reserved != 0 {
			t.Fatalf("after release %d %d", used, reserved)
		}
		r2, err := f.svc.Reserve(ctx, buckets.Write{Node: "n1", Bucket: "life", Op: buckets.OpPut, Key: "b", Bytes: 3 * mb, OldSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, err := f.svc.Settle(ctx, r2, buckets.Change{Objects: 1, ObjectBytes: 3 * mb}); err != nil {
				t.Fatal(err)
			}
		}
		if used, reserved := f.quota(t, p); used != 3*mb || reserved != 0 {
			t.Fatalf("after settle twice %d %d", used, reserved)
		}
		if pend, _ := f.svc.PendingReservations(ctx); len(pend) != 0 {
			t.Fatalf("pending after settle: %d", len(pend))
		}
	})
}

// Writes are refused while the bucket is suspended (reads too) or the
// storage account is scheduled for deletion, and allowed again after.
func TestSuspension(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		p := f.account(t, "susp@example.com", 5*mb, false)
		if _, err := f.svc.RegisterBucket(ctx, "susp", p); err != nil {
			t.Fatal(err)
		}
		w := buckets.Write{Node: "n1", Bucket: "susp", Op: buckets.OpPut, Bytes: 1, OldSize: -1}
		if _, err := f.svc.SetSuspended(ctx, sys, "susp", true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reserve(ctx, w); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("write to a suspended bucket: %v", err)
		}
		if a, err := f.svc.BucketAccess(ctx, "susp"); err != nil || a.ReadDenied == "" || a.WriteDenied == "" {
			t.Fatalf("access %+v %v", a, err)
		}
		if _, err := f.svc.SetSuspended(ctx, sys, "susp", false); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reserve(ctx, w); err != nil {
			t.Fatal(err)
		}
		if err := f.obj.ScheduleDeletion(ctx, sys, f.partner.ID, p); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reserve(ctx, w); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("write to an account scheduled for deletion: %v", err)
		}
		if a, _ := f.svc.BucketAccess(ctx, "susp"); a.ReadDenied != "" {
			t.Fatalf("reads refused for a pending deletion: %q", a.ReadDenied)
		}
		if _, err := f.svc.RegisterBucket(ctx, "susp-2", p); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("new bucket for an account scheduled for deletion: %v", err)
		}
		if _, err := f.obj.SetPendingDeletion(ctx, sys, f.partner.ID, p, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reserve(ctx, w); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.SetSuspended(ctx, f.cust, "susp", true); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("a customer suspends a bucket: %v", err)
		}
	})
}

// A suspended storage account: reads, writes and new buckets refused with
// "the storage account is suspended" (before the pending-deletion reason),
// all allowed again once it is resumed.
func TestAccountSuspension(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		p := f.account(t, "acct-susp@example.com", 5*mb, false)
		if _, err := f.svc.RegisterBucket(ctx, "acct-susp", p); err != nil {
			t.Fatal(err)
		}
		suspend := func(on bool) {
			t.Helper()
			err := sqlstore.Objstore{Store: f.st}.Tx(ctx, func(tx objstore.Store) error {
				_, err := f.obj.SetSuspendedTx(ctx, tx, sys, f.partner.ID, p, on)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		const why = "the storage account is suspended"
		w := buckets.Write{Node: "n1", Bucket: "acct-susp", Op: buckets.OpPut, Bytes: 1, OldSize: -1}
		suspend(true)
		if err := f.obj.ScheduleDeletion(ctx, sys, f.partner.ID, p); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Reserve(ctx, w); !errs.Is(err, errs.KindForbidden) || errs.Public(err) != why {
			t.Fatalf("write to a suspended account: %v", err)
		}
		if a, err := f.svc.BucketAccess(ctx, "acct-susp"); err != nil || a.ReadDenied != why || a.WriteDenied != why {
			t.Fatalf("access %+v %v", a, err)
		}
		if _, err := f.obj.SetPendingDeletion(ctx, sys, f.partner.ID, p, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RegisterBucket(ctx, "acct-susp-2", p); !errs.Is(err, errs.KindForbidden) || !strings.Contains(err.Error(), why) {
			t.Fatalf("new bucket for a suspended account: %v", err)
		}
		suspend(false)
		if a, err := f.svc.BucketAccess(ctx, "acct-susp"); err != nil || a.ReadDenied != "" || a.WriteDenied != "" {
			t.Fatalf("access after resume %+v %v", a, err)
		}
		if _, err := f.svc.Reserve(ctx, w); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RegisterBucket(ctx, "acct-susp-2", p); err != nil {
			t.Fatal(err)
		}
	})
}

// Hours are billed at the most a bucket held in them; the days of a storage
// account record what its buckets held at the end of the day.
func TestUsageHoursAndDays(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		// A user's bucket, billed.
		if _, _, err := f.obj.UserPrincipal(ctx, f.cust, f.user); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RegisterBucket(ctx, "billed", "c@example.com"); err != nil {
			t.Fatal(err)
		}
		put := func(bucket string, n int64) {
			t.Helper()
			r, err := f.svc.Reserve(ctx, buckets.Write{Node: "n1", Bucket: bucket, Op: buckets.OpPut, Bytes: n, OldSize: -1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Settle(ctx, r, buckets.Change{Objects: 1, ObjectBytes: n}); err != nil {
				t.Fatal(err)
			}
		}
		del := func(bucket string, n int64) {
			t.Helper()
			if err := f.svc.Apply(ctx, bucket, buckets.Change{Objects: -1, ObjectBytes: -n}); err != nil {
				t.Fatal(err)
			}
		}
		p := f.account(t, "days@example.com", 100*mb, false)
		if _, err := f.svc.RegisterBucket(ctx, "daily", p); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(t0.Add(10 * time.Minute))
		put("billed", 2_500_000_000) // 2.5 GB
		put("daily", 7*mb)
		f.clk.Set(t0.Add(70 * time.Minute)) // hour 1: peak 3.5 GB, ends at 1 GB
		put("billed", 1_000_000_000)
		del("billed", 2_500_000_000)
		f.clk.Set(t0.Add(26 * time.Hour)) // day 2: daily grows to 9 MB
		put("daily", 2*mb)
		f.clk.Set(t0.Add(49 * time.Hour))
		hourly := f.hourly.WithCloseGrace(100 * time.Hour)
		svc := wiring.Must(buckets.NewService(buckets.Deps{Store: sqlstore.Buckets{Store: f.st}, Billing: f.bil, Principals: f.obj,
			Recorder: hourly, Clock: f.clk, DataPlane: buckets.NoDataPlane{}}))
		if err := svc.MeterHours(ctx, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		recs, err := f.hourly.List(ctx, sys, mustBucketID(t, f, "billed"), t0, t0.Add(49*time.Hour), 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 49 {
			t.Fatalf("%d hourly records, want 49 (hours 0..48)", len(recs))
		}
		want := map[int]string{0: "2.5", 1: "3.5", 2: "1", 48: "1"}
		for i, r := range recs {
			if w, ok := want[i]; ok && r.Quantity.String() != w {
				t.Errorf("hour %d: %s GB-h, want %s", i, r.Quantity, w)
			}
			if r.BillingAccountID != f.acct || r.Meter != pricing.MeterObjectStorage {
				t.Fatalf("record %+v", r)
			}
		}
		if recs[0].UnitPrice.String() != "0.0000342" {
			t.Fatalf("price %s", recs[0].UnitPrice)
		}
		// A second sweep writes nothing new.
		if err := svc.MeterHours(ctx, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		if err := svc.SnapshotDays(ctx, f.clk.Now()); err != nil {
			t.Fatal(err)
		}
		days, err := f.st.ListDailyUsage(ctx, []string{p}, "2027-03-01", "2027-03-05")
		if err != nil {
			t.Fatal(err)
		}
		if len(days) != 2 || days[0].UsageBytes != 7*mb || days[1].UsageBytes != 9*mb || days[0].AllocatedCapacity != 100*mb {
			t.Fatalf("days %+v", days)
		}
	})
}

func mustBucketID(t *testing.T, f *fixture, name string) string {
	t.Helper()
	ctx := t.Context()
	b, err := f.st.GetLiveBucket(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return b.ID
}

// Concurrent accounting calls share transactions; one that fails does not
// fail the others, and its writes are rolled back.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		p := f.account(t, "group@example.com", 5*mb, false)
		boom := errors.New("boom")
		var wg sync.WaitGroup
		errsSeen := make([]error, 30)
		for i := range 30 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errsSeen[i] = f.svc.Batched(ctx, func(tx buckets.Store) error {
					if i == 7 {
						if err := tx.AddPrincipalBytes(ctx, p, 1000, 0); err != nil {
							return err
						}
						return boom
					}
					return tx.AddPrincipalBytes(ctx, p, 1, 0)
				})
			}()
		}
		wg.Wait()
		for i, err := range errsSeen {
			if (i == 7) != errors.Is(err, boom) || (i != 7 && err != nil) {
				t.Fatalf("call %d: %v", i, err)
			}
		}
		if used, reserved := f.quota(t, p); used != 29 || reserved != 0 {
			t.Fatalf("used %d reserved %d, want 29 and 0 (the failed call rolled back)", used, reserved)
		}
	})
}
