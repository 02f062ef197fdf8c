package compute_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/trellis-cloud/trellis/internal/compute"
	"github.com/trellis-cloud/trellis/internal/compute/sim"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/pricing"
	"github.com/trellis-cloud/trellis/internal/store/db"
	"github.com/trellis-cloud/trellis/internal/store/dbtest"
)

func TestCreateVM(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		v := f.createVM(t)
		if v.Status != compute.StatusRunning || v.ID == 0 || v.BillingAccountID != f.acct || v.PoolName != "Performance" ||
			v.PrivateIPv4 == "" || v.MAC == "" || v.PublicIPv4 == "" || v.NetworkUUID == "" || v.Hostname != "ubuntu-16-04" {
			t.Fatalf("created %+v", v)
		}
		if len(v.Storage) != 1 || !v.Storage[0].Primary || v.Storage[0].SizeGB != 20 || v.Storage[0].Name != "vda" ||
			v.Storage[0].Status != compute.DiskActive {
			t.Fatalf("storage %+v", v.Storage)
		}
		// Readable at once by GET and list.
		got, err := f.svc.GetVM(ctx, f.cust, "cyc01", v.UUID)
		must(t, err)
		if got.Status != compute.StatusRunning || got.UUID != v.UUID {
			t.Fatalf("get %+v", got)
		}
		list, err := f.svc.ListVMs(ctx, f.cust, "cyc01")
		must(t, err)
		if len(list) != 1 || list[0].UUID != v.UUID {
			t.Fatalf("list %+v", list)
		}
		if l, _ := f.svc.ListVMs(ctx, f.cust, "bus02"); len(l) != 0 {
			t.Fatalf("other location lists %d VMs", len(l))
		}
		if _, err := f.svc.GetVM(ctx, f.cust, "bus02", v.UUID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("get in another location: %v", err)
		}
		if _, err := f.svc.GetVM(ctx, f.other, "cyc01", v.UUID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("foreign get: %v", err)
		}
		// Billed as a running VM with its configuration.
		segs := f.open(t, v.UUID)
		if len(segs) != 1 || segs[0].Meter != pricing.MeterVM || segs[0].Config.VMName != "Ubuntu-16-04" ||
			segs[0].Config.CPUs != 2 || segs[0].Config.RAMMB != 2048 || *segs[0].Config.DiskGB != 20 ||
			*segs[0].Config.OSName != "ubuntu" || segs[0].Config.Status != "running" || segs[0].BillingAccountID != f.acct {
			t.Fatalf("segments %+v", segs)
		}
		// The provider has it; the safety-net job is due 30 s later.
		if pv, ok := f.sim.VM(v.UUID); !ok || !pv.Running || pv.PasswordHash == "" || pv.PasswordHash == "Password123" {
			t.Fatalf("provider VM %+v", pv)
		}
		args, opts := f.jobs.last()
		if args.Resource != compute.ResourceVM || args.UUID != v.UUID || !opts.RunAt.Equal(t0.Add(compute.SafetyNet)) {
			t.Fatalf("job %+v %+v", args, opts)
		}
		// The job finds nothing left to do.
		must(t, f.svc.RunStep(ctx, args))
		if n := f.sim.Calls(sim.StepCreateVM); n != 1 {
			t.Fatalf("CreateVM called %d times", n)
		}
		// Default pool and no public IP.
		in := seedVM()
		in.PoolUUID, in.ReservePublicIP, in.Name = "", false, "second-vm"
		v2, err := f.svc.CreateVM(ctx, f.cust, in)
		must(t, err)
		if v2.PoolName != "General" || v2.PublicIPv4 != "" || v2.NetworkUUID != v.NetworkUUID {
			t.Fatalf("second VM %+v", v2)
		}
	})
}

func TestVMLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		v := f.createVM(t)
		four, ram := int64(4), int64(4096)
		// vcpu and ram only while stopped.
		_, err := f.svc.Modify(ctx, f.cust, "cyc01", compute.ModifyVMInput{UUID: v.UUID, VCPU: &four})
		wantErr(t, err, errs.KindInvalid, "vcpu")
		_, err = f.svc.Modify(ctx, f.cust, "cyc01", compute.ModifyVMInput{UUID: v.UUID, RAMMB: &ram})
		wantErr(t, err, errs.KindInvalid, "ram")
		// Rename in any state (free text).
		name := "Web server 1"
		v, err = f.svc.Modify(ctx, f.cust, "cyc01", compute.ModifyVMInput{UUID: v.UUID, Name: &name})
		must(t, err)
		if v.Name != name || f.open(t, v.UUID)[0].Config.VMName != name {
			t.Fatalf("rename: %+v", v)
		}
		// Password only while running.
		must(t, f.svc.SetPassword(ctx, f.cust, "cyc01", v.UUID, "example", "NewPassword1"))
		f.clk.Advance(time.Hour)
		v, err = f.svc.Stop(ctx, f.cust, "cyc01", v.UUID, false)
		must(t, err)
		if v.Status != compute.StatusStopped {
			t.Fatalf("stop: %s", v.Status)
		}
		if segs := f.open(t, v.UUID); len(segs) != 1 || segs[0].Config.Status != "stopped" {
			t.Fatalf("stopped segments %+v", segs)
		}
		err = f.svc.SetPassword(ctx, f.cust, "cyc01", v.UUID, "example", "NewPassword2")
		wantErr(t, err, errs.KindInvalid, "password")
		_, err = f.svc.Stop(ctx, f.cust, "cyc01", v.UUID, false)
		wantErr(t, err, errs.KindInvalid, "uuid")
		// Resize while stopped; bounds from the catalog.
		big := int64(64)
		_, err = f.svc.Modify(ctx, f.cust, "cyc01", compute.ModifyVMInput{UUID: v.UUID, VCPU: &big})
		wantErr(t, err, errs.KindInvalid, "vcpu")
		v, err = f.svc.Modify(ctx, f.cust, "cyc01", compute.ModifyVMInput{UUID: v.UUID, VCPU: &four, RAMMB: &ram})
		must(t, err)
		if v.VCPU != 4 || v.RAMMB != 4096 || v.Status != compute.StatusStopped {
			t.Fatalf("resize %+v", v)
		}
		if pv, _ := f.sim.VM(v.UUID); pv.Spec.VCPU != 4 {
			t.Fatalf("provider vcpu %d", pv.Spec.VCPU)
		}
		v, err = f.svc.Start(ctx, f.cust, "cyc01", v.UUID)
		must(t, err)
		if v.Status != compute.StatusRunning || f.open(t, v.UUID)[0].Config.CPUs != 4 {
			t.Fatalf("start %+v", v)
		}
		// Rescue for this launch only.
		v, err = f.svc.RescueStart(ctx, f.cust, "cyc01", v.UUID)
		must(t, err)
		if pv, _ := f.sim.VM(v.UUID); !pv.Rescue || !v.Rescue {
			t.Fatal("not in rescue")
		}
		v, err = f.svc.Stop(ctx, f.cust, "cyc01", v.UUID, true)
		must(t, err)
		v, err = f.svc.Start(ctx, f.cust, "cyc01", v.UUID)
		must(t, err)
		if pv, _ := f.sim.VM(v.UUID); pv.Rescue || v.Rescue {
			t.Fatal("rescue survived a restart")
		}
		// Reinstall with another version; windows limits apply.
		v, err = f.svc.Reinstall(ctx, f.cust, "cyc01", v.UUID, nil, strPtr("22.04-lts"))
		must(t, err)
		if v.OSVersion != "22.04-lts" || v.Status != compute.StatusRunning {
			t.Fatalf("reinstall %+v", v)
		}
		_, err = f.svc.Reinstall(ctx, f.cust, "cyc01", v.UUID, strPtr("ubuntu"), strPtr("99"))
		wantErr(t, err, errs.KindInvalid, "os_version")
		// Toggle backup flips.
		v, err = f.svc.ToggleBackup(ctx, f.cust, "cyc01", v.UUID)
		must(t, err)
		if !v.Backup {
			t.Fatal("backup not toggled on")
		}
		// Delete: gone, not billed, provider empty, address released.
		must(t, f.svc.Delete(ctx, f.cust, "cyc01", v.UUID))
		if _, err := f.svc.GetVM(ctx, f.cust, "cyc01", v.UUID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("get after delete: %v", err)
		}
		if segs := f.open(t, v.UUID); len(segs) != 0 {
			t.Fatalf("deleted VM still billed: %+v", segs)
		}
		if vms, disks, _ := f.sim.Counts(); vms != 0 || disks != 0 {
			t.Fatalf("provider keeps %d VMs, %d disks", vms, disks)
		}
		if n, _ := f.svc.ActiveResources(ctx, f.acct); n != 0 {
			t.Fatalf("%d active resources after delete", n)
		}
		ip, err := f.net.VMPublicIPv4(ctx, f.st, v.UUID)
		must(t, err)
		if ip != "" {
			t.Fatalf("deleted VM keeps public IP %s", ip)
		}
	})
}

