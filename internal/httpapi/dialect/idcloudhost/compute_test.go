package idcloudhost_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/compute/sim"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/network"
	netsim "github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// The seed's compute objects, as its requests name them. The seed's VMs
// have a primary disk with the VM's uuid (as its samples show).
const (
	vmGet      = "f80b1d62-ffe4-43ef-9210-60f05445456a" // get, backup, clone, replicas (= vmUUID)
	vmWeb      = "5aea1842-895f-4bd3-8bd6-e37b2282fb46" // password, modify, reinstall, IP, rebuild
	vmStop     = "5052bf02-044a-4d35-a803-d6b156f84beb" // stop, rescue, storage
	seedRep    = "5aea1842-895f-4bd3-8bd6-e37b2282fb462018-12-21-14-05-33"
	diskVDB    = "3d91aa31-16ec-44ee-b8b3-22a0bda6559e" // attached to vmStop
	diskBlock  = "cef3a629-89b0-40ec-986b-4b6e831f9b64" // get, delete
	diskBlock2 = "05a61876-86f3-4b05-b0ec-53ee6fa03ced" // modify billing account
	seedNet    = "50341410-9e88-4af2-a21e-b8c898e33e52" // Create VM's network_uuid
	acctDisk   = 129673                                 // Create Disk's billing account
)

type compFixture struct {
	*fixture
	svc  *compute.Service
	sim  *sim.Provider
	cst  *sqlstore.Store
	netw *network.Service
}

func newCompFixture(t *testing.T, d *db.DB) *compFixture {
	t.Helper()
	st := sqlstore.New(d).WithJobs(noJobs{})
	clk := clock.NewFake(t0)
	bil := billing.NewService(sqlstore.Billing{Store: st}, ledger.NewService(sqlstore.Ledger{Store: st}, clk), clk, billing.Config{})
	net := network.NewService(sqlstore.Network{Store: st}, bil, netsim.New(0), clk, network.Config{})
	prov := sim.New(0)
	var svc *compute.Service
	f := newFixture(t, d, apitest.NewValidator(t, idcloudhost.Spec()), func(dp *idcloudhost.Deps) {
		svc = compute.NewService(compute.Deps{Store: sqlstore.Compute{Store: st}, Clock: clk, Provider: prov,
			Catalog: dp.Locations.(compute.Catalog), Network: net, Billing: bil})
		dp.Compute = svc
	})
	cf := &compFixture{fixture: f, svc: svc, sim: prov, cst: st, netw: net}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	must(f.cat.LoadDemoResources(f.ctx, sys))
	// Account 6 owes its February invoice: let it run a debt, so the
	// seed's requests (which bill to it) are admitted.
	a6, err := st.LockBillingAccount(f.ctx, acctMain)
	must(err)
	a6.AllowDebt, a6.MaxDebt = true, 1_000_000
	must(st.UpdateBillingAccount(f.ctx, a6))
	user8 := int64(access.DemoIDCHUserID)
	_, err = f.bil.CreateAccount(f.ctx, sys, billing.CreateAccountInput{ID: acctDisk, OrgID: f.customer.ID, UserID: user8,
		Data: billing.AccountData{Title: "disks", Email: "user@example.com"}})
	must(err)
	_, err = net.AddPoolRange(f.ctx, sys, network.AddPoolRange{Location: "cyc01", CIDR: "203.0.113.0/24"})
	must(err)
	now := db.Micro(t0)
	must(st.InsertNetwork(f.ctx, network.Network{UUID: seedNet, OrgID: f.customer.ID, OrgPath: f.customer.Path, UserID: user8,
		Location: "cyc01", Name: "Default network", VLANID: 900, SubnetIndex: 0, Subnet: "10.0.0.0/24",
		SubnetIPv6: "2001:db8:ffff::/64", IsDefault: true, State: network.StateActive, CreatedAt: now, UpdatedAt: now}))
	// The seed's VMs (each primary disk has the VM's uuid, as the samples
	// show), the disk attached to vmStop, two block disks and the replica
	// the rebuild example names.
	for _, v := range []struct{ uuid, name string }{{vmGet, "Ubuntu-16-04"}, {vmWeb, "web-server"}, {vmStop, "Ubuntu-16-04b"}} {
		_, err := svc.CreateVM(f.ctx, f.user8, compute.CreateVMInput{Location: "cyc01", BillingAccountID: acctMain,
			Name: v.name, OSName: "ubuntu", OSVersion: "16.04", DiskGB: 20, VCPU: 2, RAMMB: 2048, Username: "example",
			HasUsername: true, Password: "Password123", ReservePublicIP: true, NewUUID: v.uuid, NewDiskUUID: v.uuid})
		must(err)
	}
	for _, u := range []string{diskVDB, diskBlock, diskBlock2} {
		in := compute.CreateDiskInput{Location: "cyc01", BillingAccountID: acctMain, SizeGB: 50, NewUUID: u}
		if u == diskBlock {
			in.SourceImageType, in.SourceImage = "OS_BASE", "ubuntu_20.04"
		}
		_, err := svc.CreateDisk(f.ctx, f.user8, in)
		must(err)
	}
	_, err = svc.Attach(f.ctx, f.user8, "cyc01", vmStop, diskVDB)
	must(err)
	_, err = svc.CreateSnapshot(f.ctx, f.user8, "cyc01", diskBlock)
	must(err)
	must(st.InsertReplica(f.ctx, compute.Replica{UUID: seedRep, ID: 866, DiskUUID: vmWeb, OrgID: f.customer.ID,
		OrgPath: f.customer.Path, UserID: user8, BillingAccountID: acctMain, Location: "cyc01", Type: compute.ReplicaSnapshot,
		SizeGB: 20, Status: compute.ReplicaActive, BillingName: "web-server", CreatedAt: now}))
	must(prov.Snapshot(f.ctx, vmWeb, seedRep))
	return cf
}

