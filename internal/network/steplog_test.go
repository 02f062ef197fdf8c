package network_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/simstep/simsteptest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestInlineStepFailureIsLogged: a step the request runs itself and that
// fails is retried by its job, and leaves a log line naming the resource
// and the step (it was dropped without one).
func TestInlineStepFailureIsLogged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		var buf bytes.Buffer
		f.networkConfig.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		f.net = f.service(f.st)

		f.sim.FailNext(sim.StepCreateNetwork, 1)
		n, err := f.net.CreateNetwork(ctx, f.cust, f.locA, nil)
		if err != nil {
			t.Fatal(err)
		}
		simsteptest.WantLogLine(t, buf.String(), "network="+n.UUID, "step=create", "injected failure")

		buf.Reset()
		f.sim.FailNext(sim.StepApplyLB, 1)
		lb, err := f.net.CreateLB(ctx, f.cust, network.CreateLB{Location: f.locA, BillingAccountID: f.acct, DisplayName: "x",
			NetworkUUID: n.UUID, Rules: []network.RuleInput{{SourcePort: 80, TargetPort: 80}}})
		if err != nil {
			t.Fatal(err)
		}
		simsteptest.WantLogLine(t, buf.String(), "load_balancer="+lb.UUID, "step=apply", "injected failure")
	})
}
