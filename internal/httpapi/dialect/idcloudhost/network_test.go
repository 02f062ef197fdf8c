package idcloudhost_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trellis-cloud/trellis/internal/access"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/clock"
	"github.com/trellis-cloud/trellis/internal/httpapi/apitest"
	"github.com/trellis-cloud/trellis/internal/httpapi/dialect/idcloudhost"
	"github.com/trellis-cloud/trellis/internal/jobs"
	"github.com/trellis-cloud/trellis/internal/ledger"
	"github.com/trellis-cloud/trellis/internal/network"
	netsim "github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// The seed's network objects, as its requests name them.
const (
	netDefault = "50341410-9e88-4af2-a21e-b8c898e33e51" // getNetwork; user 8's default network in cyc01
	netB       = "4e5eadd3-8b11-4c34-812a-2cf97120b628" // delete, default, rename
	netLB      = "438ac62f-e97b-4ef0-8940-507b9e94af43" // the LB's network (the seed reuses the LB uuid)
	seedLB     = "438ac62f-e97b-4ef0-8940-507b9e94af43"
	vmAssign   = "88e5a11b-9c89-4986-99c7-90d43499317c"
	vmTarget1  = "145cc106-e067-419a-85fd-333ded30f169" // also the rule uuid of removeForwardingRule (ID-amb-22)
	vmTarget2  = "e9717243-59df-4847-bd50-dca5b090432b"
)

// noJobs accepts jobs without running them (the sim provider has no delay:
// every step runs inline).
type noJobs struct{}

func (noJobs) InsertTx(context.Context, *sql.Tx, jobs.Args, jobs.InsertOpts) error { return nil }

// netFixture is the fixture with the network service and the seed's
// networks, VMs (their interfaces), floating IP 1.1.1.1 and load balancer.
type netFixture struct {
	*fixture
	net *network.Service
	st  *sqlstore.Store
}

func newNetFixture(t *testing.T, d *db.DB) *netFixture {
	t.Helper()
	st := sqlstore.New(d).WithJobs(noJobs{})
	clk := clock.NewFake(t0)
	bil := billing.NewService(sqlstore.Billing{Store: st}, ledger.NewService(sqlstore.Ledger{Store: st}, clk), clk, billing.Config{})
	svc := network.NewService(sqlstore.Network{Store: st}, bil, netsim.New(0), clk, network.Config{})
	f := newFixture(t, d, apitest.NewValidator(t, idcloudhost.Spec()), func(d *idcloudhost.Deps) { d.Network = svc })
	nf := &netFixture{fixture: f, net: svc, st: st}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("seed: %v", err)
		}
	}
	user8 := int64(access.DemoIDCHUserID)
	for _, id := range []int64{2, 130157, 123456} {
		_, err := f.bil.CreateAccount(f.ctx, sys, billing.CreateAccountInput{ID: id, OrgID: f.customer.ID, UserID: user8,
			Data: billing.AccountData{Title: fmt.Sprint(id), Email: "user@example.com"}})
		must(err)
	}
	// Floating IP 1.1.1.1 on account 2: the pool's only address first.
	_, err := svc.AddPoolRange(f.ctx, sys, network.AddPoolRange{Location: "cyc01", CIDR: "1.1.1.1/32"})
	must(err)
	_, err = svc.CreateFloatingIP(f.ctx, f.user8, network.CreateFloatingIP{Location: "cyc01", BillingAccountID: 2, Name: "My First Ip"})
	must(err)
	_, err = svc.AddPoolRange(f.ctx, sys, network.AddPoolRange{Location: "cyc01", CIDR: "203.0.113.0/24"})
	must(err)
	_, err = svc.AddPoolRange(f.ctx, sys, network.AddPoolRange{Location: "bus02", CIDR: "198.51.100.0/24"})
	must(err)
	// The seed's networks, written directly with their uuids (the
	// service makes new ones).
	now := db.Micro(t0)
	for i, n := range []struct {
		uuid, name string
		def        bool
	}{{netDefault, "Default network", true}, {netB, "Private network B", false}, {netLB, "LB network", false}} {
		must(st.InsertNetwork(f.ctx, network.Network{UUID: n.uuid, OrgID: f.customer.ID, OrgPath: f.customer.Path, UserID: user8,
			Location: "cyc01", Name: n.name, VLANID: int64(900 + i), SubnetIndex: int64(i), Subnet: fmt.Sprintf("10.0.%d.0/24", i),
			SubnetIPv6: fmt.Sprintf("2001:db8:ffff:%d::/64", i), IsDefault: n.def, State: network.StateActive, CreatedAt: now, UpdatedAt: now}))
	}
	for _, vm := range []struct{ uuid, net string }{{vmAssign, netDefault}, {vmTarget1, netLB}, {vmTarget2, netLB}} {
		must(nf.inTx(func(tx network.Store) error {
			_, err := svc.AttachVMTx(f.ctx, tx, network.AttachVM{OrgID: f.customer.ID, UserID: user8, Location: "cyc01",
				NetworkUUID: vm.net, VMUUID: vm.uuid})
			return err
		}))
	}
	// The seed's load balancer: no targets, one rule whose uuid is the
	// one Drop load balancer rule names.
	must(st.InsertLB(f.ctx, network.LoadBalancer{UUID: seedLB, OrgID: f.customer.ID, OrgPath: f.customer.Path, UserID: user8,
		BillingAccountID: 130157, Location: "cyc01", NetworkUUID: netLB, DisplayName: "seed LB", PrivateAddress: "10.0.2.200",
		State: network.StateActive, Version: 1, AppliedVersion: 1, CreatedAt: now, UpdatedAt: now}))
	_, err = st.ClaimNetworkAddress(f.ctx, netLB, "10.0.2.200", "lb", seedLB)
	must(err)
	must(st.InsertLBRule(f.ctx, network.Rule{UUID: vmTarget1, LBUUID: seedLB, Protocol: "TCP", SourcePort: 8443, TargetPort: 8443,
		ConnectionLimit: 10000, SessionPersistence: "SOURCE_IP", CreatedAt: now}))
	return nf
}

