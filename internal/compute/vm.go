package compute

import (
	"context"
	"strings"
	"time"

	"github.com/trellis-cloud/trellis/internal/actor"
	"github.com/trellis-cloud/trellis/internal/billing"
	"github.com/trellis-cloud/trellis/internal/catalog"
	"github.com/trellis-cloud/trellis/internal/errs"
	"github.com/trellis-cloud/trellis/internal/ids"
	"github.com/trellis-cloud/trellis/internal/network"
	"github.com/trellis-cloud/trellis/internal/password"
)

// CreateVM creates a VM (ID-12): from an OS image, from a replica
// (SourceUUID + SourceReplica) or booting from an unattached disk
// (DiskUUID). It answers the VM after its create step (running), or in
// status creating when the provider has a delay, or in error when the
// provider failed (the job retries).
func (s *Service) CreateVM(ctx context.Context, a actor.Actor, in CreateVMInput) (VM, error) {
	if err := in.Validate(); err != nil {
		return VM{}, err
	}
	rules, err := s.catalog.VMRules(ctx)
	if err != nil {
		return VM{}, err
	}
	spec := catalog.VMSpec{Name: in.Name, OSName: in.OSName, OSVersion: in.OSVersion, Username: in.Username,
		Password: in.Password, VCPU: in.VCPU, RAMMB: in.RAMMB, DiskGB: in.DiskGB, HasUsername: in.HasUsername,
		FromSource: in.FromSource()}
	if err := rules.CheckCreate(spec); err != nil {
		return VM{}, err
	}
	if !in.FromSource() {
		if _, err := s.catalog.Image(ctx, in.OSName, in.OSVersion); err != nil {
			return VM{}, err
		}
	}
	pool, err := s.pool(ctx, in.Location, in.PoolUUID)
	if err != nil {
		return VM{}, err
	}
	var hash string
	if in.Password != "" {
		if hash, err = password.ShadowHash(in.Password); err != nil {
			return VM{}, err
		}
	}
	now := s.now()
	v := VM{UUID: orNew(in.NewUUID), Location: in.Location, Name: in.Name, Hostname: Hostname(in.Name),
		Description: in.Description, OSName: in.OSName, OSVersion: in.OSVersion, Username: in.Username,
		PasswordHash: hash, VCPU: in.VCPU, RAMMB: in.RAMMB, PoolUUID: pool.UUID, PoolName: pool.Name,
		Status: StatusCreating, Backup: in.Backup, CloudInit: in.CloudInit, PublicKey: in.PublicKey, CreatedAt: now}
	primary := Disk{UUID: orNew(in.NewDiskUUID), Location: in.Location, Name: DeviceName(0), Primary: true, SizeGB: in.DiskGB,
		Pool: DefaultDiskPool, SourceImageType: SourceOSBase, SourceImage: in.OSName + "_" + in.OSVersion,
		Status: DiskCreating, CreatedAt: now}
	err = s.store.Tx(ctx, func(tx Store) error {
		acct, err := s.billing.AdmitTx(ctx, tx, a, in.BillingAccountID, false)
		if err != nil {
			return err
		}
		v.OrgID, v.OrgPath, v.UserID, v.BillingAccountID = acct.OrgID, acct.OrgPath, acct.UserID, acct.ID
		switch {
		case in.SourceReplica != "":
			if err := s.fromReplica(ctx, tx, a, &v, &primary, in); err != nil {
				return err
			}
		case in.DiskUUID != "":
			if err := s.fromDisk(ctx, tx, a, &v, &primary, in); err != nil {
				return err
			}
		}
		if v.OSName != "" && strings.EqualFold(v.OSName, WindowsOS) {
			v.LicenseType = LicenseWindows
		}
		return s.insertVMTx(ctx, tx, a, &v, &primary, in.NetworkUUID, in.ReservePublicIP, in.DiskUUID != "", "vm.create")
	})
	if err != nil {
		return VM{}, err
	}
	return s.afterVMStep(ctx, v.UUID, v.OpSeq)
}

// orNew returns u, or a new uuid when it is empty.
func orNew(u string) string {
	if u == "" {
		return ids.New()
	}
	return u
}

