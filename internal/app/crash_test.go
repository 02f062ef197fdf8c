package app_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestResourcesSettleAfterACrash: a node is killed while its workers run
// the steps of VMs being created, stopped and deleted, of a network and a
// load balancer being created: the jobs stay
// "running" in the database (as a kill -9 leaves them) and the VMs in their
// transitional states. When the workers run again, every resource reaches
// a final state within 5 minutes of (sandbox) clock time.
func TestResourcesSettleAfterACrash(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		clk := clock.NewFake(time.Date(2027, 3, 10, 10, 5, 0, 0, time.UTC))
		dir := t.TempDir()
		cfg := app.Config{DataDir: dir, Clock: clk, Sandbox: true, ProviderDelay: 200 * time.Millisecond}
		a, creds := newDemo(t, d, cfg)
		stop, err := a.StartWorkers(ctx, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c := newClient(t, a.Handler)
		key := creds["idcloudhost_key"]
		vmState := func(uuid string) (status, op string) {
			t.Helper()
			if err := d.Reader().QueryRowContext(ctx, `SELECT status, op FROM compute_vms WHERE uuid = $1`, uuid).Scan(&status, &op); err != nil {
				t.Fatal(err)
			}
			return status, op
		}
		create := func(name string) string {
			vm := c.object(c.idc(200, "POST", "/user-resource/vm", key, url.Values{"name": {name}, "os_name": {"ubuntu"},
				"os_version": {"16.04"}, "disks": {"20"}, "vcpu": {"2"}, "ram": {"2048"}, "username": {"example"},
				"password": {"Password123"}, "billing_account_id": {"6"}}))
			return vm["uuid"].(string)
		}
		running := func(uuid string) {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for s, op := vmState(uuid); s != "running" || op != ""; s, op = vmState(uuid) {
				if time.Now().After(deadline) {
					t.Fatalf("VM %s is %s (op %q), want running", uuid, s, op)
				}
				clk.Advance(time.Second)
				time.Sleep(50 * time.Millisecond)
			}
		}
		doomed, stopping := create("doomed"), create("stopping")
		running(doomed)
		running(stopping)
		// The node's last requests: one VM created, one stopped, one deleted.
		fresh := create("fresh")
		c.idc(200, "POST", "/user-resource/vm/stop", key, url.Values{"uuid": {stopping}})
		c.idc(200, "DELETE", "/user-resource/vm", key, url.Values{"uuid": {doomed}})
		// … and a private network and a load balancer created.
		network := c.object(c.idc(200, "POST", "/network/network", key, url.Values{"name": {"crash-net"}}))["uuid"].(string)
		lb := c.object(c.idcJSON(200, "POST", "/network/load_balancers", key, fmt.Sprintf(`{"display_name": "crash-lb",
			"billing_account_id": 6, "network_uuid": %q, "reserve_public_ip": "false",
			"rules": [{"source_port": 8080, "target_port": 80}], "targets": []}`, network)))["uuid"].(string)
		stop()
		// kill -9 while the workers run the three steps: their jobs stay
		// running, attempted at the clock's time, by a process that is gone.
		res, err := d.Writer().ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = attempt + 1,
			attempted_at = scheduled_at WHERE state IN ('available', 'scheduled')`)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n < 5 {
			t.Fatalf("%d jobs left running, want the 5 steps", n)
		}
		for _, uuid := range []string{fresh, stopping, doomed} {
			if _, op := vmState(uuid); op == "" {
				t.Fatalf("VM %s has no pending step before the crash", uuid)
			}
		}
		crashed := clk.Now()

		// The workers start again on the same database (the sim provider,
		// a fake hypervisor in this process's memory, keeps its VMs: a new
		// App would come with an empty one); the periodic work ticks every
		// minute of clock time.
		stopB, err := a.StartWorkers(ctx, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer stopB()
		tick := billingJob(t, a)
		settled := func() bool {
			var n int
			if err := d.Reader().QueryRowContext(ctx, `SELECT
				(SELECT COUNT(*) FROM compute_vms WHERE op <> '' AND status <> 'error') +
				(SELECT COUNT(*) FROM compute_disks WHERE op <> '' AND status <> 'error') +
				(SELECT COUNT(*) FROM networks WHERE state = 'pending') +
				(SELECT COUNT(*) FROM load_balancers WHERE state = 'pending')`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n == 0
		}
		for !settled() && clk.Now().Before(crashed.Add(5*time.Minute)) {
			clk.Advance(time.Minute)
			if err := tick(ctx); err != nil {
				t.Fatal(err)
			}
			// The workers poll: give them a moment of real time to run
			// what became due (the test waits for an effect, it times
			// nothing).
			deadline := time.Now().Add(3 * time.Second)
			for !settled() && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
		}
		var netState, lbState string
		if err := d.Reader().QueryRowContext(ctx, `SELECT n.state, l.state FROM networks n, load_balancers l
			WHERE n.uuid = $1 AND l.uuid = $2`, network, lb).Scan(&netState, &lbState); err != nil {
			t.Fatal(err)
		}
		if netState != "active" || lbState != "active" {
			t.Errorf("network %s, load balancer %s after the crash, want both active", netState, lbState)
		}
		for uuid, want := range map[string]string{fresh: "running", stopping: "stopped", doomed: "deleted"} {
			if s, op := vmState(uuid); s != want || op != "" {
				t.Errorf("VM %s is %s (op %q) %v after the crash, want %s", uuid, s, op, clk.Now().Sub(crashed), want)
			}
		}
		if !settled() {
			t.Fatalf("resources still in a transitional state %v after the crash", clk.Now().Sub(crashed))
		}
		t.Logf("every resource in a final state %v (clock) after the crash", clk.Now().Sub(crashed))
	})
}
