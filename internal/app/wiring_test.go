package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/bss"
	"github.com/trellis-cloud/trellis/internal/buckets"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/objstore"
	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/reseller"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
	"github.com/trellis-cloud/trellis/internal/support"
	"github.com/trellis-cloud/trellis/internal/tenancy"
)

// Every service that was once wired by a setter takes the dependency in
// its constructor, and building it without one fails at once with an
// error naming what is missing (no nil met at run time).
func TestMissingDependencyFailsAtStartup(t *testing.T) {
	st := sqlstore.New(nil)
	clk := clock.NewFake(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
	led := ledger.NewService(sqlstore.Ledger{Store: st}, clk)
	bil := billing.NewService(sqlstore.Billing{Store: st}, led, clk, billing.Config{})
	sup := support.NewService(sqlstore.Support{Store: st}, clk)
	ten := tenancy.NewService(sqlstore.Tenancy{Store: st}, clk)
	obj, err := objstore.NewService(sqlstore.Objstore{Store: st}, clk, nil, objstore.NoDataPlane{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, want string
		build      func() error
	}{
		{"objstore without its S3 slot", "objstore: missing dependency DataPlane", func() error {
			_, err := objstore.NewService(sqlstore.Objstore{Store: st}, clk, nil, nil)
			return err
		}},
		{"buckets without its S3 slot", "buckets: missing dependency DataPlane", func() error {
			_, err := buckets.NewService(buckets.Deps{Store: sqlstore.Buckets{Store: st}, Billing: bil, Principals: obj, Clock: clk})
			return err
		}},
		{"bss without the key check", "bss: missing dependency Keys", func() error {
			_, err := bss.NewService(sqlstore.BSS{Store: st}, ten, obj, clk, nil)
			return err
		}},
		{"reseller without orders and support", "reseller: missing dependencies Services, Tickets", func() error {
			_, err := reseller.NewService(sqlstore.Reseller{Store: st}, bil, led, clk,
				reseller.Deps{Blocks: orders.ProjectHooks{}}, reseller.Config{})
			return err
		}},
		{"reseller without the block hook", "reseller: missing dependency Blocks", func() error {
			_, err := reseller.NewService(sqlstore.Reseller{Store: st}, bil, led, clk,
				reseller.Deps{Services: orders.ProjectHooks{}, Tickets: sup}, reseller.Config{})
			return err
		}},
	} {
		err := c.build()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming it (%q)", c.name, err, c.want)
		}
	}
	// With everything given, they build.
	if _, err := reseller.NewService(sqlstore.Reseller{Store: st}, bil, led, clk,
		reseller.Deps{Services: orders.ProjectHooks{}, Tickets: sup, Blocks: orders.ProjectHooks{}}, reseller.Config{}); err != nil {
		t.Errorf("reseller with every dependency: %v", err)
	}
}