func strPtr(s string) *string { return &s }

var replicaRE = regexp.MustCompile(`^[0-9a-f-]{36}\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$`)

func TestReplicasCloneRebuild(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		v := f.createVM(t)
		disk, err := f.svc.CreateSnapshot(ctx, f.cust, "cyc01", v.UUID)
		must(t, err)
		if len(disk.Replicas) != 1 {
			t.Fatalf("replicas %+v", disk.Replicas)
		}
		r := disk.Replicas[0]
		if r.UUID != disk.UUID+"2026-03-02-09-30-00" || !replicaRE.MatchString(r.UUID) || r.Type != compute.ReplicaSnapshot ||
			r.SizeGB != 20 || r.DiskID != disk.ID {
			t.Fatalf("replica %+v", r)
		}
		if segs := f.open(t, r.UUID); len(segs) != 1 || segs[0].Meter != pricing.MeterSnapshot || segs[0].Config.SizeGB != 20 {
			t.Fatalf("snapshot segments %+v", segs)
		}
		// Same second again: a clear conflict, nothing written.
		_, err = f.svc.CreateSnapshot(ctx, f.cust, "cyc01", v.UUID)
		wantErr(t, err, errs.KindConflict, "uuid")
		list, err := f.svc.ListReplicas(ctx, f.cust, "cyc01", v.UUID, "")
		must(t, err)
		if len(list) != 1 {
			t.Fatalf("list %+v", list)
		}
		if b, _ := f.svc.ListReplicas(ctx, f.cust, "cyc01", v.UUID, "backup"); len(b) != 0 {
			t.Fatalf("backups %+v", b)
		}
		_, err = f.svc.ListReplicas(ctx, f.cust, "cyc01", v.UUID, "weekly")
		wantErr(t, err, errs.KindInvalid, "r_type")

		// Clone: a new running VM, free-text name.
		f.clk.Advance(time.Minute)
		c, err := f.svc.Clone(ctx, f.cust, "cyc01", v.UUID, "Name of the Clone")
		must(t, err)
		if c.Status != compute.StatusRunning || c.Name != "Name of the Clone" || c.UUID == v.UUID || len(c.Storage) != 1 ||
			c.Storage[0].SourceImageType != compute.SourceDisk || c.Storage[0].SourceImage != disk.UUID {
			t.Fatalf("clone %+v", c)
		}
		// Create from the replica.
		in := seedVM()
		in.Name, in.OSName, in.OSVersion, in.DiskGB, in.SourceUUID, in.SourceReplica = "from-snap", "", "", 0, v.UUID, r.UUID
		fr, err := f.svc.CreateVM(ctx, f.cust, in)
		must(t, err)
		if fr.Status != compute.StatusRunning || fr.OSName != "ubuntu" || fr.Storage[0].SizeGB != 20 ||
			fr.Storage[0].SourceImage != r.UUID {
			t.Fatalf("from replica %+v", fr)
		}
		in.Name, in.SourceReplica = "from-snap-2", v.UUID+"2020-01-01-00-00-00"
		_, err = f.svc.CreateVM(ctx, f.cust, in)
		wantErr(t, err, errs.KindInvalid, "source_replica")
		// Rebuild: stopped afterwards; a replica of another VM is refused.
		rb, err := f.svc.Rebuild(ctx, f.cust, "cyc01", v.UUID, r.UUID)
		must(t, err)
		if rb.Status != compute.StatusStopped {
			t.Fatalf("rebuild %+v", rb)
		}
		_, err = f.svc.Rebuild(ctx, f.cust, "cyc01", c.UUID, r.UUID)
		wantErr(t, err, errs.KindInvalid, "replica_uuid")
		// Delete the replica.
		must(t, f.svc.DeleteReplica(ctx, f.cust, "cyc01", r.UUID))
		if l, _ := f.svc.ListReplicas(ctx, f.cust, "cyc01", v.UUID, "snapshot"); len(l) != 0 || f.sim.Replica(r.UUID) {
			t.Fatalf("replica survived: %+v", l)
		}
		if segs := f.open(t, r.UUID); len(segs) != 0 {
			t.Fatalf("deleted replica billed: %+v", segs)
		}
	})
}