func (nf *netFixture) inTx(fn func(tx network.Store) error) error {
	return sqlstore.Network{Store: nf.st}.Tx(nf.ctx, fn)
}

// sendNet sends a seed request file: -d form lines, or a JSON body after a
// "Content-Type: application/json" line (the body lines joined verbatim).
func (f *fixture) sendNet(t *testing.T, key string, r seedRequest) apitest.Response {
	t.Helper()
	if len(r.form) > 0 && r.form[0] == "Content-Type: application/json" {
		return f.sendJSON(t, key, r.method, r.path, strings.Join(r.form[1:], "\n"), false)
	}
	return f.send(t, key, r)
}

func (f *fixture) sendJSON(t *testing.T, key, method, path, body string, invalid bool) apitest.Response {
	t.Helper()
	req := apitest.Request{Method: method, Path: prefix + path, Header: http.Header{}, ExpectInvalidRequest: invalid}
	if body != "" {
		req.Body = []byte(body)
		req.Header.Set("Content-Type", "application/json")
	}
	return f.do(t, key, req)
}

// sameShape checks that got has every field of the seed sample with the
// sample's JSON type (null in either is not compared: nullable fields).
func sameShape(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: %T, want an object", path, got)
			return
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s.%s: missing", path, k)
				continue
			}
			sameShape(t, path+"."+k, v, gv)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: %T, want an array", path, got)
			return
		}
		if len(w) > 0 && len(g) > 0 {
			sameShape(t, path+"[]", w[0], g[0])
		}
	case nil:
	default:
		if got == nil {
			return
		}
		if fmt.Sprintf("%T", w) != fmt.Sprintf("%T", got) {
			t.Errorf("%s: %T, want %T", path, got, w)
		}
	}
}

// TestNetworkSeedRequests sends every seed request of ID-47 to ID-69
// verbatim (and its location-scoped twin on a second fixture): each answers
// 200 with the sample's fields and types, or an empty body for deletes.
func TestNetworkSeedRequests(t *testing.T) {
	t.Parallel()
	order := []string{
		"getNetwork", "listNetworks", "createNetwork", "renameNetwork", "setDefaultNetwork",
		"getFloatingIP", "listFloatingIPs", "updateFloatingIP", "assignFloatingIP", "unassignFloatingIP", "deleteFloatingIP", "createFloatingIP",
		"getLoadBalancer", "listLoadBalancers", "renameLoadBalancer", "addLoadBalancerTarget", "removeLoadBalancerTarget",
		"addForwardingRule", "removeForwardingRule", "setLoadBalancerBillingAccount", "createLoadBalancer", "deleteLoadBalancer",
		"deleteNetwork",
	}
	for _, suffix := range []string{"", "InLocation"} {
		t.Run("seed"+suffix, func(t *testing.T) {
			t.Parallel()
			dbtest.Each(t, func(t *testing.T, d *db.DB) {
				nf := newNetFixture(t, d)
				for _, name := range order {
					if name == "deleteNetwork" {
						// netB became the default (setDefaultNetwork): move
						// the mark back so the seed's delete can succeed.
						if _, err := nf.net.SetDefaultNetwork(nf.ctx, nf.user8, "cyc01", netDefault); err != nil {
							t.Fatal(err)
						}
					}
					resp := nf.sendNet(t, keyUser, readSeedRequest(t, name+suffix))
					wantStatus(t, resp, http.StatusOK)
					raw := sampleBytes(t, name)
					if len(strings.TrimSpace(string(raw))) == 0 {
						if len(resp.Body) != 0 {
							t.Errorf("%s: body %q, want empty", name, resp.Body)
						}
						continue
					}
					sameShape(t, name, sample(t, name), decode[any](t, resp))
				}
			})
		})
	}
}