// pool resolves the designated pool (the location's default when empty).
func (s *Service) pool(ctx context.Context, location, uuid string) (catalog.HostPool, error) {
	if uuid == "" {
		return s.catalog.DefaultHostPool(ctx, location)
	}
	return s.catalog.HostPool(ctx, location, uuid)
}

// replicaOfVM returns an active replica of a disk of the VM vmUUID, or
// Invalid(field, msg) when there is no such replica.
func replicaOfVM(ctx context.Context, tx Store, a actor.Actor, replicaUUID, vmUUID, field, msg string) (Replica, error) {
	r, err := tx.GetReplica(ctx, a.Scope(), replicaUUID)
	if errs.Is(err, errs.KindNotFound) || (err == nil && r.Status != ReplicaActive) {
		return Replica{}, errs.Invalid(field, msg)
	}
	if err != nil {
		return Replica{}, err
	}
	d, err := tx.GetDisk(ctx, "/", r.DiskUUID)
	if err != nil {
		return Replica{}, err
	}
	if d.VMUUID != vmUUID {
		return Replica{}, errs.Invalid(field, msg)
	}
	return r, nil
}

// fromReplica makes the primary disk a copy of a replica of the source VM
// (ID-12 source_uuid + source_replica).
func (s *Service) fromReplica(ctx context.Context, tx Store, a actor.Actor, v *VM, primary *Disk, in CreateVMInput) error {
	src, err := s.ownedVM(ctx, tx, a, "", in.SourceUUID)
	if err != nil {
		return renameNotFound(err, "source_uuid")
	}
	r, err := replicaOfVM(ctx, tx, a, in.SourceReplica, src.UUID, "source_replica", "no such replica of the source VM")
	if err != nil {
		return err
	}
	if r.Location != v.Location {
		return errs.Invalidf("source_replica", "the replica is in location %s, not %s", r.Location, v.Location)
	}
	if in.OSName == "" {
		v.OSName, v.OSVersion = src.OSName, src.OSVersion
	}
	if !in.HasUsername {
		v.Username = src.Username
	}
	size := r.SizeGB
	if in.DiskGB != 0 {
		if in.DiskGB < r.SizeGB {
			return errs.Invalidf("disks", "must be at least the replica's size (%d GB)", r.SizeGB)
		}
		size = in.DiskGB
	}
	if in.VCPU == 0 {
		v.VCPU = src.VCPU
	}
	if in.RAMMB == 0 {
		v.RAMMB = src.RAMMB
	}
	primary.SizeGB, primary.SourceImageType, primary.SourceImage = size, SourceSnapshot, r.UUID
	return nil
}

// fromDisk boots the VM from an unattached disk of the caller (ID-12
// disk_uuid); the disks parameter has no effect.
func (s *Service) fromDisk(ctx context.Context, tx Store, a actor.Actor, v *VM, primary *Disk, in CreateVMInput) error {
	d, err := tx.LockDisk(ctx, in.DiskUUID)
	if errs.Is(err, errs.KindNotFound) || (err == nil && (d.DeletedAt != nil || !visible(a, d.OrgPath, d.BillingAccountID, d.Location, ""))) {
		return errs.Invalid("disk_uuid", "no such disk")
	}
	if err != nil {
		return err
	}
	switch {
	case d.Location != v.Location:
		return errs.Invalidf("disk_uuid", "the disk is in location %s, not %s", d.Location, v.Location)
	case d.VMUUID != "":
		return errs.Invalid("disk_uuid", "the disk is attached to a VM; detach it first")
	case d.Op != "":
		return pending(d.Op)
	case d.Status != DiskActive:
		return errs.Invalidf("disk_uuid", "the disk is %s, not active", d.Status)
	}
	if in.OSName == "" && d.SourceImageType == SourceOSBase {
		if n, ver, ok := OSImage(d.SourceImage); ok {
			v.OSName, v.OSVersion = n, ver
		}
	}
	*primary = d
	return nil
}

