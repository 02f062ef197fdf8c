package app_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/app"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

// idcJSON sends an idcloudhost request with a JSON body.
func (c *client) idcJSON(want int, method, path, key, body string) []byte {
	c.t.Helper()
	req := apitest.Request{Method: method, Path: "/idcloudhost/v1" + path, Header: http.Header{}, Body: []byte(body)}
	req.Header.Set("apikey", key)
	req.Header.Set("Content-Type", "application/json")
	resp := c.idch.Do(c.t, c.h, req)
	if resp.Status != want {
		c.t.Fatalf("%s %s = %d, want %d: %s", method, path, resp.Status, want, resp.Body)
	}
	return resp.Body
}

type obj = map[string]any

func (c *client) object(b []byte) obj {
	c.t.Helper()
	var o obj
	decodeInto(c.t, b, &o)
	return o
}

// demoState is what the lifecycle must leave as it found: the public
// address pools, the private addresses, and every ledger balance.
type demoState struct {
	poolUsed   int
	interfaces int
	balances   map[string]int64
}

func snapshotState(t *testing.T, a *app.App) demoState {
	t.Helper()
	ctx := t.Context()
	st := demoState{balances: map[string]int64{}}
	ranges, err := a.Network.ListPoolRanges(ctx, actor.System("test"), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ranges {
		st.poolUsed += r.Used
	}
	// Private addresses in use: VM interfaces and load balancers'
	// addresses (network_addresses holds every claimed private address).
	if err := a.DB.Read().QueryRowContext(ctx, `SELECT COUNT(*) FROM network_addresses`).Scan(&st.interfaces); err != nil {
		t.Fatal(err)
	}
	accts, err := a.Ledger.Accounts(ctx, billing.LedgerOwner(6))
	if err != nil {
		t.Fatal(err)
	}
	for _, la := range accts {
		st.balances[la.ID] = la.Balance
	}
	return st
}

// TestResourceLifecycle is the scenario over HTTP on the demo data
// (the seed's user 8, billing account 6, pool, network and images): create
// a VM from the seed's form body, stop, resize, start, change the password,
// snapshot, create a second VM from the snapshot, add and attach a disk,
// assign a floating IP, put both VMs behind a load balancer, add and remove
// a forwarding rule, move the clock 3 hours, check that charging/usage
// shows 3 hours at the rated price for every billed resource, delete
// everything, and check that the address pools and the ledger are as they
// were (usage is only charged when the month's invoice is issued).
func TestResourceLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		start := time.Date(2027, 3, 10, 10, 5, 0, 0, time.UTC)
		clk := clock.NewFake(start)
		a, creds := newDemo(t, d, app.Config{DataDir: t.TempDir(), Clock: clk, Sandbox: true})
		admin, key := creds["admin_key"], creds["idcloudhost_key"]
		c := newClient(t, a.Handler)
		before := snapshotState(t, a)
		seedVMs := len(c.list(c.idc(200, "GET", "/user-resource/vm/list", key, nil)))
		ipsBefore := map[string]bool{}
		for _, ip := range c.list(c.idc(200, "GET", "/network/ip_addresses", key, nil)) {
			ipsBefore[ip.(obj)["address"].(string)] = true
		}

		// Create from the seed's documented form body (ID-12), verbatim.
		vm := c.object(c.idc(200, "POST", "/user-resource/vm", key, url.Values{
			"name": {"Ubuntu-16-04"}, "os_name": {"ubuntu"}, "os_version": {"16.04"}, "disks": {"20"},
			"vcpu": {"2"}, "ram": {"2048"}, "designated_pool_uuid": {"d2fc6881-9316-46d7-b515-b6cddaeee927"},
			"username": {"example"}, "password": {"Password123"}, "billing_account_id": {"6"},
			"network_uuid": {"50341410-9e88-4af2-a21e-b8c898e33e52"},
			"cloud_init":   {`{"runcmd": ["/firstboot"], "write_files": [{"path": "/firstboot", "content": "IyEvYmluL2Jhc2gKZWNobyBOb3cgQm9vdGluZwoK", "permissions": "0755", "encoding": "b64"}]}`},
		}))
		web := vm["uuid"].(string)
		if vm["status"] != "running" {
			t.Fatalf("created VM: %v", vm)
		}
		// Readable at once, by GET and in the list.
		if got := c.object(c.idc(200, "GET", "/user-resource/vm", key, url.Values{"uuid": {web}})); got["uuid"] != web {
			t.Fatalf("get: %v", got)
		}
		if n := len(c.list(c.idc(200, "GET", "/user-resource/vm/list", key, nil))); n != seedVMs+1 {
			t.Fatalf("list has %d VMs, want %d", n, seedVMs+1)
		}
		form := func(kv ...string) url.Values {
			v := url.Values{}
			for i := 0; i < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return v
		}
		if s := c.object(c.idc(200, "POST", "/user-resource/vm/stop", key, form("uuid", web)))["status"]; s != "stopped" {
			t.Fatalf("stop: %v", s)
		}
		if got := c.object(c.idc(200, "PATCH", "/user-resource/vm", key, form("uuid", web, "vcpu", "4", "ram", "4096"))); fmt.Sprint(got["vcpu"]) != "4" || fmt.Sprint(got["memory"]) != "4096" {
			t.Fatalf("resize: %v", got)
		}
		if s := c.object(c.idc(200, "POST", "/user-resource/vm/start", key, form("uuid", web)))["status"]; s != "running" {
			t.Fatalf("start: %v", s)
		}
		if got := c.object(c.idc(200, "PATCH", "/user-resource/vm/user", key, form("uuid", web, "username", "example", "password", "Password1234"))); got["success"] != true {
			t.Fatalf("password: %v", got)
		}

		// Snapshot, and a second VM from it.
		storage := c.object(c.idc(200, "POST", "/user-resource/vm/replica", key, form("uuid", web)))
		replicas := storage["replica"].([]any)
		if len(replicas) != 1 {
			t.Fatalf("snapshot: %v", storage)
		}
		snap := replicas[0].(obj)["uuid"].(string)
		clone := c.object(c.idc(200, "POST", "/user-resource/vm", key, form("name", "clone-1", "source_uuid", web,
			"source_replica", snap, "vcpu", "2", "ram", "2048", "username", "example", "password", "Password123",
			"billing_account_id", "6", "reserve_public_ip", "false")))
		cl := clone["uuid"].(string)
		if clone["status"] != "running" || cl == web {
			t.Fatalf("clone: %v", clone)
		}

		// A block disk, attached to the first VM.
		disk := c.object(c.idc(200, "POST", "/storage/disks", key, form("size_gb", "50", "billing_account_id", "6")))
		diskUUID := disk["uuid"].(string)
		c.idc(200, "POST", "/user-resource/vm/storage/attach", key, form("uuid", web, "storage_uuid", diskUUID))

		// A floating IP, assigned to the first VM.
		ip := c.object(c.idcJSON(200, "POST", "/network/ip_addresses", key, `{"name": "lifecycle", "billing_account_id": 6}`))
		addr := ip["address"].(string)
		if ip["assigned_to"] != nil {
			t.Fatalf("new IP: %v", ip)
		}
		assigned := c.object(c.idcJSON(200, "POST", "/network/ip_addresses/"+addr+"/assign", key, fmt.Sprintf(`{"vm_uuid": %q}`, web)))
		if assigned["assigned_to"] != web || assigned["assigned_to_private_ip"] == nil {
			t.Fatalf("assign: %v", assigned)
		}

		// A load balancer over both VMs; a rule added and removed.
		lb := c.object(c.idcJSON(200, "POST", "/network/load_balancers", key, fmt.Sprintf(`{"display_name": "lb-1",
			"billing_account_id": 6, "network_uuid": "50341410-9e88-4af2-a21e-b8c898e33e52", "reserve_public_ip": "false",
			"rules": [{"source_port": 8080, "target_port": 80}],
			"targets": [{"target_uuid": %q, "target_type": "vm"}, {"target_uuid": %q, "target_type": "vm"}]}`, web, cl)))
		lbUUID := lb["uuid"].(string)
		if n := len(lb["targets"].([]any)); n != 2 {
			t.Fatalf("LB targets: %v", lb)
		}
		rule := c.object(c.idcJSON(200, "POST", "/network/load_balancers/"+lbUUID+"/forwarding_rules", key, `{"source_port": 443, "target_port": 8443}`))
		c.idc(200, "DELETE", "/network/load_balancers/"+lbUUID+"/forwarding_rules/"+rule["uuid"].(string), key, nil)
		if n := len(c.object(c.idc(200, "GET", "/network/load_balancers/"+lbUUID, key, nil))["forwarding_rules"].([]any)); n != 1 {
			t.Fatalf("rules after add and remove: %d", n)
		}

		// Three hours later.
		c.api(200, "POST", "/sandbox/clock", admin, `{"advance":"3h"}`)
		var usage []obj
		decodeInto(t, c.idc(200, "GET", "/charging/usage", key, form("billing_account_id", "6")), &usage)
		policy, err := a.Pricing.PolicyAt(ctx, start)
		if err != nil {
			t.Fatal(err)
		}
		rate := func(m pricing.Meter, cfg pricing.Config) string {
			r, err := pricing.Rate(policy, m, cfg)
			if err != nil {
				t.Fatal(err)
			}
			return r.UnitPrice.String()
		}
		ubuntu := "ubuntu"
		disk20 := int64(20)
		want := map[string]string{ // owner uuid → price per hour; 3 hours each
			web:      rate(pricing.MeterVM, pricing.Config{VMName: "Ubuntu-16-04", CPUs: 4, RAMMB: 4096, DiskGB: &disk20, OSName: &ubuntu}),
			cl:       rate(pricing.MeterVM, pricing.Config{VMName: "clone-1", CPUs: 2, RAMMB: 2048, DiskGB: &disk20, OSName: &ubuntu}),
			diskUUID: rate(pricing.MeterDisk, pricing.Config{Name: "d", SizeGB: 50}),
			snap:     rate(pricing.MeterSnapshot, pricing.Config{Name: "s", SizeGB: 20}),
			lbUUID:   rate(pricing.MeterLoadBalancer, pricing.Config{Name: "lb-1"}),
		}
		got := map[string]obj{}
		for _, u := range usage {
			owner, _ := u["owner_uuid"].(string)
			if _, ok := want[owner]; ok {
				if prev, dup := got[owner]; dup {
					t.Errorf("two usage lines for %s: %v and %v", owner, prev, u)
				}
				got[owner] = u
			}
			// The assigned floating IPs (the one created here and the
			// VM's own public address) cost nothing while assigned.
			if strings.Contains(fmt.Sprint(u["uptime_types"]), pricing.UptimeFloatingIP) {
				t.Errorf("an assigned floating IP is billed: %v", u)
			}
		}
		for owner, price := range want {
			u, ok := got[owner]
			if !ok {
				t.Errorf("no usage line for %s (want 3 h at %s); usage: %v", owner, price, usage)
				continue
			}
			if !sameNumber(fmt.Sprint(u["hours"]), "3") || !sameNumber(fmt.Sprint(u["price"]), price) {
				t.Errorf("usage of %s: %v h at %v, want 3 h at %s", owner, u["hours"], u["price"], price)
			}
		}

		// Delete everything.
		c.idc(200, "DELETE", "/network/load_balancers/"+lbUUID, key, nil)
		c.idcJSON(200, "POST", "/network/ip_addresses/"+addr+"/unassign", key, `{}`)
		c.idc(200, "DELETE", "/network/ip_addresses/"+addr, key, nil)
		c.idc(200, "POST", "/user-resource/vm/storage/detach", key, form("uuid", web, "storage_uuid", diskUUID))
		c.idc(204, "DELETE", "/storage/disks/"+diskUUID, key, nil)
		c.idc(200, "DELETE", "/user-resource/vm/replica", key, form("replica_uuid", snap))
		c.idc(200, "DELETE", "/user-resource/vm", key, form("uuid", cl))
		c.idc(200, "DELETE", "/user-resource/vm", key, form("uuid", web))
		if n := len(c.list(c.idc(200, "GET", "/user-resource/vm/list", key, nil))); n != seedVMs {
			t.Fatalf("%d VMs left, want the demo's %d", n, seedVMs)
		}
		// The address the first VM reserved (reserve_public_ip defaults to
		// true) stays reserved for the user when the VM goes, like the
		// deprecated release call documents; it is released explicitly.
		left := 0
		for _, ip := range c.list(c.idc(200, "GET", "/network/ip_addresses", key, nil)) {
			o := ip.(obj)
			if a := o["address"].(string); !ipsBefore[a] {
				if o["assigned_to"] != nil {
					t.Errorf("address %s still assigned after its VM was deleted: %v", a, o)
				}
				c.idc(200, "DELETE", "/network/ip_addresses/"+a, key, nil)
				left++
			}
		}
		if left != 1 {
			t.Errorf("%d addresses left reserved, want 1 (the first VM's)", left)
		}
		after := snapshotState(t, a)
		if after.poolUsed != before.poolUsed || after.interfaces != before.interfaces {
			t.Errorf("addresses in use: public %d → %d, private %d → %d", before.poolUsed, after.poolUsed,
				before.interfaces, after.interfaces)
		}
		var changed []string
		for id, bal := range after.balances {
			if before.balances[id] != bal {
				changed = append(changed, fmt.Sprintf("%s: %d → %d", id, before.balances[id], bal))
			}
		}
		sort.Strings(changed)
		if len(changed) > 0 {
			t.Errorf("ledger balances changed (usage is charged by the month's invoice only): %v", changed)
		}
		tb, err := a.Ledger.TrialBalance(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, cur := range tb {
			if cur.Total.Sign() != 0 {
				t.Errorf("trial balance %s = %s", cur.Currency, cur.Total)
			}
		}
	})
}

// list decodes a JSON array.
func (c *client) list(b []byte) []any {
	c.t.Helper()
	var out []any
	if err := json.Unmarshal(b, &out); err != nil {
		c.t.Fatalf("%v: %s", err, b)
	}
	return out
}
