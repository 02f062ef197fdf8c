package sqlstore

import (
	"context"
	"time"

	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/orders"
	"github.com/trellis-cloud/trellis/internal/services"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// pendingStep finds the resources of one family left in a transitional
// state and names the step job that moves each of them on.
type pendingStep struct {
	query string // selects (key text, seq or 0, op) of rows last changed before $1
	job   func(key string, seq int64, op string) jobs.Args
}

// pendingSteps lists, per family, what is transitional: a VM or disk with
// a pending op (creating, starting, stopping, resizing, deleting …) that
// has not failed, a network or load balancer the provider has not applied,
// a managed-service package being created or deleted, a reseller order
// being created. A failed step (status error) is a final state: its job
// retries on its own and the row shows why.
var pendingSteps = []pendingStep{
	{`SELECT uuid, op_seq, op FROM compute_vms WHERE op <> '' AND status <> 'error' AND COALESCE(updated_at, created_at) < $1`,
		func(k string, seq int64, _ string) jobs.Args {
			return compute.StepArgs{Resource: compute.ResourceVM, UUID: k, Seq: seq}
		}},
	{`SELECT uuid, op_seq, op FROM compute_disks WHERE op <> '' AND status <> 'error' AND COALESCE(updated_at, created_at) < $1`,
		func(k string, seq int64, _ string) jobs.Args {
			return compute.StepArgs{Resource: compute.ResourceDisk, UUID: k, Seq: seq}
		}},
	{`SELECT uuid, 0, '' FROM networks WHERE state = 'pending' AND updated_at < $1`,
		func(k string, _ int64, _ string) jobs.Args {
			return network.NetworkStep{NetworkUUID: k, Op: network.OpCreate}
		}},
	{`SELECT uuid, 0, '' FROM load_balancers WHERE state = 'pending' AND updated_at < $1`,
		func(k string, _ int64, _ string) jobs.Args { return network.LBStep{LBUUID: k, Op: network.OpApply} }},
	{`SELECT uuid, 0, status FROM service_packages WHERE status IN ('creating', 'deleting') AND updated_at < $1`,
		func(k string, _ int64, status string) jobs.Args {
			op := services.OpCreate
			if status == services.StatusDeleting {
				op = services.OpDelete
			}
			return services.PackageStep{PackageUUID: k, Op: op}
		}},
	{`SELECT CAST(id AS TEXT), id, '' FROM reseller_orders WHERE state = 'Creating' AND updated_at < $1`,
		func(_ string, id int64, _ string) jobs.Args {
			return orders.OrderStep{OrderID: id, Op: orders.OpCreate}
		}},
}

// PendingSteps implements jobs.PendingLister: the step job of every
// resource in a transitional state since before `before`.
func (s *Store) PendingSteps(ctx context.Context, before time.Time) ([]jobs.Args, error) {
	var out []jobs.Args
	for _, p := range pendingSteps {
		rows, err := s.r().QueryContext(ctx, p.query, db.Micro(before))
		if err != nil {
			return nil, s.mapErr(err, "pending steps")
		}
		for rows.Next() {
			var key, op string
			var seq int64
			if err := rows.Scan(&key, &seq, &op); err != nil {
				_ = rows.Close()
				return nil, s.mapErr(err, "pending steps")
			}
			out = append(out, p.job(key, seq, op))
		}
		if err := rows.Close(); err != nil {
			return nil, s.mapErr(err, "pending steps")
		}
		if err := rows.Err(); err != nil {
			return nil, s.mapErr(err, "pending steps")
		}
	}
	return out, nil
}
