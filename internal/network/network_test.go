package network_test

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/network/sim"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

func wantErr(t *testing.T, err error, kind errs.Kind, field string) {
	t.Helper()
	if errs.KindOf(err) != kind || err == nil || errs.FieldOf(err) != field {
		t.Fatalf("got %v (kind %v, field %q), want kind %v field %q", err, errs.KindOf(err), errs.FieldOf(err), kind, field)
	}
}

func ptr[T any](v T) *T { return &v }

func TestNetworks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		// No name, no network: "Default network", the default.
		def, err := f.net.CreateNetwork(ctx, f.cust, f.locA, nil)
		if err != nil {
			t.Fatal(err)
		}
		if def.Name != network.DefaultNetworkName || !def.IsDefault || def.State != network.StateActive {
			t.Fatalf("default network: %+v", def)
		}
		if def.Subnet != "10.0.0.0/24" || def.SubnetIPv6 == "" || def.VLANID < 1 || len(def.VMUUIDs) != 0 {
			t.Fatalf("addresses: %+v", def)
		}
		// No name again: the same default network.
		again, err := f.net.CreateNetwork(ctx, f.cust, f.locA, nil)
		if err != nil || again.UUID != def.UUID {
			t.Fatalf("again: %+v %v", again, err)
		}
		// A named network: not the default, the next subnet.
		n2, err := f.net.CreateNetwork(ctx, f.cust, f.locA, ptr("network3"))
		if err != nil || n2.IsDefault || n2.Name != "network3" || n2.Subnet != "10.0.1.0/24" {
			t.Fatalf("named: %+v %v", n2, err)
		}
		if n2.SubnetIPv6 == def.SubnetIPv6 || n2.VLANID == def.VLANID {
			t.Fatalf("IPv6 subnet or VLAN reused: %+v %+v", def, n2)
		}
		// The first network in another location is its default; subnets
		// stay distinct within the user.
		b, err := f.net.CreateNetwork(ctx, f.cust, f.locB, ptr("in B"))
		if err != nil || !b.IsDefault || b.Subnet != "10.0.2.0/24" {
			t.Fatalf("location B: %+v %v", b, err)
		}
		// Another user's first network gets 10.0.0.0/24 too (separate VLANs).
		o, err := f.net.CreateNetwork(ctx, f.other, f.locA, ptr("theirs"))
		if err != nil || !o.IsDefault || o.Subnet != "10.0.0.0/24" || o.VLANID == def.VLANID {
			t.Fatalf("other user: %+v %v", o, err)
		}
		// Listing is per location and user.
		list, err := f.net.ListNetworks(ctx, f.cust, f.locA)
		if err != nil || len(list) != 2 || list[0].UUID != def.UUID || list[1].UUID != n2.UUID {
			t.Fatalf("list: %+v %v", list, err)
		}
		// Foreign network: not found, naming network_uuid; also via the
		// wrong location.
		_, err = f.net.GetNetwork(ctx, f.other, f.locA, def.UUID)
		wantErr(t, err, errs.KindNotFound, "network_uuid")
		_, err = f.net.GetNetwork(ctx, f.cust, f.locB, def.UUID)
		wantErr(t, err, errs.KindNotFound, "network_uuid")
		_, err = f.net.GetNetwork(ctx, f.cust, f.locA, "not-a-uuid")
		wantErr(t, err, errs.KindNotFound, "network_uuid")

		// The default network cannot be deleted.
		wantErr(t, f.net.DeleteNetwork(ctx, f.cust, f.locA, def.UUID), errs.KindPrecondition, "network_uuid")
		// Set default: exactly one default.
		if got, err := f.net.SetDefaultNetwork(ctx, f.cust, f.locA, n2.UUID); err != nil || !got.IsDefault {
			t.Fatalf("set default: %+v %v", got, err)
		}
		list, _ = f.net.ListNetworks(ctx, f.cust, f.locA)
		defaults := 0
		for _, n := range list {
			if n.IsDefault {
				defaults++
				if n.UUID != n2.UUID {
					t.Fatalf("default is %s", n.UUID)
				}
			}
		}
		if defaults != 1 {
			t.Fatalf("%d defaults", defaults)
		}
		// B stays default in its location.
		if got, _ := f.net.GetNetwork(ctx, f.cust, f.locB, b.UUID); !got.IsDefault {
			t.Fatal("location B lost its default")
		}
		// A network with a VM cannot be deleted; resources_count counts it.
		vm, addr := f.attach(t, f.cust, f.locA, def.UUID)
		if addr.NetworkUUID != def.UUID || addr.PrivateIPv4 != "10.0.0.2" {
			t.Fatalf("attach: %+v", addr)
		}
		got, _ := f.net.GetNetwork(ctx, f.cust, f.locA, def.UUID)
		if got.ResourcesCount() != 1 || !slices.Equal(got.VMUUIDs, []string{vm}) {
			t.Fatalf("resources: %+v", got)
		}
		wantErr(t, f.net.DeleteNetwork(ctx, f.cust, f.locA, def.UUID), errs.KindPrecondition, "network_uuid")
		if err := f.inTx(func(tx network.Store) error { return f.net.DetachVMTx(ctx, tx, vm) }); err != nil {
			t.Fatal(err)
		}
		// Now empty and not default: deletable (and gone from the provider).
		if err := f.net.DeleteNetwork(ctx, f.cust, f.locA, def.UUID); err != nil {
			t.Fatal(err)
		}
		if _, ok := f.sim.Network(def.UUID); ok {
			t.Fatal("the provider still has the network")
		}
		_, err = f.net.GetNetwork(ctx, f.cust, f.locA, def.UUID)
		wantErr(t, err, errs.KindNotFound, "network_uuid")
		// Its subnet is free again.
		n4, err := f.net.CreateNetwork(ctx, f.cust, f.locA, ptr("reuse"))
		if err != nil || n4.Subnet != "10.0.0.0/24" {
			t.Fatalf("subnet reuse: %+v %v", n4, err)
		}
		// Rename; bad names change nothing.
		if r, err := f.net.RenameNetwork(ctx, f.cust, f.locA, n4.UUID, ptr("My new network name")); err != nil || r.Name != "My new network name" {
			t.Fatalf("rename: %+v %v", r, err)
		}
		for _, bad := range []string{"", "x\x01y", string(make([]byte, 300))} {
			_, err := f.net.RenameNetwork(ctx, f.cust, f.locA, n4.UUID, &bad)
			wantErr(t, err, errs.KindInvalid, "name")
		}
		if r, _ := f.net.GetNetwork(ctx, f.cust, f.locA, n4.UUID); r.Name != "My new network name" {
			t.Fatalf("bad rename changed the name: %q", r.Name)
		}
		// Viewers cannot write.
		v := f.cust
		v.Role = "viewer"
		if _, err := f.net.CreateNetwork(ctx, v, f.locA, ptr("x")); errs.KindOf(err) != errs.KindForbidden {
			t.Fatalf("viewer: %v", err)
		}
	})
}

