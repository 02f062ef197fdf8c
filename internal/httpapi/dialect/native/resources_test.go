package native

import (
	"testing"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/compute"
	computesim "github.com/trellis-cloud/trellis/internal/compute/sim"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/network"
	netsim "github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// addResourceDeps adds the network and compute services on the sim
// providers (after addBillingDeps: they bill through it). Their steps run
// inline; the queue only has to accept the jobs. It returns the queue, for
// the other services with step jobs.
func addResourceDeps(t *testing.T, deps *Deps, d *db.DB, st *sqlstore.Store, clk clock.Clock) *jobs.Queue {
	t.Helper()
	q, err := jobs.NewQueue(d, jobs.QueueConfig{Clock: clk, Movable: true})
	if err != nil {
		t.Fatal(err)
	}
	st = st.WithJobs(q)
	deps.Network = network.NewService(sqlstore.Network{Store: st}, deps.Billing, netsim.New(0), clk, network.Config{})
	deps.Compute = compute.NewService(compute.Deps{Store: sqlstore.Compute{Store: st}, Clock: clk, Provider: computesim.New(0),
		Catalog: deps.Catalog, Network: deps.Network, Billing: deps.Billing})
	jobs.AddWorker(q, deps.Network.RunNetworkStep)
	jobs.AddWorker(q, deps.Network.RunLBStep)
	jobs.AddWorker(q, deps.Compute.RunStep)
	return q
}

// seedNetworkPools gives bus02 a public range (the pool operations' tests
// add and remove others next to it).
func (e *env) seedNetworkPools(t *testing.T) {
	t.Helper()
	if _, err := e.deps.Network.AddPoolRange(t.Context(), actor.System(""),
		network.AddPoolRange{Location: "bus02", CIDR: "198.51.100.0/24"}); err != nil {
		t.Fatal(err)
	}
}

// vmAuthzCases: the VM list is a read of the caller's subtree.
func (e *env) vmAuthzCases() []authzCase {
	return []authzCase{{method: "GET", path: "/vms?location=bus02"}}
}

// scenarioResources: the pool operations and the VM list answer 2xx, and
// a VM created for a customer appears on the operator's page.
func (e *env) scenarioResources(t *testing.T) {
	ranges := e.ok(t, 200, "GET", "/locations/bus02/ip-pools", provAdmin, "")["items"].([]any)
	if len(ranges) != 1 {
		t.Fatalf("bus02 ranges: %v", ranges)
	}
	added := e.ok(t, 200, "POST", "/locations/bus02/ip-pools", provAdmin, `{"cidr":"192.0.2.0/28","exclude":["192.0.2.1"]}`)
	if added["size"] != float64(13) || added["used"] != float64(0) {
		t.Fatalf("added range: %v", added)
	}
	e.ok(t, 204, "DELETE", "/ip-pools/"+added["id"].(string), provAdmin, "")

	page := e.ok(t, 200, "GET", "/vms?location=bus02&limit=1", provAdmin, "")
	if items := page["items"].([]any); len(items) != 0 {
		t.Fatalf("VMs before any was created: %v", items)
	}
}
