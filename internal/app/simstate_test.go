package app_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/itglobal"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// TestSimStateSharedByNodes: the built-in sim providers are one fake
// cloud for every node on the database, like a real hypervisor. Node A
// creates a VM (its workers run the step), a load balancer, a managed
// database and a reseller order, and stops; node B (another App on the
// same database: a second node, or A restarted) sees all of them in its
// sim and runs their next steps (VM stop, start and delete on its
// workers; whitelist and deletes); what B deletes is gone for A as well. With the sim's
// state in process memory, B's steps failed with "sim: no VM" and left
// the VM in error.
func TestSimStateSharedByNodes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		clk := clock.NewFake(time.Date(2027, 3, 10, 10, 5, 0, 0, time.UTC))
		cfg := app.Config{DataDir: t.TempDir(), Clock: clk, Sandbox: true, ProviderDelay: 200 * time.Millisecond}
		nodeA, creds := newDemo(t, d, cfg)
		stopA, err := nodeA.StartWorkers(ctx, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		key := creds["idcloudhost_key"]
		ca := newClient(t, nodeA.Handler)
		// VM steps run on the workers; the other families' steps inline
		// (each worker step waits for River's scheduler: seconds).
		inline := func(a *app.App) {
			a.NetworkSim.SetDelay(0)
			a.ServicesSim.SetDelay(0)
			a.OrdersSim.SetDelay(0)
		}
		inline(nodeA)

		// eventually moves the clock past the steps' time and waits for
		// the workers (they poll; the test waits for an effect).
		eventually := func(what string, done func() bool) {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for !done() {
				if time.Now().After(deadline) {
					t.Fatalf("%s: not reached in 30 s", what)
				}
				clk.Advance(time.Second)
				time.Sleep(50 * time.Millisecond)
			}
		}
		column := func(query, id string) string {
			t.Helper()
			var s string
			if err := d.Read().QueryRowContext(ctx, query, id).Scan(&s); err != nil {
				t.Fatalf("%s [%s]: %v", query, id, err)
			}
			return s
		}
		vmStatus := func(uuid string) string { return column(`SELECT status FROM compute_vms WHERE uuid = $1`, uuid) }
		// settled waits for a VM step: the wanted status, or error (the
		// failure this test is about: reported at once, not after 30 s).
		settled := func(uuid, want string) {
			t.Helper()
			eventually("VM "+uuid+" "+want, func() bool { s := vmStatus(uuid); return s == want || s == "error" })
			if s := vmStatus(uuid); s != want {
				t.Fatalf("VM %s is %s, want %s", uuid, s, want)
			}
		}

		// Node A: a VM, a load balancer on it, a managed database and a
		// vStack order; A's workers run their create steps.
		vm := ca.object(ca.idc(200, "POST", "/user-resource/vm", key, url.Values{"name": {"shared-vm"}, "os_name": {"ubuntu"},
			"os_version": {"16.04"}, "disks": {"20"}, "vcpu": {"2"}, "ram": {"2048"}, "username": {"example"},
			"password": {"Password123"}, "billing_account_id": {"6"}, "network_uuid": {app.DemoNetworkUUID}}))
		vmUUID := vm["uuid"].(string)
		settled(vmUUID, "running")
		lb := ca.object(ca.idcJSON(200, "POST", "/network/load_balancers", key, fmt.Sprintf(`{"display_name": "shared-lb",
			"billing_account_id": 6, "network_uuid": %q, "reserve_public_ip": "false",
			"rules": [{"source_port": 8080, "target_port": 80}],
			"targets": [{"target_uuid": %q, "target_type": "vm"}]}`, app.DemoNetworkUUID, vmUUID)))
		lbUUID := lb["uuid"].(string)
		eventually("LB active", func() bool {
			return column(`SELECT state FROM load_balancers WHERE uuid = $1`, lbUUID) == "active"
		})
		pkg := ca.object(ca.idcJSON(200, "POST", "/user-resource/service/package", key, `{"billing_account_id": 6,
			"service": "postgresql", "version": "14.0", "display_name": "shared-db", "vm_cpu": 2, "vm_ram": 4096,
			"vm_disk_gb": 40, "is_multi_node": false}`))
		pkgUUID := pkg["uuid"].(string)
		eventually("package active", func() bool {
			return column(`SELECT status FROM service_packages WHERE uuid = $1`, pkgUUID) == "active"
		})
		itg := &itg{t: t, h: nodeA.Handler, v: validator(t, itglobal.Spec())}
		user := creds["itglobal_user_key"]
		acct := itg.result(200, "POST", "/accounts", user, `{"Email":"shared@example.com","State":"Active","AdditionalData":{}}`)
		order := itg.result(200, "POST", fmt.Sprintf("/projects/%d/vstack/locations/1/servers", num(t, acct["PersonalProjectId"])),
			user, `{"Name":"Shared","Cpu":1,"RamMb":1024,"TemplateId":"1","Volumes":[],"BandwidthMbps":10}`)
		orderID := num(t, order["Id"])
		eventually("order built", func() bool { _, ok := nodeA.OrdersSim.Get(orderID); return ok })
		stopA() // node A stops (or dies): its workers run nothing more

		// Node B: a second App on the same database, its own workers.
		nodeB, err := app.New(ctx, d, cfg)
		if err != nil {
			t.Fatal(err)
		}
		inline(nodeB)
		stopB, err := nodeB.StartWorkers(ctx, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer stopB()
		cb := newClient(t, nodeB.Handler)

		// B's sim knows what A's built.
		if v, ok := nodeB.ComputeSim.VM(vmUUID); !ok || !v.Running {
			t.Errorf("node B's sim: VM %s = %+v, %v; want it running", vmUUID, v, ok)
		}
		if _, ok := nodeB.ComputeSim.Disk(app.DemoVMDiskUUID); !ok {
			t.Errorf("node B's sim has no disk %s (the demo VM's)", app.DemoVMDiskUUID)
		}
		if _, ok := nodeB.NetworkSim.Network(app.DemoNetworkUUID); !ok {
			t.Errorf("node B's sim has no network %s", app.DemoNetworkUUID)
		}
		if live, ok := nodeB.NetworkSim.LB(lbUUID); !ok || len(live.Targets) != 1 {
			t.Errorf("node B's sim: LB %s = %+v, %v", lbUUID, live, ok)
		}
		if _, ok := nodeB.ServicesSim.Get(pkgUUID); !ok {
			t.Errorf("node B's sim has no package %s", pkgUUID)
		}
		if _, ok := nodeB.OrdersSim.Get(orderID); !ok {
			t.Errorf("node B's sim has no order %d", orderID)
		}

		// B runs the VM's next steps: stop, start, delete.
		cb.idc(200, "POST", "/user-resource/vm/stop", key, url.Values{"uuid": {vmUUID}})
		settled(vmUUID, "stopped")
		if v, _ := nodeA.ComputeSim.VM(vmUUID); v.Running {
			t.Errorf("node A's sim still sees VM %s running after node B stopped it", vmUUID)
		}
		cb.idc(200, "POST", "/user-resource/vm/start", key, url.Values{"uuid": {vmUUID}})
		settled(vmUUID, "running")

		// The whitelist set through B reaches the package A created.
		cb.idc(200, "POST", "/user-resource/service/package/"+pkgUUID+"/whitelist_addresses", key,
			url.Values{"ip_address": {"192.0.2.7"}})
		eventually("whitelist applied", func() bool {
			p, _ := nodeA.ServicesSim.Get(pkgUUID)
			return slices.Contains(p.Whitelist, "192.0.2.7")
		})

		// Deletes through B: gone for A's sim too.
		cb.idc(200, "DELETE", "/network/load_balancers/"+lbUUID, key, nil)
		eventually("LB deleted", func() bool { _, ok := nodeA.NetworkSim.LB(lbUUID); return !ok })
		cb.idc(200, "DELETE", "/user-resource/service/package/"+pkgUUID, key, nil)
		eventually("package deleted", func() bool { _, ok := nodeA.ServicesSim.Get(pkgUUID); return !ok })
		if _, err := nodeB.Orders.DeleteOrder(ctx, actor.System("test"), orderID); err != nil {
			t.Fatal(err)
		}
		eventually("order deleted", func() bool { _, ok := nodeA.OrdersSim.Get(orderID); return !ok })
		cb.idc(200, "DELETE", "/user-resource/vm", key, url.Values{"uuid": {vmUUID}})
		settled(vmUUID, "deleted")
		if _, ok := nodeA.ComputeSim.VM(vmUUID); ok {
			t.Errorf("node A's sim still has VM %s after node B deleted it", vmUUID)
		}
	})
}