// insertVMTx writes a new VM in status creating with its primary disk, its
// network attachment, optionally a public IPv4, and the create step.
// existingDisk: primary is an existing disk that becomes the boot disk.
func (s *Service) insertVMTx(ctx context.Context, tx Store, a actor.Actor, v *VM, primary *Disk, networkUUID string,
	reservePublicIP, existingDisk bool, action string) error {
	now := v.CreatedAt
	id, err := tx.NextNumber(ctx, CounterVM)
	if err != nil {
		return err
	}
	v.ID = id
	addr, err := s.network.AttachVMTx(ctx, tx, network.AttachVM{OrgID: v.OrgID, UserID: v.UserID,
		Location: v.Location, NetworkUUID: networkUUID, VMUUID: v.UUID})
	if err != nil {
		return err
	}
	v.NetworkUUID, v.PrivateIPv4, v.MAC, v.PublicIPv6 = addr.NetworkUUID, addr.PrivateIPv4, addr.MAC, addr.PublicIPv6
	beginVMStep(v, OpCreate, stepArgs{Then: StatusRunning}, now)
	v.UpdatedAt = nil
	if err := tx.InsertVM(ctx, *v); err != nil {
		return err
	}
	if existingDisk {
		primary.VMUUID, primary.Name, primary.Primary = v.UUID, DeviceName(0), true
		primary.UpdatedAt = &now
		if err := tx.UpdateDisk(ctx, *primary); err != nil {
			return err
		}
	} else {
		did, err := tx.NextNumber(ctx, CounterDisk)
		if err != nil {
			return err
		}
		primary.ID, primary.OrgID, primary.OrgPath, primary.UserID = did, v.OrgID, v.OrgPath, v.UserID
		primary.BillingAccountID, primary.VMUUID = v.BillingAccountID, v.UUID
		if err := tx.InsertDisk(ctx, *primary); err != nil {
			return err
		}
	}
	if reservePublicIP {
		if _, err := s.network.ReservePublicIPForVMTx(ctx, tx, network.ReserveForVM{OrgID: v.OrgID, UserID: v.UserID,
			BillingAccountID: v.BillingAccountID, Location: v.Location, VMUUID: v.UUID}); err != nil {
			return err
		}
	}
	if err := s.audit(ctx, tx, a, now, action, "vm", v.UUID, v.OrgPath, detailf(`{"name":%q,"vcpu":%d,"ram":%d,"disk_gb":%d}`,
		v.Name, v.VCPU, v.RAMMB, primary.SizeGB)); err != nil {
		return err
	}
	return s.enqueue(ctx, tx, StepArgs{Resource: ResourceVM, UUID: v.UUID, Seq: v.OpSeq})
}

func renameNotFound(err error, field string) error {
	if errs.Is(err, errs.KindNotFound) {
		return errs.Invalid(field, "no such virtual machine")
	}
	return err
}

// Clone creates a running copy of a VM (ID-16): same configuration,
// network and billing account, its primary disk copied (additional disks
// are not cloned); the name is free text (ID-amb-10).
func (s *Service) Clone(ctx context.Context, a actor.Actor, location, uuid, name string) (VM, error) {
	name, err := CheckFreeName(name)
	if err != nil {
		return VM{}, err
	}
	var v VM
	err = s.store.Tx(ctx, func(tx Store) error {
		src, err := s.lockOwnedVM(ctx, tx, a, location, uuid)
		if err != nil {
			return err
		}
		if src.Op != "" {
			return pending(src.Op)
		}
		if !src.Billed() {
			return errs.Invalidf("uuid", "a VM in status %s cannot be cloned", src.Status)
		}
		if _, err := s.billing.AdmitTx(ctx, tx, a, src.BillingAccountID, false); err != nil {
			return err
		}
		disks, err := tx.ListDisks(ctx, DiskFilter{Scope: "/", VMUUIDs: []string{src.UUID}})
		if err != nil {
			return err
		}
		var srcDisk Disk
		for _, d := range disks {
			if d.Primary {
				srcDisk = d
			}
		}
		if srcDisk.UUID == "" {
			return errs.New(errs.KindInternal, "the VM has no primary disk")
		}
		now := s.now()
		v = VM{UUID: ids.New(), OrgID: src.OrgID, OrgPath: src.OrgPath, UserID: src.UserID,
			BillingAccountID: src.BillingAccountID, Location: src.Location, Name: name, Hostname: Hostname(name),
			Description: src.Description, OSName: src.OSName, OSVersion: src.OSVersion, Username: src.Username,
			PasswordHash: src.PasswordHash, VCPU: src.VCPU, RAMMB: src.RAMMB, PoolUUID: src.PoolUUID,
			PoolName: src.PoolName, Status: StatusCreating, LicenseType: src.LicenseType, CloudInit: src.CloudInit,
			PublicKey: src.PublicKey, CreatedAt: now}
		primary := Disk{UUID: ids.New(), Location: src.Location, Name: DeviceName(0), Primary: true,
			SizeGB: srcDisk.SizeGB, Pool: srcDisk.Pool, SourceImageType: SourceDisk, SourceImage: srcDisk.UUID,
			Status: DiskCreating, CreatedAt: now}
		return s.insertVMTx(ctx, tx, a, &v, &primary, src.NetworkUUID, false, false, "vm.clone")
	})
	if err != nil {
		return VM{}, err
	}
	return s.afterVMStep(ctx, v.UUID, v.OpSeq)
}