func sampleBytes(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(idcloudhost.TestdataDir, "samples", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNetworkObjects checks the documented values behind the seed
// requests: defaults, addresses, the always-present floating IP fields.
func TestNetworkObjects(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		nf := newNetFixture(t, d)
		// Create floating IP: 203.0.113.x on account 2, unassigned with
		// uuid and nulls.
		resp := nf.sendJSON(t, keyUser, "POST", "/network/ip_addresses/", `{"name": "my_ip", "billing_account_id": 2}`, false)
		wantStatus(t, resp, http.StatusOK)
		ip := decode[map[string]any](t, resp)
		if !strings.HasPrefix(ip["address"].(string), "203.0.113.") || ip["uuid"] == "" || ip["assigned_to"] != nil ||
			ip["assigned_to_private_ip"] != nil || ip["assigned_to_resource_type"] != nil || ip["type"] != "public" {
			t.Fatalf("created IP %v", ip)
		}
		if _, ok := ip["unassigned_at"]; ok {
			t.Fatalf("unassigned_at before any unassign: %v", ip)
		}
		addr := ip["address"].(string)
		// Assign: the VM's private address, virtual_machine.
		resp = nf.sendJSON(t, keyUser, "POST", "/network/ip_addresses/"+addr+"/assign", `{"vm_uuid": "`+vmAssign+`"}`, false)
		wantStatus(t, resp, http.StatusOK)
		ip = decode[map[string]any](t, resp)
		if ip["assigned_to"] != vmAssign || ip["assigned_to_resource_type"] != "virtual_machine" || ip["assigned_to_private_ip"] != "10.0.0.2" {
			t.Fatalf("assigned IP %v", ip)
		}
		// The list filters by vm_uuid.
		resp = nf.form(t, keyUser, "GET", "/network/ip_addresses?vm_uuid="+vmAssign, "")
		if list := decode[[]map[string]any](t, resp); len(list) != 1 || list[0]["address"] != addr {
			t.Fatalf("list by vm %v", list)
		}
		// The deprecated curl URL deletes too.
		req := apitest.Request{Method: "DELETE", Path: prefix + "/ip_addresses/" + addr, AllowUnknownRoute: true}
		resp = nf.do(t, keyUser, req)
		wantStatus(t, resp, http.StatusOK)
		if len(resp.Body) != 0 {
			t.Fatalf("delete body %q", resp.Body)
		}
		// Create LB: rule defaults, target addresses, a reserved address.
		resp = nf.sendNet(t, keyUser, readSeedRequest(t, "createLoadBalancer"))
		wantStatus(t, resp, http.StatusOK)
		lb := decode[map[string]any](t, resp)
		rules := lb["forwarding_rules"].([]any)
		r0 := rules[0].(map[string]any)
		if r0["protocol"] != "TCP" || r0["settings"].(map[string]any)["connection_limit"] != json.Number("10000") ||
			r0["settings"].(map[string]any)["session_persistence"] != "SOURCE_IP" || lb["display_name"] != "my LB" ||
			lb["network_uuid"] != netLB || lb["uuid"] == netLB || lb["billing_account_id"] != json.Number("130157") {
			t.Fatalf("lb %v", lb)
		}
		if targets := lb["targets"].([]any); len(targets) != 2 || targets[0].(map[string]any)["target_ip_address"] == "" {
			t.Fatalf("targets %v", targets)
		}
		resp = nf.form(t, keyUser, "GET", "/network/ip_addresses", "")
		found := false
		for _, ip := range decode[[]map[string]any](t, resp) {
			if ip["assigned_to"] == lb["uuid"] && ip["assigned_to_resource_type"] == "load_balancer" {
				found = true
			}
		}
		if !found {
			t.Fatal("reserve_public_ip reserved no address for the LB")
		}
		// Networks: createNetwork without a name returns the default one.
		resp = nf.form(t, keyUser, "POST", "/network/network", "")
		if n := decode[map[string]any](t, resp); n["uuid"] != netDefault || n["is_default"] != true {
			t.Fatalf("default network %v", n)
		}
		// Location scoping: the other location has none of them.
		for _, path := range []string{"/bus02/network/networks", "/bus02/network/ip_addresses", "/bus02/network/load_balancers"} {
			resp := nf.form(t, keyUser, "GET", path, "")
			wantStatus(t, resp, http.StatusOK)
			if list := decode[[]any](t, resp); len(list) != 0 {
				t.Fatalf("%s: %v", path, list)
			}
		}
		resp = nf.form(t, keyUser, "GET", "/bus02/network/network/"+netDefault, "")
		wantStatus(t, resp, http.StatusNotFound)
		resp = nf.do(t, keyUser, apitest.Request{Method: "GET", Path: prefix + "/nowhere1/network/networks", AllowUnknownRoute: true})
		wantStatus(t, resp, http.StatusNotFound)
	})
}