func TestDisks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		v := f.createVM(t)
		add, err := f.svc.AddDisk(ctx, f.cust, "cyc01", v.UUID, 50)
		must(t, err)
		if add.Name != "vdb" || add.Primary || add.SizeGB != 50 || add.VMUUID != v.UUID || add.Status != compute.DiskActive {
			t.Fatalf("add %+v", add)
		}
		if segs := f.open(t, add.UUID); len(segs) != 1 || segs[0].Meter != pricing.MeterDisk || segs[0].Config.SizeGB != 50 {
			t.Fatalf("disk segments %+v", segs)
		}
		// Grow only.
		_, err = f.svc.ResizeVMDisk(ctx, f.cust, "cyc01", v.UUID, add.UUID, 40)
		wantErr(t, err, errs.KindInvalid, "size_gb")
		add, err = f.svc.ResizeVMDisk(ctx, f.cust, "cyc01", v.UUID, add.UUID, 60)
		must(t, err)
		if add.SizeGB != 60 || f.open(t, add.UUID)[0].Config.SizeGB != 60 {
			t.Fatalf("resize %+v", add)
		}
		// Growing the primary disk changes the VM's billing.
		vm, _ := f.svc.GetVM(ctx, f.cust, "cyc01", v.UUID)
		p, _ := vm.Primary()
		_, err = f.svc.ResizeVMDisk(ctx, f.cust, "cyc01", v.UUID, p.UUID, 30)
		must(t, err)
		if *f.open(t, v.UUID)[0].Config.DiskGB != 30 {
			t.Fatal("VM billing kept the old disk size")
		}
		// The primary cannot be removed or detached.
		wantErr(t, f.svc.DeleteVMDisk(ctx, f.cust, "cyc01", v.UUID, p.UUID), errs.KindInvalid, "storage_uuid")
		wantErr(t, f.svc.Detach(ctx, f.cust, "cyc01", v.UUID, p.UUID), errs.KindInvalid, "storage_uuid")
		_, err = f.svc.SetDiskBillingAccount(ctx, f.cust, "cyc01", p.UUID, f.acct2)
		wantErr(t, err, errs.KindInvalid, "disk_uuid")
		wantErr(t, f.svc.DeleteDisk(ctx, f.cust, "cyc01", p.UUID), errs.KindInvalid, "disk_uuid")
		// Detach keeps the disk; attach gives it the first free name.
		must(t, f.svc.Detach(ctx, f.cust, "cyc01", v.UUID, add.UUID))
		got, err := f.svc.GetDisk(ctx, f.cust, "cyc01", add.UUID)
		must(t, err)
		if got.VMUUID != "" || got.Name != "" {
			t.Fatalf("detached %+v", got)
		}
		if sd, _ := f.sim.Disk(add.UUID); sd.VMUUID != "" {
			t.Fatal("provider disk still attached")
		}
		att, err := f.svc.Attach(ctx, f.cust, "cyc01", v.UUID, add.UUID)
		must(t, err)
		if att.Name != "vdb" || att.VMUUID != v.UUID || compute.Disk(att).DeviceID() != "/dev/disk/by-id/virtio-"+add.UUID[:20] {
			t.Fatalf("attach %+v", att)
		}
		_, err = f.svc.Attach(ctx, f.cust, "cyc01", v.UUID, add.UUID)
		wantErr(t, err, errs.KindInvalid, "storage_uuid")
		// Snapshots of the disk go with it.
		snap, err := f.svc.CreateSnapshot(ctx, f.cust, "cyc01", add.UUID)
		must(t, err)
		rep := snap.Replicas[0].UUID
		must(t, f.svc.DeleteVMDisk(ctx, f.cust, "cyc01", v.UUID, add.UUID))
		if _, err := f.svc.GetDisk(ctx, f.cust, "cyc01", add.UUID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("deleted disk: %v", err)
		}
		if len(f.open(t, add.UUID)) != 0 || len(f.open(t, rep)) != 0 || f.sim.Replica(rep) {
			t.Fatal("deleted disk or its snapshot still billed or held")
		}
	})
}