// afterVMStep runs a just-committed step inline when the provider has no
// delay, then returns the VM as it is.
func (s *Service) afterVMStep(ctx context.Context, uuid string, seq int64) (VM, error) {
	if s.inline() {
		if err := s.runVMStep(ctx, uuid, seq); err != nil {
			s.log.WarnContext(ctx, "compute step failed; the job retries it", "vm", uuid, "err", err)
		}
	}
	return s.vmByUUID(ctx, uuid)
}

// vmOp starts a step on a VM the actor owns: check validates the VM's
// state (and may change v, e.g. its transitional status).
func (s *Service) vmOp(ctx context.Context, a actor.Actor, location, uuid, op string, args stepArgs,
	check func(tx Store, v *VM) error) (VM, error) {
	if err := a.Require(actor.Staff); err != nil {
		return VM{}, err
	}
	var v VM
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if v, err = s.lockOwnedVM(ctx, tx, a, location, uuid); err != nil {
			return err
		}
		if v.Op != "" && op != OpDelete {
			return pending(v.Op)
		}
		if err := check(tx, &v); err != nil {
			return err
		}
		now := s.now()
		beginVMStep(&v, op, args, now)
		if err := tx.UpdateVM(ctx, v); err != nil {
			return err
		}
		if op == OpDelete {
			if err := s.setVMUsage(ctx, tx, v, now); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, a, now, "vm."+op, "vm", v.UUID, v.OrgPath, args.encode()); err != nil {
			return err
		}
		return s.enqueue(ctx, tx, StepArgs{Resource: ResourceVM, UUID: v.UUID, Seq: v.OpSeq})
	})
	if err != nil {
		return VM{}, err
	}
	out, err := s.afterVMStep(ctx, v.UUID, v.OpSeq)
	if op == OpDelete && errs.Is(err, errs.KindNotFound) {
		return VM{}, nil // deleted
	}
	return out, err
}

func needStatus(v *VM, field string, want ...string) error {
	for _, w := range want {
		if v.Status == w {
			return nil
		}
	}
	return errs.Invalidf(field, "the VM is %s; it must be %s", v.Status, strings.Join(want, " or "))
}

// Start boots a stopped VM (ID-24).
func (s *Service) Start(ctx context.Context, a actor.Actor, location, uuid string) (VM, error) {
	return s.vmOp(ctx, a, location, uuid, OpStart, stepArgs{Then: StatusRunning}, func(_ Store, v *VM) error {
		return needStatus(v, "uuid", StatusStopped)
	})
}

// Stop shuts a running VM down (ID-25); force pulls the plug.
func (s *Service) Stop(ctx context.Context, a actor.Actor, location, uuid string, force bool) (VM, error) {
	return s.vmOp(ctx, a, location, uuid, OpStop, stepArgs{Force: force, Then: StatusStopped}, func(_ Store, v *VM) error {
		return needStatus(v, "uuid", StatusRunning)
	})
}

// RescueStart boots the VM with the rescue image for this launch only
// (ID-26): a running VM is rebooted into it, a stopped one started.
func (s *Service) RescueStart(ctx context.Context, a actor.Actor, location, uuid string) (VM, error) {
	return s.vmOp(ctx, a, location, uuid, OpRescue, stepArgs{Rescue: true, Then: StatusRunning}, func(_ Store, v *VM) error {
		return needStatus(v, "uuid", StatusRunning, StatusStopped)
	})
}