func TestNetworkConcurrentDefault(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		// 20 concurrent first creates: one default, distinct subnets.
		errc := make(chan error, 20)
		for i := 0; i < 20; i++ {
			go func() {
				_, err := f.net.CreateNetwork(ctx, f.cust, f.locA, ptr("n"))
				errc <- err
			}()
		}
		for i := 0; i < 20; i++ {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		list, _ := f.net.ListNetworks(ctx, f.cust, f.locA)
		subnets, defaults := map[string]bool{}, 0
		for _, n := range list {
			subnets[n.Subnet] = true
			if n.IsDefault {
				defaults++
			}
		}
		if len(list) != 20 || len(subnets) != 20 || defaults != 1 {
			t.Fatalf("%d networks, %d subnets, %d defaults", len(list), len(subnets), defaults)
		}
	})
}

func TestFloatingIPs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		// A global token must name the account.
		_, err := f.net.CreateFloatingIP(ctx, f.cust, network.CreateFloatingIP{Location: f.locA, Name: "my_ip"})
		wantErr(t, err, errs.KindInvalid, "billing_account_id")
		// A restricted token defaults to its account; naming another is 403.
		r, err := f.net.CreateFloatingIP(ctx, f.restricted(f.acct2), network.CreateFloatingIP{Location: f.locA})
		if err != nil || r.BillingAccountID != f.acct2 {
			t.Fatalf("restricted: %+v %v", r, err)
		}
		_, err = f.net.CreateFloatingIP(ctx, f.restricted(f.acct2), network.CreateFloatingIP{Location: f.locA, BillingAccountID: f.acct})
		wantErr(t, err, errs.KindForbidden, "billing_account_id")
		// Another user's account is not found.
		_, err = f.net.CreateFloatingIP(ctx, f.cust, network.CreateFloatingIP{Location: f.locA, BillingAccountID: f.otherAcct})
		wantErr(t, err, errs.KindNotFound, "billing_account_id")

		ip, err := f.net.CreateFloatingIP(ctx, f.cust, network.CreateFloatingIP{Location: f.locA, BillingAccountID: f.acct, Name: "my_ip"})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := netip.ParseAddr(ip.Address)
		if !netip.MustParsePrefix("203.0.113.0/24").Contains(a) || ip.Address == "203.0.113.0" || ip.Address == "203.0.113.255" {
			t.Fatalf("address %s", ip.Address)
		}
		if ip.Assigned() || ip.UserID != f.userID || ip.Name != "my_ip" || !ip.Enabled || ip.ID < 1 {
			t.Fatalf("ip: %+v", ip)
		}
		// Billed while unassigned.
		if s := f.segs.billed(ip.UUID); len(s) != 1 || s[0].Meter != pricing.MeterFloatingIP || s[0].Config.Name != ip.Address ||
			s[0].BillingAccountID != f.acct || s[0].LocationSlug != f.locA {
			t.Fatalf("segments: %+v", s)
		}
		// Get, list, filters.
		if g, err := f.net.GetFloatingIP(ctx, f.cust, f.locA, ip.Address); err != nil || g.UUID != ip.UUID {
			t.Fatalf("get: %+v %v", g, err)
		}
		_, err = f.net.GetFloatingIP(ctx, f.other, f.locA, ip.Address)
		wantErr(t, err, errs.KindNotFound, "public_ipv4_address")
		_, err = f.net.GetFloatingIP(ctx, f.cust, f.locB, ip.Address)
		wantErr(t, err, errs.KindNotFound, "public_ipv4_address")
		_, err = f.net.GetFloatingIP(ctx, f.restricted(f.acct2), f.locA, ip.Address)
		wantErr(t, err, errs.KindForbidden, "billing_account_id")
		if l, _ := f.net.ListFloatingIPs(ctx, f.cust, f.locA, network.FloatingIPFilter{}); len(l) != 2 {
			t.Fatalf("list: %d", len(l))
		}
		if l, _ := f.net.ListFloatingIPs(ctx, f.cust, f.locA, network.FloatingIPFilter{BillingAccountID: f.acct}); len(l) != 1 || l[0].UUID != ip.UUID {
			t.Fatalf("list by account: %+v", l)
		}
		if l, _ := f.net.ListFloatingIPs(ctx, f.restricted(f.acct2), f.locA, network.FloatingIPFilter{}); len(l) != 1 || l[0].UUID != r.UUID {
			t.Fatalf("list restricted: %+v", l)
		}
		if l, _ := f.net.ListFloatingIPs(ctx, f.cust, f.locB, network.FloatingIPFilter{}); len(l) != 0 {
			t.Fatalf("list other location: %+v", l)
		}
		_, err = f.net.ListFloatingIPs(ctx, f.cust, f.locA, network.FloatingIPFilter{VMUUID: "x"})
		wantErr(t, err, errs.KindInvalid, "vm_uuid")

		// Update: name and account (billing moves).
		u, err := f.net.UpdateFloatingIP(ctx, f.cust, f.locA, ip.Address, network.UpdateFloatingIP{Name: ptr("renamed"), BillingAccountID: ptr(f.acct2)})
		if err != nil || u.Name != "renamed" || u.BillingAccountID != f.acct2 {
			t.Fatalf("update: %+v %v", u, err)
		}
		if s := f.segs.billed(ip.UUID); len(s) != 1 || s[0].BillingAccountID != f.acct2 {
			t.Fatalf("segments after move: %+v", s)
		}
		_, err = f.net.UpdateFloatingIP(ctx, f.cust, f.locA, ip.Address, network.UpdateFloatingIP{BillingAccountID: ptr(f.otherAcct)})
		wantErr(t, err, errs.KindNotFound, "billing_account_id")
		_, err = f.net.UpdateFloatingIP(ctx, f.cust, f.locA, ip.Address, network.UpdateFloatingIP{Name: ptr("a\x00b")})
		wantErr(t, err, errs.KindInvalid, "name")

		// Assign to a VM: private IP resolved; not billed.
		vm, addr := f.attach(t, f.cust, f.locA, "")
		as, err := f.net.AssignFloatingIP(ctx, f.cust, f.locA, ip.Address, vm)
		if err != nil || as.AssignedTo != vm || as.AssignedType != network.AssignedVM || as.AssignedPrivateIP != addr.PrivateIPv4 {
			t.Fatalf("assign: %+v %v", as, err)
		}
		if s := f.segs.billed(ip.UUID); len(s) != 0 {
			t.Fatalf("assigned but billed: %+v", s)
		}
		if l, _ := f.net.ListFloatingIPs(ctx, f.cust, f.locA, network.FloatingIPFilter{VMUUID: vm}); len(l) != 1 || l[0].UUID != ip.UUID {
			t.Fatalf("list by vm: %+v", l)
		}
		if got, _ := f.net.VMPublicIPv4(ctx, f.st, vm); got != ip.Address {
			t.Fatalf("VMPublicIPv4 %q", got)
		}
		// Another user's VM, or an unknown one: not found naming vm_uuid.
		ovm, _ := f.attach(t, f.other, f.locA, "")
		_, err = f.net.AssignFloatingIP(ctx, f.cust, f.locA, ip.Address, ovm)
		wantErr(t, err, errs.KindNotFound, "vm_uuid")
		_, err = f.net.AssignFloatingIP(ctx, f.cust, f.locA, ip.Address, "bad")
		wantErr(t, err, errs.KindInvalid, "vm_uuid")
		// Unassign: stays reserved, billed again, unassigned_at set.
		un, err := f.net.UnassignFloatingIP(ctx, f.cust, f.locA, ip.Address)
		if err != nil || un.Assigned() || un.UnassignedAt == nil {
			t.Fatalf("unassign: %+v %v", un, err)
		}
		if s := f.segs.billed(ip.UUID); len(s) != 1 {
			t.Fatalf("unassigned not billed: %+v", s)
		}
		// Delete: the address returns to the pool, billing stops.
		if err := f.net.DeleteFloatingIP(ctx, f.cust, f.locA, ip.Address); err != nil {
			t.Fatal(err)
		}
		if s := f.segs.billed(ip.UUID); len(s) != 0 {
			t.Fatalf("deleted but billed: %+v", s)
		}
		wantErr(t, f.net.DeleteFloatingIP(ctx, f.cust, f.locA, ip.Address), errs.KindNotFound, "public_ipv4_address")
		ranges, _ := f.net.ListPoolRanges(ctx, sys, f.locA)
		if len(ranges) != 1 || ranges[0].Size != 254 || ranges[0].Used != 1 {
			t.Fatalf("pool: %+v", ranges)
		}
		if n, _ := f.net.ActiveResources(ctx, f.acct2); n != 1 {
			t.Fatalf("active resources %d", n)
		}
	})
}