func TestBlockStorage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		// A global token must name the account.
		_, err := f.svc.CreateDisk(ctx, f.cust, compute.CreateDiskInput{Location: "cyc01", SizeGB: 50})
		wantErr(t, err, errs.KindInvalid, "billing_account_id")
		restricted := f.cust
		restricted.BillingAccount = f.acct2
		dk, err := f.svc.CreateDisk(ctx, restricted, compute.CreateDiskInput{Location: "cyc01", SizeGB: 50})
		must(t, err)
		if dk.BillingAccountID != f.acct2 || dk.Status != compute.DiskActive || dk.SourceImageType != compute.SourceEmpty {
			t.Fatalf("disk %+v", dk)
		}
		_, err = f.svc.CreateDisk(ctx, restricted, compute.CreateDiskInput{Location: "cyc01", SizeGB: 50, BillingAccountID: f.acct})
		wantErr(t, err, errs.KindForbidden, "billing_account_id")
		// The restricted token sees only its account's disks.
		if l, _ := f.svc.ListDisks(ctx, f.cust, "cyc01"); len(l) != 1 {
			t.Fatalf("list %d", len(l))
		}
		r2 := f.cust
		r2.BillingAccount = f.acct
		if l, _ := f.svc.ListDisks(ctx, r2, "cyc01"); len(l) != 0 {
			t.Fatalf("restricted list %d", len(l))
		}
		// From an OS image, from a disk.
		os, err := f.svc.CreateDisk(ctx, f.cust, compute.CreateDiskInput{Location: "cyc01", BillingAccountID: f.acct,
			SourceImageType: "os_base", SourceImage: "ubuntu_20.04"})
		must(t, err)
		if os.SizeGB != 20 || os.SourceImageType != compute.SourceOSBase {
			t.Fatalf("os disk %+v", os)
		}
		cp, err := f.svc.CreateDisk(ctx, f.cust, compute.CreateDiskInput{Location: "cyc01", BillingAccountID: f.acct,
			SourceImageType: "DISK", SourceImage: dk.UUID})
		must(t, err)
		if cp.SizeGB != 50 {
			t.Fatalf("copy %+v", cp)
		}
		for _, c := range []struct {
			in    compute.CreateDiskInput
			field string
		}{
			{compute.CreateDiskInput{SourceImageType: "EMPTY"}, "size_gb"},
			{compute.CreateDiskInput{SizeGB: 70000}, "size_gb"},
			{compute.CreateDiskInput{SourceImageType: "TAPE", SizeGB: 10}, "source_image_type"},
			{compute.CreateDiskInput{SourceImageType: "OS_BASE"}, "source_image"},
			{compute.CreateDiskInput{SourceImageType: "OS_BASE", SourceImage: "plan9_4"}, "source_image"},
			{compute.CreateDiskInput{SourceImageType: "DISK", SourceImage: "nope"}, "source_image"},
			{compute.CreateDiskInput{SourceImageType: "DISK", SourceImage: dk.UUID, SizeGB: 10}, "size_gb"},
			{compute.CreateDiskInput{SourceImageType: "SNAPSHOT", SourceImage: dk.UUID + "2026-03-02-09-30-00"}, "source_image"},
		} {
			c.in.Location, c.in.BillingAccountID = "cyc01", f.acct
			_, err := f.svc.CreateDisk(ctx, f.cust, c.in)
			wantErr(t, err, errs.KindInvalid, c.field)
		}
		// Boot a VM from the unattached OS disk.
		in := seedVM()
		in.Name, in.OSName, in.OSVersion, in.DiskGB, in.DiskUUID = "from-disk", "", "", 0, os.UUID
		v, err := f.svc.CreateVM(ctx, f.cust, in)
		must(t, err)
		if v.Status != compute.StatusRunning || len(v.Storage) != 1 || v.Storage[0].UUID != os.UUID || v.OSVersion != "20.04" {
			t.Fatalf("boot from disk %+v", v)
		}
		if len(f.open(t, os.UUID)) != 0 {
			t.Fatal("the boot disk is billed twice")
		}
		in.Name = "from-disk-again"
		_, err = f.svc.CreateVM(ctx, f.cust, in)
		wantErr(t, err, errs.KindInvalid, "disk_uuid")
		// Move to another account, delete (204 in the API).
		moved, err := f.svc.SetDiskBillingAccount(ctx, f.cust, "cyc01", cp.UUID, f.acct2)
		must(t, err)
		if moved.BillingAccountID != f.acct2 || f.open(t, cp.UUID)[0].BillingAccountID != f.acct2 {
			t.Fatalf("move %+v", moved)
		}
		_, err = f.svc.SetDiskBillingAccount(ctx, f.cust, "cyc01", cp.UUID, f.oacct)
		if !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("move to a foreign account: %v", err)
		}
		must(t, f.svc.DeleteDisk(ctx, f.cust, "cyc01", cp.UUID))
		if _, err := f.svc.GetDisk(ctx, f.cust, "cyc01", cp.UUID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("get deleted: %v", err)
		}
		if _, err := f.svc.GetDisk(ctx, f.other, "cyc01", dk.UUID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("foreign get: %v", err)
		}
	})
}

