package orders

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/audit"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/reseller"
)

// dueBatch is how many due orders ChargeDue reads at a time.
const dueBatch = 200

// ChargeDue charges every Active order whose next day started at or
// before at, one day per transaction (ledger key
// reseller:charge:<order>:<day start>), advancing next_charge_at by a day
// until it is after at. Orders of a blocked project are Blocked and
// skipped: their days pass uncharged. It returns the number of days
// charged. Running it twice, or concurrently, charges each day once.
func (s *Service) ChargeDue(ctx context.Context, at time.Time) (int, error) {
	charged := 0
	seen := map[int64]bool{}
	for {
		ids, err := s.store.DueResellerOrders(ctx, at, dueBatch)
		if err != nil {
			return charged, err
		}
		progress := false
		for _, id := range ids {
			if seen[id] {
				continue // left due by a concurrent change; the next run takes it
			}
			seen[id] = true
			progress = true
			n, err := s.chargeOrder(ctx, id, at)
			charged += n
			if err != nil {
				return charged, fmt.Errorf("orders: charging order %d: %w", id, err)
			}
		}
		if !progress {
			return charged, nil
		}
	}
}

// chargeOrder charges one order's due days, each in its own transaction.
func (s *Service) chargeOrder(ctx context.Context, id int64, at time.Time) (int, error) {
	charged := 0
	for {
		done, isNew := false, false
		err := s.store.Tx(ctx, func(tx Store) error {
			done, isNew = false, false
			o, err := tx.GetResellerOrder(ctx, "/", id)
			if err != nil {
				return err
			}
			if o.State != StateActive || o.NextChargeAt.After(at) {
				done = true
				return nil
			}
			start := o.NextChargeAt
			// ChargeTx locks the project first; the compare-and-set below
			// then loses to a concurrent run that advanced the same day.
			if isNew, err = s.chargeDayTx(ctx, tx, o, start); err != nil {
				return err
			}
			ok, err := tx.AdvanceResellerOrderCharge(ctx, id, start, start.Add(Day), s.now())
			if err != nil {
				return err
			}
			if !ok {
				if isNew {
					return errs.Newf(errs.KindInternal, "order %d: day %s charged but not advanced", id, start)
				}
				done = true
			}
			return nil
		})
		if err != nil {
			return charged, err
		}
		if isNew {
			charged++
		}
		if done {
			return charged, nil
		}
	}
}

// ProjectBlockChangedTx is the reseller core's BlockHook: inside the
// transaction that flipped the project, its orders follow — Active →
// Blocked (suspended, not charged), or Blocked → Active paying again from
// at (next_charge_at raised to at). Orders still being built take the
// state when they finish.
func (ProjectHooks) ProjectBlockChangedTx(ctx context.Context, tx reseller.Queries, projectID int64, blocked bool, at time.Time) error {
	q, ok := tx.(Queries)
	if !ok {
		return errs.Newf(errs.KindInternal, "orders: the reseller transaction (%T) has no order queries", tx)
	}
	n, err := q.SetResellerProjectOrdersBlocked(ctx, projectID, blocked, at)
	if err != nil || n == 0 {
		return err
	}
	action := "reseller.orders.resume"
	if blocked {
		action = "reseller.orders.suspend"
	}
	p, err := q.GetResellerProject(ctx, "/", projectID)
	if err != nil {
		return err
	}
	return q.AppendAudit(ctx, audit.New(actor.System(""), at, action, "reseller_project",
		strconv.FormatInt(projectID, 10), p.PartnerPath, fmt.Sprintf("orders=%d", n)))
}