// Reinstall overwrites the primary disk with an OS base image (ID-14); os
// name and version default to the VM's.
func (s *Service) Reinstall(ctx context.Context, a actor.Actor, location, uuid string, osName, osVersion *string) (VM, error) {
	v0, err := s.ownedVM(ctx, s.store, a, location, uuid)
	if err != nil {
		return VM{}, err
	}
	name, ver := v0.OSName, v0.OSVersion
	if osName != nil && strings.TrimSpace(*osName) != "" {
		name = strings.TrimSpace(*osName)
		if osVersion == nil || strings.TrimSpace(*osVersion) == "" {
			ver = ""
		}
	}
	if osVersion != nil && strings.TrimSpace(*osVersion) != "" {
		ver = strings.TrimSpace(*osVersion)
	}
	if name == "" {
		return VM{}, errs.Invalid("os_name", "is required (the VM's OS is unknown)")
	}
	if ver == "" {
		return VM{}, errs.Invalid("os_version", "is required with another os_name")
	}
	if _, err := s.catalog.Image(ctx, name, ver); err != nil {
		return VM{}, err
	}
	rules, err := s.catalog.VMRules(ctx)
	if err != nil {
		return VM{}, err
	}
	return s.vmOp(ctx, a, location, uuid, OpReinstall, stepArgs{OSName: name, OSVersion: ver, Then: StatusRunning},
		func(_ Store, v *VM) error {
			if err := needStatus(v, "uuid", StatusRunning, StatusStopped); err != nil {
				return err
			}
			return rules.CheckResize(name, v.VCPU, v.RAMMB)
		})
}

// Rebuild restores a VM's disk from one of its replicas (ID-20); the VM is
// stopped afterwards, as the seed's sample shows.
func (s *Service) Rebuild(ctx context.Context, a actor.Actor, location, uuid, replicaUUID string) (VM, error) {
	replicaUUID = strings.ToLower(strings.TrimSpace(replicaUUID))
	if replicaUUID == "" {
		return VM{}, errs.Invalid("replica_uuid", "is required")
	}
	return s.vmOp(ctx, a, location, uuid, OpRebuild, stepArgs{Replica: replicaUUID, Then: StatusStopped},
		func(tx Store, v *VM) error {
			if err := needStatus(v, "uuid", StatusRunning, StatusStopped); err != nil {
				return err
			}
			_, err := replicaOfVM(ctx, tx, a, replicaUUID, v.UUID, "replica_uuid", "no such replica of this VM")
			return err
		})
}

// Delete deletes a VM with every disk attached to it and their replicas
// (ID-8). It replaces any pending step.
func (s *Service) Delete(ctx context.Context, a actor.Actor, location, uuid string) error {
	_, err := s.vmOp(ctx, a, location, uuid, OpDelete, stepArgs{Then: StatusDeleted}, func(_ Store, v *VM) error {
		v.Status = StatusDeleting
		return nil
	})
	return err
}

