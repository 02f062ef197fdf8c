package orders_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/orders/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// TestInlineStepFailureIsLogged: a step the request runs itself and that
// fails is retried by its job, and leaves a log line naming the order and
// the step (it was dropped without one).
func TestInlineStepFailureIsLogged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d, 0)
		var buf bytes.Buffer
		e.svc = orders.NewService(sqlstore.Orders{Store: e.st}, e.res, e.prov, e.clk,
			orders.Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		e.res.SetServices(e.svc)
		e.res.SetBlockHook(e.svc)
		pid := e.project(t, e.pa, 1_000_000)
		e.prov.FailNext(sim.StepCreate, 1)
		v, err := e.svc.CreateVOrg(ctx, e.pa, orders.VOrgInput{ProjectID: pid, Location: "kz", VcloudOrgName: "o",
			AdminUsername: "a", AdminPassword: "p"})
		must(t, err)
		wantLogLine(t, buf.String(), fmt.Sprintf("order=%d", v.ID), "step=create", "injected failure")
	})
}

// wantLogLine fails unless one line of log holds every part.
func wantLogLine(t *testing.T, log string, parts ...string) {
	t.Helper()
	for line := range strings.SplitSeq(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return
		}
	}
	t.Fatalf("no log line with %q in:\n%s", parts, log)
}