// TestProviderFailure: a failed step leaves the VM in error, not billed;
// the job retries; a later success completes it and billing starts then.
func TestProviderFailure(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		f.sim.FailNext(sim.StepCreateVM, 2)
		v := f.createVM(t)
		if v.Status != compute.StatusError || v.OpError == "" {
			t.Fatalf("after a failed create: %+v", v)
		}
		if len(f.all(t, v.UUID)) != 0 {
			t.Fatal("a VM that does not exist is billed")
		}
		args, _ := f.jobs.last()
		// Operations other than delete wait for the step.
		_, err := f.svc.Stop(ctx, f.cust, "cyc01", v.UUID, false)
		wantErr(t, err, errs.KindConflict, "")
		f.clk.Advance(time.Minute)
		if err := f.svc.RunStep(ctx, args); err == nil {
			t.Fatal("second attempt should fail")
		}
		f.clk.Advance(time.Hour)
		must(t, f.svc.RunStep(ctx, args))
		got, err := f.svc.GetVM(ctx, f.cust, "cyc01", v.UUID)
		must(t, err)
		if got.Status != compute.StatusRunning || got.OpError != "" || got.Op != "" {
			t.Fatalf("after the retry: %+v", got)
		}
		segs := f.all(t, v.UUID)
		if len(segs) != 1 || !segs[0].StartedAt.Equal(t0.Add(61*time.Minute)) {
			t.Fatalf("billing should start at the success: %+v", segs)
		}
		// A stale job does nothing.
		must(t, f.svc.RunStep(ctx, args))
		if n := f.sim.Calls(sim.StepCreateVM); n != 3 {
			t.Fatalf("CreateVM called %d times, want 3", n)
		}
		// A failing stop: error, not billed, then stopped.
		f.sim.FailNext(sim.StepStopVM, 1)
		got, err = f.svc.Stop(ctx, f.cust, "cyc01", v.UUID, false)
		must(t, err)
		if got.Status != compute.StatusError || len(f.open(t, v.UUID)) != 0 {
			t.Fatalf("failed stop: %+v", got)
		}
		args, _ = f.jobs.last()
		must(t, f.svc.RunStep(ctx, args))
		got, _ = f.svc.GetVM(ctx, f.cust, "cyc01", v.UUID)
		if got.Status != compute.StatusStopped || f.open(t, v.UUID)[0].Config.Status != "stopped" {
			t.Fatalf("after the stop retry: %+v", got)
		}
		// Delete replaces a failing step.
		f.sim.FailNext(sim.StepStartVM, 5)
		_, err = f.svc.Start(ctx, f.cust, "cyc01", v.UUID)
		must(t, err)
		must(t, f.svc.Delete(ctx, f.cust, "cyc01", v.UUID))
		if _, err := f.svc.GetVM(ctx, f.cust, "cyc01", v.UUID); !errs.Is(err, errs.KindNotFound) {
			t.Fatalf("after delete: %v", err)
		}
	})
}