// TestNetworkAuth: 401 without a key, 404 for another user's objects, 403
// for a restricted token naming another account or touching another
// account's resource.
func TestNetworkAuth(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		nf := newNetFixture(t, d)
		for _, name := range []string{"getNetwork", "listNetworks", "createNetwork", "getFloatingIP", "createFloatingIP",
			"getLoadBalancer", "createLoadBalancer", "deleteNetwork", "deleteLoadBalancer", "addForwardingRule"} {
			resp := nf.sendNet(t, "", readSeedRequest(t, name))
			wantStatus(t, resp, http.StatusUnauthorized)
		}
		for _, name := range []string{"getNetwork", "renameNetwork", "deleteNetwork", "setDefaultNetwork", "getFloatingIP",
			"updateFloatingIP", "deleteFloatingIP", "assignFloatingIP", "unassignFloatingIP", "getLoadBalancer",
			"renameLoadBalancer", "deleteLoadBalancer", "addLoadBalancerTarget", "removeLoadBalancerTarget",
			"addForwardingRule", "removeForwardingRule", "setLoadBalancerBillingAccount"} {
			resp := nf.sendNet(t, nf.otherKey, readSeedRequest(t, name))
			wantStatus(t, resp, http.StatusNotFound)
		}
		// Token 7 is restricted to account 6: naming account 2 is 403,
		// and so is touching 1.1.1.1 (account 2) or the LB (130157).
		for _, name := range []string{"createFloatingIP", "getFloatingIP", "updateFloatingIP", "deleteFloatingIP",
			"createLoadBalancer", "getLoadBalancer", "deleteLoadBalancer"} {
			resp := nf.sendNet(t, keyRestricted, readSeedRequest(t, name))
			wantStatus(t, resp, http.StatusForbidden)
		}
		// Nothing of it changed anything.
		resp := nf.form(t, keyUser, "GET", "/network/ip_addresses", "")
		if list := decode[[]map[string]any](t, resp); len(list) != 1 || list[0]["address"] != "1.1.1.1" || list[0]["name"] != "My First Ip" {
			t.Fatalf("floating IPs changed: %v", list)
		}
	})
}

