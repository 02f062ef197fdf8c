package sqlstore_test

import (
	"testing"

	"github.com/trellis-cloud/trellis/internal/simstep/simsteptest"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// TestSimState runs the simstep.State conformance suite on the database's
// State (on SQLite and, when configured, PostgreSQL).
func TestSimState(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		simsteptest.Run(t, sqlstore.SimState{Store: sqlstore.New(d)})
	})
}