// TestAdmission: a restricted account or one below its floor creates and
// grows nothing.
func TestAdmission(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		v := f.createVM(t)
		_, err := f.st.SetBillingAccountRestriction(ctx, f.acct, "", "FROZEN", "unpaid", t0)
		must(t, err)
		_, err = f.svc.CreateVM(ctx, f.cust, seedVM())
		wantErr(t, err, errs.KindPrecondition, "billing_account_id")
		_, err = f.svc.AddDisk(ctx, f.cust, "cyc01", v.UUID, 10)
		wantErr(t, err, errs.KindPrecondition, "billing_account_id")
		_, err = f.svc.Clone(ctx, f.cust, "cyc01", v.UUID, "clone")
		wantErr(t, err, errs.KindPrecondition, "billing_account_id")
		_, err = f.svc.CreateSnapshot(ctx, f.cust, "cyc01", v.UUID)
		wantErr(t, err, errs.KindPrecondition, "billing_account_id")
		_, err = f.svc.CreateDisk(ctx, f.cust, compute.CreateDiskInput{Location: "cyc01", SizeGB: 5, BillingAccountID: f.acct})
		wantErr(t, err, errs.KindPrecondition, "billing_account_id")
		p, _ := v.Primary()
		_, err = f.svc.ResizeVMDisk(ctx, f.cust, "cyc01", v.UUID, p.UUID, 40)
		wantErr(t, err, errs.KindPrecondition, "billing_account_id")
		_, err = f.svc.Stop(ctx, f.cust, "cyc01", v.UUID, false)
		must(t, err)
		eight := int64(8)
		_, err = f.svc.Modify(ctx, f.cust, "cyc01", compute.ModifyVMInput{UUID: v.UUID, VCPU: &eight})
		wantErr(t, err, errs.KindPrecondition, "billing_account_id")
		// Shrinking is allowed.
		one := int64(1)
		_, err = f.svc.Modify(ctx, f.cust, "cyc01", compute.ModifyVMInput{UUID: v.UUID, VCPU: &one})
		must(t, err)
		if n, _ := f.svc.ActiveResources(ctx, f.acct); n != 2 { // the VM and its disk
			t.Fatalf("%d resources, want 2", n)
		}
		if vms, disks, reps := f.sim.Counts(); vms != 1 || disks != 1 || reps != 0 {
			t.Fatalf("provider holds %d/%d/%d", vms, disks, reps)
		}
	})
}

func TestCreateVMBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		cases := []struct {
			name  string
			mod   func(*compute.CreateVMInput)
			kind  errs.Kind
			field string
		}{
			{"disks too small", func(in *compute.CreateVMInput) { in.DiskGB = 10 }, errs.KindInvalid, "disks"},
			{"disks too large", func(in *compute.CreateVMInput) { in.DiskGB = 241 }, errs.KindInvalid, "disks"},
			{"name with a space", func(in *compute.CreateVMInput) { in.Name = "a b c d" }, errs.KindInvalid, "name"},
			{"no name", func(in *compute.CreateVMInput) { in.Name = "" }, errs.KindInvalid, "name"},
			{"unknown os", func(in *compute.CreateVMInput) { in.OSName = "plan9" }, errs.KindInvalid, "os_name"},
			{"unknown version", func(in *compute.CreateVMInput) { in.OSVersion = "4.10" }, errs.KindInvalid, "os_version"},
			{"weak password", func(in *compute.CreateVMInput) { in.Password = "password" }, errs.KindInvalid, "password"},
			{"ram too small", func(in *compute.CreateVMInput) { in.RAMMB = 256 }, errs.KindInvalid, "ram"},
			{"windows ram", func(in *compute.CreateVMInput) { in.OSName, in.OSVersion, in.RAMMB = "windows", "2016", 512 }, errs.KindInvalid, "ram"},
			{"windows vcpu", func(in *compute.CreateVMInput) { in.OSName, in.OSVersion, in.VCPU = "windows", "2016", 1 }, errs.KindInvalid, "vcpu"},
			{"bad username", func(in *compute.CreateVMInput) { in.Username = "1abc" }, errs.KindInvalid, "username"},
			{"vcpu too many", func(in *compute.CreateVMInput) { in.VCPU = 17 }, errs.KindInvalid, "vcpu"},
			{"unknown pool", func(in *compute.CreateVMInput) { in.PoolUUID = "00000000-0000-4000-8000-000000000000" }, errs.KindInvalid, "designated_pool_uuid"},
			{"pool of another location", func(in *compute.CreateVMInput) { in.PoolUUID = "6f1c2a9e-3b7d-4e58-9a41-0c8d2e7b5f13" }, errs.KindInvalid, "designated_pool_uuid"},
			{"malformed pool", func(in *compute.CreateVMInput) { in.PoolUUID = "pool" }, errs.KindInvalid, "designated_pool_uuid"},
			{"unknown network", func(in *compute.CreateVMInput) { in.NetworkUUID = "00000000-0000-4000-8000-000000000000" }, errs.KindNotFound, "network_uuid"},
			{"foreign account", func(in *compute.CreateVMInput) { in.BillingAccountID = f.oacct }, errs.KindNotFound, "billing_account_id"},
			{"cloud_init other key", func(in *compute.CreateVMInput) { in.CloudInit = `{"users": []}` }, errs.KindInvalid, "cloud_init"},
			{"cloud_init not JSON", func(in *compute.CreateVMInput) { in.CloudInit = `runcmd: [ls]` }, errs.KindInvalid, "cloud_init"},
			{"bad public key", func(in *compute.CreateVMInput) { in.PublicKey = "not a key" }, errs.KindInvalid, "public_key"},
			{"replica without source", func(in *compute.CreateVMInput) { in.SourceReplica = "x" }, errs.KindInvalid, "source_uuid"},
			{"unknown disk", func(in *compute.CreateVMInput) { in.DiskUUID = "00000000-0000-4000-8000-000000000000" }, errs.KindInvalid, "disk_uuid"},
		}
		for _, c := range cases {
			in := seedVM()
			c.mod(&in)
			_, err := f.svc.CreateVM(ctx, f.cust, in)
			if err == nil || errs.KindOf(err) != c.kind || errs.FieldOf(err) != c.field {
				t.Errorf("%s: %v (kind %v, field %q), want %v on %q", c.name, err, errs.KindOf(err), errs.FieldOf(err), c.kind, c.field)
			}
		}
		if l, _ := f.svc.ListVMs(ctx, f.cust, ""); len(l) != 0 {
			t.Fatalf("bad input created %d VMs", len(l))
		}
		if vms, _, _ := f.sim.Counts(); vms != 0 {
			t.Fatalf("bad input reached the provider: %d VMs", vms)
		}
	})
}