// TestNetworkBadInput: each rule gets a 400 naming the field and changes
// nothing.
func TestNetworkBadInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		nf := newNetFixture(t, d)
		lbPath := "/network/load_balancers/" + seedLB
		long := strings.Repeat("x", 256)
		cases := []struct {
			method, path, body string
			field              string
			specInvalid        bool
			status             int
		}{
			{"POST", "/network/network?name=" + long, "", "name", true, 400},
			{"POST", "/network/network?name=a%01b", "", "name", false, 400},
			{"PATCH", "/network/network/" + netB, `{"name": ""}`, "name", false, 400},
			{"DELETE", "/network/network/" + netDefault, "", "network_uuid", false, 409},
			{"DELETE", "/network/network/" + netLB, "", "network_uuid", false, 409},
			{"POST", "/network/ip_addresses", `{"name": "x"}`, "billing_account_id", false, 400},
			{"POST", "/network/ip_addresses", `{"billing_account_id": -1}`, "billing_account_id", true, 400},
			{"POST", "/network/ip_addresses", `{"billing_account_id": "two"}`, "billing_account_id", true, 400},
			{"POST", "/network/ip_addresses", `{"billing_account_id": 2, "name": "` + long + `"}`, "name", true, 400},
			{"GET", "/network/ip_addresses?vm_uuid=nope", "", "vm_uuid", true, 400},
			{"PATCH", "/network/ip_addresses/1.1.1.1", `{"billing_account_id": 0}`, "billing_account_id", false, 400},
			{"PATCH", "/network/ip_addresses/1.1.1.1", `{"name": "a\u0001"}`, "name", false, 400},
			{"POST", "/network/ip_addresses/1.1.1.1/assign", `{}`, "vm_uuid", true, 400},
			{"POST", "/network/ip_addresses/1.1.1.1/assign", `{"vm_uuid": "nope"}`, "vm_uuid", true, 400},
			{"POST", "/network/ip_addresses/1.1.1.1/assign", `{"vm_uuid": "0190a0b0-0000-7000-8000-000000000009"}`, "vm_uuid", false, 404},
			{"POST", "/network/load_balancers", `{"billing_account_id": 130157, "network_uuid": "nope"}`, "network_uuid", true, 400},
			{"POST", "/network/load_balancers", `{"billing_account_id": 130157, "network_uuid": "0190a0b0-0000-7000-8000-000000000009"}`, "network_uuid", false, 404},
			{"POST", "/network/load_balancers", `{"network_uuid": "` + netLB + `"}`, "billing_account_id", false, 400},
			{"POST", "/network/load_balancers", `{"billing_account_id": 130157, "reserve_public_ip": "maybe"}`, "reserve_public_ip", true, 400},
			{"POST", "/network/load_balancers", `{"billing_account_id": 130157, "rules": [{"source_port": 0, "target_port": 80}]}`, "rules", true, 400},
			{"POST", "/network/load_balancers", `{"billing_account_id": 130157, "rules": [{"source_port": 80}]}`, "rules", true, 400},
			{"POST", "/network/load_balancers", `{"billing_account_id": 130157, "rules": "not json"}`, "rules", false, 400},
			{"POST", "/network/load_balancers", `{"billing_account_id": 130157, "targets": [{"target_uuid": "nope", "target_type": "vm"}]}`, "targets", true, 400},
			{"POST", "/network/load_balancers", `{"billing_account_id": 130157, "targets": [{"target_uuid": "0190a0b0-0000-7000-8000-000000000009"}]}`, "targets", false, 404},
			{"PATCH", lbPath, `{}`, "display_name", true, 400},
			{"POST", lbPath + "/targets", `{"target_type": "vm"}`, "target_uuid", true, 400},
			{"POST", lbPath + "/targets", `{"target_uuid": "` + vmTarget2 + `", "target_type": "server"}`, "target_type", true, 400},
			{"POST", lbPath + "/forwarding_rules", `{"source_port": 8080}`, "target_port", true, 400},
			{"POST", lbPath + "/forwarding_rules", `{"source_port": 70000, "target_port": 80}`, "source_port", true, 400},
			{"POST", lbPath + "/forwarding_rules", `{"source_port": 8443, "target_port": 80}`, "source_port", false, 409},
			{"DELETE", lbPath + "/forwarding_rules/0190a0b0-0000-7000-8000-000000000009", "", "rule_uuid", false, 404},
			{"DELETE", lbPath + "/targets/0190a0b0-0000-7000-8000-000000000009", "", "target_uuid", false, 404},
			{"PUT", lbPath + "/billing_account", `{}`, "set_id", true, 400},
			{"PUT", lbPath + "/billing_account", `{"set_id": 999999}`, "set_id", false, 404},
		}
		snapshot := func() string {
			var b strings.Builder
			for _, p := range []string{"/network/networks", "/network/ip_addresses", "/network/load_balancers"} {
				b.Write(nf.form(t, keyUser, "GET", p, "").Body)
			}
			return b.String()
		}
		before := snapshot()
		for _, c := range cases {
			resp := nf.sendJSON(t, keyUser, c.method, c.path, c.body, c.specInvalid)
			if resp.Status != c.status {
				t.Errorf("%s %s %s: status %d, want %d: %s", c.method, c.path, c.body, resp.Status, c.status, resp.Body)
				continue
			}
			if msg := errorMessage(t, resp); !strings.HasPrefix(msg, c.field+":") {
				t.Errorf("%s %s %s: message %q does not name %s", c.method, c.path, c.body, msg, c.field)
			}
		}
		if after := snapshot(); after != before {
			t.Errorf("refused requests changed something:\nbefore %s\nafter  %s", before, after)
		}
	})
}
