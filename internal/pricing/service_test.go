package pricing_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/money"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

var (
	operator = actor.Actor{Type: actor.TypeUser, ID: "op", OrgID: "root", OrgPath: "/root/", OrgKind: actor.Provider, Role: actor.Admin}
	viewer   = actor.Actor{Type: actor.TypeUser, ID: "v", OrgID: "root", OrgPath: "/root/", OrgKind: actor.Provider, Role: actor.Viewer}
	customer = actor.Actor{Type: actor.TypeAPIKey, ID: "c", OrgID: "cust", OrgPath: "/root/d/p/cust/", OrgKind: actor.Customer, Role: actor.Admin}
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err error, k errs.Kind) {
	t.Helper()
	if err == nil || errs.KindOf(err) != k {
		t.Fatalf("got error %v (kind %v), want kind %v", err, errs.KindOf(err), k)
	}
}

// cmpDecimal compares decimals by value.
var cmpDecimal = cmp.Comparer(func(a, b money.Decimal) bool { return a.Equal(b) })

func each(t *testing.T, fn func(t *testing.T, svc *pricing.Service, clk *clock.Fake)) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		clk := clock.NewFake(t0)
		fn(t, pricing.NewService(sqlstore.Pricing{Store: sqlstore.New(d)}, clk), clk)
	})
}

func TestEnsureDefault(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, svc *pricing.Service, _ *clock.Fake) {
		ctx := t.Context()
		_, err := svc.Current(ctx, t0)
		wantKind(t, err, errs.KindNotFound)
		// Many nodes starting at once install it once.
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := svc.EnsureDefault(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		must(t, svc.EnsureDefault(ctx))
		vs, err := svc.ListVersions(ctx, viewer)
		must(t, err)
		if len(vs) != 1 {
			t.Fatalf("%d versions after EnsureDefault ×9", len(vs))
		}
		if diff := cmp.Diff(pricing.DefaultVersion(), vs[0], cmpDecimal); diff != "" {
			t.Fatalf("stored default (-want +got):\n%s", diff)
		}
		// Effective since the epoch: any period has a price.
		v, err := svc.Current(ctx, time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC))
		must(t, err)
		if v.ID != pricing.DefaultVersionID {
			t.Fatalf("Current = %s", v.ID)
		}
		list, err := svc.ListMultipliers(ctx)
		must(t, err)
		if diff := cmp.Diff(pricing.DefaultServices(), list, cmpDecimal); diff != "" {
			t.Fatalf("default multipliers (-want +got):\n%s", diff)
		}
	})
}