// Modify renames a VM (any state) and changes vcpu and ram (stopped only),
// ID-11. A resize is a step; a rename alone is not.
func (s *Service) Modify(ctx context.Context, a actor.Actor, location string, in ModifyVMInput) (VM, error) {
	if err := a.Require(actor.Staff); err != nil {
		return VM{}, err
	}
	if in.Name != nil {
		n, err := CheckFreeName(*in.Name)
		if err != nil {
			return VM{}, err
		}
		in.Name = &n
	}
	rules, err := s.catalog.VMRules(ctx)
	if err != nil {
		return VM{}, err
	}
	var v VM
	resize := false
	err = s.store.Tx(ctx, func(tx Store) error {
		if v, err = s.lockOwnedVM(ctx, tx, a, location, in.UUID); err != nil {
			return err
		}
		vcpu, ram := v.VCPU, v.RAMMB
		if in.VCPU != nil {
			vcpu = *in.VCPU
		}
		if in.RAMMB != nil {
			ram = *in.RAMMB
		}
		resize = vcpu != v.VCPU || ram != v.RAMMB
		if resize || in.Name != nil {
			if v.Op != "" {
				return pending(v.Op)
			}
		}
		if resize {
			if v.Status != StatusStopped {
				field := "vcpu"
				if vcpu == v.VCPU {
					field = "ram"
				}
				return errs.Invalidf(field, "vcpu and ram can only be changed while the VM is stopped (it is %s)", v.Status)
			}
			if err := rules.CheckResize(v.OSName, vcpu, ram); err != nil {
				return err
			}
			if vcpu > v.VCPU || ram > v.RAMMB {
				if _, err := s.billing.AdmitTx(ctx, tx, a, v.BillingAccountID, false); err != nil {
					return err
				}
			}
		}
		now := s.now()
		if in.Name != nil && *in.Name != v.Name {
			v.Name = *in.Name
			v.UpdatedAt = &now
			if err := s.setVMUsage(ctx, tx, v, now); err != nil {
				return err
			}
		}
		if resize {
			beginVMStep(&v, OpResize, stepArgs{VCPU: vcpu, RAMMB: ram, Then: StatusStopped}, now)
			if err := s.enqueue(ctx, tx, StepArgs{Resource: ResourceVM, UUID: v.UUID, Seq: v.OpSeq}); err != nil {
				return err
			}
		}
		if err := tx.UpdateVM(ctx, v); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, now, "vm.modify", "vm", v.UUID, v.OrgPath,
			detailf(`{"name":%q,"vcpu":%d,"ram":%d}`, v.Name, vcpu, ram))
	})
	if err != nil {
		return VM{}, err
	}
	if resize {
		return s.afterVMStep(ctx, v.UUID, v.OpSeq)
	}
	return s.vmByUUID(ctx, v.UUID)
}

// SetPassword sets the password of the VM's existing user (ID-10): only
// while the VM is running. The provider is called directly (no status
// change); a provider failure changes nothing and is reported.
func (s *Service) SetPassword(ctx context.Context, a actor.Actor, location, uuid, username, pw string) error {
	if err := a.Require(actor.Staff); err != nil {
		return err
	}
	v, err := s.ownedVM(ctx, s.store, a, location, uuid)
	if err != nil {
		return err
	}
	username = strings.TrimSpace(username)
	if username == "" {
		return errs.Invalid("username", "is required")
	}
	if pw == "" {
		return errs.Invalid("password", "is required")
	}
	if v.Status != StatusRunning || v.Op != "" {
		return errs.Invalidf("password", "can only be changed while the VM is running (it is %s)", v.Status)
	}
	if username != v.Username {
		return errs.Invalidf("username", "the VM has no user %q", username)
	}
	rules, err := s.catalog.VMRules(ctx)
	if err != nil {
		return err
	}
	if err := rules.CheckPassword(pw); err != nil {
		return err
	}
	hash, err := password.ShadowHash(pw)
	if err != nil {
		return err
	}
	if err := s.provider.SetPassword(ctx, v.UUID, username, hash); err != nil {
		return errs.Wrap(errs.KindUnavailable, err, "the password could not be set; try again")
	}
	return s.store.Tx(ctx, func(tx Store) error {
		v, err := tx.LockVM(ctx, v.UUID)
		if err != nil {
			return err
		}
		now := s.now()
		v.PasswordHash, v.UpdatedAt = hash, &now
		if err := tx.UpdateVM(ctx, v); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, now, "vm.set_password", "vm", v.UUID, v.OrgPath, detailf(`{"username":%q}`, username))
	})
}

// ToggleBackup flips automatic backups (ID-15, not idempotent: ID-amb-34).
func (s *Service) ToggleBackup(ctx context.Context, a actor.Actor, location, uuid string) (VM, error) {
	return s.vmUpdate(ctx, a, location, uuid, "vm.toggle_backup", func(_ Store, v *VM) error {
		v.Backup = !v.Backup
		return nil
	})
}