func TestBillingMoveAndResources(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		v := f.createVM(t)
		add, err := f.svc.AddDisk(ctx, f.cust, "cyc01", v.UUID, 10)
		must(t, err)
		res, err := f.svc.BillingResources(ctx, f.cust, "cyc01", f.acct)
		must(t, err)
		if len(res) != 1 || res[0].UUID != v.UUID || res[0].PublicIPv4 == "" {
			t.Fatalf("billing resources %+v", res)
		}
		moved, err := f.svc.SetBillingAccount(ctx, f.cust, "cyc01", v.UUID, f.acct2)
		must(t, err)
		if moved.BillingAccountID != f.acct2 || f.open(t, v.UUID)[0].BillingAccountID != f.acct2 ||
			f.open(t, add.UUID)[0].BillingAccountID != f.acct2 {
			t.Fatalf("move: %+v", moved)
		}
		if r, _ := f.svc.BillingResources(ctx, f.cust, "cyc01", f.acct); len(r) != 0 {
			t.Fatalf("old account still lists %d", len(r))
		}
		if n, _ := f.svc.ActiveResources(ctx, f.acct2); n != 3 {
			t.Fatalf("active resources %d, want 3", n)
		}
		_, err = f.svc.SetBillingAccount(ctx, f.cust, "cyc01", v.UUID, f.oacct)
		wantErr(t, err, errs.KindNotFound, "billing_account_id")
		_, err = f.svc.BillingResources(ctx, f.other, "cyc01", f.acct)
		wantErr(t, err, errs.KindNotFound, "billing_account_id")
	})
}

func TestBackups(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		f := newFixture(t, d)
		v := f.createVM(t)
		n, err := f.svc.RunBackups(ctx, f.clk.Now())
		must(t, err)
		if n != 0 {
			t.Fatalf("%d backups without the flag", n)
		}
		_, err = f.svc.ToggleBackup(ctx, f.cust, "cyc01", v.UUID)
		must(t, err)
		for day := 0; day < compute.BackupsKept+2; day++ {
			f.clk.Advance(compute.BackupInterval + time.Minute)
			n, err := f.svc.RunBackups(ctx, f.clk.Now())
			must(t, err)
			if n != 1 {
				t.Fatalf("day %d: %d backups", day, n)
			}
			if n, _ := f.svc.RunBackups(ctx, f.clk.Now()); n != 0 {
				t.Fatalf("day %d: a second sweep took %d more", day, n)
			}
		}
		b, err := f.svc.ListReplicas(ctx, f.cust, "cyc01", v.UUID, "backup")
		must(t, err)
		if len(b) != compute.BackupsKept {
			t.Fatalf("%d backups kept, want %d", len(b), compute.BackupsKept)
		}
		if segs := f.open(t, b[0].UUID); len(segs) != 1 || segs[0].Meter != pricing.MeterBackup {
			t.Fatalf("backup segments %+v", segs)
		}
		if s, _ := f.svc.ListReplicas(ctx, f.cust, "cyc01", v.UUID, ""); len(s) != 0 {
			t.Fatalf("backups listed as snapshots: %d", len(s))
		}
	})
}
