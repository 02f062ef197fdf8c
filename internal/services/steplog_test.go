package services_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/trellis-cloud/trellis/internal/services"
	"github.com/trellis-cloud/trellis/internal/services/sim"
	"github.com/trellis-cloud/trellis/internal/simstep/simsteptest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestInlineStepFailureIsLogged: a step the request runs itself and that
// fails is retried by its job, and leaves a log line naming the package
// and the step (it was dropped without one).
func TestInlineStepFailureIsLogged(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		var buf bytes.Buffer
		e := newEnv(t, d, services.Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
		e.prov.FailNext(sim.StepCreate, 1)
		p, err := e.svc.Create(ctx, e.cust, pg(e.acct))
		must(t, err)
		simsteptest.WantLogLine(t, buf.String(), "package="+p.UUID, "step=create", "injected failure")
	})
}