func TestVersions(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, svc *pricing.Service, clk *clock.Fake) {
		ctx := t.Context()
		must(t, svc.EnsureDefault(ctx))
		items := pricing.DefaultItems()
		items[0].Price = d("0.01") // CPU doubled (roughly)
		at := t0.Add(48 * time.Hour)

		_, err := svc.CreateVersion(ctx, operator, pricing.CreateVersionInput{EffectiveFrom: t0.Add(-time.Second), Items: items})
		wantKind(t, err, errs.KindInvalid)
		if errs.FieldOf(err) != "effective_from" {
			t.Fatalf("field %q", errs.FieldOf(err))
		}
		_, err = svc.CreateVersion(ctx, operator, pricing.CreateVersionInput{Items: items})
		wantKind(t, err, errs.KindInvalid)
		bad := pricing.DefaultItems()
		bad[2].Price = d("-1")
		_, err = svc.CreateVersion(ctx, operator, pricing.CreateVersionInput{EffectiveFrom: at, Items: bad})
		wantKind(t, err, errs.KindInvalid)
		_, err = svc.CreateVersion(ctx, customer, pricing.CreateVersionInput{EffectiveFrom: at, Items: items})
		wantKind(t, err, errs.KindForbidden)
		_, err = svc.CreateVersion(ctx, viewer, pricing.CreateVersionInput{EffectiveFrom: at, Items: items})
		wantKind(t, err, errs.KindForbidden)
		_, err = svc.ListVersions(ctx, customer)
		wantKind(t, err, errs.KindForbidden)

		v, err := svc.CreateVersion(ctx, operator, pricing.CreateVersionInput{EffectiveFrom: at, Items: items})
		must(t, err)
		_, err = svc.CreateVersion(ctx, operator, pricing.CreateVersionInput{EffectiveFrom: at, Items: pricing.DefaultItems()})
		wantKind(t, err, errs.KindConflict)
		// Effective now (exactly now is allowed).
		now, err := svc.CreateVersion(ctx, operator, pricing.CreateVersionInput{EffectiveFrom: t0, Items: pricing.DefaultItems()})
		must(t, err)

		for _, c := range []struct {
			at   time.Time
			want string
		}{
			{t0.Add(-time.Microsecond), pricing.DefaultVersionID},
			{t0, now.ID},
			{at.Add(-time.Microsecond), now.ID},
			{at, v.ID},
			{at.Add(1000 * time.Hour), v.ID},
		} {
			got, err := svc.Current(ctx, c.at)
			must(t, err)
			if got.ID != c.want {
				t.Errorf("Current(%s) = %s, want %s", c.at, got.ID, c.want)
			}
		}
		p, err := svc.PolicyAt(ctx, at)
		must(t, err)
		if !p.Version.Items[0].Price.Equal(d("0.01")) || len(p.Services) != 2 {
			t.Fatalf("PolicyAt: %+v", p)
		}
		vs, err := svc.ListVersions(ctx, operator)
		must(t, err)
		if len(vs) != 3 || vs[0].ID != pricing.DefaultVersionID || vs[1].ID != now.ID || vs[2].ID != v.ID {
			t.Fatalf("ListVersions order: %+v", vs)
		}
		if diff := cmp.Diff(v, vs[2], cmpDecimal); diff != "" {
			t.Fatalf("version round trip (-want +got):\n%s", diff)
		}
		// Once effective, a version's time has passed: a new one must be later.
		clk.Set(at.Add(time.Hour))
		_, err = svc.CreateVersion(ctx, operator, pricing.CreateVersionInput{EffectiveFrom: at.Add(30 * time.Minute), Items: items})
		wantKind(t, err, errs.KindInvalid)
	})
}

func TestMultipliers(t *testing.T) {
	t.Parallel()
	each(t, func(t *testing.T, svc *pricing.Service, _ *clock.Fake) {
		ctx := t.Context()
		must(t, svc.EnsureDefault(ctx))
		ms := []pricing.Multiplier{{ResourceType: pricing.CPU, PriceMultiplier: d("2")}, {ResourceType: pricing.Storage, ServiceNameInUptime: "main", PriceMultiplier: d("1.5")}}
		_, err := svc.SetMultipliers(ctx, customer, "redis", ms)
		wantKind(t, err, errs.KindForbidden)
		_, err = svc.SetMultipliers(ctx, operator, "Redis!", ms)
		wantKind(t, err, errs.KindInvalid)
		sm, err := svc.SetMultipliers(ctx, operator, "redis", ms)
		must(t, err)
		got, err := svc.Multipliers(ctx, "redis")
		must(t, err)
		if diff := cmp.Diff(sm, got, cmpDecimal); diff != "" {
			t.Fatalf("multipliers round trip (-want +got):\n%s", diff)
		}
		// Replacing keeps one list per service.
		_, err = svc.SetMultipliers(ctx, operator, "redis", ms[:1])
		must(t, err)
		got, err = svc.Multipliers(ctx, "redis")
		must(t, err)
		if len(got.Multipliers) != 1 {
			t.Fatalf("after replace: %+v", got)
		}
		// EnsureDefault does not overwrite an operator's change.
		_, err = svc.SetMultipliers(ctx, operator, "postgresql", ms)
		must(t, err)
		must(t, svc.EnsureDefault(ctx))
		got, err = svc.Multipliers(ctx, "postgresql")
		must(t, err)
		if len(got.Multipliers) != 2 {
			t.Fatalf("EnsureDefault overwrote postgresql: %+v", got)
		}
		_, err = svc.Multipliers(ctx, "oracle")
		wantKind(t, err, errs.KindNotFound)
		// Rating sees the new multipliers.
		p, err := svc.PolicyAt(ctx, t0)
		must(t, err)
		r, err := pricing.Rate(p, pricing.MeterVM, pricing.Config{VMName: "r", CPUs: 1, RAMMB: 1024, DiskGB: i64(10), Service: "redis"})
		must(t, err)
		if !r.UnitPrice.Equal(d("0.01471")) { // 2×0.00521 + 0.00329 + 10×0.0001 (no storage multiplier left)
			t.Fatalf("rated %s", r.UnitPrice)
		}
	})
}