// sendSeed sends a seed request file and checks the status and, on
// success, that the answer has the seed sample's fields with their JSON
// types (apitest validates every exchange against the spec as well).
func (f *compFixture) sendSeed(t *testing.T, name string, status int, sampleName string) apitest.Response {
	t.Helper()
	resp := f.send(t, keyUser, readSeedRequest(t, name))
	wantStatus(t, resp, status)
	if status == http.StatusOK && sampleName != "" {
		sameShape(t, name, sample(t, sampleName), decode[any](t, resp))
	}
	return resp
}

func TestComputeSeedRequests(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newCompFixture(t, d)
		// Reads.
		vm := vmBody(t, f.sendSeed(t, "getVM", 200, "getVM"))
		if vm["uuid"] != vmGet || vm["status"] != "running" || vm["billing_account"] != json.Number("6") ||
			vm["designated_pool_name"] != "General" || vm["tags"] != nil || vm["hypervisor_id"] != nil {
			t.Fatalf("getVM %v", vm)
		}
		st := vm["storage"].([]any)[0].(map[string]any)
		if st["uuid"] != vmGet || st["primary"] != true || st["size"] != json.Number("20") || st["name"] != "vda" {
			t.Fatalf("storage %v", st)
		}
		f.sendSeed(t, "getVMInLocation", 200, "getVM")
		list := decode[[]any](t, f.sendSeed(t, "listVMs", 200, ""))
		if len(list) != 3 {
			t.Fatalf("listVMs: %d", len(list))
		}
		sameShape(t, "listVMs", sample(t, "listVMs").([]any)[0], list[0])
		f.sendSeed(t, "listVMsInLocation", 200, "")
		if l := decode[[]any](t, f.form(t, keyUser, "GET", "/bus02/user-resource/vm/list", "")); len(l) != 0 {
			t.Fatalf("bus02 lists %d VMs", len(l))
		}
		wantStatus(t, f.form(t, keyUser, "GET", "/bus02/user-resource/vm?uuid="+vmGet, ""), 404)
		wantStatus(t, f.form(t, keyUser, "GET", "/nowhere/user-resource/vm?uuid="+vmGet, ""), 404)
		if r := decode[[]any](t, f.sendSeed(t, "listReplicas", 200, "")); len(r) != 0 {
			t.Fatalf("listReplicas %v", r)
		}
		// VM actions.
		vm = vmBody(t, f.sendSeed(t, "toggleVMBackup", 200, "toggleVMBackup"))
		if vm["backup"] != true {
			t.Fatalf("backup %v", vm["backup"])
		}
		rep := decode[map[string]any](t, f.sendSeed(t, "createReplica", 200, "createReplica"))
		reps := rep["replica"].([]any)
		if len(reps) != 1 || !strings.HasPrefix(reps[0].(map[string]any)["uuid"].(string), vmGet+"2026-03-02-") {
			t.Fatalf("createReplica %v", rep)
		}
		if r := decode[[]any](t, f.sendSeed(t, "listReplicasInLocation", 200, "")); len(r) != 1 {
			t.Fatalf("listReplicas after create %v", r)
		}
		clone := vmBody(t, f.sendSeed(t, "cloneVM", 200, "cloneVM"))
		if clone["name"] != "Name of the Clone" || clone["status"] != "running" || clone["uuid"] == vmGet {
			t.Fatalf("clone %v", clone)
		}
		f.sendSeed(t, "changeVMPassword", 200, "changeVMPassword")
		// Modify needs a stopped VM (vcpu and ram change).
		resp := f.send(t, keyUser, readSeedRequest(t, "modifyVM"))
		wantStatus(t, resp, 400)
		if !strings.Contains(errorMessage(t, resp), "stopped") {
			t.Fatalf("modify while running: %s", resp.Body)
		}
		wantStatus(t, f.form(t, keyUser, "POST", "/user-resource/vm/stop", "uuid="+vmWeb), 200)
		wantStatus(t, f.send(t, keyUser, readSeedRequest(t, "changeVMPassword")), 400)
		vm = vmBody(t, f.sendSeed(t, "modifyVM", 200, "modifyVM"))
		if vm["name"] != "web-server" || vm["vcpu"] != json.Number("4") || vm["memory"] != json.Number("2048") || vm["status"] != "stopped" {
			t.Fatalf("modifyVM %v", vm)
		}
		vm = vmBody(t, f.sendSeed(t, "reinstallVM", 200, "reinstallVM"))
		if vm["os_version"] != "22.04-lts" || vm["status"] != "running" {
			t.Fatalf("reinstall %v", vm)
		}
		vm = vmBody(t, f.sendSeed(t, "releaseVMPublicIP", 200, "releaseVMPublicIP"))
		if vm["public_ipv4"] != nil {
			t.Fatalf("release: %v", vm["public_ipv4"])
		}
		vm = vmBody(t, f.sendSeed(t, "reserveVMPublicIP", 200, "reserveVMPublicIP"))
		if vm["public_ipv4"] == nil {
			t.Fatal("reserve: no public IPv4")
		}
		vm = vmBody(t, f.sendSeed(t, "rebuildVM", 200, "rebuildVM"))
		if vm["status"] != "stopped" {
			t.Fatalf("rebuild %v", vm["status"])
		}
		// Stop, rescue, storage on vmStop.
		vm = vmBody(t, f.sendSeed(t, "stopVM", 200, "stopVM"))
		if vm["status"] != "stopped" {
			t.Fatalf("stop %v", vm["status"])
		}
		vm = vmBody(t, f.sendSeed(t, "rescueStartVM", 200, "getVM"))
		if vm["status"] != "running" {
			t.Fatalf("rescue %v", vm["status"])
		}
		add := decode[map[string]any](t, f.sendSeed(t, "addVMDisk", 200, "addVMDisk"))
		if add["name"] != "vdc" || add["size"] != json.Number("50") || add["primary"] != false {
			t.Fatalf("addVMDisk %v", add)
		}
		mod := decode[map[string]any](t, f.sendSeed(t, "modifyVMDisk", 200, "modifyVMDisk"))
		if mod["size"] != json.Number("60") || mod["updated_at"] == nil {
			t.Fatalf("modifyVMDisk %v", mod)
		}
		f.sendSeed(t, "detachDisk", 200, "detachDisk")
		att := decode[map[string]any](t, f.sendSeed(t, "attachDisk", 200, "attachDisk"))
		if att["name"] != "vdb" || att["uuid"] != diskVDB {
			t.Fatalf("attach %v", att)
		}
		f.sendSeed(t, "deleteVMDisk", 200, "deleteVMDisk")
		// Block storage.
		dk := decode[map[string]any](t, f.sendSeed(t, "createDisk", 200, "createDisk"))
		if dk["status"] != "Active" || dk["billing_account_id"] != json.Number(fmt.Sprint(acctDisk)) || dk["size_gb"] != json.Number("50") ||
			dk["source_image_type"] != "EMPTY" {
			t.Fatalf("createDisk %v", dk)
		}
		if ts, _ := dk["created_at"].(string); len(ts) != len("2022-09-01T12:03:14.355+0000") || !strings.HasSuffix(ts, "+0000") {
			t.Fatalf("disk time %q", ts)
		}
		g := decode[map[string]any](t, f.sendSeed(t, "getDisk", 200, "getDisk"))
		if sn := g["snapshots"].([]any); len(sn) != 1 || sn[0].(map[string]any)["sizeGb"] != json.Number("50") {
			t.Fatalf("getDisk snapshots %v", g["snapshots"])
		}
		f.sendSeed(t, "getDiskInLocation", 200, "getDisk")
		if l := decode[[]any](t, f.sendSeed(t, "listDisks", 200, "")); len(l) < 5 {
			t.Fatalf("listDisks %d", len(l))
		}
		up := decode[map[string]any](t, f.sendSeed(t, "updateDisk", 200, "updateDisk"))
		if up["billing_account_id"] != json.Number(fmt.Sprint(acctFar)) {
			t.Fatalf("updateDisk %v", up)
		}
		resp = f.sendSeed(t, "deleteDisk", 204, "")
		if len(resp.Body) != 0 {
			t.Fatalf("204 with a body %q", resp.Body)
		}
		wantStatus(t, f.send(t, keyUser, readSeedRequest(t, "getDisk")), 404)
		// The seed's error examples.
		for _, name := range []string{"deleteVM", "startVM", "setResourceBilling", "deleteVMInLocation", "startVMInLocation"} {
			resp := f.send(t, keyUser, readSeedRequest(t, name))
			wantStatus(t, resp, 404)
			if msg := errorMessage(t, resp); msg != "No such virtual machine exists. aaaaaaaa-0000-bbbb-1111-cccccccccccc" {
				t.Fatalf("%s: %q", name, msg)
			}
		}
		// "val" is the seed's placeholder: no such replica.
		wantStatus(t, f.send(t, keyUser, readSeedRequest(t, "deleteReplica")), 404)
		// Create VM, verbatim: running, readable at once.
		vm = vmBody(t, f.sendSeed(t, "createVM", 200, "createVM"))
		if vm["status"] != "running" || vm["name"] != "Ubuntu-16-04" || vm["designated_pool_name"] != "Performance" ||
			vm["billing_account"] != json.Number("6") || vm["memory"] != json.Number("2048") {
			t.Fatalf("createVM %v", vm)
		}
		wantStatus(t, f.form(t, keyUser, "GET", "/user-resource/vm?uuid="+vm["uuid"].(string), ""), 200)
		vm = vmBody(t, f.sendSeed(t, "createVMInLocation", 200, "createVM"))
		// Billing resources of account 6 (the sample's shape).
		res := decode[[]any](t, f.sendSeed(t, "listBillingResources", 200, ""))
		if len(res) < 4 {
			t.Fatalf("billing resources: %d", len(res))
		}
		sameShape(t, "listBillingResources", sample(t, "listBillingResources").([]any)[0], res[0])
		f.sendSeed(t, "listBillingResourcesInLocation", 200, "")
		// resource_billing of a real VM moves it.
		moved := vmBody(t, f.form(t, keyUser, "POST", "/user-resource/resource_billing",
			fmt.Sprintf("billing_account_id=%d&uuid=%s", acctSecond, vm["uuid"])))
		if moved["billing_account"] != json.Number(fmt.Sprint(acctSecond)) {
			t.Fatalf("moved %v", moved)
		}
		// Delete VM: {"success": true}, then 404.
		resp = f.form(t, keyUser, "DELETE", "/user-resource/vm", "uuid="+vm["uuid"].(string))
		wantStatus(t, resp, 200)
		if string(resp.Body) != "{\"success\":true}\n" {
			t.Fatalf("delete body %s", resp.Body)
		}
		wantStatus(t, f.form(t, keyUser, "GET", "/user-resource/vm?uuid="+vm["uuid"].(string), ""), 404)
	})
}

