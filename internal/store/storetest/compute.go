package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/store/db"
)

// compute exercises the compute store methods (the service's rules are
// tested in internal/compute).
func (s *suite) compute(t *testing.T) {
	s.cover("InsertVM", "GetVM", "LockVM", "UpdateVM", "ListVMs", "InsertDisk", "GetDisk", "LockDisk", "UpdateDisk",
		"ListDisks", "InsertReplica", "GetReplica", "UpdateReplica", "ListReplicas", "CountComputeResources",
		"ListBackupsDue")
	now := db.Micro(t0)
	loc := "computetest"
	_, err := s.st.UpsertLocation(s.ctx, catalog.Location{Slug: loc, DisplayName: "L", CountryCode: "est", CreatedAt: now, UpdatedAt: now})
	must(t, err)
	org := s.customer(t)
	acct := s.billingAccount(t, org, 8)
	acct2 := s.billingAccount(t, org, 8)

	vm := compute.VM{UUID: ids.New(), ID: 9000001, OrgID: org.ID, OrgPath: org.Path, UserID: 8, BillingAccountID: acct.ID,
		Location: loc, Name: "Ubuntu-16-04", Hostname: "ubuntu-16-04", Description: "d", OSName: "ubuntu", OSVersion: "16.04",
		Username: "example", PasswordHash: "h", VCPU: 2, RAMMB: 2048, PoolUUID: ids.New(), PoolName: "General",
		NetworkUUID: ids.New(), MAC: "52:54:00:00:00:01", PrivateIPv4: "10.0.0.2", PublicIPv6: "2001:db8::1",
		Status: compute.StatusCreating, Op: compute.OpCreate, OpArgs: `{"then":"running"}`, OpSeq: 1, Backup: true,
		CloudInit: `{"runcmd":[]}`, PublicKey: "ssh-ed25519 AAAA k", CreatedAt: now}
	must(t, s.st.InsertVM(s.ctx, vm))
	wantKind(t, s.st.InsertVM(s.ctx, vm), errs.KindConflict)
	got, err := s.st.GetVM(s.ctx, org.Path, vm.UUID)
	must(t, err)
	if d := cmp.Diff(vm, got); d != "" {
		t.Fatalf("VM round trip (-want +got):\n%s", d)
	}
	_, err = s.st.GetVM(s.ctx, "/nope/", vm.UUID)
	wantKind(t, err, errs.KindNotFound)
	locked, err := s.st.LockVM(s.ctx, vm.UUID)
	must(t, err)
	if locked.UUID != vm.UUID {
		t.Fatalf("LockVM %+v", locked)
	}
	_, err = s.st.LockVM(s.ctx, ids.New())
	wantKind(t, err, errs.KindNotFound)
	later := now.Add(time.Hour)
	vm.Status, vm.Op, vm.OpArgs, vm.BillingAccountID, vm.UpdatedAt, vm.Rescue = compute.StatusRunning, "", "", acct2.ID, &later, true
	must(t, s.st.UpdateVM(s.ctx, vm))
	if got, _ := s.st.GetVM(s.ctx, "/", vm.UUID); cmp.Diff(vm, got) != "" {
		t.Fatalf("UpdateVM: %s", cmp.Diff(vm, got))
	}
	wantKind(t, s.st.UpdateVM(s.ctx, compute.VM{UUID: ids.New(), Status: compute.StatusRunning, VCPU: 1, RAMMB: 1}), errs.KindNotFound)
	vm2 := vm
	vm2.UUID, vm2.ID, vm2.BillingAccountID, vm2.UpdatedAt = ids.New(), 9000002, acct.ID, nil
	must(t, s.st.InsertVM(s.ctx, vm2))
	list, err := s.st.ListVMs(s.ctx, compute.VMFilter{Scope: org.Path, Location: loc})
	must(t, err)
	if len(list) != 2 || list[0].ID != 9000001 {
		t.Fatalf("ListVMs %+v", list)
	}
	if l, _ := s.st.ListVMs(s.ctx, compute.VMFilter{Scope: org.Path, Location: loc, BillingAccountID: acct.ID}); len(l) != 1 || l[0].UUID != vm2.UUID {
		t.Fatalf("ListVMs by account %+v", l)
	}
	if l, _ := s.st.ListVMs(s.ctx, compute.VMFilter{Scope: org.Path, After: 9000001, Limit: 5}); len(l) != 1 || l[0].UUID != vm2.UUID {
		t.Fatalf("ListVMs paged %+v", l)
	}
	if l, _ := s.st.ListVMs(s.ctx, compute.VMFilter{Scope: org.Path, Limit: 1}); len(l) != 1 {
		t.Fatalf("ListVMs limit %+v", l)
	}

	disk := compute.Disk{UUID: ids.New(), ID: 9000001, OrgID: org.ID, OrgPath: org.Path, UserID: 8, BillingAccountID: acct2.ID,
		Location: loc, VMUUID: vm.UUID, Name: "vda", Primary: true, SizeGB: 20, Pool: "default", SourceImageType: compute.SourceOSBase,
		SourceImage: "ubuntu_16.04", Status: compute.DiskActive, WasActive: true, CreatedAt: now}
	must(t, s.st.InsertDisk(s.ctx, disk))
	gd, err := s.st.GetDisk(s.ctx, org.Path, disk.UUID)
	must(t, err)
	if d := cmp.Diff(disk, gd); d != "" {
		t.Fatalf("disk round trip (-want +got):\n%s", d)
	}
	free := compute.Disk{UUID: ids.New(), ID: 9000002, OrgID: org.ID, OrgPath: org.Path, UserID: 8, BillingAccountID: acct.ID,
		Location: loc, SizeGB: 50, Pool: "default", SourceImageType: compute.SourceEmpty, Status: compute.DiskCreating,
		Op: compute.DiskOpCreate, OpSeq: 1, CreatedAt: now}
	must(t, s.st.InsertDisk(s.ctx, free))
	// A second primary, or a taken device name, is refused.
	free.VMUUID, free.Name = vm.UUID, "vda"
	wantKind(t, s.st.UpdateDisk(s.ctx, free), errs.KindConflict)
	free.Name = "vdb"
	free.UpdatedAt = &later
	must(t, s.st.UpdateDisk(s.ctx, free))
	lf, err := s.st.LockDisk(s.ctx, free.UUID)
	must(t, err)
	if d := cmp.Diff(free, lf); d != "" {
		t.Fatalf("LockDisk (-want +got):\n%s", d)
	}
	_, err = s.st.LockDisk(s.ctx, ids.New())
	wantKind(t, err, errs.KindNotFound)
	ds, err := s.st.ListDisks(s.ctx, compute.DiskFilter{Scope: org.Path, VMUUIDs: []string{vm.UUID, vm2.UUID}})
	must(t, err)
	if len(ds) != 2 || ds[0].UUID != disk.UUID {
		t.Fatalf("ListDisks %+v", ds)
	}
	if ds, _ := s.st.ListDisks(s.ctx, compute.DiskFilter{Scope: org.Path, VMUUIDs: []string{}}); len(ds) != 0 {
		t.Fatalf("ListDisks of no VMs %+v", ds)
	}
	if ds, _ := s.st.ListDisks(s.ctx, compute.DiskFilter{Scope: org.Path, Location: loc, BillingAccountID: acct.ID}); len(ds) != 1 {
		t.Fatalf("ListDisks by account %+v", ds)
	}

	rep := compute.Replica{UUID: compute.ReplicaUUID(disk.UUID, now), ID: 9000001, DiskUUID: disk.UUID, DiskID: disk.ID,
		OrgID: org.ID, OrgPath: org.Path, UserID: 8, BillingAccountID: acct2.ID, Location: loc, Type: compute.ReplicaBackup,
		SizeGB: 20, Status: compute.ReplicaActive, BillingName: "Ubuntu-16-04", CreatedAt: now}
	must(t, s.st.InsertReplica(s.ctx, rep))
	dup := rep
	dup.ID = 9000002
	wantKind(t, s.st.InsertReplica(s.ctx, dup), errs.KindConflict)
	gr, err := s.st.GetReplica(s.ctx, org.Path, rep.UUID)
	must(t, err)
	if d := cmp.Diff(rep, gr); d != "" {
		t.Fatalf("replica round trip (-want +got):\n%s", d)
	}
	if rs, _ := s.st.ListReplicas(s.ctx, []string{disk.UUID}, compute.ReplicaSnapshot); len(rs) != 0 {
		t.Fatalf("snapshots %+v", rs)
	}
	if rs, _ := s.st.ListReplicas(s.ctx, []string{disk.UUID, free.UUID}, ""); len(rs) != 1 {
		t.Fatalf("replicas %+v", rs)
	}
	if rs, _ := s.st.ListReplicas(s.ctx, nil, ""); len(rs) != 0 {
		t.Fatalf("replicas of nothing %+v", rs)
	}
	if n, _ := s.st.CountComputeResources(s.ctx, acct2.ID); n != 3 { // vm, disk, replica
		t.Fatalf("CountComputeResources %d", n)
	}
	// ListBackupsDue: vm (backup on, running) has a backup at now.
	due, err := s.st.ListBackupsDue(s.ctx, now.Add(-time.Hour), 10)
	must(t, err)
	for _, u := range due {
		if u == vm.UUID {
			t.Fatal("VM with a fresh backup is due")
		}
	}
	due, err = s.st.ListBackupsDue(s.ctx, now.Add(time.Minute), 10)
	must(t, err)
	found := false
	for _, u := range due {
		found = found || u == vm.UUID
	}
	if !found {
		t.Fatalf("VM with an old backup is not due: %v", due)
	}
	rep.Status, rep.DeletedAt, rep.UpdatedAt = compute.ReplicaDeleted, &later, &later
	must(t, s.st.UpdateReplica(s.ctx, rep))
	_, err = s.st.GetReplica(s.ctx, org.Path, rep.UUID)
	wantKind(t, err, errs.KindNotFound)
	wantKind(t, s.st.UpdateReplica(s.ctx, compute.Replica{UUID: "nope"}), errs.KindNotFound)
	if n, _ := s.st.CountComputeResources(s.ctx, acct2.ID); n != 2 {
		t.Fatalf("CountComputeResources after delete %d", n)
	}
}