func TestContract(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		// No network: AttachVMTx creates the default one.
		vm1, a1 := f.attach(t, f.cust, f.locA, "")
		vm2, a2 := f.attach(t, f.cust, f.locA, "")
		if a1.NetworkUUID == "" || a1.NetworkUUID != a2.NetworkUUID || a1.PrivateIPv4 != "10.0.0.2" || a2.PrivateIPv4 != "10.0.0.3" {
			t.Fatalf("addresses %+v %+v", a1, a2)
		}
		if a1.MAC == a2.MAC || a1.MAC[:3] != "02:" || a1.PublicIPv6 == a2.PublicIPv6 {
			t.Fatalf("MAC/IPv6 %+v %+v", a1, a2)
		}
		n, _ := f.net.GetNetwork(ctx, f.cust, f.locA, a1.NetworkUUID)
		if n.Name != network.DefaultNetworkName || !n.IsDefault {
			t.Fatalf("implicit network %+v", n)
		}
		v6, _ := netip.ParsePrefix(n.SubnetIPv6)
		if ip6, _ := netip.ParseAddr(a1.PublicIPv6); !v6.Contains(ip6) {
			t.Fatalf("IPv6 %s not in %s", a1.PublicIPv6, n.SubnetIPv6)
		}
		// Unknown or foreign network → not found naming network_uuid.
		err := f.inTx(func(tx network.Store) error {
			_, err := f.net.AttachVMTx(ctx, tx, network.AttachVM{OrgID: f.otherOrg.ID, Location: f.locA, NetworkUUID: n.UUID,
				VMUUID: "0190a0b0-0000-7000-8000-000000000001"})
			return err
		})
		wantErr(t, err, errs.KindNotFound, "network_uuid")
		// Reserve for a VM: assigned, not billed; pool exhausted names
		// reserve_public_ip.
		var fip network.FloatingIP
		if err := f.inTx(func(tx network.Store) error {
			var err error
			fip, err = f.net.ReservePublicIPForVMTx(ctx, tx, network.ReserveForVM{OrgID: f.custOrg.ID, UserID: f.userID,
				BillingAccountID: f.acct, Location: f.locA, VMUUID: vm1})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if fip.AssignedTo != vm1 || fip.AssignedPrivateIP != a1.PrivateIPv4 || len(f.segs.billed(fip.UUID)) != 0 {
			t.Fatalf("reserved: %+v", fip)
		}
		if ip, _ := f.net.VMPublicIPv4(ctx, f.st, vm1); ip != fip.Address {
			t.Fatalf("VMPublicIPv4 %q", ip)
		}
		// Drain location B's /28 (14 addresses) and see it exhausted.
		for i := 0; i < 14; i++ {
			if _, err := f.net.CreateFloatingIP(ctx, f.cust, network.CreateFloatingIP{Location: f.locB, BillingAccountID: f.acct}); err != nil {
				t.Fatal(err)
			}
		}
		vmB, _ := f.attach(t, f.cust, f.locB, "")
		err = f.inTx(func(tx network.Store) error {
			_, err := f.net.ReservePublicIPForVMTx(ctx, tx, network.ReserveForVM{OrgID: f.custOrg.ID, UserID: f.userID,
				BillingAccountID: f.acct, Location: f.locB, VMUUID: vmB})
			return err
		})
		wantErr(t, err, errs.KindCapacityExceeded, "reserve_public_ip")
		// Deprecated release: stays reserved, billed as unassigned.
		if err := f.inTx(func(tx network.Store) error { return f.net.UnassignVMPublicIPsTx(ctx, tx, vm1) }); err != nil {
			t.Fatal(err)
		}
		if g, _ := f.net.GetFloatingIP(ctx, f.cust, f.locA, fip.Address); g.Assigned() || len(f.segs.billed(fip.UUID)) != 1 {
			t.Fatalf("after release: %+v", g)
		}
		// Detach vm2 after assigning it the IP: the IP becomes unassigned.
		if _, err := f.net.AssignFloatingIP(ctx, f.cust, f.locA, fip.Address, vm2); err != nil {
			t.Fatal(err)
		}
		if err := f.inTx(func(tx network.Store) error { return f.net.DetachVMTx(ctx, tx, vm2) }); err != nil {
			t.Fatal(err)
		}
		if g, _ := f.net.GetFloatingIP(ctx, f.cust, f.locA, fip.Address); g.Assigned() {
			t.Fatalf("detached VM keeps the IP: %+v", g)
		}
		// Its private address is free again: the next VM gets .3.
		if _, a3 := f.attach(t, f.cust, f.locA, ""); a3.PrivateIPv4 != "10.0.0.3" {
			t.Fatalf("address not reused: %+v", a3)
		}
		// Detach twice is fine.
		if err := f.inTx(func(tx network.Store) error { return f.net.DetachVMTx(ctx, tx, vm2) }); err != nil {
			t.Fatal(err)
		}
		// Service IPs.
		svc := "0190a0b0-0000-7000-8000-00000000abcd"
		var sip network.FloatingIP
		if err := f.inTx(func(tx network.Store) error {
			var err error
			sip, err = f.net.ReserveServiceIPTx(ctx, tx, network.ReserveForService{OrgID: f.custOrg.ID, UserID: f.userID,
				BillingAccountID: f.acct, Location: f.locA, ServiceUUID: svc, PrivateIP: "10.9.0.2"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if sip.AssignedType != network.AssignedService || sip.AssignedTo != svc || sip.AssignedPrivateIP != "10.9.0.2" {
			t.Fatalf("service IP %+v", sip)
		}
		// Users cannot touch it.
		wantErr(t, f.net.DeleteFloatingIP(ctx, f.cust, f.locA, sip.Address), errs.KindPrecondition, "public_ipv4_address")
		if err := f.inTx(func(tx network.Store) error { return f.net.ReleaseServiceIPTx(ctx, tx, sip.Address) }); err != nil {
			t.Fatal(err)
		}
		_, err = f.net.GetFloatingIP(ctx, f.cust, f.locA, sip.Address)
		wantErr(t, err, errs.KindNotFound, "public_ipv4_address")
	})
}

func TestLoadBalancers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		vm1, a1 := f.attach(t, f.cust, f.locA, "")
		vm2, a2 := f.attach(t, f.cust, f.locA, "")
		in := network.CreateLB{Location: f.locA, DisplayName: "my LB", BillingAccountID: f.acct, ReservePublicIP: true,
			Rules:   []network.RuleInput{{SourcePort: 8080, TargetPort: 80}},
			Targets: []network.TargetInput{{TargetUUID: vm1, TargetType: "vm"}, {TargetUUID: vm2}}}
		lb, err := f.net.CreateLB(ctx, f.cust, in)
		if err != nil {
			t.Fatal(err)
		}
		if lb.NetworkUUID != a1.NetworkUUID || lb.PrivateAddress != "10.0.0.4" || lb.State != network.StateActive || lb.BillingAccountID != f.acct {
			t.Fatalf("lb %+v", lb)
		}
		if len(lb.Rules) != 1 || lb.Rules[0].Protocol != "TCP" || lb.Rules[0].ConnectionLimit != 10000 ||
			lb.Rules[0].SessionPersistence != "SOURCE_IP" || lb.Rules[0].SourcePort != 8080 || lb.Rules[0].TargetPort != 80 {
			t.Fatalf("rules %+v", lb.Rules)
		}
		if len(lb.Targets) != 2 || lb.Targets[0].IPAddress == "" {
			t.Fatalf("targets %+v", lb.Targets)
		}
		ips := map[string]string{}
		for _, tg := range lb.Targets {
			ips[tg.TargetUUID] = tg.IPAddress
		}
		if ips[vm1] != a1.PrivateIPv4 || ips[vm2] != a2.PrivateIPv4 {
			t.Fatalf("target IPs %+v", ips)
		}
		if s := f.segs.billed(lb.UUID); len(s) != 1 || s[0].Meter != pricing.MeterLoadBalancer || s[0].Config.Name != "my LB" {
			t.Fatalf("lb segments %+v", s)
		}
		// The reserved public address is assigned to the LB, not billed.
		pub, _ := f.net.ListFloatingIPs(ctx, f.cust, f.locA, network.FloatingIPFilter{})
		if len(pub) != 1 || pub[0].AssignedTo != lb.UUID || pub[0].AssignedType != network.AssignedLoadBalancer || len(f.segs.billed(pub[0].UUID)) != 0 {
			t.Fatalf("public address %+v", pub)
		}
		if live, ok := f.sim.LB(lb.UUID); !ok || len(live.Targets) != 2 {
			t.Fatalf("provider: %+v", live)
		}
		// Bad inputs name the field and create nothing.
		for _, c := range []struct {
			in    network.CreateLB
			field string
			kind  errs.Kind
		}{
			{network.CreateLB{Location: f.locA, BillingAccountID: f.acct, NetworkUUID: "x"}, "network_uuid", errs.KindInvalid},
			{network.CreateLB{Location: f.locA, BillingAccountID: f.acct, NetworkUUID: "0190a0b0-0000-7000-8000-000000000009"}, "network_uuid", errs.KindNotFound},
			{network.CreateLB{Location: f.locA}, "billing_account_id", errs.KindInvalid},
			{network.CreateLB{Location: f.locA, BillingAccountID: f.acct, Rules: []network.RuleInput{{SourcePort: 0, TargetPort: 80}}}, "rules", errs.KindInvalid},
			{network.CreateLB{Location: f.locA, BillingAccountID: f.acct, Rules: []network.RuleInput{{SourcePort: 1, TargetPort: 70000}}}, "rules", errs.KindInvalid},
			{network.CreateLB{Location: f.locA, BillingAccountID: f.acct, Rules: []network.RuleInput{{1, 2}, {1, 3}}}, "rules", errs.KindInvalid},
			{network.CreateLB{Location: f.locA, BillingAccountID: f.acct, Targets: []network.TargetInput{{TargetUUID: "nope"}}}, "targets", errs.KindInvalid},
			{network.CreateLB{Location: f.locA, BillingAccountID: f.acct, Targets: []network.TargetInput{{TargetUUID: vm1, TargetType: "server"}}}, "targets", errs.KindInvalid},
			{network.CreateLB{Location: f.locA, BillingAccountID: f.acct, Targets: []network.TargetInput{{TargetUUID: "0190a0b0-0000-7000-8000-000000000009"}}}, "targets", errs.KindNotFound},
			{network.CreateLB{Location: f.locB, BillingAccountID: f.acct, Targets: []network.TargetInput{{TargetUUID: vm1}}}, "targets", errs.KindNotFound},
			{network.CreateLB{Location: f.locA, BillingAccountID: f.acct, DisplayName: "a\x01"}, "display_name", errs.KindInvalid},
		} {
			_, err := f.net.CreateLB(ctx, f.cust, c.in)
			wantErr(t, err, c.kind, c.field)
		}
		if all, _ := f.net.ListLBs(ctx, f.cust, ""); len(all) != 1 {
			t.Fatalf("bad input created load balancers: %d", len(all))
		}
		// Rules and targets.
		rule, err := f.net.AddLBRule(ctx, f.cust, f.locA, lb.UUID, network.RuleInput{SourcePort: 443, TargetPort: 8443})
		if err != nil || rule.UUID == "" || rule.Protocol != "TCP" {
			t.Fatalf("add rule %+v %v", rule, err)
		}
		_, err = f.net.AddLBRule(ctx, f.cust, f.locA, lb.UUID, network.RuleInput{SourcePort: 443, TargetPort: 1})
		wantErr(t, err, errs.KindConflict, "source_port")
		_, err = f.net.AddLBRule(ctx, f.cust, f.locA, lb.UUID, network.RuleInput{SourcePort: 0, TargetPort: 1})
		wantErr(t, err, errs.KindInvalid, "source_port")
		if err := f.net.RemoveLBRule(ctx, f.cust, f.locA, lb.UUID, rule.UUID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, f.net.RemoveLBRule(ctx, f.cust, f.locA, lb.UUID, rule.UUID), errs.KindNotFound, "rule_uuid")
		if err := f.net.RemoveLBTarget(ctx, f.cust, f.locA, lb.UUID, vm2); err != nil {
			t.Fatal(err)
		}
		tg, err := f.net.AddLBTarget(ctx, f.cust, f.locA, lb.UUID, network.TargetInput{TargetUUID: vm2, TargetType: "vm"})
		if err != nil || tg.IPAddress != a2.PrivateIPv4 {
			t.Fatalf("add target %+v %v", tg, err)
		}
		_, err = f.net.AddLBTarget(ctx, f.cust, f.locA, lb.UUID, network.TargetInput{TargetUUID: vm2, TargetType: "vm"})
		wantErr(t, err, errs.KindConflict, "target_uuid")
		got, _ := f.net.GetLB(ctx, f.cust, f.locA, lb.UUID)
		if got.State != network.StateActive || got.AppliedVersion != got.Version || got.Version != 5 {
			t.Fatalf("versions %+v", got)
		}
		// Foreign user: not found; restricted token of another account: 403.
		_, err = f.net.GetLB(ctx, f.other, f.locA, lb.UUID)
		wantErr(t, err, errs.KindNotFound, "lb_uuid")
		_, err = f.net.GetLB(ctx, f.restricted(f.acct2), f.locA, lb.UUID)
		wantErr(t, err, errs.KindForbidden, "billing_account_id")
		// Rename and change account.
		if r, err := f.net.RenameLB(ctx, f.cust, f.locA, lb.UUID, ptr("my new LB Name")); err != nil || r.DisplayName != "my new LB Name" {
			t.Fatalf("rename %+v %v", r, err)
		}
		_, err = f.net.RenameLB(ctx, f.cust, f.locA, lb.UUID, nil)
		wantErr(t, err, errs.KindInvalid, "display_name")
		if r, err := f.net.SetLBBillingAccount(ctx, f.cust, f.locA, lb.UUID, f.acct2); err != nil || r.BillingAccountID != f.acct2 {
			t.Fatalf("move %+v %v", r, err)
		}
		if s := f.segs.billed(lb.UUID); len(s) != 1 || s[0].BillingAccountID != f.acct2 || s[0].Config.Name != "my new LB Name" {
			t.Fatalf("segments after move %+v", s)
		}
		_, err = f.net.SetLBBillingAccount(ctx, f.cust, f.locA, lb.UUID, f.otherAcct)
		wantErr(t, err, errs.KindNotFound, "set_id")
		// The network holds the LB: not deletable while it does.
		n, _ := f.net.GetNetwork(ctx, f.cust, f.locA, lb.NetworkUUID)
		if n.LBCount != 1 || n.ResourcesCount() != 3 {
			t.Fatalf("network resources %+v", n)
		}
		// A deleted VM stops being a target.
		if err := f.inTx(func(tx network.Store) error { return f.net.DetachVMTx(ctx, tx, vm1) }); err != nil {
			t.Fatal(err)
		}
		if got, _ := f.net.GetLB(ctx, f.cust, f.locA, lb.UUID); len(got.Targets) != 1 || got.Targets[0].TargetUUID != vm2 {
			t.Fatalf("targets after detach %+v", got.Targets)
		}
		// Delete: address freed, public IP unassigned (billed), LB not billed.
		if err := f.net.DeleteLB(ctx, f.cust, f.locA, lb.UUID); err != nil {
			t.Fatal(err)
		}
		if len(f.segs.billed(lb.UUID)) != 0 {
			t.Fatal("deleted LB billed")
		}
		if _, ok := f.sim.LB(lb.UUID); ok {
			t.Fatal("provider keeps the LB")
		}
		pub, _ = f.net.ListFloatingIPs(ctx, f.cust, f.locA, network.FloatingIPFilter{})
		if len(pub) != 1 || pub[0].Assigned() || len(f.segs.billed(pub[0].UUID)) != 1 {
			t.Fatalf("LB's address after delete %+v", pub)
		}
		_, a3 := f.attach(t, f.cust, f.locA, "")
		if a3.PrivateIPv4 != "10.0.0.2" {
			t.Fatalf("freed addresses not reused: %+v", a3)
		}
	})
}

// TestProviderFailure: a failing apply leaves the load balancer in
// "error"; the job's retries run the same step, and a later success makes
// it active. Nothing is half-made: the object is complete and readable.
func TestProviderFailure(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		f.sim.FailNext(sim.StepApplyLB, 2)
		f.sim.FailNext(sim.StepCreateNetwork, 1)
		lb, err := f.net.CreateLB(ctx, f.cust, network.CreateLB{Location: f.locA, BillingAccountID: f.acct, DisplayName: "x",
			Rules: []network.RuleInput{{SourcePort: 80, TargetPort: 80}}})
		if err != nil {
			t.Fatal(err)
		}
		if lb.State != network.StateError {
			t.Fatalf("state %q after a failed apply", lb.State)
		}
		var lbJobs, netJobs []network.LBStep
		var netSteps []network.NetworkStep
		for _, j := range f.jobs.all() {
			switch j := j.(type) {
			case network.LBStep:
				lbJobs = append(lbJobs, j)
			case network.NetworkStep:
				netSteps = append(netSteps, j)
			}
		}
		_ = netJobs
		if len(lbJobs) != 1 || len(netSteps) != 1 {
			t.Fatalf("jobs: %+v %+v", lbJobs, netSteps)
		}
		// The network made implicitly was created inside the LB's
		// transaction: its job is due now (no inline attempt) and fails once.
		if err := f.net.RunNetworkStep(ctx, netSteps[0]); err == nil {
			t.Fatal("network step: want the injected failure")
		}
		n, _ := f.net.GetNetwork(ctx, f.cust, f.locA, lb.NetworkUUID)
		if n.State != network.StateError {
			t.Fatalf("network state %q", n.State)
		}
		if err := f.net.RunNetworkStep(ctx, netSteps[0]); err != nil {
			t.Fatal(err)
		}
		// First retry fails again, the second succeeds; a third is a no-op.
		if err := f.net.RunLBStep(ctx, lbJobs[0]); err == nil {
			t.Fatal("want the second injected failure")
		}
		if err := f.net.RunLBStep(ctx, lbJobs[0]); err != nil {
			t.Fatal(err)
		}
		calls := f.sim.Calls(sim.StepApplyLB)
		if err := f.net.RunLBStep(ctx, lbJobs[0]); err != nil || f.sim.Calls(sim.StepApplyLB) != calls {
			t.Fatalf("replayed step: %v, calls %d → %d", err, calls, f.sim.Calls(sim.StepApplyLB))
		}
		got, _ := f.net.GetLB(ctx, f.cust, f.locA, lb.UUID)
		n, _ = f.net.GetNetwork(ctx, f.cust, f.locA, lb.NetworkUUID)
		if got.State != network.StateActive || n.State != network.StateActive {
			t.Fatalf("states %q %q", got.State, n.State)
		}
		if live, ok := f.sim.LB(lb.UUID); !ok || len(live.Rules) != 1 {
			t.Fatalf("provider %+v", live)
		}
		// Billed from create: the LB existed (the error state is a
		// provider lag, the resource is whole).
		if len(f.segs.billed(lb.UUID)) != 1 {
			t.Fatal("LB not billed")
		}
	})
}

