package orders

import (
	"context"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/reseller"
)

// ChargeInput is the reseller core's charge request.
type ChargeInput = reseller.ChargeInput

// Reseller is what orders needs of the reseller core (reseller.Service):
// admission on a project and charges to its balance, both inside the
// order's transaction.
type Reseller interface {
	// AdmitTx checks the caller may use the project and that it is not
	// blocked (KindConflict), and takes the project's row lock.
	AdmitTx(ctx context.Context, tx reseller.Queries, a actor.Actor, projectID int64) (reseller.Project, error)
	// ChargeTx charges the project once per key (new reports whether this
	// call charged) and refreshes its blocked state.
	ChargeTx(ctx context.Context, tx reseller.Queries, in ChargeInput) (reseller.Operation, bool, error)
}

var _ Reseller = (*reseller.Service)(nil)

// ProjectHooks is what the reseller core asks of orders inside its own
// transactions: how many live orders a project has (a deletion guard) and
// that its orders follow a blocked-state change. Both work only through the
// transaction given, so they need no orders.Service: the reseller core is
// built with them first and orders on top of it, with no cycle and no
// setter (orders.Service embeds them too).
type ProjectHooks struct{}

var (
	_ reseller.Services  = ProjectHooks{}
	_ reseller.BlockHook = ProjectHooks{}
)