// vmUpdate changes a VM's row without a step.
func (s *Service) vmUpdate(ctx context.Context, a actor.Actor, location, uuid, action string, fn func(tx Store, v *VM) error) (VM, error) {
	if err := a.Require(actor.Staff); err != nil {
		return VM{}, err
	}
	var v VM
	err := s.store.Tx(ctx, func(tx Store) error {
		var err error
		if v, err = s.lockOwnedVM(ctx, tx, a, location, uuid); err != nil {
			return err
		}
		if err := fn(tx, &v); err != nil {
			return err
		}
		now := s.now()
		v.UpdatedAt = &now
		if err := tx.UpdateVM(ctx, v); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, now, action, "vm", v.UUID, v.OrgPath, "")
	})
	if err != nil {
		return VM{}, err
	}
	return s.vmByUUID(ctx, v.UUID)
}

// ReservePublicIP reserves a public IPv4 and assigns it to the VM
// (deprecated ID-18; the answer does not show it).
func (s *Service) ReservePublicIP(ctx context.Context, a actor.Actor, location, uuid string) (VM, error) {
	return s.vmUpdate(ctx, a, location, uuid, "vm.reserve_public_ip", func(tx Store, v *VM) error {
		if _, err := s.billing.AdmitTx(ctx, tx, a, v.BillingAccountID, false); err != nil {
			return err
		}
		_, err := s.network.ReservePublicIPForVMTx(ctx, tx, network.ReserveForVM{OrgID: v.OrgID, UserID: v.UserID,
			BillingAccountID: v.BillingAccountID, Location: v.Location, VMUUID: v.UUID})
		return err
	})
}

// ReleasePublicIP unassigns the VM's public IPv4 addresses; they stay
// reserved for the user (deprecated ID-17).
func (s *Service) ReleasePublicIP(ctx context.Context, a actor.Actor, location, uuid string) (VM, error) {
	return s.vmUpdate(ctx, a, location, uuid, "vm.release_public_ip", func(tx Store, v *VM) error {
		return s.network.UnassignVMPublicIPsTx(ctx, tx, v.UUID)
	})
}

// SetBillingAccount moves a VM with its disks and their replicas to
// another billing account of the caller (ID-75). Nothing grows, so the
// target is resolved, not admitted, but it must be live.
func (s *Service) SetBillingAccount(ctx context.Context, a actor.Actor, location, uuid string, accountID int64) (VM, error) {
	return s.vmUpdate(ctx, a, location, uuid, "vm.set_billing_account", func(tx Store, v *VM) error {
		acct, err := s.resolveLive(ctx, tx, a, accountID)
		if err != nil {
			return err
		}
		if acct.ID == v.BillingAccountID {
			return nil
		}
		now := s.now()
		v.BillingAccountID = acct.ID
		if err := s.setVMUsage(ctx, tx, *v, now); err != nil {
			return err
		}
		disks, err := tx.ListDisks(ctx, DiskFilter{Scope: "/", VMUUIDs: []string{v.UUID}})
		if err != nil {
			return err
		}
		for _, d := range disks {
			if err := s.moveDiskTx(ctx, tx, d, acct.ID, v.Name, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// resolveLive resolves a billing account the caller names for a move.
func (s *Service) resolveLive(ctx context.Context, tx Store, a actor.Actor, id int64) (billing.Account, error) {
	acct, err := s.billing.ResolveAccountTx(ctx, tx, a, id)
	if err != nil {
		return billing.Account{}, err
	}
	if acct.DeletedAt != nil {
		return billing.Account{}, errs.Invalidf("billing_account_id", "billing account %d is deleted", acct.ID)
	}
	return acct, nil
}

// moveDiskTx moves a disk and its replicas to another account.
func (s *Service) moveDiskTx(ctx context.Context, tx Store, d Disk, accountID int64, vmName string, now time.Time) error {
	d.BillingAccountID, d.UpdatedAt = accountID, &now
	if err := tx.UpdateDisk(ctx, d); err != nil {
		return err
	}
	if err := s.setDiskUsage(ctx, tx, d, vmName, now); err != nil {
		return err
	}
	reps, err := tx.ListReplicas(ctx, []string{d.UUID}, "")
	if err != nil {
		return err
	}
	for _, r := range reps {
		r.BillingAccountID, r.UpdatedAt = accountID, &now
		if err := tx.UpdateReplica(ctx, r); err != nil {
			return err
		}
		if err := s.setReplicaUsage(ctx, tx, r, now); err != nil {
			return err
		}
	}
	return nil
}