func TestPools(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		for _, c := range []struct {
			in    network.AddPoolRange
			field string
			kind  errs.Kind
		}{
			{network.AddPoolRange{Location: f.locA, CIDR: "nope"}, "cidr", errs.KindInvalid},
			{network.AddPoolRange{Location: f.locA, CIDR: "2001:db8::/64"}, "cidr", errs.KindInvalid},
			{network.AddPoolRange{Location: f.locA, CIDR: "192.0.2.1/24"}, "cidr", errs.KindInvalid},
			{network.AddPoolRange{Location: f.locA, CIDR: "10.0.0.0/8"}, "cidr", errs.KindInvalid},
			{network.AddPoolRange{Location: f.locA, CIDR: "192.0.2.0/30", Exclude: []string{"192.0.2.1", "192.0.2.2"}}, "cidr", errs.KindInvalid},
			{network.AddPoolRange{Location: f.locA, CIDR: "192.0.2.0/24", Exclude: []string{"192.0.3.1"}}, "exclude", errs.KindInvalid},
			{network.AddPoolRange{Location: f.locA, CIDR: "203.0.113.128/25"}, "cidr", errs.KindConflict},
			{network.AddPoolRange{Location: "nowhere", CIDR: "192.0.2.0/24"}, "location", errs.KindNotFound},
		} {
			_, err := f.net.AddPoolRange(ctx, sys, c.in)
			wantErr(t, err, c.kind, c.field)
		}
		if _, err := f.net.AddPoolRange(ctx, f.cust, network.AddPoolRange{Location: f.locA, CIDR: "192.0.2.0/24"}); errs.KindOf(err) != errs.KindForbidden {
			t.Fatalf("customer adds a pool: %v", err)
		}
		r, err := f.net.AddPoolRange(ctx, sys, network.AddPoolRange{Location: f.locB, CIDR: "192.0.2.0/29", Exclude: []string{"192.0.2.1"}})
		if err != nil || r.Size != 5 || !slices.Equal(r.Excluded, []string{"192.0.2.1"}) {
			t.Fatalf("range %+v %v", r, err)
		}
		// /32 and /31 ranges are all usable.
		if r32, err := f.net.AddPoolRange(ctx, sys, network.AddPoolRange{Location: f.locB, CIDR: "192.0.2.100/32"}); err != nil || r32.Size != 1 {
			t.Fatalf("/32 %+v %v", r32, err)
		}
		// A range in use cannot be removed; a free one can.
		ranges, _ := f.net.ListPoolRanges(ctx, sys, f.locA)
		ip, err := f.net.CreateFloatingIP(ctx, f.cust, network.CreateFloatingIP{Location: f.locA, BillingAccountID: f.acct})
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, f.net.RemovePoolRange(ctx, sys, ranges[0].ID), errs.KindPrecondition, "id")
		if got, _ := f.net.ListPoolRanges(ctx, sys, f.locA); got[0].Size != 254 || got[0].Used != 1 {
			t.Fatalf("refused removal changed the range: %+v", got)
		}
		if err := f.net.DeleteFloatingIP(ctx, f.cust, f.locA, ip.Address); err != nil {
			t.Fatal(err)
		}
		if err := f.net.RemovePoolRange(ctx, sys, ranges[0].ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.net.CreateFloatingIP(ctx, f.cust, network.CreateFloatingIP{Location: f.locA, BillingAccountID: f.acct})
		wantErr(t, err, errs.KindCapacityExceeded, "")
	})
}
