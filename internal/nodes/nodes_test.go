package nodes_test

import (
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/nodes"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// The lease's life: fresh ids, a live id refused, renewal, death by
// expiry (fenced, final) or by a clean stop, and the next incarnation.
func TestLease(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		clk := clock.NewFake(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
		reg := nodes.NewRegistry(sqlstore.Nodes{Store: sqlstore.New(d)}, clk)
		cfg := nodes.LeaseConfig{TTL: 30 * time.Second, Every: 10 * time.Second}
		a, err := reg.Register(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		b, err := reg.Register(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if a.ID() == b.ID() || !ids.Valid(a.ID()) {
			t.Fatalf("ids %q %q", a.ID(), b.ID())
		}
		alive := func(id string) bool {
			t.Helper()
			ok, err := reg.Alive(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !alive(a.ID()) || !alive(b.ID()) || alive("never-registered") {
			t.Fatal("alive: want a and b, not an unknown id")
		}
		// Two live processes cannot share an id.
		if _, err := reg.Register(ctx, nodes.LeaseConfig{ID: a.ID()}); !errs.Is(err, errs.KindConflict) {
			t.Fatalf("second process with a live id: %v", err)
		}
		// b renews, a does not (killed): after the TTL a is dead, b is not.
		for range 4 {
			clk.Advance(10 * time.Second)
			if err := b.Renew(ctx); err != nil {
				t.Fatal(err)
			}
		}
		dead, err := reg.Dead(ctx, []string{a.ID(), b.ID(), a.ID()})
		if err != nil || len(dead) != 1 || !dead[a.ID()] {
			t.Fatalf("dead %v %v", dead, err)
		}
		// Fenced: a late renewal of a does not bring the old id back; a
		// registers again under a new id.
		old := a.ID()
		if err := a.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		if a.ID() == old || !a.Held() || alive(old) || !alive(a.ID()) {
			t.Fatalf("after the fence: id %s (old %s) held %v", a.ID(), old, a.Held())
		}
		// A given id is taken over once its holder is dead.
		if _, err := reg.Register(ctx, nodes.LeaseConfig{ID: old}); err != nil {
			t.Fatalf("taking over a dead id: %v", err)
		}
		// A clean stop is death at once.
		if err := b.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if alive(b.ID()) || b.Held() {
			t.Fatal("b alive after its stop")
		}
	})
}
