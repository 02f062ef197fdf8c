package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/sqlstore"
)

// network exercises the network store methods (the service's rules and
// the allocation races are tested in internal/network).
func (s *suite) network(t *testing.T) {
	s.cover("NetworkUserID", "LockNetworkOwner", "InsertNetwork", "GetNetwork", "LockNetwork", "ListNetworks", "DefaultNetwork",
		"NetworkSubnetIndexes", "UpdateNetwork", "ClearDefaultNetwork", "DeleteNetwork", "NetworkAddresses", "ClaimNetworkAddress",
		"ReleaseNetworkAddress", "InsertVMInterface", "GetVMInterface", "DeleteVMInterface", "InsertPoolRange", "ListPoolRanges",
		"GetPoolRange", "DeletePoolRange", "ClaimPoolAddress", "CountFreePoolAddresses", "ReleasePoolAddress", "InsertFloatingIP",
		"GetFloatingIP", "LockFloatingIP", "ListFloatingIPs", "UpdateFloatingIP", "DeleteFloatingIP", "CountAccountNetworkResources",
		"InsertLB", "GetLB", "LockLB", "ListLBs", "UpdateLB", "DeleteLB", "InsertLBRule", "DeleteLBRule", "InsertLBTarget",
		"DeleteLBTarget", "LBsTargeting")
	now := db.Micro(t0)
	loc := "nettest"
	_, err := s.st.UpsertLocation(s.ctx, catalog.Location{Slug: loc, DisplayName: "L", CountryCode: "est", CreatedAt: now, UpdatedAt: now})
	must(t, err)
	org := s.customer(t)
	acct := s.billingAccount(t, org, 8)

	// Owner: no idcloudhost user is 0; the lock row is made on first use.
	if uid, err := s.st.NetworkUserID(s.ctx, org.ID); err != nil || uid != 0 {
		t.Fatalf("NetworkUserID = %d, %v", uid, err)
	}
	must(t, s.st.LockNetworkOwner(s.ctx, org.ID))
	must(t, s.st.LockNetworkOwner(s.ctx, org.ID))

	// Networks: one default per (org, location), unique subnet index.
	n1 := network.Network{UUID: ids.New(), OrgID: org.ID, OrgPath: org.Path, UserID: 8, Location: loc, Name: "Default network",
		VLANID: 1, SubnetIndex: 0, Subnet: "10.0.0.0/24", SubnetIPv6: "2001:db8:0:1::/64", IsDefault: true,
		State: network.StatePending, CreatedAt: now, UpdatedAt: now}
	must(t, s.st.InsertNetwork(s.ctx, n1))
	n2 := n1
	n2.UUID, n2.Name, n2.VLANID, n2.SubnetIndex, n2.Subnet, n2.SubnetIPv6, n2.IsDefault = ids.New(), "B", 2, 1, "10.0.1.0/24", "2001:db8:0:2::/64", false
	n2.CreatedAt = now.Add(time.Second)
	must(t, s.st.InsertNetwork(s.ctx, n2))
	dup := n2
	dup.UUID, dup.VLANID, dup.SubnetIPv6 = ids.New(), 3, "2001:db8:0:3::/64"
	wantKind(t, s.st.InsertNetwork(s.ctx, dup), errs.KindConflict) // subnet index taken
	dup.SubnetIndex, dup.IsDefault = 2, true
	wantKind(t, s.st.InsertNetwork(s.ctx, dup), errs.KindConflict) // a second default
	got, err := s.st.GetNetwork(s.ctx, org.ID, n1.UUID)
	must(t, err)
	want := n1
	want.VMUUIDs = []string{}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("GetNetwork (-want +got):\n%s", d)
	}
	_, err = s.st.GetNetwork(s.ctx, ids.New(), n1.UUID)
	wantKind(t, err, errs.KindNotFound)
	if l, err := s.st.LockNetwork(s.ctx, n2.UUID); err != nil || l.Name != "B" {
		t.Fatalf("LockNetwork %+v %v", l, err)
	}
	_, err = s.st.LockNetwork(s.ctx, ids.New())
	wantKind(t, err, errs.KindNotFound)
	if def, err := s.st.DefaultNetwork(s.ctx, org.ID, loc); err != nil || def.UUID != n1.UUID {
		t.Fatalf("DefaultNetwork %+v %v", def, err)
	}
	if idx, err := s.st.NetworkSubnetIndexes(s.ctx, org.ID); err != nil || !slices.Equal(idx, []int64{0, 1}) {
		t.Fatalf("NetworkSubnetIndexes %v %v", idx, err)
	}
	// Moving the default: clear, then set (one statement each).
	must(t, s.st.ClearDefaultNetwork(s.ctx, org.ID, loc, now))
	_, err = s.st.DefaultNetwork(s.ctx, org.ID, loc)
	wantKind(t, err, errs.KindNotFound)
	n2.IsDefault, n2.State, n2.Name = true, network.StateActive, "B2"
	must(t, s.st.UpdateNetwork(s.ctx, n2))
	wantKind(t, s.st.UpdateNetwork(s.ctx, network.Network{UUID: ids.New()}), errs.KindNotFound)

	// Addresses and interfaces.
	ok, err := s.st.ClaimNetworkAddress(s.ctx, n2.UUID, "10.0.1.2", "vm", "vm-a")
	if err != nil || !ok {
		t.Fatalf("claim %v %v", ok, err)
	}
	if ok, err = s.st.ClaimNetworkAddress(s.ctx, n2.UUID, "10.0.1.2", "lb", "lb-a"); err != nil || ok {
		t.Fatalf("second claim of one address %v %v", ok, err)
	}
	vm := ids.New()
	iface := network.VMInterface{VMUUID: vm, NetworkUUID: n2.UUID, OrgID: org.ID, UserID: 8, Location: loc, PrivateIPv4: "10.0.1.2",
		MAC: "02:00:00:00:00:01", IPv6: "2001:db8:0:2::1", CreatedAt: now}
	must(t, s.st.InsertVMInterface(s.ctx, iface))
	dupIface := iface
	dupIface.VMUUID, dupIface.PrivateIPv4 = ids.New(), "10.0.1.3"
	wantKind(t, s.st.InsertVMInterface(s.ctx, dupIface), errs.KindConflict) // MAC taken
	if g, err := s.st.GetVMInterface(s.ctx, vm); err != nil || cmp.Diff(iface, g) != "" {
		t.Fatalf("GetVMInterface %+v %v", g, err)
	}
	list, err := s.st.ListNetworks(s.ctx, org.ID, loc)
	must(t, err)
	if len(list) != 2 || list[0].UUID != n1.UUID || !slices.Equal(list[1].VMUUIDs, []string{vm}) || !list[1].IsDefault {
		t.Fatalf("ListNetworks %+v", list)
	}
	if addrs, err := s.st.NetworkAddresses(s.ctx, n2.UUID); err != nil || !slices.Equal(addrs, []string{"10.0.1.2"}) {
		t.Fatalf("NetworkAddresses %v %v", addrs, err)
	}

	// Pool: a range with its addresses, claims by conditional update.
	r := network.PoolRange{ID: ids.New(), Location: loc, CIDR: "192.0.2.0/30", Excluded: []string{}, CreatedAt: now}
	must(t, s.st.InsertPoolRange(s.ctx, r, []network.PoolAddress{{Address: "192.0.2.1", Num: 3221225985}, {Address: "192.0.2.2", Num: 3221225986}}))
	wantKind(t, s.st.InsertPoolRange(s.ctx, network.PoolRange{ID: ids.New(), Location: loc, CIDR: "192.0.2.0/30", CreatedAt: now}, nil),
		errs.KindConflict)
	if g, err := s.st.GetPoolRange(s.ctx, r.ID); err != nil || g.Size != 2 || g.Used != 0 || g.MinNum != 3221225985 || g.MaxNum != 3221225986 {
		t.Fatalf("GetPoolRange %+v %v", g, err)
	}
	fipUUID := ids.New()
	addr, ok, err := s.st.ClaimPoolAddress(s.ctx, loc, 3221225986, fipUUID)
	if err != nil || !ok || addr != "192.0.2.2" {
		t.Fatalf("ClaimPoolAddress %q %v %v", addr, ok, err)
	}
	if _, ok, err := s.st.ClaimPoolAddress(s.ctx, loc, 3221225986, ids.New()); err != nil || ok {
		t.Fatalf("claim of a taken address %v %v", ok, err)
	}
	if n, err := s.st.CountFreePoolAddresses(s.ctx, loc); err != nil || n != 1 {
		t.Fatalf("CountFreePoolAddresses %d %v", n, err)
	}

	// Floating IPs.
	f := network.FloatingIP{ID: 9100001, UUID: fipUUID, Address: addr, Location: loc, OrgID: org.ID, OrgPath: org.Path, UserID: 8,
		BillingAccountID: acct.ID, Name: "ip", Enabled: true, CreatedAt: now, UpdatedAt: now}
	must(t, s.st.InsertFloatingIP(s.ctx, f))
	if g, err := s.st.GetFloatingIP(s.ctx, org.ID, addr); err != nil || cmp.Diff(f, g) != "" {
		t.Fatalf("GetFloatingIP %s %v", cmp.Diff(f, g), err)
	}
	f.AssignedTo, f.AssignedType, f.AssignedPrivateIP = vm, network.AssignedVM, "10.0.1.2"
	must(t, s.st.UpdateFloatingIP(s.ctx, f))
	if g, err := s.st.LockFloatingIP(s.ctx, f.UUID); err != nil || g.AssignedTo != vm {
		t.Fatalf("LockFloatingIP %+v %v", g, err)
	}
	s.cover("AssignedAddresses")
	if m, err := s.st.AssignedAddresses(s.ctx, []string{vm, "00000000-0000-4000-8000-000000000000"}); err != nil ||
		len(m) != 1 || m[vm] != addr {
		t.Fatalf("AssignedAddresses %v %v", m, err)
	}
	at := now.Add(time.Minute)
	f.AssignedTo, f.AssignedType, f.AssignedPrivateIP, f.UnassignedAt = "", "", "", &at
	must(t, s.st.UpdateFloatingIP(s.ctx, f))
	if l, err := s.st.ListFloatingIPs(s.ctx, network.FloatingIPQuery{OrgID: org.ID, Location: loc, BillingAccountID: acct.ID}); err != nil ||
		len(l) != 1 || l[0].UnassignedAt == nil || !l[0].UnassignedAt.Equal(at) || l[0].Assigned() {
		t.Fatalf("ListFloatingIPs %+v %v", l, err)
	}
	if l, _ := s.st.ListFloatingIPs(s.ctx, network.FloatingIPQuery{AssignedTo: vm}); len(l) != 0 {
		t.Fatalf("ListFloatingIPs by assignee %+v", l)
	}

	// Load balancers.
	lb := network.LoadBalancer{UUID: ids.New(), OrgID: org.ID, OrgPath: org.Path, UserID: 8, BillingAccountID: acct.ID, Location: loc,
		NetworkUUID: n2.UUID, DisplayName: "lb", PrivateAddress: "10.0.1.3", State: network.StatePending, Version: 1,
		CreatedAt: now, UpdatedAt: now}
	must(t, s.st.InsertLB(s.ctx, lb))
	rule := network.Rule{UUID: ids.New(), LBUUID: lb.UUID, Protocol: "TCP", SourcePort: 80, TargetPort: 8080, ConnectionLimit: 10000,
		SessionPersistence: "SOURCE_IP", CreatedAt: now}
	must(t, s.st.InsertLBRule(s.ctx, rule))
	dupRule := rule
	dupRule.UUID = ids.New()
	wantKind(t, s.st.InsertLBRule(s.ctx, dupRule), errs.KindConflict)
	target := network.Target{LBUUID: lb.UUID, TargetUUID: vm, TargetType: "vm", IPAddress: "10.0.1.2", CreatedAt: now}
	must(t, s.st.InsertLBTarget(s.ctx, target))
	wantKind(t, s.st.InsertLBTarget(s.ctx, target), errs.KindConflict)
	g, err := s.st.GetLB(s.ctx, org.ID, lb.UUID)
	must(t, err)
	wantLB := lb
	wantLB.Rules, wantLB.Targets = []network.Rule{rule}, []network.Target{target}
	if d := cmp.Diff(wantLB, g); d != "" {
		t.Fatalf("GetLB (-want +got):\n%s", d)
	}
	if l, err := s.st.ListLBs(s.ctx, org.ID, loc); err != nil || len(l) != 1 || len(l[0].Rules) != 1 {
		t.Fatalf("ListLBs %+v %v", l, err)
	}
	if ids, err := s.st.LBsTargeting(s.ctx, vm); err != nil || !slices.Equal(ids, []string{lb.UUID}) {
		t.Fatalf("LBsTargeting %v %v", ids, err)
	}
	locked, err := s.st.LockLB(s.ctx, lb.UUID)
	must(t, err)
	locked.Version, locked.AppliedVersion, locked.State = 2, 2, network.StateActive
	must(t, s.st.UpdateLB(s.ctx, locked))
	if n, err := s.st.CountAccountNetworkResources(s.ctx, acct.ID); err != nil || n != 2 {
		t.Fatalf("CountAccountNetworkResources %d %v", n, err)
	}
	if ok, err := s.st.DeleteLBRule(s.ctx, lb.UUID, rule.UUID); err != nil || !ok {
		t.Fatalf("DeleteLBRule %v %v", ok, err)
	}
	if ok, err := s.st.DeleteLBTarget(s.ctx, lb.UUID, vm); err != nil || !ok {
		t.Fatalf("DeleteLBTarget %v %v", ok, err)
	}
	if ok, _ := s.st.DeleteLBTarget(s.ctx, lb.UUID, vm); ok {
		t.Fatal("DeleteLBTarget twice")
	}
	must(t, s.st.DeleteLB(s.ctx, lb.UUID))
	wantKind(t, s.st.DeleteLB(s.ctx, lb.UUID), errs.KindNotFound)

	// The range cannot go while an address is reserved; releasing it lets
	// the range go, in a transaction too.
	if ok, err := s.st.DeletePoolRange(s.ctx, r.ID); err != nil || ok {
		t.Fatalf("DeletePoolRange of a used range %v %v", ok, err)
	}
	if rs, err := s.st.ListPoolRanges(s.ctx, loc); err != nil || len(rs) != 1 || rs[0].Size != 1 || rs[0].Used != 1 {
		t.Fatalf("ListPoolRanges %+v %v", rs, err)
	}
	must(t, s.st.DeleteFloatingIP(s.ctx, f.UUID))
	wantKind(t, s.st.DeleteFloatingIP(s.ctx, f.UUID), errs.KindNotFound)
	must(t, s.st.ReleasePoolAddress(s.ctx, addr, fipUUID))
	must(t, sqlstore.Network{Store: s.st}.Tx(s.ctx, func(tx network.Store) error {
		ok, err := tx.DeletePoolRange(s.ctx, r.ID)
		if err == nil && !ok {
			t.Error("DeletePoolRange of a free range")
		}
		return err
	}))

	must(t, s.st.DeleteVMInterface(s.ctx, vm))
	_, err = s.st.GetVMInterface(s.ctx, vm)
	wantKind(t, err, errs.KindNotFound)
	must(t, s.st.ReleaseNetworkAddress(s.ctx, n2.UUID, "10.0.1.2"))
	must(t, s.st.DeleteNetwork(s.ctx, n2.UUID))
	wantKind(t, s.st.DeleteNetwork(s.ctx, n2.UUID), errs.KindNotFound)
	must(t, s.st.DeleteNetwork(s.ctx, n1.UUID))
}