// TestComputeAccess: no key 401, another user's objects 404, a restricted
// token naming another account 403.
func TestComputeAccess(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newCompFixture(t, d)
		for _, name := range []string{"getVM", "listVMs", "createVM", "stopVM", "getDisk", "createDisk", "listDisks", "attachDisk"} {
			wantStatus(t, f.send(t, "", readSeedRequest(t, name)), 401)
		}
		for _, name := range []string{"getVM", "stopVM", "toggleVMBackup", "createReplica", "getDisk", "deleteDisk", "modifyVMDisk"} {
			wantStatus(t, f.send(t, f.otherKey, readSeedRequest(t, name)), 404)
		}
		if l := decode[[]any](t, f.send(t, f.otherKey, readSeedRequest(t, "listVMs"))); len(l) != 0 {
			t.Fatalf("the other user lists %d VMs", len(l))
		}
		// Token 7 is restricted to account 6.
		resp := f.form(t, keyRestricted, "POST", "/storage/disks", "billing_account_id=9&size_gb=10")
		wantStatus(t, resp, 403)
		resp = f.form(t, keyRestricted, "POST", "/storage/disks", "size_gb=10")
		wantStatus(t, resp, 200)
		if dk := decode[map[string]any](t, resp); dk["billing_account_id"] != json.Number("6") {
			t.Fatalf("restricted disk %v", dk)
		}
		wantStatus(t, f.form(t, keyUser, "POST", "/storage/disks", "size_gb=10"), 400)
		r := readSeedRequest(t, "createVM")
		r.form = append(r.form[:0:0], r.form...)
		for i, v := range r.form {
			if strings.HasPrefix(v, "billing_account_id=") {
				r.form[i] = "billing_account_id=9"
			}
			if strings.HasPrefix(v, "name=") {
				r.form[i] = "name=restricted-vm"
			}
		}
		wantStatus(t, f.send(t, keyRestricted, r), 403)
		wantStatus(t, f.form(t, keyRestricted, "POST", "/user-resource/resource_billing", "billing_account_id=9&uuid="+vmGet), 403)
	})
}

