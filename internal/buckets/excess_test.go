package buckets_test

import (
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/wiring"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/metering"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// The excess of a contract over February 2028 (29 days), by hand. Contract
// C1 reserves 10 GB at 29 cents per GB-month; partner P1 (10 GB) has strict
// accounts s1 (6 GB) and s2 (4 GB); pay-per-use partner P2 has an
// overdraft account s3 with no allocation. Contract C2's account s4 and
// usage outside the month must not count; days that have not ended do not
// count.
func TestContractExcessFebruary(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := t.Context()
		sys := actor.System("")
		const gb = 1_000_000_000
		clk := clock.NewFake(time.Date(2028, 2, 29, 10, 0, 0, 0, time.UTC))
		st := sqlstore.New(d)
		ten := tenancy.NewService(sqlstore.Tenancy{Store: st}, clk)
		obj := wiring.Must(objstore.NewService(sqlstore.Objstore{Store: st}, clk, nil, objstore.NoDataPlane{}))
		met := metering.NewService(sqlstore.Metering{Store: st}, clk)
		ex := buckets.NewExcess(ten, st, clk)
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		root, err := ten.EnsureRoot(ctx, tenancy.CreateRootInput{Name: "P"})
		must(err)
		distA, err := ten.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "A"})
		must(err)
		distB, err := ten.CreateOrg(ctx, sys, tenancy.CreateOrgInput{ParentID: root.ID, Name: "B"})
		must(err)
		c1, err := ten.CreateContract(ctx, sys, tenancy.CreateContractInput{OrgID: distA.ID, ReservedCapacity: 10 * gb,
			CostStorageGBCents: 29, Currency: "EUR", Details: "C1"})
		must(err)
		c2, err := ten.CreateContract(ctx, sys, tenancy.CreateContractInput{OrgID: distA.ID, ReservedCapacity: 1 * gb,
			CostStorageGBCents: 1000, Currency: "EUR", Details: "C2"})
		must(err)
		partner := func(c tenancy.Contract, alloc int64) tenancy.Org {
			p, err := ten.CreatePartner(ctx, sys, tenancy.CreatePartnerInput{ContractID: c.ID, Name: "P", AllocatedCapacity: alloc})
			must(err)
			return p
		}
		p1, p2, p3 := partner(c1, 10*gb), partner(c1, 0), partner(c2, 1*gb)
		n := 0
		account := func(p tenancy.Org, alloc int64, overdraft bool) string {
			n++
			sa, err := obj.CreateStorageAccount(ctx, sys, p.ID, objstore.CreateStorageAccountInput{Name: "SA", AllocatedCapacity: alloc,
				AllowOverdraft: overdraft, ContactEmail: "sa" + string(rune('a'+n)) + "@example.com", Password: "Str0ng!pass"})
			must(err)
			return sa.ID
		}
		s1, s2, s3, s4 := account(p1, 6*gb, false), account(p1, 4*gb, false), account(p2, 0, true), account(p3, 1*gb, false)
		record := func(sa, day string, usage int64) {
			t.Helper()
			_, err := met.RecordDaily(ctx, sys, metering.RecordDailyInput{StorageAccountID: sa, Day: day, UsageBytes: usage})
			must(err)
		}
		record(s1, "2028-02-01", 6*gb)
		record(s2, "2028-02-01", 3*gb)
		record(s3, "2028-02-01", gb/2) // 0.5 GB over; 9.5 GB in all, within the reservation
		record(s1, "2028-02-02", 6*gb)
		record(s2, "2028-02-02", 4*gb)
		record(s3, "2028-02-02", 2*gb) // 2 GB over; 12 GB in all: 2 GB beyond the reservation too
		record(s3, "2028-02-28", 0)
		record(s1, "2028-02-29", 9*gb) // 3 GB over; 13 GB in all: 3 GB beyond (the day has not ended yet)
		record(s2, "2028-02-29", 4*gb)
		record(s4, "2028-02-02", 50*gb) // contract C2
		record(s1, "2028-01-31", 50*gb) // January
		record(s1, "2028-03-01", 50*gb) // March

		day := func(date string, usage, overage, excess int64) buckets.ExcessDay {
			return buckets.ExcessDay{Date: date, UsageBytes: usage, ReservedBytes: 10 * gb, OverageBytes: overage, ExcessBytes: excess}
		}
		dec := func(s string) money.Decimal {
			v, err := money.ParseDecimal("", s)
			must(err)
			return v
		}
		want := buckets.ContractExcess{ContractID: c1.ID, Month: "2028-02", Currency: "EUR", CostStorageGBCents: 29, DaysInMonth: 29,
			// 2.5e9 byte-days / 29e9 = 0.0862068965517241379…; × 29 cents =
			// 2.5 exactly, rounded half-up: 3 (half-even would give 2).
			ExcessByteDays: dec("2500000000"), ExcessGBMonth: dec("0.086206896551724"), CostCents: 3,
			Days: []buckets.ExcessDay{
				day("2028-02-01", 9_500_000_000, 500_000_000, 500_000_000),
				day("2028-02-02", 12*gb, 2*gb, 2*gb),
				day("2028-02-28", 0, 0, 0),
			}}
		decimalEqual := cmp.Comparer(func(a, b money.Decimal) bool { return a.Equal(b) })
		for _, a := range []actor.Actor{sys, {OrgID: distA.ID, OrgPath: distA.Path, OrgKind: actor.Distributor, Role: actor.Viewer}} {
			got, err := ex.Contract(ctx, a, c1.ID, "2028-02")
			must(err)
			if diff := cmp.Diff(want, got, decimalEqual); diff != "" {
				t.Fatalf("February before its last day ended, as %s (-want +got):\n%s", a.OrgKind, diff)
			}
		}

		clk.Advance(14 * time.Hour) // 2028-03-01 00:00: the 29th has ended
		got, err := ex.Contract(ctx, sys, c1.ID, "2028-02")
		must(err)
		// 5.5e9 byte-days / 29e9 = 0.1896551724137931…; × 29 cents = 5.5: 6.
		want.ExcessByteDays, want.ExcessGBMonth, want.CostCents = dec("5500000000"), dec("0.189655172413793"), 6
		want.Days = append(want.Days, day("2028-02-29", 13*gb, 3*gb, 3*gb))
		if diff := cmp.Diff(want, got, decimalEqual); diff != "" {
			t.Fatalf("February (-want +got):\n%s", diff)
		}
		if got.ExcessGBMonth.String() != "0.189655172413793" || got.ExcessByteDays.String() != "5500000000" {
			t.Fatalf("decimal text: %s %s", got.ExcessGBMonth, got.ExcessByteDays)
		}

		// A month with nothing recorded, and one that has not begun.
		for _, m := range []string{"2027-12", "2028-04"} {
			got, err := ex.Contract(ctx, sys, c1.ID, m)
			must(err)
			if len(got.Days) != 0 || got.CostCents != 0 || !got.ExcessGBMonth.IsZero() {
				t.Fatalf("%s: %+v", m, got)
			}
		}

		// Who may read it.
		partnerKey := actor.Actor{OrgID: p1.ID, OrgPath: p1.Path, OrgKind: actor.Partner, Role: actor.Admin}
		if _, err := ex.Contract(ctx, partnerKey, c1.ID, "2028-02"); !errs.Is(err, errs.KindForbidden) {
			t.Fatalf("a partner: %v", err)
		}
		other := actor.Actor{OrgID: distB.ID, OrgPath: distB.Path, OrgKind: actor.Distributor, Role: actor.Admin}
		if _, err := ex.Contract(ctx, other, c1.ID, "2028-02"); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("another distributor: %v", err)
		}
	})
}

func TestParseMonth(t *testing.T) {
	t.Parallel()
	for _, m := range []string{"", "2028", "2028-2", "2028-13", "2028-00", "2028-02-01", "28-02", "feb 2028", " 2028-02"} {
		if _, err := buckets.ParseMonth(m); errs.FieldOf(err) != "month" || !errs.Is(err, errs.KindInvalid) {
			t.Errorf("ParseMonth(%q) = %v", m, err)
		}
	}
	got, err := buckets.ParseMonth("2028-02")
	if err != nil || !got.Equal(time.Date(2028, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("ParseMonth(2028-02) = %v, %v", got, err)
	}
}
