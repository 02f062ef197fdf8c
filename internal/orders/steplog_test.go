package orders_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/orders/sim"
	"github.com/trellis-cloud/trellis/internal/simstep/simsteptest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// TestInlineStepFailureIsLogged: a step the request runs itself and that
// fails is retried by its job, and leaves a log line naming the order and
// the step (it was dropped without one).
func TestInlineStepFailureIsLogged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, 0)
		var buf bytes.Buffer
		e.svc = orders.NewService(sqlstore.Orders{Store: e.st}, e.res, e.prov, e.clk,
			orders.Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		pid := e.project(t, e.pa, 1_000_000)
		e.prov.FailNext(sim.StepCreate, 1)
		v, err := e.svc.CreateVOrg(ctx, e.pa, orders.VOrgInput{ProjectID: pid, Location: "kz", VcloudOrgName: "o",
			AdminUsername: "a", AdminPassword: "p"})
		must(t, err)
		simsteptest.WantLogLine(t, buf.String(), fmt.Sprintf("order=%d", v.ID), "step=create", "injected failure")
	})
}