// TestComputeBadInput: each rule answers 400 (409 for admission) naming
// the field, and changes nothing.
func TestComputeBadInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newCompFixture(t, d)
		base := readSeedRequest(t, "createVM").form
		create := func(repl ...string) string {
			vals := map[string]string{}
			var keys []string
			for _, kv := range base {
				k, v, _ := strings.Cut(kv, "=")
				vals[k] = v
				keys = append(keys, k)
			}
			for i := 0; i+1 < len(repl); i += 2 {
				if _, ok := vals[repl[i]]; !ok {
					keys = append(keys, repl[i])
				}
				vals[repl[i]] = repl[i+1]
			}
			var out []string
			for _, k := range keys {
				if vals[k] != "\x00" {
					out = append(out, k+"="+vals[k])
				}
			}
			return strings.Join(out, "&")
		}
		cases := []struct {
			name, method, path, body, field string
			status                          int
		}{
			{"disks min", "POST", "/user-resource/vm", create("disks", "10"), "disks", 400},
			{"disks max", "POST", "/user-resource/vm", create("disks", "500"), "disks", 400},
			{"name rule", "POST", "/user-resource/vm", create("name", "a"), "name", 400},
			{"name missing", "POST", "/user-resource/vm", create("name", "\x00"), "name", 400},
			{"os unknown", "POST", "/user-resource/vm", create("os_name", "plan9"), "os_name", 400},
			{"os version", "POST", "/user-resource/vm", create("os_version", "1.0"), "os_version", 400},
			{"password rule", "POST", "/user-resource/vm", create("password", "weak"), "password", 400},
			{"ram min", "POST", "/user-resource/vm", create("ram", "128"), "ram", 400},
			{"ram max", "POST", "/user-resource/vm", create("ram", "131072"), "ram", 400},
			{"windows ram", "POST", "/user-resource/vm", create("os_name", "windows", "os_version", "2016", "ram", "512"), "ram", 400},
			{"windows vcpu", "POST", "/user-resource/vm", create("os_name", "windows", "os_version", "2016", "vcpu", "1"), "vcpu", 400},
			{"username rule", "POST", "/user-resource/vm", create("username", "9lives"), "username", 400},
			{"vcpu max", "POST", "/user-resource/vm", create("vcpu", "32"), "vcpu", 400},
			{"vcpu not a number", "POST", "/user-resource/vm", create("vcpu", "two"), "vcpu", 400},
			{"unknown pool", "POST", "/user-resource/vm", create("designated_pool_uuid", "00000000-0000-4000-8000-000000000000"), "designated_pool_uuid", 400},
			{"unknown network", "POST", "/user-resource/vm", create("network_uuid", "00000000-0000-4000-8000-000000000000"), "network_uuid", 404},
			{"foreign account", "POST", "/user-resource/vm", create("billing_account_id", fmt.Sprint(acctOther)), "billing_account_id", 404},
			{"cloud_init key", "POST", "/user-resource/vm", create("cloud_init", `{"bootcmd": []}`), "cloud_init", 400},
			{"bad boolean", "POST", "/user-resource/vm", create("reserve_public_ip", "maybe"), "reserve_public_ip", 400},
			{"resize while running", "PATCH", "/user-resource/vm", "uuid=" + vmGet + "&vcpu=4", "vcpu", 400},
			{"ram while running", "PATCH", "/user-resource/vm", "uuid=" + vmGet + "&ram=4096", "ram", 400},
			{"rename empty", "PATCH", "/user-resource/vm", "uuid=" + vmGet + "&name=", "name", 400},
			{"shrink disk", "PATCH", "/user-resource/vm/storage", "uuid=" + vmStop + "&disk_uuid=" + diskVDB + "&size_gb=10", "size_gb", 400},
			{"primary delete", "DELETE", "/user-resource/vm/storage", "uuid=" + vmStop + "&storage_uuid=" + vmStop, "storage_uuid", 400},
			{"primary detach", "POST", "/user-resource/vm/storage/detach", "uuid=" + vmStop + "&storage_uuid=" + vmStop, "storage_uuid", 400},
			{"add disk size", "POST", "/user-resource/vm/storage", "uuid=" + vmStop + "&size_gb=0", "size_gb", 400},
			{"reinstall version", "POST", "/user-resource/vm/reinstall", "uuid=" + vmGet + "&os_version=0.1", "os_version", 400},
			{"replica type", "GET", "/user-resource/vm/replica?uuid=" + vmGet + "&r_type=daily", "", "r_type", 400},
			{"rebuild replica", "POST", "/user-resource/vm/rebuild", "uuid=" + vmGet + "&replica_uuid=" + seedRep, "replica_uuid", 400},
			{"clone name", "POST", "/user-resource/vm/clone", "uuid=" + vmGet + "&name=", "name", 400},
			{"disk type", "POST", "/storage/disks", "billing_account_id=6&size_gb=5&source_image_type=TAPE", "source_image_type", 400},
			{"disk image", "POST", "/storage/disks", "billing_account_id=6&source_image_type=OS_BASE", "source_image", 400},
			{"disk size", "POST", "/storage/disks", "billing_account_id=6&source_image_type=EMPTY", "size_gb", 400},
		}
		before := decode[[]any](t, f.form(t, keyUser, "GET", "/user-resource/vm/list", ""))
		disksBefore := decode[[]any](t, f.form(t, keyUser, "GET", "/storage/disks", ""))
		for _, c := range cases {
			// The spec itself refuses the wrong types and enums.
			specInvalid := c.name == "vcpu not a number" || c.name == "bad boolean" || c.name == "replica type"
			req := apitest.Request{Method: c.method, Path: prefix + c.path, Header: http.Header{}, ExpectInvalidRequest: specInvalid}
			if c.body != "" {
				req.Body = []byte(c.body)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp := f.do(t, keyUser, req)
			if resp.Status != c.status {
				t.Errorf("%s: status %d, want %d: %s", c.name, resp.Status, c.status, resp.Body)
				continue
			}
			if msg := errorMessage(t, resp); !strings.HasPrefix(msg, c.field+":") && !strings.Contains(msg, c.field) {
				t.Errorf("%s: message %q does not name %s", c.name, msg, c.field)
			}
		}
		after := decode[[]any](t, f.form(t, keyUser, "GET", "/user-resource/vm/list", ""))
		disksAfter := decode[[]any](t, f.form(t, keyUser, "GET", "/storage/disks", ""))
		if fmt.Sprint(before) != fmt.Sprint(after) || fmt.Sprint(disksBefore) != fmt.Sprint(disksAfter) {
			t.Fatal("bad input changed VMs or disks")
		}
		// A frozen account creates and grows nothing (409 naming the account).
		_, err := f.st.SetBillingAccountRestriction(f.ctx, acctMain, "", "FROZEN", "test", t0)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/user-resource/vm", create("name", "frozen-vm")},
			{"POST", "/user-resource/vm/storage", "uuid=" + vmStop + "&size_gb=10"},
			{"POST", "/user-resource/vm/clone", "uuid=" + vmGet + "&name=x"},
			{"POST", "/storage/disks", "billing_account_id=6&size_gb=10"},
		} {
			resp := f.form(t, keyUser, c.method, c.path, c.body)
			wantStatus(t, resp, 409)
			if !strings.Contains(errorMessage(t, resp), "billing_account_id") {
				t.Errorf("%s %s: %s", c.method, c.path, resp.Body)
			}
		}
		if n := decode[[]any](t, f.form(t, keyUser, "GET", "/user-resource/vm/list", "")); len(n) != len(before) {
			t.Fatal("a frozen account created a VM")
		}
	})
}

// vmBody decodes a VM answer.
func vmBody(t *testing.T, resp apitest.Response) map[string]any {
	t.Helper()
	return decode[map[string]any](t, resp)
}
